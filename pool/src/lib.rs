//! The built-in Stratum pool server: bitcoind block templates, jobs, share checks, block
//! submission.
//!
//! It owns the bitcoind JSON-RPC client ([`rpc`]), coinbase construction ([`coinbase`]),
//! jobs and the proof-of-work check of shares ([`job`]), the durable store of found blocks
//! ([`blocks`]), template sources (node long-poll/polling, or `--demo`: [`source`]), the
//! tokio server ([`server`]) and `GET /status` ([`stats`], [`status`]). The Stratum wire
//! protocol and per-connection session rules (form checks, codes 20–25, vardiff, version
//! rolling) belong to the `stratum` crate; hashing, targets, and header, coinbase and merkle
//! assembly to `miner-core`.
//! [`config`] checks the operator's options into a [`PoolConfig`]; [`credentials`] reads
//! the node's password or cookie file for every caller (the CLI and the Mesos executor);
//! [`Pool::closed`] tells a host that the pool died on its own.
//!
//! Use as a library (tests bind `127.0.0.1:0`):
//!
//! ```no_run
//! # async fn demo() -> Result<(), pool::PoolError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let config = pool::PoolConfig::new(pool::Backend::Demo, None, "pool-data".into());
//! let pool = pool::Pool::start(listener, config).await?;
//! println!("stratum+tcp://{}", pool.local_addr());
//! pool.shutdown().await;
//! # Ok(()) }
//! ```

pub mod blocks;
pub mod coinbase;
pub mod config;
pub mod credentials;
pub mod job;
pub mod rpc;
pub mod server;
pub mod source;
pub mod stats;
pub mod status;
pub mod template;

pub use config::{Backend, ConfigError, PoolConfig, PoolOptions};
pub use server::{Pool, PoolClosed, PoolError, PoolStarter, StatusSource, run};
