//! The HTTP-level names every Mesos v1 client and server must agree on (spec §1). Values
//! only: this crate does no I/O.

/// Scheduler API endpoint on a master (POST only).
pub const SCHEDULER_PATH: &str = "/api/v1/scheduler";
/// The same endpoint under the master's process id; a non-leading master's 307 points here.
pub const SCHEDULER_PATH_ALIAS: &str = "/master/api/v1/scheduler";
/// Executor API endpoint on an agent (POST only), at `http://$MESOS_AGENT_ENDPOINT`.
pub const EXECUTOR_PATH: &str = "/api/v1/executor";

/// Body type of protobuf calls, and of a protobuf event stream. Compared byte for byte by
/// Mesos: no parameters, exact case (spec §1.2).
pub const CONTENT_TYPE_PROTOBUF: &str = "application/x-protobuf";
/// Body type of JSON calls and streams.
pub const CONTENT_TYPE_JSON: &str = "application/json";

/// Response header of a scheduler SUBSCRIBE; sent back unchanged on every other call of
/// that subscription, never on SUBSCRIBE (spec §1.4).
pub const STREAM_ID_HEADER: &str = "Mesos-Stream-Id";

/// The master's heartbeat interval, also reported in SUBSCRIBED (spec §1.7).
pub const DEFAULT_HEARTBEAT_INTERVAL_SECS: f64 = 15.0;
