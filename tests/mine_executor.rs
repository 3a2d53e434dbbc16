//! The other side of `mine`'s low priority: under Mesos the executor's miner threads are
//! left as the agent started them (its isolation decides), read from `/proc` of the real
//! executor processes the local cluster runs below this test.

use crate::framework::{LONG, Sched, cluster, config, mining};
use crate::mine_cli::{HashThread, hash_threads};

/// The parent of process `pid` (field 4 of its stat).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = stat.rfind(')')?;
    stat[close + 1..].split_whitespace().nth(1)?.parse().ok()
}

/// Processes below this test process that run hashing threads.
fn descendants_hashing() -> Vec<(u32, Vec<HashThread>)> {
    let me = std::process::id();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let mut up = parent_of(pid);
        while let Some(p) = up.filter(|&p| p > 1 && p != me) {
            up = parent_of(p);
        }
        // Only `mesos-miner executor` processes: other tests run `mine` (niced by design)
        // below this process at the same time.
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let is_executor = cmdline.split(|&b| b == 0).any(|arg| arg == b"executor");
        if up != Some(me) || pid == me || !is_executor {
            continue;
        }
        let threads = hash_threads(pid);
        if !threads.is_empty() {
            out.push((pid, threads));
        }
    }
    out
}

/// Under Mesos the agent's isolation owns priority: the executor's miner threads keep the
/// nice value and policy they were started with (this test's: 0, normal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executor_leaves_priority_to_the_agent() {
    let c = cluster(1, 1.0, |_| {}).await;
    let s = Sched::start(config(&c, "priority")).await;
    s.wait("a mining worker", LONG, |st| mining(st, 1)).await;
    let found = descendants_hashing();
    assert!(
        !found.is_empty(),
        "no executor with miner threads below this test"
    );
    for (pid, threads) in &found {
        for t in threads {
            assert_eq!((t.nice, t.policy), (0, 0), "executor {pid}: {t:?}");
        }
    }
    s.stop().await;
    c.shutdown().await;
}
