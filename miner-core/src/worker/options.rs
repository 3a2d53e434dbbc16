//! The worker's settings as an operator gives them (`mesos-miner mine` flags or its `-c`
//! file: pool URLs as text, durations as seconds, `-1` for "retry forever"), checked and
//! turned into a [`WorkerConfig`] by [`WorkerOptions::build`]. The command line only parses
//! and merges; every range check and default lives here, so each caller refuses the same
//! things with the same words.

use std::path::PathBuf;
use std::time::Duration;

use super::config::WorkerConfig;
use super::policy::RetryPolicy;
use super::tls::{self, TlsError};
use super::url::{PoolUrl, UrlError};

/// Longest accepted duration option: a day.
pub const MAX_SECONDS: f64 = 86_400.0;

/// Why the options do not make a worker configuration. Every variant means the same thing
/// to the caller: the operator has to change an option.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No pool URL was given.
    #[error("no pool: give -o URL (or --benchmark)")]
    NoPool,
    /// A pool URL does not parse.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// `retries` is below -1.
    #[error("retries: must be -1 or more, got {0}")]
    Retries(i64),
    /// A duration option is negative, not a number, or longer than [`MAX_SECONDS`].
    #[error("{option}: must be 0..={MAX_SECONDS} seconds, got {value}")]
    Seconds {
        /// The option's name (its long flag).
        option: &'static str,
        /// The value given.
        value: f64,
    },
    /// `suggest-diff` is not a positive number.
    #[error("suggest-diff: must be above 0, got {0}")]
    SuggestDifficulty(f64),
    /// The TLS settings could not be built (unreadable `cert`, no system roots).
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// The worker options as given; `None` means "not given", so the default applies. Field
/// names follow the long flags of `mesos-miner mine`.
#[derive(Clone, Debug, Default)]
pub struct WorkerOptions {
    /// `-o`: pool URLs, best first.
    pub urls: Vec<String>,
    /// `-u` [default: `mesos-miner`].
    pub user: Option<String>,
    /// `-p` [default: `x`].
    pub pass: Option<String>,
    /// `-r`: failed attempts in a row before giving up; -1 = forever [default: -1].
    pub retries: Option<i64>,
    /// `-R`: backoff cap, seconds [default: 30].
    pub retry_pause: Option<f64>,
    /// `-T`: silence, connect and answer timeout, seconds [default: 120, at least 1].
    pub timeout: Option<f64>,
    /// `--failback-interval`, seconds [default: 30, at least 0.1].
    pub failback_interval: Option<f64>,
    /// `--report-interval`, seconds [default: 30 (5 for the benchmark), at least 1].
    pub report_interval: Option<f64>,
    /// `-q`: no periodic hashrate lines.
    pub quiet: bool,
    /// `--no-version-rolling`: do not ask for BIP310 version rolling.
    pub no_version_rolling: bool,
    /// `--suggest-diff`: ask the pool for this share difficulty.
    pub suggest_diff: Option<f64>,
    /// `--cert`: PEM certificate(s) to trust instead of the system roots.
    pub cert: Option<PathBuf>,
    /// `--allow-redirect`: follow `client.reconnect` to other hosts than the `-o` one.
    pub allow_redirect: bool,
}

/// `value` (or `default`) as a duration of 0..=[`MAX_SECONDS`] seconds.
pub fn seconds(
    option: &'static str,
    value: Option<f64>,
    default: f64,
) -> Result<Duration, ConfigError> {
    let value = value.unwrap_or(default);
    if !(0.0..=MAX_SECONDS).contains(&value) {
        return Err(ConfigError::Seconds { option, value });
    }
    Ok(Duration::from_secs_f64(value))
}

impl WorkerOptions {
    /// The checked configuration (reading the `cert` file when TLS is needed).
    pub fn build(&self) -> Result<WorkerConfig, ConfigError> {
        if self.urls.is_empty() {
            return Err(ConfigError::NoPool);
        }
        let pools = self
            .urls
            .iter()
            .map(|u| PoolUrl::parse(u))
            .collect::<Result<Vec<_>, _>>()?;
        let user = self.user.as_deref().unwrap_or("mesos-miner");
        let mut c = WorkerConfig::new(pools, user, self.pass.as_deref().unwrap_or("x"));
        c.retry = self.retry_policy()?;
        c.timeout = seconds("timeout", self.timeout, 120.0)?.max(Duration::from_secs(1));
        c.failback_interval = seconds("failback-interval", self.failback_interval, 30.0)?
            .max(Duration::from_millis(100));
        c.report_interval =
            seconds("report-interval", self.report_interval, 30.0)?.max(Duration::from_secs(1));
        c.quiet = self.quiet;
        c.version_rolling = !self.no_version_rolling;
        c.allow_redirect = self.allow_redirect;
        if let Some(d) = self.suggest_diff {
            if !(d.is_finite() && d > 0.0) {
                return Err(ConfigError::SuggestDifficulty(d));
            }
            c.suggest_difficulty = Some(d);
        }
        if c.pools.iter().any(|p| p.tls) || self.cert.is_some() {
            c.tls = Some(tls::client_config(self.cert.as_deref())?);
        }
        Ok(c)
    }

