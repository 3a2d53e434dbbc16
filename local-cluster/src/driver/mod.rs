//! The thin tokio layer around [`Core`]: one mutex-guarded state, HTTP handlers that feed it
//! requests ([`http`]), child processes ([`process`]), and a ticker. Outputs are executed
//! right after each core call, under the same lock, so events leave in the order the core
//! produced them.

pub(crate) mod http;
pub(crate) mod process;

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::core::{Core, Out};
use crate::wire::{self, Format};

/// Sender half of a subscription body.
pub(crate) type StreamTx = mpsc::UnboundedSender<Result<Bytes, io::Error>>;

/// Bytes queued on a subscription and not yet taken by hyper (shared with the body).
pub(crate) type Backlog = Arc<AtomicUsize>;

/// One open subscription body.
struct OpenStream {
    tx: StreamTx,
    format: Format,
    backlog: Backlog,
}

/// The core plus the I/O handles its outputs refer to.
pub(crate) struct State {
    pub core: Core,
    streams: HashMap<u64, OpenStream>,
    /// A subscriber that lets more than this many bytes pile up unread is cut off (its
    /// framework is then disconnected, as after a broken connection), so one client that
    /// never reads cannot grow the cluster's memory without bound.
    max_backlog: usize,
    /// Set after a large request or a closed stream: the ticker then hands freed memory
    /// back to the operating system (see [`release_memory`]).
    pub(crate) trim_due: bool,
    /// No processes: launches are reported started at once and signals end them
    /// ([`crate::ClusterConfig::simulate_processes`]).
    simulate: bool,
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
    pub(crate) fn new(core: Core, max_backlog: usize, simulate: bool) -> Arc<Shared> {
        Arc::new(Shared {
            state: Mutex::new(State {
                core,
                streams: HashMap::new(),
                max_backlog,
                trim_due: false,
                simulate,
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
    ) -> (mpsc::UnboundedReceiver<Result<Bytes, io::Error>>, Backlog) {
        let (tx, rx) = mpsc::unbounded_channel();
        let backlog = Backlog::default();
        let open = OpenStream {
            tx,
            format,
            backlog: backlog.clone(),
        };
        self.streams.insert(id, open);
        (rx, backlog)
    }

    /// Queues `event` on stream `id`, or cuts the stream when its unread backlog is full.
    fn send_event<M: proto::Message + prost::Name>(&mut self, id: u64, event: &M) {
        let Some(open) = self.streams.get(&id) else {
            return;
        };
        let record = wire::record(open.format, event);
        let queued = open.backlog.load(Ordering::Relaxed);
        if queued.saturating_add(record.len()) > self.max_backlog {
            tracing::warn!(
                stream = id,
                queued,
                "subscriber is not reading its stream; cutting it off"
            );
            self.abort(id);
            return;
        }
        open.backlog.fetch_add(record.len(), Ordering::Relaxed);
        let _ = open.tx.send(Ok(record));
    }

    /// Ends stream `id` with an error item: hyper drops the connection without a terminator.
    fn abort(&mut self, id: u64) {
        if let Some(open) = self.streams.remove(&id) {
            let _ = open.tx.send(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "stream cut",
            )));
        }
    }

    /// Executes every pending output of the core (with simulated processes a launch or a
    /// signal feeds the core again, so this runs until it has nothing more to say).
    pub(crate) fn dispatch(&mut self, shared: &Arc<Shared>) {
        for _ in 0..MAX_DISPATCH_ROUNDS {
            let outs = self.core.take_outputs();
            if outs.is_empty() {
                return;
            }
            for out in outs {
                self.execute(shared, out);
            }
        }
    }

    fn execute(&mut self, shared: &Arc<Shared>, out: Out) {
        match out {
            Out::SchedEvent { stream, event } => self.send_event(stream, &event),
            Out::ExecEvent { conn, event } => self.send_event(conn, &event),
            // Dropping the sender ends the body: hyper writes the chunk terminator.
            Out::Close { stream } => {
                self.streams.remove(&stream);
            }
            // An error item makes hyper drop the connection without a terminator.
            Out::Abort { stream } => self.abort(stream),
            Out::Launch { container, .. } if self.simulate => {
                self.core.process_started(&container, now());
            }
            Out::Launch { container, spec } => {
                tokio::spawn(process::run(shared.clone(), container, spec));
            }
            // A simulated process dies of the signal at once (status = the signal number,
            // as a raw wait status).
            Out::Signal { container, kill } if self.simulate => {
                let status = if kill { libc::SIGKILL } else { libc::SIGTERM };
                self.core.process_exited(&container, status, now());
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

/// Rounds of [`State::dispatch`] before it stops (a simulated launch answers with events,
/// which never launch again; the bound only guards against a future loop).
const MAX_DISPATCH_ROUNDS: usize = 64;

/// Requests at least this large mark memory to be released afterwards.
pub(crate) const LARGE_REQUEST: usize = 256 << 10;

/// At most one release per this interval.
const TRIM_EVERY: Duration = Duration::from_secs(1);

/// Returns the allocator's free memory to the operating system. A call with 100,000 tasks
/// or a megabytes-large FrameworkInfo briefly needs hundreds of MB; glibc keeps that in its
/// per-thread arenas after it is freed, so without this the cluster's RSS would stay at
/// the high-water mark of the worst request it ever got.
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks; it takes no
    // pointers from us and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Ticks the core every `every` until the returned handle is aborted.
pub(crate) fn spawn_ticker(shared: Arc<Shared>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_trim = tokio::time::Instant::now();
        loop {
            interval.tick().await;
            let trim = {
                let mut st = shared.lock();
                st.core.handle_timeout(now());
                st.dispatch(&shared);
                let due = st.trim_due && last_trim.elapsed() >= TRIM_EVERY;
                if due {
                    st.trim_due = false;
                }
                due
            };
            if trim {
                last_trim = tokio::time::Instant::now();
                release_memory();
            }
        }
    })
}
