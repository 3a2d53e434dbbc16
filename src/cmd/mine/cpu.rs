//! Where and how eagerly `mine`'s hashing threads run: `--cpu-affinity MASK` and
//! `--cpu-priority N` with cpuminer-opt's meaning, applied by each search thread to itself
//! as it starts ([`miner_core::Miner::with_thread_start`]), because Linux keeps nice, policy
//! and affinity per thread.
//!
//! Priority, as cpuminer-opt's `miner_thread` maps its 0..5 scale: 0 (the default) is nice
//! 19 and `SCHED_IDLE` (else `SCHED_BATCH`), so a miner on a shared machine only takes idle
//! cycles; 1..5 are nice 5, 0, -5, -10, -15 at the normal policy. Affinity: the set bits
//! of MASK are CPUs, and thread `i` is pinned to the `i mod n`-th of them (round-robin).
//! Only the standalone miner does this: under Mesos the agent's isolation decides, and the
//! executor's miner is built with plain `Miner::new`.

use std::sync::mpsc;
use std::time::Duration;

use crate::UsageError;

/// Highest CPU index a mask may name (glibc's `CPU_SETSIZE`).
const MAX_CPUS: usize = 1024;

/// What each hashing thread does to itself before it hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CpuPlan {
    /// `--cpu-priority` (0..=5).
    priority: u8,
    /// `--cpu-affinity`'s CPUs, ascending; `None` leaves affinity alone.
    cpus: Option<Vec<usize>>,
}

/// cpuminer-opt's nice value for priority 1..=5 (0 is nice 19 plus `SCHED_IDLE`).
fn nice_of(priority: u8) -> i32 {
    match priority {
        0 => 19,
        1 => 5,
        2 => 0,
        3 => -5,
        4 => -10,
        _ => -15,
    }
}

/// The CPUs of `text`, a bitmask in hex (`0x…`) or decimal, lowest first.
pub(crate) fn parse_mask(text: &str) -> Result<Vec<usize>, UsageError> {
    let bad = || {
        UsageError(format!(
            "cpu-affinity: {text:?} is not a CPU bitmask (hex 0x3 or decimal 3)"
        ))
    };
    let t = text.trim();
    let mut cpus = Vec::new();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex.is_empty() || hex.len() > MAX_CPUS / 4 {
            return Err(bad());
        }
        // Lowest nibble is the last digit.
        for (n, digit) in hex.bytes().rev().enumerate() {
            let v = char::from(digit).to_digit(16).ok_or_else(bad)?;
            cpus.extend((0..4).filter(|b| v & (1 << b) != 0).map(|b| n * 4 + b));
        }
    } else {
        let v: u128 = t.parse().map_err(|_| bad())?;
        cpus.extend((0..128).filter(|b| v & (1u128 << b) != 0));
    }
    if cpus.is_empty() {
        return Err(UsageError(format!("cpu-affinity: {text:?} names no CPU")));
    }
    Ok(cpus)
}

impl CpuPlan {
    /// The checked flags: a priority in 0..=5, a mask naming at least one CPU this process
    /// may run on (`allowed`; the bits of other CPUs are dropped).
    pub(crate) fn new(
        priority: Option<u8>,
        affinity: Option<&str>,
        allowed: &[usize],
    ) -> Result<CpuPlan, UsageError> {
        let priority = priority.unwrap_or(0);
        if priority > 5 {
            return Err(UsageError(format!(
                "cpu-priority: must be 0..=5 (cpuminer's scale), got {priority}"
            )));
        }
        let cpus = match affinity {
            None => None,
            Some(text) => {
                let asked = parse_mask(text)?;
                let usable: Vec<usize> = asked
                    .iter()
                    .copied()
                    .filter(|c| allowed.contains(c))
                    .collect();
                if usable.is_empty() {
                    return Err(UsageError(format!(
                        "cpu-affinity {text}: no CPU of this machine in the mask (usable CPUs: {})",
                        list(allowed)
                    )));
                }
                Some(usable)
            }
        };
        Ok(CpuPlan { priority, cpus })
    }

