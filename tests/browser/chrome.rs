//! Debian's chromium for the browser tests: installed with apt when missing, run headless
//! and held to loopback (nothing else resolves, the proxy for it is a closed port, the
//! background services are off).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn run(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Debian's chromium, installed with apt (through `sudo -n` when not root) if missing;
/// `Err` says why it cannot be had.
pub(crate) fn chromium() -> Result<PathBuf, String> {
    let found = || {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    };
    if let Some(path) = found() {
        return Ok(path);
    }
    if !Path::new("/usr/bin/apt-get").exists() {
        return Err("no chromium, and no apt-get to install it".into());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let (program, mut prefix): (&str, Vec<&str>) = if root {
        ("apt-get", vec![])
    } else {
        ("sudo", vec!["-n", "apt-get"])
    };
    // Another apt may be running on a shared machine: wait for its lock.
    prefix.extend(["-o", "DPkg::Lock::Timeout=600"]);
    let install = [&prefix[..], &["install", "-y", "chromium"]].concat();
    let update = [&prefix[..], &["update"]].concat();
    eprintln!("browser test: installing Debian's chromium with apt");
    // The package lists may be empty or old on a fresh machine: update once, then retry.
    let installed = run(program, &install) || (run(program, &update) && run(program, &install));
    if !installed {
        return Err(format!(
            "apt-get could not install chromium (as {})",
            if root { "root" } else { "sudo -n" }
        ));
    }
    found().ok_or_else(|| "apt-get installed chromium, but no /usr/bin/chromium".into())
}

/// Headless chromium on `url` with `extra` flags (a dump or a screenshot); stdout.
pub(crate) fn browse(chromium: &Path, profile: &Path, url: &str, extra: &[&str]) -> String {
    let profile = format!("--user-data-dir={}", profile.display());
    let mut args = vec![
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-pings",
        // Only loopback: nothing else resolves, and the proxy for it is a closed port.
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        // Virtual time: the page's 2 s polls run as fast as the fetches answer.
        "--virtual-time-budget=7000",
        profile.as_str(),
    ];
    args.extend_from_slice(extra);
    args.push(url);
    let out = Command::new(chromium)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
