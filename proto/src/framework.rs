//! The payloads mesos-miner's own scheduler and executor exchange through Mesos: what a task
//! is asked to do (`TaskInfo.data`, JSON [`TaskSpec`]) and what an executor reports back in
//! framework `MESSAGE`s (JSON [`Report`]). Both sides link this one definition, so the field
//! names the issue fixed (`v`, `seq`, `sent_ms`, `hashrate_10s`, …) cannot drift apart.
//!
//! Not Mesos messages: Mesos carries both as opaque bytes. Everything here is parsed from
//! untrusted bytes with a size limit first ([`MAX_PAYLOAD`]); unknown fields are ignored so a
//! newer executor can report to an older scheduler.

use serde::{Deserialize, Serialize};

/// The largest `TaskInfo.data` or report either side accepts, in bytes.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// Version of the report format; a report with another `v` is refused.
pub const REPORT_VERSION: u32 = 1;

/// Why a payload was refused.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Longer than [`MAX_PAYLOAD`].
    #[error("payload of {0} bytes is over the {MAX_PAYLOAD}-byte limit")]
    TooLarge(usize),
    /// Not the JSON form of the expected type.
    #[error("malformed payload: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A report of an unknown format version.
    #[error("report version {0} is not {REPORT_VERSION}")]
    Version(u32),
}

/// What a task runs: the JSON in `TaskInfo.data`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskSpec {
    /// A Stratum worker (miner-core) mining on `pool_url`.
    Worker(WorkerSpec),
    /// The built-in Stratum pool server.
    Server(ServerSpec),
}

/// A worker task's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerSpec {
    /// `stratum+tcp://host:port` (or `stratum+ssl://`).
    pub pool_url: String,
    /// Stratum user (payout address or account.worker).
    pub user: String,
    /// Stratum password; travels here, never on a command line or in the environment.
    #[serde(default)]
    pub password: String,
    /// Kernel name, `auto` by default.
    #[serde(default = "auto")]
    pub kernel: String,
    /// Search threads; `None` = the task's cpus, rounded, at least 1.
    #[serde(default)]
    pub threads: Option<usize>,
    /// Milliseconds between reports.
    #[serde(default = "default_report_ms")]
    pub report_interval_ms: u64,
}

/// The built-in pool server's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerSpec {
    /// Demo jobs (no node); `bitcoind` must then be `None`.
    #[serde(default)]
    pub demo: bool,
    /// The node to build work from.
    #[serde(default)]
    pub bitcoind: Option<NodeSpec>,
    /// Starting share difficulty.
    #[serde(default)]
    pub difficulty: Option<f64>,
    /// Stratum port; `None` = the first port of the task's `ports` resource.
    #[serde(default)]
    pub stratum_port: Option<u16>,
    /// Milliseconds between reports.
    #[serde(default = "default_report_ms")]
    pub report_interval_ms: u64,
}

/// How the pool reaches bitcoind. Exactly one credential source is set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeSpec {
    /// `http://host:port/`.
    pub url: String,
    /// RPC user (with `password`).
    #[serde(default)]
    pub user: Option<String>,
    /// RPC password, carried in `TaskInfo.data` (Mesos's `/state` does not show it).
    #[serde(default)]
    pub password: Option<String>,
    /// A password file on the agent.
    #[serde(default)]
    pub password_file: Option<String>,
    /// A `.cookie` file on the agent.
    #[serde(default)]
    pub cookie_file: Option<String>,
    /// Where the coinbase pays.
    pub payout_address: String,
}

fn auto() -> String {
    "auto".to_owned()
}

fn default_report_ms() -> u64 {
    5_000
}

/// The kind a report or task is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A worker task.
    Worker,
    /// The pool server task.
    Server,
}

/// The pool a worker mines on, as the worker sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolState {
    /// The pool URL in use or last tried.
    pub url: String,
    /// `connected`, `connecting` or `disconnected`.
    pub state: String,
}

/// What a pool server task reports besides the common fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerReport {
    /// Open Stratum connections.
    pub connections: u64,
    /// Distinct authorized worker names.
    pub workers: u64,
    /// Shares accepted by the pool (cumulative).
    pub shares_accepted: u64,
    /// Shares rejected by the pool (cumulative).
    pub shares_rejected: u64,
    /// Blocks found (cumulative).
    pub blocks_found: u64,
    /// Blocks the node accepted (cumulative).
    pub blocks_accepted: u64,
    /// The height being mined (`None` in demo mode or before the first template).
    pub height: Option<u64>,
    /// `ok`, `connecting`, `error: …` or `demo`.
    pub node: String,
    /// The Stratum URL workers should use (`stratum+tcp://host:port`).
    pub url: String,
}