    /// The hashrate line period of `--benchmark` (5 s unless `report_interval` is given).
    pub fn benchmark_report_interval(&self) -> Result<Duration, ConfigError> {
        seconds("report-interval", self.report_interval, 5.0)
    }

    fn retry_policy(&self) -> Result<RetryPolicy, ConfigError> {
        let retries = match self.retries {
            None | Some(-1) => None,
            Some(n) if n >= 0 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            Some(n) => return Err(ConfigError::Retries(n)),
        };
        let max_pause = seconds("retry-pause", self.retry_pause, 30.0)?;
        Ok(RetryPolicy {
            retries,
            max_pause,
            first_pause: Duration::from_secs(1).min(max_pause),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(urls: &[&str]) -> WorkerOptions {
        WorkerOptions {
            urls: urls.iter().map(|u| u.to_string()).collect(),
            ..WorkerOptions::default()
        }
    }

    #[test]
    fn defaults_are_cpuminers() {
        let c = options(&["stratum+tcp://a:1", "b:2"]).build().unwrap();
        assert_eq!(c.pools.len(), 2);
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("mesos-miner", "x")
        );
        assert_eq!(c.retry, RetryPolicy::default());
        assert_eq!(c.timeout, Duration::from_secs(120));
        assert_eq!(c.failback_interval, Duration::from_secs(30));
        assert_eq!(c.report_interval, Duration::from_secs(30));
        assert!(c.version_rolling && !c.quiet && c.tls.is_none());
        assert_eq!(c.suggest_difficulty, None);
        assert!(!c.allow_redirect, "redirects to other hosts are opt-in");
    }

    #[test]
    fn given_values_are_used_and_clamped() {
        let o = WorkerOptions {
            user: Some("me".into()),
            pass: Some("pw".into()),
            retries: Some(3),
            retry_pause: Some(0.5),
            timeout: Some(0.0),
            failback_interval: Some(0.0),
            report_interval: Some(0.0),
            quiet: true,
            no_version_rolling: true,
            suggest_diff: Some(0.5),
            allow_redirect: true,
            ..options(&["a:1"])
        };
        let c = o.build().unwrap();
        assert!(c.allow_redirect);
        assert_eq!((c.username.as_str(), c.password.as_str()), ("me", "pw"));
        let pause = Duration::from_millis(500);
        assert_eq!(
            c.retry,
            RetryPolicy {
                retries: Some(3),
                max_pause: pause,
                first_pause: pause,
            }
        );
        assert_eq!(c.timeout, Duration::from_secs(1));
        assert_eq!(c.failback_interval, Duration::from_millis(100));
        assert_eq!(c.report_interval, Duration::from_secs(1));
        assert!(c.quiet && !c.version_rolling);
        assert_eq!(c.suggest_difficulty, Some(0.5));
        let forever = WorkerOptions {
            retries: Some(-1),
            ..options(&["a:1"])
        };
        assert_eq!(forever.build().unwrap().retry.retries, None);
    }

    #[test]
    fn bad_options_are_named_errors() {
        let cases: [(WorkerOptions, &str); 7] = [
            (options(&[]), "no pool: give -o URL"),
            (options(&["http://a:1"]), "unsupported scheme"),
            (
                WorkerOptions {
                    retries: Some(-2),
                    ..options(&["a:1"])
                },
                "retries: must be -1 or more, got -2",
            ),
            (
                WorkerOptions {
                    timeout: Some(-1.0),
                    ..options(&["a:1"])
                },
                "timeout: must be 0..=86400 seconds, got -1",
            ),
            (
                WorkerOptions {
                    retry_pause: Some(f64::NAN),
                    ..options(&["a:1"])
                },
                "retry-pause: must be 0..=86400 seconds",
            ),
            (
                WorkerOptions {
                    suggest_diff: Some(0.0),
                    ..options(&["a:1"])
                },
                "suggest-diff: must be above 0, got 0",
            ),
            (
                WorkerOptions {
                    cert: Some("/nonexistent.pem".into()),
                    ..options(&["a:1"])
                },
                "/nonexistent.pem",
            ),
        ];
        for (o, want) in cases {
            let e = o.build().unwrap_err().to_string();
            assert!(e.contains(want), "{e} (want {want})");
        }
    }

    #[test]
    fn benchmark_reports_every_five_seconds_by_default() {
        let o = WorkerOptions::default();
        assert_eq!(
            o.benchmark_report_interval().unwrap(),
            Duration::from_secs(5)
        );
        let o = WorkerOptions {
            report_interval: Some(1e9),
            ..o
        };
        assert!(o.benchmark_report_interval().is_err());
    }
}
