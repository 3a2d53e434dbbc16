//! The Mesos framework of mesos-miner: a scheduler on the Mesos v1 HTTP API that launches
//! one pool server task and one worker per agent on our custom executor, keeps them
//! running through every failure Mesos can report, aggregates the executors' hashrate
//! reports, and serves a web page, `/api/state`, `/api/history`, `/metrics` and its own
//! executable.
//!
//! Owns: the decisions as a pure reducer ([`core`]: offers, launches, status updates,
//! reconciliation, kills, backoff, reports), the state dir ([`store`]), the HTTP driver
//! ([`driver`]: subscription, redirects, watchdog, calls), the views ([`view`], [`web`]) and
//! what they show over time ([`history`]).
//! Does not own: the wire types and RecordIO (`proto`), the executor, any hashing code (this
//! crate never links miner-core or pool), flag parsing (the binary).
//!
//! # Use
//!
//! ```no_run
//! # async fn demo() -> Result<(), scheduler::SchedulerError> {
//! use scheduler::{SchedulerConfig, start};
//! use tokio_util::sync::CancellationToken;
//!
//! let cfg = SchedulerConfig {
//!     masters: vec!["http://127.0.0.1:5050".into()],
//!     ..SchedulerConfig::default()
//! };
//! let shutdown = CancellationToken::new();
//! let handle = start(cfg, shutdown.clone()).await?;
//! println!("web UI on http://{}", handle.web_addr());
//! let table = handle.state(); // the /api/state document
//! # let _ = table;
//! shutdown.cancel(); // stops without teardown: tasks keep running, a restart fails over
//! handle.join().await?;
//! # Ok(()) }
//! ```

pub mod config;
pub mod core;
pub mod driver;
pub mod error;
pub mod history;
pub mod store;
mod sys;
pub mod view;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use bytes::Bytes;
use proto::v1::FrameworkInfo;
use proto::v1::framework_info::capability::Type as Cap;
use reqwest::header::HeaderValue;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{
    BuiltinServer, ExecutorConfig, FrameworkConfig, P2POOL_IMAGE, P2poolServer, SchedulerConfig,
    Secret, ServerConfig, Timing, WorkerConfig,
};
pub use driver::Exit;
pub use error::SchedulerError;
pub use view::StateView;

use crate::core::{CoreConfig, State};
use crate::driver::{Command, Driver};
use crate::store::Store;
use crate::web::{ExecutorFile, Shared};

/// A running scheduler.
pub struct SchedulerHandle {
    web_addr: SocketAddr,
    advertise_url: String,
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    driver: JoinHandle<Result<Exit, SchedulerError>>,
    web: JoinHandle<()>,
    stop: CancellationToken,
}

impl SchedulerHandle {
    /// The address the web surface listens on.
    pub fn web_addr(&self) -> SocketAddr {
        self.web_addr
    }

    /// The base URL agents are given (`webui_url`, executor URI).
    pub fn advertise_url(&self) -> &str {
        &self.advertise_url
    }

    /// The `/api/state` document now.
    pub fn state(&self) -> StateView {
        self.shared.view()
    }

    /// The framework id, once Mesos assigned one.
    pub fn framework_id(&self) -> Option<String> {
        self.shared.core().framework_id().map(str::to_owned)
    }

    /// Removes the framework and its tasks (waits for a subscription if there is none),
    /// clears the state dir, and stops the scheduler.
    pub async fn teardown(&self) -> Result<(), SchedulerError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Teardown(tx))
            .await
            .map_err(|_| SchedulerError::Teardown("the scheduler has stopped".into()))?;
        rx.await
            .map_err(|_| SchedulerError::Teardown("the scheduler stopped first".into()))
    }

    /// Stops without teardown (what SIGINT/SIGTERM do): tasks keep running.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Waits for the scheduler to end.
    pub async fn join(self) -> Result<Exit, SchedulerError> {
        let result = match self.driver.await {
            Ok(r) => r,
            Err(e) => Err(SchedulerError::Internal(e.to_string())),
        };
        self.stop.cancel();
        // Graceful, but a client stuck on a download must not hold the scheduler up.
        let mut web = self.web;
        if tokio::time::timeout(std::time::Duration::from_secs(2), &mut web)
            .await
            .is_err()
        {
            web.abort();
        }
        result
    }
}

fn framework_info(cfg: &SchedulerConfig, webui_url: &str) -> FrameworkInfo {
    let f = &cfg.framework;
    let user = f
        .user
        .clone()
        .or_else(sys::current_user)
        .unwrap_or_else(|| "root".into());
    let caps = [Cap::MultiRole, Cap::PartitionAware, Cap::TaskKillingState];
    let mut info = proto::calls::offer::framework_info(user, f.name.clone(), &caps);
    info.roles = if f.roles.is_empty() {
        vec!["*".into()]
    } else {
        f.roles.clone()
    };
    info.principal = f.principal.clone();
    info.checkpoint = Some(true);
    info.failover_timeout = Some(f.failover_timeout.as_secs_f64());
    info.webui_url = Some(webui_url.to_owned());
    info.hostname = f.hostname.clone().or_else(sys::hostname);
    info
}

