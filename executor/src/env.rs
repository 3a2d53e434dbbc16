//! The executor's settings, read from the `MESOS_*` environment the agent gives it (spec
//! §3.3; recorded in `5-executor-env.txt` and `recovery/exec-*.env.txt`) by one parser over
//! an injected getter, which reports every missing or malformed variable at once (mesos-go's
//! `executor/config` does the same).
//!
//! Required: `MESOS_FRAMEWORK_ID`, `MESOS_EXECUTOR_ID`, `MESOS_AGENT_ENDPOINT`,
//! `MESOS_CHECKPOINT`, `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` and `MESOS_SANDBOX` (or the
//! deprecated `MESOS_DIRECTORY`); with `MESOS_CHECKPOINT=1` also `MESOS_RECOVERY_TIMEOUT` and
//! `MESOS_SUBSCRIPTION_BACKOFF_MAX`, which a real agent sets exactly then. Optional:
//! `MESOS_SLAVE_ID` (the agent id; `MESOS_AGENT_ID` is accepted too, though no recorded agent
//! set it) and `MESOS_EXECUTOR_AUTHENTICATION_TOKEN` (sent as `Authorization: Bearer`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use proto::v1::{AgentId, ExecutorId, FrameworkId};

/// A secret string whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Everything the executor learns from its environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `MESOS_FRAMEWORK_ID`.
    pub framework_id: FrameworkId,
    /// `MESOS_EXECUTOR_ID`.
    pub executor_id: ExecutorId,
    /// `MESOS_AGENT_ENDPOINT`: `host:port` of the agent's HTTP API.
    pub agent_endpoint: String,
    /// `MESOS_SLAVE_ID` (or `MESOS_AGENT_ID`), when set.
    pub agent_id: Option<AgentId>,
    /// `MESOS_SANDBOX` (else `MESOS_DIRECTORY`): the sandbox as this process sees it.
    pub sandbox: PathBuf,
    /// `MESOS_DIRECTORY`: the sandbox path on the host (deprecated by Mesos).
    pub directory: Option<PathBuf>,
    /// `MESOS_CHECKPOINT`: the framework checkpoints, so an agent restart is survived.
    pub checkpoint: bool,
    /// `MESOS_RECOVERY_TIMEOUT`: how long to try re-subscribing after the agent went away.
    pub recovery_timeout: Duration,
    /// `MESOS_SUBSCRIPTION_BACKOFF_MAX`: the longest wait between re-SUBSCRIBE attempts.
    pub subscription_backoff_max: Duration,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`: what the agent allows for a SHUTDOWN.
    pub shutdown_grace_period: Duration,
    /// `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`, when the agent authenticates executors.
    pub auth_token: Option<Secret>,
}

/// Defaults where a variable is only set in some modes (the agent's own defaults).
const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// One thing wrong with the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvProblem {
    /// A required variable is not set.
    Missing(&'static str),
    /// A variable is set to something unusable.
    Malformed {
        /// The variable.
        name: &'static str,
        /// Why (never the value of a secret).
        why: String,
    },
}

impl fmt::Display for EnvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvProblem::Missing(name) => write!(f, "{name} is not set"),
            EnvProblem::Malformed { name, why } => write!(f, "{name}: {why}"),
        }
    }
}

/// Every problem found in the environment.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct EnvError {
    /// In the order the variables are read.
    pub problems: Vec<EnvProblem>,
}

impl EnvError {
    /// The names of the missing variables.
    pub fn missing(&self) -> Vec<&'static str> {
        self.problems
            .iter()
            .filter_map(|p| match p {
                EnvProblem::Missing(name) => Some(*name),
                EnvProblem::Malformed { .. } => None,
            })
            .collect()
    }
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bad executor environment: ")?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Reads variables through `get`, collecting problems instead of stopping at the first.
struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<EnvProblem>,
}

impl Reader<'_> {
    fn optional(&self, name: &str) -> Option<String> {
        (self.get)(name).filter(|v| !v.is_empty())
    }

    fn required(&mut self, name: &'static str) -> Option<String> {
        let value = self.optional(name);
        if value.is_none() {
            self.problems.push(EnvProblem::Missing(name));
        }
        value
    }

    fn malformed(&mut self, name: &'static str, why: impl Into<String>) {
        self.problems.push(EnvProblem::Malformed {
            name,
            why: why.into(),
        });
    }

    /// A stout duration (`5secs`, `15mins`); `default` when unset and not `required`.
    fn duration(&mut self, name: &'static str, required: bool, default: Duration) -> Duration {
        let value = if required {
            self.required(name)
        } else {
            self.optional(name)
        };
        match value.map(|v| proto::duration::parse(&v)) {
            None => default,
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                self.malformed(name, e.to_string());
                default
            }
        }
    }

    fn checkpoint(&mut self) -> bool {
        const NAME: &str = "MESOS_CHECKPOINT";
        // The agent writes "1"/"0"; the documents say "true" (spec §3.3): accept both.
        match self.required(NAME).as_deref() {
            None | Some("0" | "false") => false,
            Some("1" | "true") => true,
            Some(other) => {
                self.malformed(NAME, format!("{other:?} is not 1, 0, true or false"));
                false
            }
        }
    }

    fn endpoint(&mut self) -> String {
        const NAME: &str = "MESOS_AGENT_ENDPOINT";
        let Some(value) = self.required(NAME) else {
            return String::new();
        };
        let ok = value
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !ok {
            self.malformed(NAME, format!("{value:?} is not HOST:PORT"));
        }
        value
    }
}

/// Parses the executor's environment; `get` is `|k| std::env::var(k).ok()` in production.
pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Config, EnvError> {
    let mut r = Reader {
        get,
        problems: Vec::new(),
    };
    let framework_id = r.required("MESOS_FRAMEWORK_ID").unwrap_or_default();
    let executor_id = r.required("MESOS_EXECUTOR_ID").unwrap_or_default();
    let agent_endpoint = r.endpoint();
    let directory = r.optional("MESOS_DIRECTORY").map(PathBuf::from);
    let sandbox = match (r.optional("MESOS_SANDBOX"), &directory) {
        (Some(s), _) => PathBuf::from(s),
        (None, Some(d)) => d.clone(),
        (None, None) => {
            r.problems.push(EnvProblem::Missing("MESOS_SANDBOX"));
            PathBuf::new()
        }
    };
    let checkpoint = r.checkpoint();
    let recovery_timeout = r.duration(
        "MESOS_RECOVERY_TIMEOUT",
        checkpoint,
        DEFAULT_RECOVERY_TIMEOUT,
    );
    let subscription_backoff_max = r.duration(
        "MESOS_SUBSCRIPTION_BACKOFF_MAX",
        checkpoint,
        DEFAULT_BACKOFF_MAX,
    );
    let shutdown_grace_period = r.duration(
        "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
        true,
        Duration::from_secs(5),
    );
    let agent_id = r
        .optional("MESOS_SLAVE_ID")
        .or_else(|| r.optional("MESOS_AGENT_ID"))
        .map(AgentId::new);
    let auth_token = r
        .optional("MESOS_EXECUTOR_AUTHENTICATION_TOKEN")
        .map(Secret::new);
    if !r.problems.is_empty() {
        return Err(EnvError {
            problems: r.problems,
        });
    }
    Ok(Config {
        framework_id: FrameworkId::new(framework_id),
        executor_id: ExecutorId::new(executor_id),
        agent_endpoint,
        agent_id,
        sandbox,
        directory,
        checkpoint,
        recovery_timeout,
        subscription_backoff_max,
        shutdown_grace_period,
        auth_token,
    })
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
