//! The Docker containerizer of the local agents, its decisions only: whether a
//! Docker-compatible CLI works on this host, and the `run` command line of a
//! `ContainerInfo.DOCKER` task or executor, built as Mesos's Docker containerizer builds it
//! (Mesos `src/docker/docker.cpp`, `RunOptions::create` and `Docker::run`): the sandbox
//! mounted at `/mnt/mesos/sandbox`, the `MESOS_*` environment with `MESOS_SANDBOX` pointing
//! there, `--net host` (DockerInfo.network's default), the image's entrypoint unless
//! `shell` (then `/bin/sh -c value`), CommandInfo.value and arguments after the image.
//! The driver (`driver::process::docker`) runs it and maps the container's life to the
//! agent's process events. Without a usable CLI the agent refuses Docker work as before.
//!
//! The CLI is `MESOS_MINER_DOCKER` when set (a path or name; `none` turns Docker off),
//! else the first of `podman`, `docker` whose `info` succeeds. Its own environment
//! (`CONTAINERS_CONF`, `PATH`, `HOME`) is the cluster process's; the container's is only
//! what the agent gives it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::pb::v1::{ContainerInfo, container_info};

/// Where the sandbox appears inside the container (Mesos's `--sandbox_directory`).
pub(crate) const MAPPED_SANDBOX: &str = "/mnt/mesos/sandbox";

/// Env var naming the CLI to use, or `none`.
pub(crate) const CLI_ENV: &str = "MESOS_MINER_DOCKER";

/// How long `<cli> info` may take before the CLI counts as unusable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// The message of a refused Docker task where no CLI works.
pub(crate) const NO_DOCKER: &str = "Docker containers are not supported by the local cluster: \
     no working podman or docker CLI on this host (MESOS_MINER_DOCKER names one, or 'none')";

/// The Docker-compatible CLI of this host, probed once; `None` where none works.
pub(crate) fn cli() -> Option<&'static str> {
    static CLI: OnceLock<Option<String>> = OnceLock::new();
    CLI.get_or_init(|| match std::env::var(CLI_ENV) {
        Ok(v) if v == "none" || v.is_empty() => None,
        Ok(v) => probe(&v).then_some(v),
        Err(_) => ["podman", "docker"]
            .into_iter()
            .find(|c| probe(c))
            .map(str::to_owned),
    })
    .as_deref()
}

/// `<cli> info` exits 0 within [`PROBE_TIMEOUT`] (`docker info` fails without a daemon).
fn probe(cli: &str) -> bool {
    let child = Command::new(cli)
        .arg("info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    let deadline = Instant::now() + PROBE_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// A container to run with the CLI: everything but the sandbox and environment, which the
/// launch spec carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DockerRun {
    /// The CLI (`podman`, `docker` or a path).
    pub cli: String,
    /// `mesos-<container id>`, as Mesos names its containers.
    pub name: String,
    /// `DockerInfo.image`.
    pub image: String,
    /// `--net` value.
    pub network: &'static str,
    /// `--pull` value: `never` (no registry is assumed), `always` with force_pull_image.
    pub pull: &'static str,
    /// `--key=value` options of `DockerInfo.parameters`.
    pub parameters: Vec<String>,
}

impl DockerRun {
    /// The run of a DOCKER `container`, or `None` for no container / a MESOS one. Only a
    /// DOCKER container probes for the CLI, so clusters without Docker work never run it.
    pub(crate) fn of(
        container: Option<&ContainerInfo>,
        container_id: &str,
    ) -> Option<Result<DockerRun, String>> {
        let c = container.filter(|c| c.r#type == container_info::Type::Docker as i32)?;
        Some(match cli() {
            Some(cli) => Self::build(c, container_id, cli),
            None => Err(NO_DOCKER.into()),
        })
    }

    fn build(c: &ContainerInfo, container_id: &str, cli: &str) -> Result<DockerRun, String> {
        use container_info::docker_info::Network;
        let d = c
            .docker
            .as_ref()
            .ok_or("DOCKER container without DockerInfo")?;
        if d.image.is_empty() || d.image.starts_with('-') {
            return Err(format!("invalid Docker image {:?}", d.image));
        }
        let network = match d.network.map(Network::try_from) {
            None | Some(Ok(Network::Host)) => "host",
            Some(Ok(Network::Bridge)) => "bridge",
            Some(Ok(Network::None)) => "none",
            Some(_) => {
                return Err("only HOST, BRIDGE and NONE Docker networks are supported".into());
            }
        };
        if !d.port_mappings.is_empty() {
            return Err("Docker port mappings are not supported by the local cluster".into());
        }
        Ok(DockerRun {
            cli: cli.to_owned(),
            name: format!("mesos-{container_id}"),
            image: d.image.clone(),
            network,
            pull: if d.force_pull_image == Some(true) {
                "always"
            } else {
                "never"
            },
            parameters: d
                .parameters
                .iter()
                .map(|p| format!("--{}={}", p.key, p.value))
                .collect(),
        })
    }

    /// The arguments of `<cli>` for `run`: the container's environment is exactly `env`.
    pub(crate) fn run_args(
        &self,
        sandbox: &Path,
        env: &[(String, String)],
        command: &crate::pb::v1::CommandInfo,
    ) -> Result<Vec<String>, String> {
        let mut argv = vec![
            // No `--rm`: the driver inspects an exited container (did it start?) and then
            // removes it itself.
            "run".to_owned(),
            "--name".into(),
            self.name.clone(),
            format!("--net={}", self.network),
            format!("--pull={}", self.pull),
            "-v".into(),
            format!("{}:{MAPPED_SANDBOX}", sandbox.display()),
        ];
        for (k, v) in env {
            argv.push("-e".into());
            argv.push(format!("{k}={v}"));
        }
        let shell = command.shell.unwrap_or(true);
        if shell {
            argv.push("--entrypoint".into());
            argv.push("/bin/sh".into());
        }
        argv.extend(self.parameters.iter().cloned());
        argv.push(self.image.clone());
        let value = command.value.clone();
        if shell {
            let value = value
                .filter(|v| !v.is_empty())
                .ok_or("Shell specified but no command value provided")?;
            argv.extend(["-c".to_owned(), value]);
        } else {
            argv.extend(value);
            argv.extend(command.arguments.iter().cloned());
        }
        Ok(argv)
    }
}

/// The container's environment from the agent's: `MESOS_SANDBOX` is the mapped directory
/// and `MESOS_CONTAINER_NAME` names it, as the Docker containerizer sets them;
/// `MESOS_DIRECTORY` stays the host path.
pub(crate) fn container_env(mut env: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    env.retain(|(k, _)| k != "MESOS_SANDBOX" && k != "MESOS_CONTAINER_NAME");
    env.push(("MESOS_SANDBOX".into(), MAPPED_SANDBOX.into()));
    env.push(("MESOS_CONTAINER_NAME".into(), name.into()));
    env.sort();
    env
}

#[cfg(test)]
#[path = "docker_tests.rs"]
mod tests;