fn auth_header(cfg: &SchedulerConfig) -> Result<Option<HeaderValue>, SchedulerError> {
    let (Some(principal), Some(secret)) = (&cfg.framework.principal, &cfg.framework.secret) else {
        return Ok(None);
    };
    let token = base64::engine::general_purpose::STANDARD
        .encode(format!("{principal}:{}", secret.expose()));
    let mut value = HeaderValue::from_str(&format!("Basic {token}"))
        .map_err(|_| SchedulerError::Config("principal or secret not usable in HTTP".into()))?;
    value.set_sensitive(true);
    Ok(Some(value))
}

fn validate(cfg: &SchedulerConfig) -> Result<Vec<String>, SchedulerError> {
    let masters: Vec<String> = cfg
        .masters
        .iter()
        .filter_map(|m| driver::master::normalize(m))
        .collect();
    if masters.is_empty() || masters.len() != cfg.masters.len() {
        return Err(SchedulerError::Config(format!(
            "masters must be http(s)://host:port URLs, got {:?}",
            cfg.masters
        )));
    }
    if cfg.worker.max_per_agent == 0 {
        return Err(SchedulerError::Config(
            "max workers per agent must be at least 1".into(),
        ));
    }
    if let ServerConfig::Builtin(b) = &cfg.server
        && !b.demo
        && b.bitcoind.is_none()
    {
        return Err(SchedulerError::Config(
            "the builtin server needs a bitcoind, or demo".into(),
        ));
    }
    Ok(masters)
}

fn load_executor(cfg: &SchedulerConfig) -> Result<Option<ExecutorFile>, SchedulerError> {
    let path = match &cfg.executor.binary {
        Some(p) => p.clone(),
        // Nothing to serve when another URI or a whole command replaces ours.
        None if cfg.executor.uri.is_some()
            || cfg.executor.command.is_some()
            || cfg.executor.docker_image.is_some() =>
        {
            return Ok(None);
        }
        None => std::env::current_exe().map_err(|source| SchedulerError::ExecutorBinary {
            path: "(current executable)".into(),
            source,
        })?,
    };
    let bytes =
        std::fs::read(&path).map_err(|source| SchedulerError::ExecutorBinary { path, source })?;
    Ok(Some(ExecutorFile::new(Bytes::from(bytes))))
}

/// The executor's CommandInfo: the override, or the image's (`--docker-image`), or a fetch
/// of `--executor-uri`, or of our own binary from `advertise_url`.
fn executor_command(
    cfg: &SchedulerConfig,
    advertise_url: &str,
    file: Option<&ExecutorFile>,
) -> Result<proto::v1::CommandInfo, SchedulerError> {
    Ok(match (&cfg.executor.command, &cfg.executor.uri, file) {
        (Some(command), _, _) => command.clone(),
        // CoreConfig puts the image's own command and container into the ExecutorInfo.
        _ if cfg.executor.docker_image.is_some() => core::launch::docker_executor_command(),
        (None, Some(uri), _) => core::launch::executor_command(uri),
        (None, None, Some(file)) => core::launch::executor_command(&format!(
            "{advertise_url}/executor/{}/mesos-miner",
            file.sha256
        )),
        (None, None, None) => return Err(SchedulerError::Config("no executor to run".into())),
    })
}

/// Starts the scheduler: locks and loads the state dir (a second scheduler on it gets
/// [`store::StoreError::Locked`]), binds the web address, and subscribes in the background.
/// `shutdown` stops it without teardown.
pub async fn start(
    config: SchedulerConfig,
    shutdown: CancellationToken,
) -> Result<SchedulerHandle, SchedulerError> {
    let masters = validate(&config)?;
    let store = Store::open(&config.state_dir)?;
    let persisted = store.load()?;
    let executor = load_executor(&config)?;
    let listener = tokio::net::TcpListener::bind(config.web_bind)
        .await
        .map_err(|source| SchedulerError::Bind {
            addr: config.web_bind,
            source,
        })?;
    let web_addr = listener
        .local_addr()
        .map_err(|source| SchedulerError::Bind {
            addr: config.web_bind,
            source,
        })?;
    let advertise_url = config
        .advertise_url
        .clone()
        .unwrap_or_else(|| format!("http://{web_addr}"))
        .trim_end_matches('/')
        .to_owned();
    let command = executor_command(&config, &advertise_url, executor.as_ref())?;
    let info = framework_info(&config, &advertise_url);
    let now = Instant::now();
    let core = State::new(CoreConfig::new(&config, info, command), persisted, now);
    let shared = Shared::new(core, executor, config.history_interval);
    let stop = shutdown.child_token();
    let web = web::spawn(listener, shared.clone(), stop.clone());
    history::spawn(shared.clone(), stop.clone());
    let client = driver::http::MasterClient::new(
        auth_header(&config)?,
        config.timing.subscribe_timeout,
        config.timing.call_timeout,
        config.timing.max_redirects,
    )
    .map_err(|e| SchedulerError::Config(format!("HTTP client: {e}")))?;
    let (driver, commands) = Driver::spawn(
        shared.clone(),
        store,
        masters,
        config.timing.clone(),
        client,
        stop.clone(),
    );
    Ok(SchedulerHandle {
        web_addr,
        advertise_url,
        shared,
        commands,
        driver,
        web,
        stop,
    })
}