    /// One line for the log: what the threads were asked to do.
    pub(crate) fn describe(&self) -> String {
        let priority = match self.priority {
            0 => "nice 19, SCHED_IDLE".to_owned(),
            p => format!("cpu-priority {p} (nice {})", nice_of(p)),
        };
        match &self.cpus {
            None => priority,
            Some(cpus) => format!("{priority}, pinned round-robin to CPUs {}", list(cpus)),
        }
    }

    /// The CPU thread `index` is pinned to, if any.
    fn cpu_for(&self, index: usize) -> Option<usize> {
        self.cpus.as_ref().map(|c| c[index % c.len()])
    }

    /// Applies the plan to the calling thread (search thread `index`); what could not be
    /// done, as warnings.
    fn apply_here(&self, index: usize) -> Vec<String> {
        let mut warnings = Vec::new();
        let nice = nice_of(self.priority);
        if let Err(e) = os::set_nice(nice) {
            warnings.push(format!(
                "cpu-priority {}: cannot set nice {nice} ({e})",
                self.priority
            ));
        }
        if self.priority == 0 {
            // cpuminer-opt's drop_policy: SCHED_IDLE where permitted, else SCHED_BATCH; no
            // warning, as there: nice 19 already gives way.
            let _ = os::set_idle_policy();
        }
        if let Some(cpu) = self.cpu_for(index)
            && let Err(e) = os::pin_to(cpu)
        {
            warnings.push(format!(
                "cpu-affinity: cannot pin thread {index} to CPU {cpu} ({e})"
            ));
        }
        warnings
    }

    /// A start handler for `threads` search threads, and a way to wait until they all
    /// applied the plan (returning the distinct warnings).
    pub(crate) fn start_handler(
        self,
        threads: usize,
    ) -> (impl Fn(usize) + Send + Sync + 'static, Applied) {
        let (tx, rx) = mpsc::sync_channel(threads);
        let handler = move |index: usize| {
            let _ = tx.send(self.apply_here(index));
        };
        (handler, Applied { rx, threads })
    }
}

/// The search threads' reports on applying a [`CpuPlan`].
pub(crate) struct Applied {
    rx: mpsc::Receiver<Vec<String>>,
    threads: usize,
}

impl Applied {
    /// Waits (a few seconds at most) for every thread and returns the distinct warnings.
    pub(crate) fn warnings(self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for _ in 0..self.threads {
            match self.rx.recv_timeout(Duration::from_secs(5)) {
                Ok(w) => all.extend(w),
                Err(_) => break,
            }
        }
        all.sort();
        all.dedup();
        all
    }
}

/// The CPUs this process may run on (its affinity mask at start).
pub(crate) fn allowed_cpus() -> Vec<usize> {
    os::allowed_cpus()
}

fn list(cpus: &[usize]) -> String {
    let shown: Vec<String> = cpus.iter().map(usize::to_string).collect();
    shown.join(",")
}

#[cfg(target_os = "linux")]
mod os {
    //! The Linux calls: setpriority(2) and sched_setscheduler(2) on thread id 0 (the
    //! calling thread), sched_setaffinity(2) with a one-CPU set.

    use std::io;

