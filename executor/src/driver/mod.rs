//! The thin tokio driver (STYLE.md habit 3): one task reads the subscription stream, one
//! posts calls in order, one per task runs its work; this loop feeds the [`Core`] with what
//! they say, the timers and the shutdown token, and carries out the core's actions. Reports
//! are sampled here at the task's interval.

mod http;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use proto::executor::Call;
use proto::v1::TaskId;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, info_span, warn};

pub use http::MAX_RECORD;
use http::{Agent, StreamMsg};

use crate::core::{Action, Core, CoreConfig, Entropy, ExitReason, SystemEntropy};
use crate::env::Config;
use crate::report::{self, Header};
use crate::runner::{self, Probe, RunContext, Runner, RunnerEvent};

/// Settings of a run beyond the environment (tests shorten them).
pub struct Options {
    /// Kill grace when neither KILL nor TaskInfo has one.
    pub default_kill_grace: Duration,
    /// A worker this long without a pool is reported unhealthy.
    pub unhealthy_after: Duration,
    /// Uuids, jitter and the wall clock.
    pub entropy: Box<dyn Entropy>,
    /// How long tasks get to stop after the core decided to exit.
    pub stop_wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            default_kill_grace: Duration::from_secs(3),
            unhealthy_after: report::UNHEALTHY_AFTER,
            entropy: Box::new(SystemEntropy),
            stop_wait: Duration::from_secs(2),
        }
    }
}

/// Why the executor could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// The HTTP client could not be built (TLS backend, resolver).
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

struct Driver {
    core: Core,
    config: Config,
    unhealthy_after: Duration,
    stop_wait: Duration,
    agent: Agent,
    generation: u64,
    stream: Option<tokio::task::JoinHandle<()>>,
    stream_tx: mpsc::Sender<(u64, StreamMsg)>,
    calls: mpsc::UnboundedSender<Call>,
    runner_tx: mpsc::UnboundedSender<RunnerEvent>,
    runners: BTreeMap<String, Runner>,
    probes: BTreeMap<String, Probe>,
    report_interval: Duration,
    seq: u64,
}

/// Runs the executor until it is done (see [`ExitReason`]); `shutdown` (SIGTERM, ctrl-c)
/// stops the tasks, sends their terminal updates and waits, bounded, for the acks.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<ExitReason, ExecutorError> {
    run_with(config, Options::default(), shutdown).await
}

/// [`run`] with explicit [`Options`].
pub async fn run_with(
    config: Config,
    options: Options,
    shutdown: CancellationToken,
) -> Result<ExitReason, ExecutorError> {
    let span = info_span!(
        "executor",
        executor_id = %config.executor_id,
        framework_id = %config.framework_id
    );
    let agent = Agent::new(&config.agent_endpoint, config.auth_token.clone())?;
    let (calls, calls_rx) = mpsc::unbounded_channel();
    tokio::spawn(agent.clone().post_calls(calls_rx));
    let (stream_tx, stream_rx) = mpsc::channel(64);
    let (runner_tx, runner_rx) = mpsc::unbounded_channel();
    let core_config = core_config(&config, &options);
    let Options {
        unhealthy_after,
        entropy,
        stop_wait,
        ..
    } = options;
    let mut driver = Driver {
        core: Core::new(core_config, entropy, config.agent_id.clone()),
        config,
        unhealthy_after,
        stop_wait,
        agent,
        generation: 0,
        stream: None,
        stream_tx,
        calls,
        runner_tx,
        runners: BTreeMap::new(),
        probes: BTreeMap::new(),
        report_interval: Duration::from_secs(5),
        seq: 0,
    };
    tracing::Instrument::instrument(driver.run(stream_rx, runner_rx, shutdown), span).await
}

