//! A DOCKER container's life through the CLI, mapped to the agent's process events as
//! Mesos's Docker containerizer maps it: `run` in the foreground with its output in the
//! sandbox's `stdout`/`stderr`; started (so RUNNING for a command task) once `inspect` sees
//! the container running, or has a start time when it exited between two polls; never
//! started = CONTAINER_LAUNCH_FAILED with the CLI's last error line; its exit code is the
//! process's (FINISHED on 0, FAILED otherwise, KILLED after a kill, decided by the agent);
//! the container removed afterwards in every case, also when the cluster's runtime goes
//! away.
//!
//! Signals reach the `run` process group: SIGTERM is forwarded into the container by the
//! CLI's signal proxy; SIGKILL ends the CLI, and the removal that follows (`rm -f`) kills
//! the container itself.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use super::{Shared, output_files, track, untrack};
use crate::agent::LaunchSpec;
use crate::agent::docker::DockerRun;

/// Longest wait for `rm -f` and each `inspect`.
const CLI_TIMEOUT: Duration = Duration::from_secs(30);

/// Removes the container when dropped: the normal path awaits [`remove`] first, this is
/// for a runtime dropped mid-run (a failing test), so no container outlives it.
struct RemoveOnDrop {
    cli: String,
    name: String,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.cli)
            .args(["rm", "-f", "--", &self.name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
}

/// Runs `spec`'s container (its sandbox exists) and reports its life to the core.
pub(super) async fn run(
    shared: Arc<Shared>,
    container: String,
    spec: LaunchSpec,
    docker: Result<DockerRun, String>,
) {
    let failed = |message: String| {
        shared.with_core(|core, now| core.launch_failed(&container, &message, now));
    };
    let docker = match docker {
        Ok(d) => d,
        Err(message) => return failed(message),
    };
    let mut cmd = match command(&spec, &docker) {
        Ok(c) => c,
        Err(message) => return failed(message),
    };
    let guard = RemoveOnDrop {
        cli: docker.cli.clone(),
        name: docker.name.clone(),
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(format!("Failed to run '{}': {e}", docker.cli)),
    };
    track(&shared, &container, child.id());
    let status = match started(&docker, &mut child).await {
        Ok(()) => {
            shared.with_core(|core, now| core.process_started(&container, now));
            child.wait().await.map(|s| s.into_raw()).unwrap_or(9)
        }
        // Exited before a poll saw it running: it ran if it has a start time (a quick
        // `exit 3` did; a missing image or a bad entrypoint did not).
        Err(status) if inspect_started(&docker).await => {
            shared.with_core(|core, now| core.process_started(&container, now));
            status
        }
        Err(status) => {
            untrack(&shared, &container);
            remove(&docker).await;
            let why = stderr_tail(&spec).await;
            return failed(format!(
                "Failed to run Docker image '{}' ({} exited with status {}): {why}",
                docker.image,
                docker.cli,
                status >> 8 & 0xff
            ));
        }
    };
    untrack(&shared, &container);
    remove(&docker).await;
    drop(guard);
    shared.with_core(|core, now| core.process_exited(&container, status, now));
}

/// `<cli> run …` with the cluster's own environment (the CLI needs `CONTAINERS_CONF`,
/// `PATH`, `HOME`); the container gets only the agent's via `-e`.
fn command(spec: &LaunchSpec, docker: &DockerRun) -> Result<tokio::process::Command, String> {
    // The image's user is unknown here and need not be the agent's: the sandbox is
    // writable by everyone, sticky as /tmp (the builtin server keeps its blocks there).
    std::fs::set_permissions(&spec.sandbox, std::fs::Permissions::from_mode(0o1777))
        .map_err(|e| format!("Failed to open the sandbox to the container: {e}"))?;
    let args = docker.run_args(&spec.sandbox, &spec.env, &spec.command)?;
    let (stdout, stderr) = output_files(&spec.sandbox)?;
    let mut cmd = tokio::process::Command::new(&docker.cli);
    cmd.args(args)
        .current_dir(&spec.sandbox)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .kill_on_drop(true);
    Ok(cmd)
}

/// Waits until the container runs (`Ok`) or `run` exits first (`Err(raw status)`).
async fn started(docker: &DockerRun, child: &mut tokio::process::Child) -> Result<(), i32> {
    loop {
        tokio::select! {
            status = child.wait() => return Err(status.map(|s| s.into_raw()).unwrap_or(9)),
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        if inspect_running(docker).await {
            return Ok(());
        }
    }
}

async fn inspect_running(docker: &DockerRun) -> bool {
    inspect(docker, "{{.State.Running}}").await.as_deref() == Some("true")
}

/// Whether the container has a start time: docker prints a never-started one as
/// `0001-01-01T00:00:00Z`, podman as `0001-01-01 00:00:00 +0000 UTC`.
async fn inspect_started(docker: &DockerRun) -> bool {
    inspect(docker, "{{.State.StartedAt}}")
        .await
        .is_some_and(|t| !t.is_empty() && !t.starts_with("0001-01-01"))
}

/// One field of `inspect` (a Go template), or `None` when the container is unknown.
async fn inspect(docker: &DockerRun, format: &str) -> Option<String> {
    let out = tokio::process::Command::new(&docker.cli)
        .args(["inspect", "--format", format, "--", &docker.name])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(CLI_TIMEOUT, out).await {
        Ok(Ok(o)) if o.status.success() => {
            Some(String::from_utf8_lossy(&o.stdout).trim().to_owned())
        }
        _ => None,
    }
}

/// `rm -f`: kills the container if it still runs (after SIGKILL of the CLI) and removes it.
async fn remove(docker: &DockerRun) {
    let rm = tokio::process::Command::new(&docker.cli)
        .args(["rm", "-f", "--", &docker.name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    let _ = tokio::time::timeout(CLI_TIMEOUT, rm).await;
}

/// The end of the sandbox's stderr (the CLI's own error), one line, at most 400 bytes.
async fn stderr_tail(spec: &LaunchSpec) -> String {
    let text = tokio::fs::read(spec.sandbox.join("stderr"))
        .await
        .unwrap_or_default();
    let start = text.len().saturating_sub(400);
    let tail = String::from_utf8_lossy(&text[start..]);
    let line = tail.split('\n').map(str::trim).rfind(|l| !l.is_empty());
    line.unwrap_or("no output").to_owned()
}
