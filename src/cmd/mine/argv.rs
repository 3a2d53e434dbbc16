//! Keeps `mine`'s passwords out of the process listing: once the flags are parsed, the
//! password of `-p PASS` / `--pass=PASS` and the part after the first `:` of `-O USER:PASS` /
//! `--userpass=USER:PASS` are overwritten with `x` in the process's own argument strings,
//! which `ps` and `/proc/<pid>/cmdline` read. cpuminer does the same (its `strhide`). There
//! is a short window between exec and this call; `MESOS_MINER_PASS` (for `-p`) has none.
//!
//! How the strings are found: glibc calls `.init_array` functions with `argc, argv, envp`
//! (as Rust's own std relies on for `std::env::args` on this target), so a constructor
//! keeps the pointer. Elsewhere (musl, other systems) nothing is overwritten.

/// Which bytes of `args[i]` (from `start`) hide a password, given the argument before it.
/// `args` excludes the program name.
fn secret_from(arg: &[u8], previous: Option<&[u8]>) -> Option<usize> {
    let after_colon = |value_at: usize| {
        arg[value_at..]
            .iter()
            .position(|&b| b == b':')
            .map(|c| value_at + c + 1)
    };
    match previous {
        Some(b"-p" | b"--pass") => return Some(0),
        Some(b"-O" | b"--userpass") => return after_colon(0),
        _ => {}
    }
    if arg.starts_with(b"--pass=") {
        Some(7)
    } else if arg.starts_with(b"--userpass=") {
        after_colon(11)
    } else if arg.starts_with(b"-O") && arg.len() > 2 {
        after_colon(2)
    } else if arg.starts_with(b"-p") && arg.len() > 2 && !arg.starts_with(b"--") {
        Some(2)
    } else {
        None
    }
}

/// Overwrites the passwords among this process's arguments (see the module doc).
pub(crate) fn hide_passwords() {
    imp::hide(|args| {
        let mut previous: Option<&[u8]> = None;
        let mut out = Vec::with_capacity(args.len());
        for arg in args {
            out.push(secret_from(arg, previous));
            previous = Some(arg);
        }
        out
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::ffi::{CStr, c_char, c_int};
    use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

    static ARGC: AtomicUsize = AtomicUsize::new(0);
    static ARGV: AtomicPtr<*mut c_char> = AtomicPtr::new(std::ptr::null_mut());

    /// Run by glibc before `main` with the real argument vector.
    extern "C" fn capture(argc: c_int, argv: *mut *mut c_char, _envp: *mut *mut c_char) {
        ARGC.store(usize::try_from(argc).unwrap_or(0), Ordering::Relaxed);
        ARGV.store(argv, Ordering::Relaxed);
    }

    // SAFETY: `.init_array` entries are called by glibc's startup code with (argc, argv,
    // envp), the signature of `capture`; it only stores two values.
    #[used]
    #[unsafe(link_section = ".init_array.00099")]
    static CAPTURE: extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) = capture;

    /// Calls `find` with the arguments (program name excluded) and overwrites, in each, the
    /// bytes from the offset it returns.
    pub(super) fn hide(find: impl FnOnce(&[&[u8]]) -> Vec<Option<usize>>) {
        let (argc, argv) = (ARGC.load(Ordering::Relaxed), ARGV.load(Ordering::Relaxed));
        if argv.is_null() || argc < 2 {
            return;
        }
        // SAFETY: glibc's argv has `argc` valid pointers to NUL-terminated strings that
        // live for the whole process; nothing else writes them while we read (std copies
        // them on each `env::args` call and keeps no borrow).
        let args: Vec<&[u8]> = (1..argc)
            .map(|i| unsafe { CStr::from_ptr(*argv.add(i)) }.to_bytes())
            .collect();
        let hide_from = find(&args);
        for (i, from) in hide_from.into_iter().enumerate() {
            let Some(from) = from else { continue };
            let len = args[i].len();
            // SAFETY: argv[i + 1] points to `len` writable bytes (the process's own
            // argument area, on its stack); `from <= len`, and we write `len - from`
            // bytes before the NUL, keeping every string's length.
            unsafe {
                let s = (*argv.add(i + 1)).cast::<u8>();
                std::ptr::write_bytes(s.add(from), b'x', len.saturating_sub(from));
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    /// No portable way to reach the argument strings: nothing is hidden.
    pub(super) fn hide(_: impl FnOnce(&[&[u8]]) -> Vec<Option<usize>>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(args: &[&str]) -> Vec<Option<usize>> {
        let mut previous: Option<&[u8]> = None;
        args.iter()
            .map(|a| {
                let r = secret_from(a.as_bytes(), previous);
                previous = Some(a.as_bytes());
                r
            })
            .collect()
    }

    #[test]
    fn finds_every_spelling_of_the_passwords() {
        let args = [
            "mine",
            "-p",
            "pw",
            "--pass=pw",
            "-ppw",
            "-O",
            "u:p:w",
            "--userpass=u:pw",
            "-Ou:pw",
            "-o",
            "x:1",
            "--pass",
            "pw",
            "-q",
        ];
        assert_eq!(
            hidden(&args),
            [
                None,
                None,
                Some(0),
                Some(7),
                Some(2),
                None,
                Some(2),
                Some(13),
                Some(4),
                None,
                None,
                None,
                Some(0),
                None
            ]
        );
        // -O without a colon: nothing to hide (and a usage error later).
        assert_eq!(hidden(&["-O", "nocolon"]), [None, None]);
    }
}
