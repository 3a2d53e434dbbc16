//! The thin tokio driver (STYLE.md habit 3): subscribes, keeps the `Mesos-Stream-Id`,
//! feeds stream events and timer ticks to the reducer, persists and posts what it returns,
//! and re-subscribes — after EOF or a chunk terminator, a broken record, a silent stream
//! (watchdog: `heartbeat_misses` intervals without a byte), or a lost subscription seen by a
//! call — with jittered backoff, rotating through the masters.

pub mod http;
pub mod master;

use std::sync::Arc;
use std::time::Instant;

use proto::scheduler::{Event, event};
use proto::stream::{Codec, EventDecoder, StreamError};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::config::Timing;
use crate::core::{Action, Input, StopReason};
use crate::error::SchedulerError;
use crate::store::Store;
use crate::web::Shared;
use http::{MasterClient, Session, Subscription, ToCaller};
use master::Retry;

/// Largest stream record accepted (an OFFERS event of a big cluster is the big one).
pub const MAX_RECORD: usize = 32 << 20;

/// How the scheduler ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Shut down (SIGINT/SIGTERM or the caller's token): tasks keep running.
    Shutdown,
    /// Another scheduler instance took the framework over.
    FailedOver,
    /// The framework was torn down.
    TornDown,
}

/// Requests from the [`crate::SchedulerHandle`].
pub enum Command {
    /// TEARDOWN, answered once done.
    Teardown(oneshot::Sender<()>),
}

/// Everything the driver task owns.
pub struct Driver {
    shared: Arc<Shared>,
    store: Store,
    masters: Vec<String>,
    timing: Timing,
    client: MasterClient,
    caller: mpsc::UnboundedSender<ToCaller>,
    lost: mpsc::UnboundedReceiver<u64>,
    commands: mpsc::Receiver<Command>,
    shutdown: CancellationToken,
    generation: u64,
    teardown_waiters: Vec<oneshot::Sender<()>>,
    session: Option<Session>,
}

/// The reading side of one subscription.
struct Stream {
    decoder: EventDecoder<Event>,
    silence: std::time::Duration,
    last_byte: tokio::time::Instant,
    session: Session,
}

/// What ended a session.
enum Ended {
    /// Subscribe again.
    Resubscribe,
    /// Stop the scheduler.
    Exit(Exit),
}

impl Driver {
    /// Starts the driver and its call poster; the handle's result is how it ended. `stop`
    /// is cancelled when it ends, whatever the reason (the web surface stops with it).
    pub fn spawn(
        shared: Arc<Shared>,
        store: Store,
        masters: Vec<String>,
        timing: Timing,
        client: MasterClient,
        stop: CancellationToken,
    ) -> (
        tokio::task::JoinHandle<Result<Exit, SchedulerError>>,
        mpsc::Sender<Command>,
    ) {
        let (caller, caller_rx) = mpsc::unbounded_channel();
        let (lost_tx, lost) = mpsc::unbounded_channel();
        tokio::spawn(http::run_caller(client.clone(), caller_rx, lost_tx));
        let (commands_tx, commands) = mpsc::channel(8);
        let driver = Driver {
            shared,
            store,
            masters,
            timing,
            client,
            caller,
            lost,
            commands,
            shutdown: stop.clone(),
            generation: 0,
            teardown_waiters: Vec::new(),
            session: None,
        };
        let handle = tokio::spawn(async move {
            let result = driver.run().await;
            match &result {
                Ok(exit) => tracing::info!(?exit, "scheduler stopped"),
                Err(e) => tracing::error!(error = %e, "scheduler stopped"),
            }
            stop.cancel();
            result
        });
        (handle, commands_tx)
    }

