//! The built-in Stratum pool server: bitcoind block templates, jobs, share checks, block
//! submission.
//!
//! It owns the bitcoind JSON-RPC client ([`rpc`]), coinbase construction ([`coinbase`]),
//! merkle branches ([`merkle`]), jobs and the proof-of-work check of shares ([`job`]), the
//! durable store of found blocks ([`blocks`]) and the tokio server ([`server`]). The Stratum
//! wire protocol and per-connection session rules belong to the `stratum` crate; hashing and
//! targets to `miner-core`. [`regtest`] starts real regtest nodes for tests.

pub mod blocks;
pub mod coinbase;
pub mod job;
pub mod merkle;
pub mod regtest;
pub mod rpc;
pub mod server;
pub mod source;
pub mod stats;
pub mod status;
pub mod template;

pub use server::{Backend, Pool, PoolConfig, PoolError, StatusSource, run};
