//! The executor at `RUST_LOG=trace` never logs the credentials `TaskInfo.data` carries
//! (issue 11 hole 7): a worker's Stratum password and a builtin pool's bitcoind RPC
//! password. A current-thread test, so the executor's, the worker's and the pool's tasks
//! all log on the thread whose events are captured.

use std::sync::{Arc, Mutex, PoisonError};

use proto::framework::{NodeSpec, ServerSpec, TaskSpec, WorkerSpec};
use proto::v1::TaskState;

use super::util::FakeAgent;
use super::{config, ev, launch, start, subscribed, task};

const STRATUM_SECRET: &str = "stratum-s3cr3t";
const RPC_SECRET: &str = "rpc-s3cr3t";

/// Every event of this thread, formatted as the binary's subscriber would.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Installs, once per process, a global subscriber that enables every event and writes
/// nothing. Without it, a callsite first reached by a sibling test's thread (no subscriber)
/// is cached as disabled for every thread while only one dispatcher exists, and the capture
/// below misses it (tracing-core's single-dispatcher fast path, tokio-rs/tracing#3611).
fn enable_every_callsite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Only fails if a global subscriber is set already, which serves as well.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
}

#[tokio::test]
async fn trace_logs_never_show_the_passwords_in_task_data() {
    enable_every_callsite();
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let agent = FakeAgent::start().await;

    // A builtin pool whose node (not there) has an RPC password: launched, then shut down.
    let _node = start(config(&agent, "node-r.exec", false));
    let node_spec = TaskSpec::Server(ServerSpec {
        demo: false,
        bitcoind: Some(NodeSpec {
            url: "http://127.0.0.1:1/".into(),
            user: Some("rpc".into()),
            password: Some(RPC_SECRET.into()),
            password_file: None,
            cookie_file: None,
            payout_address: "bcrt1qxyz".into(),
        }),
        difficulty: Some(0.0001),
        stratum_port: Some(0),
        report_interval_ms: 200,
    });
    agent.wait_stream("node-r.exec").await;
    agent.send("node-r.exec", subscribed());
    agent.send("node-r.exec", ev::launch(task("node-r", &node_spec)));
    agent
        .wait_update("node-r.exec", 0, "node-r", TaskState::TaskStarting)
        .await;
    agent.send("node-r.exec", ev::shutdown());

    // A demo pool and a worker with a Stratum password, mining until a share is accepted.
    let _server = start(config(&agent, "srv-r.exec", false));
    let demo = TaskSpec::Server(ServerSpec {
        demo: true,
        bitcoind: None,
        difficulty: Some(0.0001),
        stratum_port: Some(0),
        report_interval_ms: 200,
    });
    launch(&agent, "srv-r.exec", task("srv-r", &demo), true).await;
    let (_, report) = agent
        .wait_report("srv-r.exec", 0, "a server report", |r| r.server.is_some())
        .await;
    let _worker = start(config(&agent, "wrk-r.exec", false));
    let worker = TaskSpec::Worker(WorkerSpec {
        pool_url: report.server.unwrap().url,
        user: "w-r".into(),
        password: STRATUM_SECRET.into(),
        kernel: "portable".into(),
        threads: Some(1),
        report_interval_ms: 200,
    });
    launch(&agent, "wrk-r.exec", task("wrk-r", &worker), true).await;
    agent
        .wait_report("wrk-r.exec", 0, "an accepted share", |r| r.accepted > 0)
        .await;

    let text = logs.text();
    assert!(
        text.contains("launching"),
        "the executor's lines are captured"
    );
    assert!(
        text.contains("mining.authorize"),
        "the worker's sent lines too"
    );
    for secret in [STRATUM_SECRET, RPC_SECRET] {
        assert!(!text.contains(secret), "{secret} logged:\n{text}");
    }
}
