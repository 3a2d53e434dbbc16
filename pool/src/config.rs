//! The pool's settings: [`PoolConfig`] (typed, with [`PoolConfig::new`]'s defaults) and
//! [`PoolOptions`], the settings as an operator gives them (`mesos-miner pool` flags:
//! seconds and difficulties as numbers, credentials as file names), checked into a
//! [`PoolConfig`] by [`PoolOptions::build`], which also reads the password file. The command
//! line only parses; every check and default lives here.

use std::path::PathBuf;
use std::time::Duration;

use stratum::server::{ServerConfig, VardiffConfig};
use stratum::{Difficulty, WireError};

use crate::credentials::{self, CredentialError, CredentialSources};
use crate::rpc::RpcAuth;
use crate::server::ConnLimits;

/// Where templates come from.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A bitcoind reachable over JSON-RPC.
    Node {
        /// JSON-RPC URL.
        url: String,
        /// How to authenticate.
        auth: RpcAuth,
    },
    /// No node: synthetic jobs; no block can be valid.
    Demo,
}

/// Everything the pool needs; [`PoolConfig::new`] gives sensible defaults.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Node or demo.
    pub backend: Backend,
    /// Required with a node; its network must match the node's chain.
    pub payout_address: Option<String>,
    /// Found blocks are stored under `<data_dir>/blocks` before they are submitted.
    pub data_dir: PathBuf,
    /// Text pushed into every coinbase scriptSig after the height.
    pub pool_tag: String,
    /// Per-connection session rules (difficulties, extranonce2 size, vardiff).
    pub session: ServerConfig,
    /// Most simultaneous Stratum connections.
    pub max_connections: usize,
    /// Most simultaneous connections from one IP address; 0: no limit.
    pub max_connections_per_ip: usize,
    /// Loopback peers are not held to `max_connections_per_ip`.
    pub loopback_unlimited: bool,
    /// Limits of one connection.
    pub limits: ConnLimits,
    /// Template polling period (new mempool transactions).
    pub poll_interval: Duration,
    /// Longest a long-poll request is held open.
    pub longpoll_wait: Duration,
    /// A job older than this is refreshed (fresh ntime, pending difficulty changes).
    pub job_refresh: Duration,
    /// Timeout of an ordinary RPC call.
    pub rpc_timeout: Duration,
}

impl PoolConfig {
    /// The defaults: 1024 connections (64 per address, loopback included), 600 s idle
    /// timeout, 10 s to subscribe and authorize, 10 s per line, 5 s polling, 30 s job
    /// refresh.
    pub fn new(backend: Backend, payout_address: Option<String>, data_dir: PathBuf) -> Self {
        PoolConfig {
            backend,
            payout_address,
            data_dir,
            pool_tag: "/mesos-miner/".to_string(),
            session: ServerConfig::default(),
            max_connections: 1024,
            max_connections_per_ip: 64,
            loopback_unlimited: false,
            limits: ConnLimits {
                max_line: stratum::DEFAULT_MAX_LINE,
                idle_timeout: Duration::from_secs(600),
                handshake_timeout: Duration::from_secs(10),
                line_timeout: Duration::from_secs(10),
                max_protocol_errors: 20,
            },
            poll_interval: Duration::from_secs(5),
            longpoll_wait: Duration::from_secs(120),
            job_refresh: Duration::from_secs(30),
            rpc_timeout: Duration::from_secs(30),
        }
    }
}

