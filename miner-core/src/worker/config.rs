//! The worker's settings, checked: [`WorkerConfig::new`] gives cpuminer's defaults and
//! [`super::WorkerOptions::build`] makes one from what an operator gives.

use std::sync::Arc;
use std::time::Duration;

use super::policy::RetryPolicy;
use super::url::PoolUrl;

/// Everything the worker needs to know, as `mesos-miner mine` flags set it. Its `Debug`
/// hides the password.
#[derive(Clone)]
pub struct WorkerConfig {
    /// `-o` URLs in priority order (at least one).
    pub pools: Vec<PoolUrl>,
    /// `-u`: the worker name sent in `mining.authorize`.
    pub username: String,
    /// `-p`: the password sent in `mining.authorize`.
    pub password: String,
    /// Sent in `mining.subscribe` and as the `client.get_version` answer.
    pub user_agent: String,
    /// `-r` / `-R`: how many failed connections in a row before giving up, and the pauses.
    pub retry: RetryPolicy,
    /// `-T`: no line from the pool for this long ends the connection; also the connect,
    /// handshake and submit-answer timeout.
    pub timeout: Duration,
    /// Ask for BIP310 version rolling (BIP320 bits) with `mining.configure`.
    pub version_rolling: bool,
    /// `--suggest-diff`.
    pub suggest_difficulty: Option<f64>,
    /// TLS settings for `stratum+ssl://` pools.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// How often a better (earlier) pool is probed while mining on a backup one.
    pub failback_interval: Duration,
    /// How often the hashrate line is printed (unless `quiet`).
    pub report_interval: Duration,
    /// `-q`: no periodic hashrate lines.
    pub quiet: bool,
    /// `--allow-redirect`: follow `client.reconnect` to any host, not only the configured
    /// pool's (see [`super::redirect`]).
    pub allow_redirect: bool,
    /// Most shares sent per second (a token bucket holding one second's worth); shares
    /// found beyond it are dropped and counted in [`super::ShareCounts::dropped`].
    pub max_submits_per_second: u32,
    /// The easiest share difficulty mined: a pool asking for less gets shares of this
    /// difficulty (still valid for it, only rarer), so a `mining.set_difficulty [1e-300]`
    /// cannot turn every hash into a share.
    pub min_difficulty: f64,
}

/// Default [`WorkerConfig::max_submits_per_second`]: far above what a pool with a sane
/// difficulty asks (a few shares a minute per worker), far below what floods it.
pub const MAX_SUBMITS_PER_SECOND: u32 = 100;

/// Default [`WorkerConfig::min_difficulty`]: one share per ~4,300 hashes, i.e. about a
/// thousand per second for a 4 MH/s thread. Pools' own minimums are far above it (ckpool 1,
/// this project's pool 0.0001).
pub const MIN_DIFFICULTY: f64 = 1e-6;

impl WorkerConfig {
    /// Defaults as cpuminer has them (retry forever, 30 s pause cap, 120 s timeout).
    pub fn new(pools: Vec<PoolUrl>, username: &str, password: &str) -> Self {
        WorkerConfig {
            pools,
            username: username.to_owned(),
            password: password.to_owned(),
            user_agent: concat!("mesos-miner/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(120),
            version_rolling: true,
            suggest_difficulty: None,
            tls: None,
            failback_interval: Duration::from_secs(30),
            report_interval: Duration::from_secs(30),
            quiet: false,
            allow_redirect: false,
            max_submits_per_second: MAX_SUBMITS_PER_SECOND,
            min_difficulty: MIN_DIFFICULTY,
        }
    }
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("pools", &self.pools)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("allow_redirect", &self.allow_redirect)
            .finish_non_exhaustive()
    }
}
