//! Containers as child processes: the sandbox directory, the fetcher (`CommandInfo.URI`:
//! http(s) URLs and local paths, `executable`, `extract`, `output_file`; spec §4.3), the
//! command (`shell` → `/bin/sh -c value`, else `value` with `arguments` as argv), and the
//! wait for its exit. Each child leads its own process group so signals reach its children.
//! DOCKER containers run through the CLI instead (`docker`).

mod docker;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use super::Shared;
use crate::agent::LaunchSpec;
use crate::pb::v1::command_info::Uri;

/// Largest file the fetcher downloads (the executor binary is the big one).
const MAX_FETCH: u64 = 1 << 30;

/// Sends SIGTERM (or SIGKILL when `kill`) to the process group `pgid`.
pub(crate) fn signal_group(pgid: u32, kill: bool) {
    let sig = if kill { libc::SIGKILL } else { libc::SIGTERM };
    let Ok(pid) = i32::try_from(pgid) else {
        return;
    };
    if pid > 1 {
        // SAFETY: kill(2) has no memory effects; a negative pid names our child's group.
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}

/// Prepares the sandbox, starts the process and reports its life to the core.
pub(crate) async fn run(shared: Arc<Shared>, container: String, spec: LaunchSpec) {
    if let Err(message) = prepare(&spec).await {
        shared.with_core(|core, now| core.launch_failed(&container, &message, now));
        return;
    }
    if let Some(run) = spec.docker.clone() {
        docker::run(shared, container, spec, run).await;
        return;
    }
    let mut cmd = match command(&spec) {
        Ok(c) => c,
        Err(message) => {
            shared.with_core(|core, now| core.launch_failed(&container, &message, now));
            return;
        }
    };
    let mut child = match spawn(&mut cmd).await {
        Ok(c) => c,
        Err(e) => {
            let message = format!("Failed to launch container: {e}");
            shared.with_core(|core, now| core.launch_failed(&container, &message, now));
            return;
        }
    };
    track(&shared, &container, child.id());
    shared.with_core(|core, now| core.process_started(&container, now));
    let status = match child.wait().await {
        Ok(s) => s.into_raw(),
        Err(_) => 9,
    };
    untrack(&shared, &container);
    shared.with_core(|core, now| core.process_exited(&container, status, now));
}

/// Spawns `cmd`, retrying "Text file busy" a few times: a file the fetcher has just written
/// (the executor binary) can still be open for writing in a child that another thread forked
/// in the meantime and that has not reached its exec yet; that window closes in
/// milliseconds.
async fn spawn(cmd: &mut tokio::process::Command) -> std::io::Result<tokio::process::Child> {
    let mut pause = std::time::Duration::from_millis(5);
    for _ in 0..8 {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            other => return other,
        }
    }
    cmd.spawn()
}

/// Registers `container`'s process group for signals, delivering one sent before it was
/// known (or SIGKILL once the cluster is closed).
fn track(shared: &Shared, container: &str, pid: Option<u32>) {
    let Some(pid) = pid else {
        return;
    };
    let mut st = shared.lock();
    st.children.insert(container.to_owned(), pid);
    if st.closed {
        signal_group(pid, true);
    } else if let Some(kill) = st.pending_signals.remove(container) {
        signal_group(pid, kill);
    }
}

fn untrack(shared: &Shared, container: &str) {
    let mut st = shared.lock();
    st.children.remove(container);
    st.pending_signals.remove(container);
}

fn command(spec: &LaunchSpec) -> Result<tokio::process::Command, String> {
    let c = &spec.command;
    let value = c.value.clone().unwrap_or_default();
    let mut cmd = if c.shell.unwrap_or(true) {
        if value.is_empty() {
            return Err("Failed to launch container: the command has no value".into());
        }
        let mut cmd = tokio::process::Command::new("/bin/sh");
        cmd.arg("-c").arg(value);
        cmd
    } else {
        let program = resolve(&value, &spec.sandbox);
        let mut cmd = tokio::process::Command::new(program);
        if let Some(first) = c.arguments.first() {
            cmd.arg0(first);
        }
        cmd.args(c.arguments.iter().skip(1));
        cmd
    };
    let (stdout, stderr) = output_files(&spec.sandbox)?;
    cmd.current_dir(&spec.sandbox)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        // The wait task lives as long as the cluster's runtime (agent restarts keep it); if
        // the runtime goes away without a shutdown (a panicking test), the child goes too,
        // instead of mining on as an orphan for its whole recovery timeout.
        .kill_on_drop(true);
    Ok(cmd)
}