/// Why the options do not make a pool configuration; in every case the operator has to
/// change an option (or the password file).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A node backend needs a payout address.
    #[error("--payout-address is required (or --demo)")]
    PayoutAddress,
    /// The payout address is no Bitcoin address on any network (its network is checked
    /// against the node's chain once the node answers).
    #[error("--payout-address {address:?} is not a Bitcoin address: {reason}")]
    PayoutAddressInvalid {
        /// The address as given.
        address: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The node URL is not an `http://` or `https://` URL with a host.
    #[error("--bitcoind-url {url:?} is not an http:// or https:// URL with a host: {reason}")]
    BitcoindUrl {
        /// The URL as given, without credentials.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// The cookie file does not exist (or is not a file).
    #[error("--rpc-cookie-file {0:?}: no such file (is bitcoind running with this datadir?)")]
    CookieFile(PathBuf),
    /// Not exactly one way to authenticate to the node.
    #[error("give either --rpc-cookie-file, or --rpc-user with --rpc-password-file")]
    Credentials,
    /// The password file is unreadable or empty.
    #[error("rpc-password-file: {0}")]
    PasswordFile(CredentialError),
    /// A difficulty is not a positive finite number.
    #[error("{option}: {source}")]
    Difficulty {
        /// The option's name (its long flag).
        option: &'static str,
        /// Why the value is refused.
        source: WireError,
    },
    /// `min_diff` is above `max_diff`.
    #[error("min-diff is above max-diff")]
    DifficultyRange,
    /// A duration is zero, negative or not a number.
    #[error("{0}: must be a positive number of seconds")]
    Seconds(&'static str),
    /// `extranonce2_size` is outside 2..=16 bytes.
    #[error("extranonce2-size: must be 2..=16 bytes, got {0}")]
    Extranonce2Size(u8),
}

/// The pool's options as given; field names follow the long flags of `mesos-miner pool`,
/// and [`Default`] gives their defaults.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// `--demo`: no node, synthetic jobs.
    pub demo: bool,
    /// bitcoind JSON-RPC URL.
    pub bitcoind_url: String,
    /// RPC user (with `rpc_password_file`).
    pub rpc_user: Option<String>,
    /// File holding the RPC password (first line).
    pub rpc_password_file: Option<PathBuf>,
    /// The node's `.cookie` file, instead of user and password.
    pub rpc_cookie_file: Option<PathBuf>,
    /// Address the block reward is paid to (required with a node).
    pub payout_address: Option<String>,
    /// Directory for found blocks.
    pub data_dir: PathBuf,
    /// Text put into every coinbase.
    pub pool_tag: String,
    /// Share difficulty of a new connection [default: 0.01, 0.0001 in demo mode].
    pub start_diff: Option<f64>,
    /// Lowest share difficulty.
    pub min_diff: f64,
    /// Highest share difficulty.
    pub max_diff: f64,
    /// Vardiff target seconds between shares; 0 turns vardiff off.
    pub share_interval: f64,
    /// Bytes of extranonce2 miners fill (2..=16).
    pub extranonce2_size: u8,
    /// Most simultaneous connections (at least 1).
    pub max_connections: usize,
    /// Most simultaneous connections from one IP address (0: no limit).
    pub max_connections_per_ip: usize,
    /// Loopback peers are not held to `max_connections_per_ip`.
    pub loopback_unlimited: bool,
    /// Drop a connection silent for this many seconds.
    pub idle_timeout: f64,
    /// Drop a connection not subscribed and authorized this many seconds after connecting.
    pub handshake_timeout: f64,
    /// Drop a connection whose line is not complete this many seconds after its first byte.
    pub line_timeout: f64,
    /// Longest Stratum line accepted, bytes (at least 256).
    pub max_line: usize,
    /// getblocktemplate polling period, seconds.
    pub poll_interval: f64,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            demo: false,
            bitcoind_url: "http://127.0.0.1:8332/".into(),
            rpc_user: None,
            rpc_password_file: None,
            rpc_cookie_file: None,
            payout_address: None,
            data_dir: "pool-data".into(),
            pool_tag: "/mesos-miner/".into(),
            start_diff: None,
            min_diff: 0.0001,
            max_diff: 4_294_967_296.0,
            share_interval: 10.0,
            extranonce2_size: 8,
            max_connections: 1024,
            max_connections_per_ip: 64,
            loopback_unlimited: false,
            idle_timeout: 600.0,
            handshake_timeout: 10.0,
            line_timeout: 10.0,
            max_line: stratum::DEFAULT_MAX_LINE,
            poll_interval: 5.0,
        }
    }
}

