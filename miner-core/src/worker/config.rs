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
}

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
            .finish_non_exhaustive()
    }
}