    /// Runs until shutdown, failover, teardown or a fatal error.
    pub async fn run(mut self) -> Result<Exit, SchedulerError> {
        let mut retry = Retry::new(self.timing.resubscribe_min, self.timing.resubscribe_max);
        let mut index = 0usize;
        loop {
            let master = self.masters[index % self.masters.len()].clone();
            let call = self.shared.core().subscribe_call();
            let attempt = tokio::select! {
                _ = self.shutdown.cancelled() => return Ok(Exit::Shutdown),
                r = self.client.subscribe(&master, &call) => r,
            };
            match attempt {
                Ok(sub) => {
                    if let Ended::Exit(exit) = self.session(sub, &mut retry).await? {
                        return Ok(exit);
                    }
                    self.end_session();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "subscription attempt failed");
                    index += 1;
                }
            }
            let wait = retry.next_wait();
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                "re-subscribing after backoff"
            );
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    _ = self.shutdown.cancelled() => return Ok(Exit::Shutdown),
                    _ = tokio::time::sleep_until(deadline) => break,
                    Some(cmd) = self.commands.recv() => {
                        if let Some(exit) = self.command(cmd).await? {
                            return Ok(exit);
                        }
                    }
                }
            }
        }
    }

    fn end_session(&mut self) {
        let _ = self.caller.send(ToCaller::Session(None));
        self.session = None;
        let mut core = self.shared.core();
        let _ = core.handle(Input::Disconnected, Instant::now());
    }

    async fn session(
        &mut self,
        sub: Subscription,
        retry: &mut Retry,
    ) -> Result<Ended, SchedulerError> {
        let Subscription {
            master,
            stream_id,
            mut response,
        } = sub;
        self.generation += 1;
        let mut stream = Stream {
            decoder: EventDecoder::new(Codec::Protobuf, MAX_RECORD),
            // Until SUBSCRIBED the handshake timeout applies; then heartbeat × misses.
            silence: self.timing.subscribe_timeout,
            last_byte: tokio::time::Instant::now(),
            session: Session {
                generation: self.generation,
                master,
                stream_id,
            },
        };
        let mut ticker = tokio::time::interval(self.timing.tick);
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return Ok(Ended::Exit(Exit::Shutdown)),
                chunk = tokio::time::timeout_at(stream.last_byte + stream.silence, response.chunk()) => {
                    let master = &stream.session.master;
                    let bytes = match chunk {
                        Err(_) => {
                            let silent_ms = stream.silence.as_millis() as u64;
                            tracing::warn!(%master, silent_ms, "no byte from the master: re-subscribing");
                            return Ok(Ended::Resubscribe);
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(%master, error = %e, "subscription stream broke");
                            return Ok(Ended::Resubscribe);
                        }
                        Ok(Ok(None)) => {
                            tracing::info!(%master, "subscription stream ended");
                            return Ok(Ended::Resubscribe);
                        }
                        Ok(Ok(Some(bytes))) => bytes,
                    };
                    stream.last_byte = tokio::time::Instant::now();
                    stream.decoder.feed(&bytes);
                    if let Some(ended) = self.drain(&mut stream, retry).await? {
                        return Ok(ended);
                    }
                }
                _ = ticker.tick(), if self.session.is_some() => {
                    let actions = self.shared.core().handle_timeout(Instant::now());
                    if let Some(exit) = self.execute(actions).await? {
                        return Ok(Ended::Exit(exit));
                    }
                }
                Some(generation) = self.lost.recv() => {
                    if generation == self.generation {
                        return Ok(Ended::Resubscribe);
                    }
                }
                Some(cmd) = self.commands.recv() => {
                    if let Some(exit) = self.command(cmd).await? {
                        return Ok(Ended::Exit(exit));
                    }
                }
            }
        }
    }

    /// Hands every whole event buffered in `stream` to the reducer.
    async fn drain(
        &mut self,
        stream: &mut Stream,
        retry: &mut Retry,
    ) -> Result<Option<Ended>, SchedulerError> {
        loop {
            let event = match stream.decoder.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => return Ok(None),
                Err(StreamError::Event { len, source }) => {
                    tracing::warn!(len, error = %source, "undecodable event skipped");
                    continue;
                }
                Err(StreamError::Framing(e)) => {
                    tracing::warn!(error = %e, "broken stream framing: re-subscribing");
                    return Ok(Some(Ended::Resubscribe));
                }
            };
            if let Some(heartbeat) = subscribed_heartbeat(&event) {
                let misses = f64::from(self.timing.heartbeat_misses.max(1));
                stream.silence = self.timing.tick.max(heartbeat.mul_f64(misses));
                retry.reset();
                let session = stream.session.clone();
                self.shared.core().set_master(Some(session.master.clone()));
                tracing::info!(master = %session.master, "subscribed");
                let _ = self.caller.send(ToCaller::Session(Some(session.clone())));
                self.session = Some(session);
            } else if event.r#type() == event::Type::Error {
                let message = event.error.as_ref().map_or("", |e| e.message.as_str());
                tracing::error!(master = %stream.session.master, message, "master sent ERROR");
            }
            let actions = self
                .shared
                .core()
                .handle(Input::Event(event), Instant::now());
            if let Some(exit) = self.execute(actions).await? {
                return Ok(Some(Ended::Exit(exit)));
            }
        }
    }

    async fn command(&mut self, cmd: Command) -> Result<Option<Exit>, SchedulerError> {
        match cmd {
            Command::Teardown(done) => {
                self.teardown_waiters.push(done);
                let actions = self.shared.core().handle(Input::Teardown, Instant::now());
                self.execute(actions).await
            }
        }
    }

    /// Carries out actions in order; a store failure is fatal (nothing unpersisted goes out).
    async fn execute(&mut self, actions: Vec<Action>) -> Result<Option<Exit>, SchedulerError> {
        for action in actions {
            match action {
                Action::Persist(op) => self.store.apply(&op)?,
                Action::Call(call) => {
                    let _ = self.caller.send(ToCaller::Call(call));
                }
                Action::Teardown => {
                    if self.teardown().await? {
                        return Ok(Some(Exit::TornDown));
                    }
                }
                Action::Stop(StopReason::FailedOver) => {
                    tracing::warn!("another scheduler took this framework over; exiting");
                    return Ok(Some(Exit::FailedOver));
                }
                Action::Stop(StopReason::Removed(message)) => {
                    return Err(SchedulerError::FrameworkRemoved {
                        framework_id: self.shared.core().framework_id().unwrap_or("").to_owned(),
                        message,
                        state_dir: self.store.dir().to_path_buf(),
                    });
                }
                Action::Stop(StopReason::TornDown) => {
                    self.store.clear()?;
                    self.teardown_done();
                    return Ok(Some(Exit::TornDown));
                }
            }
        }
        Ok(None)
    }

    /// TEARDOWN on the current subscription; true once the master took it (then the state
    /// dir is cleared: the id can never be used again).
    async fn teardown(&mut self) -> Result<bool, SchedulerError> {
        let (Some(session), Some(fid)) = (
            self.session.clone(),
            self.shared.core().framework_id().map(str::to_owned),
        ) else {
            return Ok(false);
        };
        let call = proto::calls::scheduler::teardown(&proto::v1::FrameworkId::new(fid));
        if self.client.post(&session, &call).await != http::Posted::Accepted {
            return Ok(false);
        }
        tracing::info!("framework torn down");
        self.store.clear()?;
        self.teardown_done();
        Ok(true)
    }

    fn teardown_done(&mut self) {
        for waiter in self.teardown_waiters.drain(..) {
            let _ = waiter.send(());
        }
    }
}

/// The heartbeat interval if `event` is SUBSCRIBED (15 s when the master gives none).
fn subscribed_heartbeat(event: &Event) -> Option<std::time::Duration> {
    let sub = event.subscribed.as_ref()?;
    let secs = sub
        .heartbeat_interval_seconds
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(proto::wire::DEFAULT_HEARTBEAT_INTERVAL_SECS);
    std::time::Duration::try_from_secs_f64(secs).ok()
}