    fn check(rc: libc::c_int) -> io::Result<()> {
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    pub(super) fn set_nice(nice: i32) -> io::Result<()> {
        // SAFETY: plain syscall on the calling thread (who = 0), no memory passed.
        check(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) })
    }

    pub(super) fn set_idle_policy() -> io::Result<()> {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid sched_param that outlives the call; pid 0 = this thread.
        let idle = check(unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) });
        // SAFETY: as above.
        idle.or_else(|_| check(unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) }))
    }

    pub(super) fn pin_to(cpu: usize) -> io::Result<()> {
        // SAFETY: cpu_set_t is a plain bit array; all zeroes is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `cpu` < CPU_SETSIZE: masks name at most MAX_CPUS (= CPU_SETSIZE) CPUs
        // and only allowed ones (from sched_getaffinity) are kept.
        unsafe { libc::CPU_SET(cpu, &mut set) };
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is a valid cpu_set_t of `size` bytes; pid 0 = this thread.
        check(unsafe { libc::sched_setaffinity(0, size, &set) })
    }

    pub(super) fn allowed_cpus() -> Vec<usize> {
        // SAFETY: as in pin_to.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is a writable cpu_set_t of `size` bytes.
        if unsafe { libc::sched_getaffinity(0, size, &mut set) } != 0 {
            return Vec::new();
        }
        (0..super::MAX_CPUS)
            // SAFETY: c < MAX_CPUS = CPU_SETSIZE, the size of `set`.
            .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
            .collect()
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    //! Elsewhere per-thread nice and affinity are not what these calls mean: refused.

    use std::io;

    fn unsupported() -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "only on Linux"))
    }

    pub(super) fn set_nice(_: i32) -> io::Result<()> {
        unsupported()
    }

    pub(super) fn set_idle_policy() -> io::Result<()> {
        unsupported()
    }

    pub(super) fn pin_to(_: usize) -> io::Result<()> {
        unsupported()
    }

    pub(super) fn allowed_cpus() -> Vec<usize> {
        (0..std::thread::available_parallelism().map_or(1, usize::from)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_in_hex_and_decimal() {
        assert_eq!(parse_mask("0x3").unwrap(), [0, 1]);
        assert_eq!(parse_mask("0X11").unwrap(), [0, 4]);
        assert_eq!(parse_mask("5").unwrap(), [0, 2]);
        assert_eq!(parse_mask("0x100000000000000000000").unwrap(), [80]);
        assert_eq!(parse_mask(" 12 ").unwrap(), [2, 3]);
        for bad in ["", "0x", "0xg", "-1", "three", "1.5"] {
            let e = parse_mask(bad).unwrap_err();
            assert!(e.0.contains("not a CPU bitmask"), "{bad:?}: {e}");
        }
        assert!(parse_mask("0").unwrap_err().0.contains("names no CPU"));
        assert!(parse_mask("0x00").unwrap_err().0.contains("names no CPU"));
    }

    #[test]
    fn plan_checks_priority_and_machine() {
        let allowed = [0, 1];
        let p = CpuPlan::new(None, Some("0x6"), &allowed).unwrap();
        assert_eq!((p.priority, p.cpus.as_deref()), (0, Some(&[1][..])));
        assert_eq!((p.cpu_for(0), p.cpu_for(3)), (Some(1), Some(1)));
        let p = CpuPlan::new(Some(1), Some("3"), &allowed).unwrap();
        assert_eq!(
            (p.cpu_for(0), p.cpu_for(1), p.cpu_for(2)),
            (Some(0), Some(1), Some(0))
        );
        assert_eq!(
            p.describe(),
            "cpu-priority 1 (nice 5), pinned round-robin to CPUs 0,1"
        );
        let e = CpuPlan::new(None, Some("0x4"), &allowed).unwrap_err();
        assert_eq!(
            e.0,
            "cpu-affinity 0x4: no CPU of this machine in the mask (usable CPUs: 0,1)"
        );
        let e = CpuPlan::new(Some(6), None, &allowed).unwrap_err();
        assert!(e.0.contains("cpu-priority: must be 0..=5"), "{e}");
        assert_eq!(
            CpuPlan::new(None, None, &allowed).unwrap().describe(),
            "nice 19, SCHED_IDLE"
        );
    }

    #[test]
    fn cpuminer_opt_nice_scale() {
        let scale: Vec<i32> = (0..=5).map(nice_of).collect();
        assert_eq!(scale, [19, 5, 0, -5, -10, -15]);
    }
}
