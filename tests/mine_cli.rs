//! `mesos-miner mine` with cpuminer's habits, through the real binary: `-a`, `-O`,
//! `--cpu-priority` / `--cpu-affinity` read back from `/proc/<pid>/task/*` of the running
//! miner, and colour only on a terminal (a pseudo-terminal here) unless `--no-color` or
//! `NO_COLOR`.

use std::io::Read;
use std::os::fd::FromRawFd;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::stratum::pool::PoolConn;

use crate::support::{BIN, Proc, free_addr, temp_dir};

fn miner(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("run mesos-miner")
}

/// Exit code 2 and this text on stderr.
fn assert_usage(args: &[&str], text: &str) {
    let out = miner(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(text), "{args:?}: {stderr}");
}

/// A hashing thread of a running miner, as /proc shows it.
#[derive(Debug)]
pub(crate) struct HashThread {
    name: String,
    pub(crate) nice: i64,
    /// 0 normal, 3 SCHED_BATCH, 5 SCHED_IDLE (sched.h).
    pub(crate) policy: i64,
    cpus: String,
}

/// The `miner-N` threads of process `pid`, by name.
pub(crate) fn hash_threads(pid: u32) -> Vec<HashThread> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        // "tid (comm) state ppid …": fields after the comm start at field 3 (proc(5)).
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse().ok());
        let cpus = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap_or("")
            .trim()
            .to_owned();
        if let (true, Some(nice), Some(policy)) = (name.starts_with("miner-"), field(19), field(41))
        {
            out.push(HashThread {
                name,
                nice,
                policy,
                cpus,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Runs `mine --benchmark` with `extra` flags until its `threads` hashing threads satisfy
/// `ok` (or 60 s pass), and returns what /proc last showed with the miner's log.
fn benchmark_threads(
    name: &str,
    extra: &[&str],
    threads: usize,
    ok: impl Fn(&[HashThread]) -> bool,
) -> (Vec<HashThread>, String) {
    let dir = temp_dir(name);
    let t = threads.to_string();
    let mut args = vec!["mine", "--benchmark", "-t", &t, "--kernel", "portable"];
    args.extend_from_slice(&["--report-interval", "1"]);
    args.extend_from_slice(extra);
    let mut proc = Proc::spawn(&args, dir.join("miner.log"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = hash_threads(proc.child.id());
    // Until the threads look right and the first hashrate line shows that the miner runs
    // (its SIGTERM handler is installed by then: a SIGTERM before it would kill it).
    while !(seen.len() == threads && ok(&seen) && proc.output().contains("hashrate:"))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
        seen = hash_threads(proc.child.id());
    }
    let status = proc.terminate(Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()), "{}", proc.output());
    let log = proc.output();
    let _ = std::fs::remove_dir_all(&dir);
    (seen, log)
}

#[test]
fn algo_is_sha256d_or_a_usage_error() {
    assert_usage(
        &["mine", "-a", "scrypt", "--benchmark"],
        "algo \"scrypt\" is not mined here: mesos-miner mines sha256d (Bitcoin) only",
    );
    assert_usage(&["mine", "--algo=x11", "--benchmark"], "mines sha256d");
    // sha256d itself (any case) is accepted: the miner starts and hashes.
    let (threads, log) = benchmark_threads("algo", &["-a", "SHA256d"], 1, |_| true);
    assert_eq!(threads.len(), 1, "{log}");
    assert!(log.contains("1 thread, kernel portable"), "{log}");
    assert!(
        log.contains("benchmark: a synthetic job, headers eight versions at a time"),
        "{log}"
    );
    let (_, log) = benchmark_threads("single", &["--no-version-rolling"], 1, |_| true);
    assert!(
        log.contains("benchmark: a synthetic job, one header at a time (no version rolling)"),
        "{log}"
    );
}

#[test]
fn hashing_threads_run_at_nice_19_and_idle_by_default() {
    let (threads, log) = benchmark_threads("nice", &[], 2, |t| {
        t.iter().all(|t| t.nice == 19 && t.policy != 0)
    });
    assert_eq!(threads.len(), 2, "{log}");
    for t in &threads {
        assert_eq!(t.nice, 19, "{t:?}\n{log}");
        // SCHED_IDLE where permitted, else SCHED_BATCH, as cpuminer-opt's drop_policy.
        assert!(t.policy == 5 || t.policy == 3, "{t:?}");
    }
    assert!(
        log.contains("hashing threads: nice 19, SCHED_IDLE"),
        "{log}"
    );
}

#[test]
fn cpu_priority_follows_cpuminer_opt_scale() {
    let (threads, log) = benchmark_threads("prio1", &["--cpu-priority", "1"], 2, |t| {
        t.iter().all(|t| t.nice == 5)
    });
    assert!(
        threads.iter().all(|t| t.nice == 5 && t.policy == 0),
        "{threads:?}\n{log}"
    );
    assert!(log.contains("cpu-priority 1 (nice 5)"), "{log}");
    // Nice -5 needs CAP_SYS_NICE: either it is set, or a warning says why not.
    let (threads, log) = benchmark_threads("prio3", &["--cpu-priority", "3"], 1, |t| {
        t.iter().all(|t| t.nice == -5)
    });
    let set = threads.iter().all(|t| t.nice == -5);
    assert!(
        set || log.contains("cpu-priority 3: cannot set nice -5"),
        "{threads:?}\n{log}"
    );
    assert_usage(
        &["mine", "--benchmark", "--cpu-priority", "6"],
        "cpu-priority: must be 0..=5 (cpuminer's scale), got 6",
    );
    assert_usage(
        &["mine", "--benchmark", "--cpu-priority", "high"],
        "cpu-priority",
    );
}

#[test]
fn cpu_affinity_pins_threads_round_robin() {
    let (threads, log) = benchmark_threads("aff1", &["--cpu-affinity", "0x1"], 2, |t| {
        t.iter().all(|t| t.cpus == "0")
    });
    assert!(threads.iter().all(|t| t.cpus == "0"), "{threads:?}\n{log}");
    assert!(log.contains("pinned round-robin to CPUs 0"), "{log}");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if cores >= 2 {
        // Decimal 3 = CPUs 0 and 1: miner-0 on 0, miner-1 on 1, miner-2 on 0 again.
        let (threads, log) = benchmark_threads("aff3", &["--cpu-affinity", "3"], 3, |t| {
            t.iter().map(|t| t.cpus.as_str()).eq(["0", "1", "0"])
        });
        let cpus: Vec<&str> = threads.iter().map(|t| t.cpus.as_str()).collect();
        assert_eq!(cpus, ["0", "1", "0"], "{log}");
    }
    assert_usage(
        &[
            "mine",
            "--benchmark",
            "--cpu-affinity",
            "0x8000000000000000000",
        ],
        "cpu-affinity 0x8000000000000000000: no CPU of this machine in the mask",
    );
    assert_usage(
        &["mine", "--benchmark", "--cpu-affinity", "cores"],
        "cpu-affinity: \"cores\" is not a CPU bitmask",
    );
    assert_usage(
        &["mine", "--benchmark", "--cpu-affinity", "0"],
        "names no CPU",
    );
}

#[test]
fn userpass_is_user_and_password() {
    assert_usage(
        &["mine", "-o", "127.0.0.1:1", "-O", "nocolon"],
        "userpass: expected USER:PASS",
    );
    assert_usage(
        &["mine", "-o", "127.0.0.1:1", "-O", "a:b", "-u", "c"],
        "-O USER:PASS and -u both name the user",
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("stratum+tcp://{}", listener.local_addr().unwrap());
        let dir = temp_dir("userpass");
        let args = [
            "mine",
            "-a",
            "sha256d",
            "-o",
            &url,
            "-O",
            "wallet.rig:pa:ss",
            "-t",
            "1",
        ];
        let proc = Proc::spawn(&args, dir.join("miner.log"));
        let accept = tokio::time::timeout(Duration::from_secs(60), listener.accept());
        let (stream, _) = accept.await.expect("the miner connects").unwrap();
        let mut conn = PoolConn::new(stream);
        let authorize = loop {
            let msg = conn.recv().await.expect("a request before authorize");
            let result = match msg["method"].as_str().unwrap_or_default() {
                "mining.authorize" => break msg,
                "mining.subscribe" => json!([[["mining.notify", "s1"]], "01020304", 4]),
                "mining.configure" => json!({"version-rolling": false}),
                _ => json!(true),
            };
            conn.reply(&msg["id"], result).await;
        };
        // The password is everything after the first colon, as cpuminer splits it.
        assert_eq!(
            authorize["params"],
            json!(["wallet.rig", "pa:ss"]),
            "{}",
            proc.output()
        );
        drop(proc);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// Runs `args` with stdout and stderr on a fresh pseudo-terminal; returns all it wrote.
fn on_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    // SAFETY: posix_openpt returns a new fd or -1; nothing else is touched.
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY) };
    assert!(
        master >= 0,
        "posix_openpt: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `master` is a terminal master fd we own; the calls only act on it.
    assert_eq!(unsafe { libc::grantpt(master) }, 0);
    // SAFETY: as above.
    assert_eq!(unsafe { libc::unlockpt(master) }, 0);
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: `name` is writable for its full length, which is what we pass.
    let named = unsafe { libc::ptsname_r(master, name.as_mut_ptr(), name.len()) };
    assert_eq!(named, 0);
    // SAFETY: ptsname_r wrote a NUL-terminated path into `name`.
    let path = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) };
    // SAFETY: `master` is an open fd owned by nothing else; the File now owns it.
    let mut master = unsafe { std::fs::File::from_raw_fd(master) };
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path.to_str().unwrap())
        .unwrap();
    let mut child = {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_remove("NO_COLOR")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
        // `cmd` and with it our copies of the slave end are dropped here, so reading the
        // master ends (EIO) once the child is gone.
    };
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let _ = child.wait();
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn colour_only_on_a_terminal_and_never_when_told() {
    // A pool nobody listens on and -r 0: a few log lines (INFO, WARN), then exit 1.
    let url = format!("stratum+tcp://{}", free_addr());
    let args = [
        "mine", "-t", "1", "--kernel", "portable", "-o", &url, "-r", "0", "-R", "0",
    ];
    let tty = on_terminal(&args, &[]);
    assert!(tty.contains("giving up"), "{tty}");
    assert!(tty.contains("\u{1b}["), "no colour on a terminal:\n{tty}");
    let mut no_color = args.to_vec();
    no_color.push("--no-color");
    let plain = on_terminal(&no_color, &[]);
    assert!(
        plain.contains("giving up") && !plain.contains('\u{1b}'),
        "{plain}"
    );
    let plain = on_terminal(&args, &[("NO_COLOR", "1")]);
    assert!(
        plain.contains("giving up") && !plain.contains('\u{1b}'),
        "{plain}"
    );
    // Not a terminal: no colour codes in the file.
    let out = miner(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("giving up") && !text.contains('\u{1b}'),
        "{text}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no pool could be mined"),
        "{out:?}"
    );
}

