//! The thin tokio layer around [`Core`]: one mutex-guarded state, HTTP handlers that feed it
//! requests ([`http`]), child processes ([`process`]), and a ticker. Outputs are executed
//! right after each core call, under the same lock, so events leave in the order the core
//! produced them.

pub(crate) mod http;
pub(crate) mod process;

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::core::{Core, Out};
use crate::wire::{self, Format};

/// Sender half of a subscription body.
pub(crate) type StreamTx = mpsc::UnboundedSender<Result<Bytes, io::Error>>;

/// The core plus the I/O handles its outputs refer to.
pub(crate) struct State {
    pub core: Core,
    streams: HashMap<u64, (StreamTx, Format)>,
    /// container → process group id of its running process.
    pub(crate) children: HashMap<String, u32>,
    /// Signals for containers whose process is not registered yet (still fetching or
    /// spawning); delivered as soon as it is. `true` = SIGKILL.
    pub(crate) pending_signals: HashMap<String, bool>,
    /// Set by [`State::kill_all`]: a process that finishes spawning afterwards is killed at
    /// once, so none outlives the cluster.
    pub(crate) closed: bool,
}

/// Shared handle used by every handler and task.
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(core: Core) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State {
                core,
                streams: HashMap::new(),
                children: HashMap::new(),
                pending_signals: HashMap::new(),
                closed: false,
            }),
        })
    }

    /// Locks the state (a poisoned lock is still usable: the core has no invariants that a
    /// panicking I/O step could break half-way).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the core, then executes its outputs.
    pub(crate) fn with_core<R>(self: &Arc<Self>, f: impl FnOnce(&mut Core, Instant) -> R) -> R {
        let mut st = self.lock();
        let r = f(&mut st.core, now());
        st.dispatch(self);
        r
    }
}

impl State {
    /// Registers a new subscription stream; returns the receiving half for the body.
    pub(crate) fn open_stream(
        &mut self,
        id: u64,
        format: Format,
    ) -> mpsc::UnboundedReceiver<Result<Bytes, io::Error>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.streams.insert(id, (tx, format));
        rx
    }

    /// Executes every pending output of the core.
    pub(crate) fn dispatch(&mut self, shared: &Arc<Shared>) {
        for out in self.core.take_outputs() {
            match out {
                Out::SchedEvent { stream, event } => {
                    if let Some((tx, format)) = self.streams.get(&stream) {
                        let _ = tx.send(Ok(wire::record(*format, &event)));
                    }
                }
                Out::ExecEvent { conn, event } => {
                    if let Some((tx, format)) = self.streams.get(&conn) {
                        let _ = tx.send(Ok(wire::record(*format, &event)));
                    }
                }
                // Dropping the sender ends the body: hyper writes the chunk terminator.
                Out::Close { stream } => {
                    self.streams.remove(&stream);
                }
                // An error item makes hyper drop the connection without a terminator.
                Out::Abort { stream } => {
                    if let Some((tx, _)) = self.streams.remove(&stream) {
                        let _ = tx.send(Err(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "stream cut",
                        )));
                    }
                }
                Out::Launch { container, spec } => {
                    tokio::spawn(process::run(shared.clone(), container, spec));
                }
                Out::Signal { container, kill } => match self.children.get(&container) {
                    Some(pgid) => process::signal_group(*pgid, kill),
                    None => {
                        let strongest = self
                            .pending_signals
                            .get(&container)
                            .copied()
                            .unwrap_or(false)
                            || kill;
                        self.pending_signals.insert(container, strongest);
                    }
                },
            }
        }
    }

    /// Kills every child process (cluster shutdown).
    pub(crate) fn kill_all(&mut self) {
        self.closed = true;
        for pgid in self.children.values() {
            process::signal_group(*pgid, true);
        }
    }
}

/// The driver's clock: tokio's, so tests may pause and advance it.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Ticks the core every `every` until the returned handle is aborted.
pub(crate) fn spawn_ticker(shared: Arc<Shared>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            shared.with_core(|core, now| core.handle_timeout(now));
        }
    })
}
