//! What the end-to-end tests share: the real `mesos-miner` binary as a child process (killed
//! on drop, its output in a file), loopback addresses, raw HTTP GETs and scratch folders.

use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_mesos-miner");

/// A child process killed on drop, its output in a file.
pub(crate) struct Proc {
    pub(crate) child: Child,
    pub(crate) log: PathBuf,
}

impl Proc {
    pub(crate) fn spawn(args: &[&str], log: PathBuf) -> Proc {
        Proc::spawn_logging(args, log, "info")
    }

    /// As [`Proc::spawn`], with `RUST_LOG=rust_log`.
    pub(crate) fn spawn_logging(args: &[&str], log: PathBuf, rust_log: &str) -> Proc {
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Proc { child, log }
    }

    pub(crate) fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to `limit` for the process to exit by itself (None if it still runs).
    pub(crate) fn terminate_or_wait(
        &mut self,
        limit: Duration,
    ) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// SIGTERM, then wait up to `limit` for the exit.
    pub(crate) fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Proc {
    /// SIGTERM first, SIGKILL only if it is still there after 10 s: a `local` cluster
    /// killed outright leaves its executors behind, and they (checkpointing, as Mesos
    /// specifies) wait out their 15 min recovery timeout still holding their ports, which
    /// later tests then find taken.
    fn drop(&mut self) {
        // Never signal a pid that was already reaped: it may belong to someone else now.
        if matches!(self.child.try_wait(), Ok(None))
            && self.terminate(Duration::from_secs(10)).is_none()
        {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

pub(crate) fn free_addr() -> SocketAddr {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

pub(crate) fn wait_listening(addr: SocketAddr, p: &Proc) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {addr}:\n{}",
            p.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// GET http://addr/path as JSON, with a raw HTTP/1.1 request.
pub(crate) fn get_json(addr: SocketAddr, path: &str) -> Value {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect(addr) else {
        return Value::Null;
    };
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let _ = s.write_all(req.as_bytes());
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body.trim()).ok())
        .unwrap_or(Value::Null)
}

/// A fresh scratch folder `mesos-miner-NAME-PID` in the temp dir. Every one is removed when
/// the test binary exits, passed or failed (agent sandboxes in them hold copies of the
/// binary: a run would otherwise leave gigabytes behind), unless `MESOS_MINER_KEEP_TEST_DIRS`
/// is set to look at them.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mesos-miner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    remove_at_exit(dir.clone());
    dir
}

static MADE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn remove_at_exit(dir: PathBuf) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("MESOS_MINER_KEEP_TEST_DIRS").is_some() {
        return;
    }
    // The harness ends the process through `exit` (also when a test failed), which runs
    // `atexit` handlers; children still writing into a folder were killed by then.
    HOOK.call_once(|| {
        // SAFETY: registers a plain `extern "C"` function with no arguments.
        unsafe { libc::atexit(remove_made) };
    });
    if let Ok(mut made) = MADE.lock() {
        made.push(dir);
    }
}

extern "C" fn remove_made() {
    if let Ok(made) = MADE.lock() {
        for dir in made.iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
