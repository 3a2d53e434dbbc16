//! The environment of an executor process (spec §3.3, recorded in `5-executor-env.txt` and
//! `recovery/exec-ar-exec.env.txt`): only the `MESOS_*` variables, `LIBPROCESS_IP/PORT`, a
//! default `PATH` and the command's own variables; nothing of the agent's environment.

use std::path::Path;
use std::time::Duration;

use super::Agent;
use crate::pb::v1::{CommandInfo, FrameworkInfo, environment::variable::Type as VarType};

/// `PATH` given to executors (the agent's default).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Agent {
    /// The environment for executor `executor_id` of `framework`, run in `sandbox`.
    pub(crate) fn executor_env(
        &self,
        framework: &FrameworkInfo,
        executor_id: &str,
        sandbox: &Path,
        command: &CommandInfo,
        grace: Duration,
    ) -> Vec<(String, String)> {
        let fid = framework
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default();
        let checkpoint = framework.checkpoint.unwrap_or(false);
        let dir = sandbox.display().to_string();
        let port = self.cfg.port;
        let mut env: Vec<(String, String)> = [
            ("LIBPROCESS_IP", "127.0.0.1".to_string()),
            ("LIBPROCESS_PORT", "0".into()),
            ("MESOS_AGENT_ENDPOINT", format!("127.0.0.1:{port}")),
            (
                "MESOS_CHECKPOINT",
                if checkpoint { "1" } else { "0" }.into(),
            ),
            ("MESOS_DIRECTORY", dir.clone()),
            ("MESOS_EXECUTOR_ID", executor_id.into()),
            (
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                proto::duration::format(grace),
            ),
            ("MESOS_FRAMEWORK_ID", fid),
            ("MESOS_HTTP_COMMAND_EXECUTOR", "0".into()),
            ("MESOS_SANDBOX", dir),
            ("MESOS_SLAVE_ID", self.cfg.id.clone()),
            ("MESOS_SLAVE_PID", format!("slave(1)@127.0.0.1:{port}")),
            ("PATH", DEFAULT_PATH.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if checkpoint {
            let recovery = proto::duration::format(self.cfg.recovery_timeout);
            let backoff = proto::duration::format(self.cfg.reregistration_timeout);
            env.push(("MESOS_RECOVERY_TIMEOUT".into(), recovery));
            env.push(("MESOS_SUBSCRIPTION_BACKOFF_MAX".into(), backoff));
        }
        with_command_vars(&mut env, command);
        env
    }
}

/// The command's own variables, over ours. Secrets need an isolator we do not have; only
/// plain values are passed on.
fn with_command_vars(env: &mut Vec<(String, String)>, command: &CommandInfo) {
    for var in command.environment.iter().flat_map(|e| e.variables.iter()) {
        if var.r#type.is_none_or(|t| t == VarType::Value as i32) {
            let value = var.value.clone().unwrap_or_default();
            env.retain(|(k, _)| *k != var.name);
            env.push((var.name.clone(), value));
        }
    }
}