/// An `http`/`https` URL with a host (what reqwest can post to).
fn check_url(url: &str) -> Result<(), ConfigError> {
    let refuse = |reason: String| ConfigError::BitcoindUrl {
        url: crate::rpc::url_for_logs(url),
        reason,
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| refuse(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(refuse(format!("scheme {:?}", parsed.scheme())));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(refuse("no host".into()));
    }
    Ok(())
}

fn seconds(option: &'static str, value: f64) -> Result<Duration, ConfigError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or(ConfigError::Seconds(option))
}

fn difficulty(option: &'static str, value: f64) -> Result<Difficulty, ConfigError> {
    Difficulty::new(value).map_err(|source| ConfigError::Difficulty { option, source })
}

impl PoolOptions {
    /// The checked configuration; reads the password file now.
    pub fn build(&self) -> Result<PoolConfig, ConfigError> {
        let backend = self.backend()?;
        let mut c = PoolConfig::new(backend, self.payout_address.clone(), self.data_dir.clone());
        c.pool_tag = self.pool_tag.clone();
        c.session = self.session()?;
        c.max_connections = self.max_connections.max(1);
        c.max_connections_per_ip = self.max_connections_per_ip;
        c.loopback_unlimited = self.loopback_unlimited;
        c.limits.idle_timeout = seconds("idle-timeout", self.idle_timeout)?;
        c.limits.handshake_timeout = seconds("handshake-timeout", self.handshake_timeout)?;
        c.limits.line_timeout = seconds("line-timeout", self.line_timeout)?;
        c.limits.max_line = self.max_line.max(256);
        c.poll_interval = seconds("poll-interval", self.poll_interval)?;
        Ok(c)
    }

    /// The node's credentials: the cookie file, or the user with the password file's first
    /// line.
    pub fn auth(&self) -> Result<RpcAuth, ConfigError> {
        credentials::rpc_auth(CredentialSources {
            user: self.rpc_user.as_deref(),
            password: None,
            password_file: self.rpc_password_file.as_deref(),
            cookie_file: self.rpc_cookie_file.as_deref(),
        })
        .map_err(|e| match e {
            CredentialError::Sources(_) => ConfigError::Credentials,
            e => ConfigError::PasswordFile(e),
        })
    }

    fn backend(&self) -> Result<Backend, ConfigError> {
        if self.demo {
            return Ok(Backend::Demo);
        }
        let Some(address) = self.payout_address.as_deref() else {
            return Err(ConfigError::PayoutAddress);
        };
        if let Err(e) = address.parse::<bitcoin::Address<bitcoin::address::NetworkUnchecked>>() {
            return Err(ConfigError::PayoutAddressInvalid {
                address: address.to_string(),
                reason: e.to_string(),
            });
        }
        check_url(&self.bitcoind_url)?;
        if let Some(cookie) = &self.rpc_cookie_file
            && !cookie.is_file()
        {
            return Err(ConfigError::CookieFile(cookie.clone()));
        }
        Ok(Backend::Node {
            url: self.bitcoind_url.clone(),
            auth: self.auth()?,
        })
    }

    fn session(&self) -> Result<ServerConfig, ConfigError> {
        let mut session = ServerConfig::default();
        let (min, max) = (
            difficulty("min-diff", self.min_diff)?,
            difficulty("max-diff", self.max_diff)?,
        );
        if min > max {
            return Err(ConfigError::DifficultyRange);
        }
        session.min_difficulty = min;
        session.max_difficulty = max;
        let start = self
            .start_diff
            .unwrap_or(if self.demo { 0.0001 } else { 0.01 });
        session.initial_difficulty = difficulty("start-diff", start)?;
        if !(2..=16).contains(&self.extranonce2_size) {
            return Err(ConfigError::Extranonce2Size(self.extranonce2_size));
        }
        session.extranonce2_size = usize::from(self.extranonce2_size);
        session.vardiff = if self.share_interval == 0.0 {
            None
        } else {
            Some(VardiffConfig {
                target_interval: seconds("share-interval", self.share_interval)?,
                ..VardiffConfig::default()
            })
        };
        Ok(session)
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
