//! The Mesos framework of mesos-miner.
//!
//! Owns: the scheduler's decisions as a pure reducer ([`core`]: offers, launches, status
//! updates, reconciliation, kills, backoff, reports). The HTTP driver, state store and web
//! surface are being added.
//!
//! Does not own: the wire types and RecordIO (`proto`), the executor, any hashing code
//! (this crate never links miner-core or pool).

pub mod config;
pub mod core;