#[test]
fn passwords_leave_the_process_listing() {
    let dir = temp_dir("argv");
    // Nobody listens: the miner retries (forever) while we read its command line.
    let url = format!("stratum+tcp://{}", free_addr());
    let args = [
        "mine",
        "-o",
        &url,
        "-O",
        "rig:topsecret",
        "--pass=othersecret",
        "-t",
        "1",
        "--kernel",
        "portable",
        "-R",
        "1",
    ];
    let proc = Proc::spawn(&args, dir.join("miner.log"));
    let cmdline = || {
        let raw = std::fs::read(format!("/proc/{}/cmdline", proc.child.id())).unwrap_or_default();
        String::from_utf8_lossy(&raw).replace('\0', " ")
    };
    // Until the child has exec'd, /proc shows this test binary's command line (or none):
    // wait for the miner's own, then for it to hide the passwords.
    let deadline = Instant::now() + Duration::from_secs(60);
    let hidden = |shown: &str| shown.contains(" -O rig:") && !shown.contains("secret");
    while !hidden(&cmdline()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let shown = cmdline();
    assert!(!shown.contains("secret"), "{shown}");
    // Same lengths, user kept: `ps` shows where the passwords were.
    assert!(
        shown.contains(" -O rig:xxxxxxxxx --pass=xxxxxxxxxxx "),
        "{shown}"
    );
    drop(proc);
    let _ = std::fs::remove_dir_all(&dir);
}
