//! A single-host Mesos-v1-compatible cluster: a master and agents in one process, on real
//! HTTP on 127.0.0.1, speaking the wire protocol of a real Mesos 1.x master and agent
//! (`shared/spec/mesos-v1.md`, and byte for byte the recordings in
//! `testdata/mesos-transcripts/`). It is what `mesos-miner local` and every framework
//! test run on, so the scheduler and executor need nothing else to run unchanged on Mesos.
//!
//! Owns: the master (scheduler API: SUBSCRIBE stream, heartbeats, offers, every call, status
//! codes and error texts), the agents (executor API, custom executors as child processes with
//! the `MESOS_*` environment, the command executor, the status-update manager), and fault
//! injection (agent restart / loss, master failover, cut streams).
//! Does not own: the protobuf types and RecordIO framing (`proto`), any scheduling policy.
//!
//! Layout: sans-IO cores (`master`, `agent`, joined by `core::Core`) take requests,
//! process events and `now`, and return replies and outputs; `driver` is the thin tokio /
//! axum layer that moves bytes, runs processes and ticks the clock; [`LocalCluster`] is the
//! public handle.
//!
//! # Use
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use local_cluster::{ClusterConfig, LocalCluster};
//!
//! let mut cfg = ClusterConfig { agents: 2, cpus: 2.0, mem: 1024.0, ..ClusterConfig::default() };
//! cfg.master.heartbeat = Duration::from_millis(500); // tests: faster than Mesos' 15 s
//! let cluster = LocalCluster::start(cfg).await?;
//! let master = cluster.master_url(); // http://127.0.0.1:<port>: point a scheduler here
//! // Fault injection:
//! let agent = cluster.agent_ids()[0].clone();
//! cluster.restart_agent(&agent, Duration::from_millis(500)).await?;
//! let new_master = cluster.failover_master().await?; // the old URL now answers 307
//! cluster.shutdown().await;
//! # let _ = (master, new_master); Ok(()) }
//! ```
//!
//! Also: [`LocalCluster::kill_agent`], [`LocalCluster::mark_agent_gone`],
//! [`LocalCluster::cut_stream`]; HTTP Basic authentication when
//! `cfg.master.credentials` is set; `mesos-miner local` runs one from the command line.
//!
//! # Deliberate differences from a real Mesos
//!
//! - `Call{type: UNKNOWN}` from a subscribed framework is answered `501` ("Received an
//!   unexpected 'UNKNOWN' call"); a real master aborts on a CHECK failure
//!   (`3h-unknown-call-type-master-crash.txt`).
//! - Request bodies above 8 MiB get `413`; Mesos sets no limit.
//! - Required-field checks ("Not initialized: …") are not reproduced: prost fills required
//!   strings with defaults, so such calls fail on the next check instead.
//! - JSON parse errors other than the empty body have our own texts after the recorded
//!   "Failed to parse body into JSON: " prefix style.
//! - Offer filters are per agent, not per resource subset: a DECLINE refuses that agent's
//!   resources for `refuse_seconds` (the same effect for whole-offer declines).
//! - Task and executor id validation texts are ours (the checks are Mesos').
//! - Agents report hostname `127.0.0.1` (a real agent reports its host name).
//! - Docker containers and the DEFAULT executor are refused with TASK_FAILED /
//!   REASON_CONTAINER_LAUNCH_FAILED (there is no Docker engine or nested containers here).
//! - Secrets in `CommandInfo.environment` are not resolved (no secret isolator).
//! - Agents never send executor HEARTBEAT events (Mesos sends one every 30 minutes).
//! - Response header names are lower case (hyper); HTTP/1.1 header names are
//!   case-insensitive and the values are the recorded ones.
//! - Master and agents share a process, so an agent restart keeps its state in memory
//!   (what a real agent recovers from its checkpoints); executors of frameworks that do not
//!   checkpoint are killed at the restart (their tasks end TASK_FAILED /
//!   REASON_AGENT_RESTARTED). The restarted agent answers 503 "Agent has not finished
//!   recovery" for a configurable short phase, as recorded.
//! - Master-generated updates for a lost agent use TASK_UNREACHABLE (PARTITION_AWARE) or
//!   TASK_LOST with REASON_AGENT_REMOVED at once; a real master first waits for missed pings
//!   (~75 s).
//! - The master picks one framework per agent per allocation round (round robin); offers
//!   carry all free resources of an agent, like the default allocator with one role.
//! - After a master failover the new master learns frameworks from the agents' tasks and
//!   from re-subscriptions; failover timeouts restart then (MESOS-4659 behaves the same).

// Events and messages are built once and moved straight to their consumer; boxing the big
// protobuf variants would only add noise.
#![allow(clippy::large_enum_variant)]

pub(crate) mod agent;
mod cluster;
pub(crate) mod core;
pub(crate) mod driver;
mod faults;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod ids;
pub(crate) mod keys;
pub(crate) mod master;
pub(crate) mod msg;
pub(crate) mod pb;
pub(crate) mod resources;
pub(crate) mod status;
mod validate;
pub(crate) mod wire;

pub use agent::AgentConfig;
pub use cluster::{ClusterConfig, LocalCluster};
pub use core::LaunchRecord;
pub use master::MasterConfig;