/// The sandbox's `stdout` and `stderr` files, as Mesos's containerizers write them.
fn output_files(sandbox: &Path) -> Result<(std::fs::File, std::fs::File), String> {
    let stdout = std::fs::File::create(sandbox.join("stdout"))
        .map_err(|e| format!("Failed to create stdout: {e}"))?;
    let stderr = std::fs::File::create(sandbox.join("stderr"))
        .map_err(|e| format!("Failed to create stderr: {e}"))?;
    Ok((stdout, stderr))
}

/// A relative program name found in the sandbox runs from there (fetched executables).
fn resolve(value: &str, sandbox: &Path) -> PathBuf {
    let local = sandbox.join(value);
    if !value.contains('/') && local.exists() {
        local
    } else {
        PathBuf::from(value)
    }
}

async fn prepare(spec: &LaunchSpec) -> Result<(), String> {
    tokio::fs::create_dir_all(&spec.sandbox)
        .await
        .map_err(|e| format!("Failed to create sandbox: {e}"))?;
    for uri in &spec.command.uris {
        fetch(uri, &spec.sandbox)
            .await
            .map_err(|e| format!("Failed to fetch '{}': {e}", uri.value))?;
    }
    Ok(())
}

async fn fetch(uri: &Uri, sandbox: &Path) -> Result<(), String> {
    let value = uri.value.as_str();
    let name = uri
        .output_file
        .clone()
        .filter(|n| !n.is_empty() && !n.split('/').any(|p| p == ".."))
        .or_else(|| {
            value
                .rsplit('/')
                .next()
                .map(|s| s.split('?').next().unwrap_or(s).to_string())
        })
        .filter(|n| !n.is_empty())
        .ok_or("no file name in the URI")?;
    let dest = sandbox.join(&name);
    if let Some(parent) = dest.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| e.to_string())?;
    }
    if value.starts_with("http://") || value.starts_with("https://") {
        download(value, &dest).await?;
    } else {
        let path = value.strip_prefix("file://").unwrap_or(value);
        if !path.starts_with('/') {
            return Err("only absolute local paths and http(s) URLs are supported".into());
        }
        tokio::fs::copy(path, &dest)
            .await
            .map_err(|e| e.to_string())?;
    }
    if uri.executable.unwrap_or(false) {
        let perms = std::fs::Permissions::from_mode(0o755);
        tokio::fs::set_permissions(&dest, perms)
            .await
            .map_err(|e| e.to_string())?;
    } else if uri.extract.unwrap_or(true) && is_archive(&name) {
        extract(&dest, sandbox).await?;
    }
    Ok(())
}

async fn download(url: &str, dest: &Path) -> Result<(), String> {
    let mut resp = reqwest::get(url).await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| e.to_string())?;
    let mut total: u64 = 0;
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        total += chunk.len() as u64;
        if total > MAX_FETCH {
            return Err("file larger than 1 GiB".into());
        }
        file.write_all(&chunk).await.map_err(|e| e.to_string())?;
    }
    file.flush().await.map_err(|e| e.to_string())
}

fn is_archive(name: &str) -> bool {
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".zip",
    ]
    .iter()
    .any(|ext| name.ends_with(ext))
}

/// Unpacks into the sandbox with the system's `tar` / `unzip`, as the Mesos fetcher does.
async fn extract(archive: &Path, sandbox: &Path) -> Result<(), String> {
    let zip = archive.extension().is_some_and(|e| e == "zip");
    let mut cmd = if zip {
        tokio::process::Command::new("unzip")
    } else {
        tokio::process::Command::new("tar")
    };
    if zip {
        cmd.arg("-o").arg("-q").arg(archive).arg("-d").arg(sandbox);
    } else {
        cmd.arg("-C").arg(sandbox).arg("-xf").arg(archive);
    }
    let status = cmd
        .status()
        .await
        .map_err(|e| format!("cannot run extractor: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("extraction failed: {status}"))
    }
}
