//! `mesos-miner executor`: what a Mesos agent launches (CommandInfo `./mesos-miner` with
//! arguments `["mesos-miner", "executor"]`, shell false). Everything comes from the `MESOS_*`
//! environment (a missing or malformed variable: exit 2, naming all of them); the task's
//! settings and secrets come in `TaskInfo.data`, never on argv or in the environment.
//! SIGTERM or SIGINT stops the task, sends its terminal update and waits (bounded) for the
//! agent's acknowledgement.

use crate::UsageError;
use crate::signals::{LogTo, init_tracing, shutdown_token};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<()> {
    // The agent keeps stderr in the sandbox file `stderr`.
    init_tracing(LogTo::PlainStderr);
    let config = executor::from_env(&|name| std::env::var(name).ok())
        .map_err(|e| UsageError(e.to_string()))?;
    if config.auth_token.is_some() {
        // As the C++ executor library does (spec §1.8): no child may inherit the token.
        // SAFETY: no other thread exists yet (the runtime is built below), so nothing reads
        // the environment concurrently.
        unsafe { std::env::remove_var("MESOS_EXECUTOR_AUTHENTICATION_TOKEN") };
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let reason = runtime.block_on(async move { executor::run(config, shutdown_token()).await })?;
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    tracing::info!(?reason, "executor done");
    match reason {
        executor::ExitReason::Done | executor::ExitReason::AckTimeout => Ok(()),
        other => anyhow::bail!("executor stopped: {other:?}"),
    }
}