/// A framework `MESSAGE` from an executor: cumulative counters, so a lost or repeated message
/// does no harm (the scheduler keeps the one with the highest `seq`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Format version, [`REPORT_VERSION`].
    pub v: u32,
    /// Increases by one per report of this executor run.
    pub seq: u64,
    /// Wall clock of sending, milliseconds since the Unix epoch.
    pub sent_ms: u64,
    /// The task reported on.
    pub task_id: String,
    /// Worker or server.
    pub kind: TaskKind,
    /// The agent the executor runs on.
    pub agent_id: String,
    /// Hashes done since the task started.
    pub hashes: u64,
    /// Hashes per second over 10 s, 1 min and 15 min (0 while disconnected).
    pub hashrate_10s: f64,
    /// See `hashrate_10s`.
    pub hashrate_1m: f64,
    /// See `hashrate_10s`.
    pub hashrate_15m: f64,
    /// Shares accepted (cumulative).
    pub accepted: u64,
    /// Shares rejected (cumulative).
    pub rejected: u64,
    /// Shares found but not sent because their job ended (cumulative).
    pub stale: u64,
    /// Current share difficulty.
    pub difficulty: Option<f64>,
    /// Search threads.
    pub threads: u64,
    /// Kernel in use.
    pub kernel: String,
    /// The pool, for a worker.
    #[serde(default)]
    pub pool: Option<PoolState>,
    /// Pool server figures, for the server task.
    #[serde(default)]
    pub server: Option<ServerReport>,
}

impl TaskSpec {
    /// Parses `TaskInfo.data`.
    pub fn parse(data: &[u8]) -> Result<TaskSpec, PayloadError> {
        check_size(data)?;
        Ok(serde_json::from_slice(data)?)
    }

    /// The JSON bytes for `TaskInfo.data`.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl Report {
    /// Parses a framework message; refuses oversized input and unknown versions.
    pub fn parse(data: &[u8]) -> Result<Report, PayloadError> {
        check_size(data)?;
        let report: Report = serde_json::from_slice(data)?;
        if report.v != REPORT_VERSION {
            return Err(PayloadError::Version(report.v));
        }
        Ok(report)
    }

    /// The JSON bytes of the message.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn check_size(data: &[u8]) -> Result<(), PayloadError> {
    if data.len() > MAX_PAYLOAD {
        Err(PayloadError::TooLarge(data.len()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            v: 1,
            seq: 3,
            sent_ms: 1_700_000_000_000,
            task_id: "worker-1".into(),
            kind: TaskKind::Worker,
            agent_id: "a1".into(),
            hashes: 10,
            hashrate_10s: 1.5,
            hashrate_1m: 1.0,
            hashrate_15m: 0.5,
            accepted: 2,
            rejected: 1,
            stale: 0,
            difficulty: Some(0.01),
            threads: 2,
            kernel: "sha-ni".into(),
            pool: Some(PoolState {
                url: "stratum+tcp://127.0.0.1:3333".into(),
                state: "connected".into(),
            }),
            server: None,
        }
    }

    #[test]
    fn report_has_the_contract_field_names() {
        let value: serde_json::Value = serde_json::from_slice(&report().to_bytes()).unwrap();
        for key in [
            "v",
            "seq",
            "sent_ms",
            "task_id",
            "kind",
            "agent_id",
            "hashes",
            "hashrate_10s",
            "hashrate_1m",
            "hashrate_15m",
            "accepted",
            "rejected",
            "stale",
            "difficulty",
            "threads",
            "kernel",
            "pool",
        ] {
            assert!(value.get(key).is_some(), "missing {key}");
        }
        assert_eq!(value["kind"], "worker");
        assert_eq!(value["pool"]["state"], "connected");
        assert_eq!(Report::parse(&report().to_bytes()).unwrap(), report());
    }

    #[test]
    fn report_refuses_bad_input() {
        let mut other = report();
        other.v = 2;
        assert!(matches!(
            Report::parse(&other.to_bytes()),
            Err(PayloadError::Version(2))
        ));
        assert!(matches!(
            Report::parse(b"{"),
            Err(PayloadError::Malformed(_))
        ));
        let big = vec![b' '; MAX_PAYLOAD + 1];
        assert!(matches!(
            Report::parse(&big),
            Err(PayloadError::TooLarge(_))
        ));
    }

    #[test]
    fn task_spec_round_trips_with_defaults() {
        let spec =
            TaskSpec::parse(br#"{"kind":"worker","pool_url":"stratum+tcp://h:1","user":"u"}"#)
                .unwrap();
        let TaskSpec::Worker(w) = &spec else {
            panic!("not a worker: {spec:?}")
        };
        assert_eq!(w.kernel, "auto");
        assert_eq!(w.report_interval_ms, 5_000);
        assert_eq!(TaskSpec::parse(&spec.to_bytes()).unwrap(), spec);
        let server = TaskSpec::Server(ServerSpec {
            demo: true,
            bitcoind: None,
            difficulty: Some(0.001),
            stratum_port: None,
            report_interval_ms: 1000,
        });
        assert_eq!(TaskSpec::parse(&server.to_bytes()).unwrap(), server);
        assert!(TaskSpec::parse(br#"{"kind":"other"}"#).is_err());
    }
}