fn core_config(config: &Config, options: &Options) -> CoreConfig {
    CoreConfig {
        executor_id: config.executor_id.clone(),
        framework_id: config.framework_id.clone(),
        checkpoint: config.checkpoint,
        recovery_timeout: config.recovery_timeout,
        backoff_max: config.subscription_backoff_max,
        shutdown_grace: config.shutdown_grace_period,
        default_kill_grace: options.default_kill_grace,
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Driver {
    async fn run(
        &mut self,
        mut stream_rx: mpsc::Receiver<(u64, StreamMsg)>,
        mut runner_rx: mpsc::UnboundedReceiver<RunnerEvent>,
        shutdown: CancellationToken,
    ) -> Result<ExitReason, ExecutorError> {
        let mut actions = self.core.start(Instant::now());
        let mut signalled = false;
        let mut reports = self.report_timer();
        loop {
            for action in std::mem::take(&mut actions) {
                if let Some(reason) = self.apply(action, &mut reports) {
                    self.stop_all().await;
                    return Ok(reason);
                }
            }
            let timeout = self.core.poll_timeout();
            let far = Instant::now() + Duration::from_secs(3600);
            tokio::select! {
                _ = shutdown.cancelled(), if !signalled => {
                    signalled = true;
                    info!("signal: shutting down");
                    actions = self.core.handle_shutdown_signal(Instant::now());
                }
                Some((generation, msg)) = stream_rx.recv() => {
                    actions = self.on_stream(generation, msg);
                }
                Some(event) = runner_rx.recv() => actions = self.on_runner(event),
                _ = tokio::time::sleep_until(timeout.unwrap_or(far).into()), if timeout.is_some() => {
                    actions = self.core.handle_timeout(Instant::now());
                }
                _ = reports.tick() => actions = self.report(),
            }
        }
    }

    fn report_timer(&self) -> tokio::time::Interval {
        let start = tokio::time::Instant::now() + self.report_interval;
        let mut timer = tokio::time::interval_at(start, self.report_interval);
        timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        timer
    }

    fn on_stream(&mut self, generation: u64, msg: StreamMsg) -> Vec<Action> {
        if generation != self.generation {
            return Vec::new();
        }
        match msg {
            StreamMsg::Event(event) => {
                debug!(event = ?event.r#type(), "event");
                self.core.handle_event(*event, Instant::now())
            }
            StreamMsg::Ended(reason) => {
                info!(%reason, "subscription ended");
                self.stream = None;
                self.core.handle_disconnected(Instant::now())
            }
        }
    }

    fn on_runner(&mut self, event: RunnerEvent) -> Vec<Action> {
        let now = Instant::now();
        match event {
            RunnerEvent::Started {
                task_id,
                message,
                probe,
            } => {
                self.probes.insert(task_id.value.clone(), probe);
                self.core.handle_task_started(&task_id, &message, now)
            }
            RunnerEvent::Ended { task_id, outcome } => {
                self.runners.remove(&task_id.value);
                self.probes.remove(&task_id.value);
                self.core.handle_task_ended(&task_id, outcome, now)
            }
        }
    }

    /// Carries out one action; `Some` = exit now.
    fn apply(&mut self, action: Action, reports: &mut tokio::time::Interval) -> Option<ExitReason> {
        match action {
            Action::Subscribe(call) => self.subscribe(*call),
            Action::Post(call) => {
                let _ = self.calls.send(*call);
            }
            Action::Start { task_id, plan, .. } => {
                if plan.report_interval() != self.report_interval {
                    self.report_interval = plan.report_interval();
                    *reports = self.report_timer();
                }
                self.start_task(task_id, *plan);
            }
            Action::Stop(task_id) => {
                if let Some(r) = self.runners.get(&task_id.value) {
                    r.cancel.cancel();
                }
            }
            Action::Abort(task_id) => {
                self.probes.remove(&task_id.value);
                if let Some(r) = self.runners.remove(&task_id.value) {
                    r.cancel.cancel();
                    r.join.abort();
                }
            }
            Action::Exit(reason) => return Some(reason),
        }
        None
    }

    fn subscribe(&mut self, call: Call) {
        if let Some(old) = self.stream.take() {
            old.abort();
        }
        self.generation += 1;
        let task = self
            .agent
            .clone()
            .subscribe(call, self.generation, self.stream_tx.clone());
        self.stream = Some(tokio::spawn(task));
    }

    fn start_task(&mut self, task_id: TaskId, plan: crate::plan::TaskPlan) {
        let span = info_span!(
            "task",
            task_id = %task_id,
            executor_id = %self.config.executor_id,
            framework_id = %self.config.framework_id
        );
        let host = self
            .core
            .agent_hostname()
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let endpoint = &self.config.agent_endpoint;
                endpoint
                    .rsplit_once(':')
                    .map_or(endpoint.clone(), |(h, _)| h.to_owned())
            });
        let ctx = RunContext {
            sandbox: self.config.sandbox.clone(),
            advertise_host: host,
        };
        let runner = runner::start(task_id.clone(), plan, ctx, self.runner_tx.clone(), span);
        self.runners.insert(task_id.value, runner);
    }

    /// One report per running task (and its health, for workers).
    fn report(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        let agent_id = self
            .core
            .agent_id()
            .map(|a| a.value.clone())
            .unwrap_or_default();
        for (task_id, probe) in &self.probes {
            self.seq += 1;
            let header = Header {
                seq: self.seq,
                sent_ms: wall_ms(),
                task_id: task_id.clone(),
                agent_id: agent_id.clone(),
            };
            let report = match probe {
                Probe::Worker(w) => {
                    let status = w.status();
                    let healthy = report::worker_healthy(&status, self.unhealthy_after);
                    let message = if healthy {
                        "the worker is on a pool again".to_owned()
                    } else {
                        format!("no pool for {} s", status.without_pool.as_secs())
                    };
                    let id = TaskId::new(task_id.clone());
                    out.extend(
                        self.core
                            .handle_health(&id, healthy, &message, Instant::now()),
                    );
                    report::worker(&header, &status)
                }
                Probe::Server { source, url } => report::server(&header, &source.status(), url),
            };
            out.extend(self.core.message(report.to_bytes()));
        }
        out
    }

    /// Cancels every run and gives them a moment to stop (the pool closes its sockets, the
    /// search threads finish their chunk), then aborts what is left.
    async fn stop_all(&mut self) {
        if let Some(stream) = self.stream.take() {
            stream.abort();
        }
        let runners = std::mem::take(&mut self.runners);
        for r in runners.values() {
            r.cancel.cancel();
        }
        let wait = self.stop_wait;
        for (id, r) in runners {
            let abort = r.join.abort_handle();
            if tokio::time::timeout(wait, r.join).await.is_err() {
                warn!(task = %id, "task did not stop in time: aborted");
                abort.abort();
            }
        }
    }
}
