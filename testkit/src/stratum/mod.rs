//! Stratum V1 at the wire level for tests: JSON lines over TCP, both ends, and the header
//! arithmetic of spec/stratum.md Part A.1 written out again, independently of the code
//! under test (its own sha256d on the `sha2` crate, its own difficulty check).
//!
//! - [`header`]: notify params → coinbase, merkle root, 80-byte header; hashes, nonces.
//! - [`lines`]: one connection read and written as JSON lines, with a time limit.
//! - [`pool`]: a scripted fake pool for miner tests ([`pool::PoolConn`], [`pool::FakeJob`]).
//! - [`miner`]: a raw Stratum client for pool tests ([`miner::Client`]).
//!
//! Everything here is JSON values, bytes and plain numbers: no type of `stratum`,
//! `miner-core` or `pool` crosses into the crate under test.

pub mod header;
pub mod lines;
pub mod miner;
pub mod pool;
