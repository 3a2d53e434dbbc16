//! Mesos v1 wire protocol for mesos-miner.
//!
//! Owns:
//! - the protobuf messages of `mesos.v1`, `mesos.v1.scheduler` and `mesos.v1.executor`: our
//!   own proto2 subset in `proto/`, with Mesos's package names, field numbers, labels, enum
//!   values and defaults, compiled by prost-build + protox at build time (no `protoc`);
//!   re-exported as [`v1`], [`scheduler`] and [`executor`];
//! - RecordIO framing of the event streams, bounded and incremental ([`recordio`]), and a
//!   sans-IO event-stream decoder for either codec ([`stream`]);
//! - pure-value builders for scheduler and executor Calls ([`calls`]) and Events ([`events`]);
//! - resource arithmetic on offers: sums, port ranges ([`resources`]);
//! - Mesos's JSON form of the messages ([`json`]);
//! - the duration text of the executor environment, `5secs`, `15mins` ([`duration`]);
//! - the HTTP names both sides agree on: paths, content types, `Mesos-Stream-Id` ([`wire`]);
//! - mesos-miner's own payloads inside Mesos messages: task specs and hashrate reports
//!   ([`framework`]);
//! - id constructors (`TaskId::from("x")`) and [`v1::TaskState::is_terminal`].
//!
//! Does not own: any I/O (HTTP, sockets, tokio), stream ids, retries or protocol decisions;
//! those belong to the scheduler, the executor and the local cluster.
//!
//! Facts: `shared/spec/mesos-v1.md` and the recordings of a real Mesos 1.12 in
//! `testdata/mesos-transcripts/`. The tests decode every recorded protobuf event and call
//! and re-encode it to the same bytes, parse every text dump with our field names, rebuild
//! every recorded call and event with the builders, and reproduce the master's JSON stream
//! byte for byte. One deliberate addition to Mesos's v1 schema: `AgentInfo.checkpoint`
//! (field 7), which real agents still send (see `proto/mesos/v1/mesos.proto`); prost encodes
//! it in field order, where Mesos appends it after field 8, so those executor SUBSCRIBED
//! events re-encode equal in content but not in byte order.

/// Generated code, laid out as the proto packages so cross-package paths resolve.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod mesos {
    /// `package mesos.v1`.
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/mesos.v1.rs"));

        /// `package mesos.v1.scheduler`: scheduler `Call` and `Event`.
        pub mod scheduler {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.scheduler.rs"));
        }

        /// `package mesos.v1.executor`: executor `Call` and `Event`.
        pub mod executor {
            include!(concat!(env!("OUT_DIR"), "/mesos.v1.executor.rs"));
        }
    }
}

pub mod calls;
pub mod duration;
pub mod events;
pub mod framework;
mod ids;
pub mod json;
pub mod recordio;
pub mod resources;
mod status;
pub mod stream;
pub mod wire;

pub use mesos::v1;
pub use mesos::v1::{executor, scheduler};
pub use prost::{Message, Name};

/// The encoded `FileDescriptorSet` of our .proto files (for reflection and JSON).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/mesos_descriptor.bin"));
