//! Test harnesses that several crates' tests share; dev-only (`publish = false`), never a
//! dependency of a library.
//!
//! Owns: [`regtest`] (two connected Bitcoin SV regtest nodes on loopback, with a small
//! JSON-RPC client of their own, [`rpc`]); [`stratum`] (a fake Stratum pool for the miner's
//! tests and a raw Stratum client for the pool's, at the wire level: TCP and JSON lines,
//! with header arithmetic of its own); `fuzz` (feature `fuzz`: the bodies of the fuzz
//! targets in `fuzz/`, shared with the corpus replay test, so they call the crates' parsers).
//! Does not own: any type of the crates under test. Tests build the crate's own values
//! (e.g. `pool::rpc::RpcAuth`) from what the harness exposes (URL, user, password file), so a
//! harness never hands a test a second copy of a type the code under test defines.

#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod regtest;
pub mod rpc;
pub mod stratum;
