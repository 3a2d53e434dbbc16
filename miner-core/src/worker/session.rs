//! One connection: read lines into the `stratum` client session, write what it says, start
//! its jobs on the miner, submit found shares, and end on EOF, errors, silence (`-T`),
//! `client.reconnect`, a successful failback probe or shutdown.
//!
//! A session gets a [`SessionContext`] (the settings, the pool, what its last session there
//! left to resume, the search threads and the status) and returns a [`SessionReport`]; it
//! never touches the failover state: what comes next is the policy's decision.

mod events;
mod shares;

use std::time::{Duration, Instant};

use stratum::LineCodec;
use stratum::client::{ClientConfig, ClientSession, ResumeInfo};
use stratum::methods::VersionRollingRequest;
use stratum::{Difficulty, VersionMask};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span};

use super::config::WorkerConfig;
use super::conn::{self, Stream};
use super::mining::Mining;
use super::policy::Ended;
use super::stats::{SharedStatus, lock, printable};
use super::throttle::{RateLimit, ResultPace};
use super::url::PoolUrl;
use crate::search::Found;

/// How often the hash counters are sampled into the meters.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// What a session is given.
pub(super) struct SessionContext<'a> {
    /// The worker's settings.
    pub config: &'a WorkerConfig,
    /// The pool this session is on.
    pub url: &'a PoolUrl,
    /// The `-o` URL of its slot (the same as `url` unless redirected): a redirect may only
    /// lead to its host (see [`super::redirect`]).
    pub configured: &'a PoolUrl,
    /// What the last session on this pool left to resume.
    pub resume: ResumeInfo,
    /// Better pools to probe for failback, best first (empty: no probing).
    pub better: Vec<(usize, PoolUrl)>,
    /// The search threads.
    pub mining: &'a mut Mining,
    /// Where the figures go.
    pub status: &'a SharedStatus,
    /// Cancelled to stop the worker.
    pub shutdown: &'a CancellationToken,
}

/// How a session ended.
#[derive(Debug)]
pub(super) enum SessionEnd {
    /// The shutdown token was cancelled.
    Shutdown,
    /// The connection ended (or never got anywhere), for this reason.
    Lost(String),
    /// `client.reconnect`: dial `url` after `wait`.
    Redirect { url: PoolUrl, wait: Duration },
    /// Better pool `0` answered a probe.
    Failback(usize),
}

/// What a session reports back.
#[derive(Debug)]
pub(super) struct SessionReport {
    /// How it ended.
    pub end: SessionEnd,
    /// It got to authorized.
    pub worked: bool,
    /// What the next session on this pool starts from.
    pub resume: ResumeInfo,
    /// The pool closed the connection on `mining.configure` (the next attempt skips it).
    pub configure_refused: bool,
}

impl SessionReport {
    /// A session that never started (the pool could not be dialled).
    pub(super) fn not_connected(reason: String, resume: ResumeInfo) -> Self {
        SessionReport {
            end: SessionEnd::Lost(reason),
            worked: false,
            resume,
            configure_refused: false,
        }
    }

    /// The end as the policy sees it; `None` for a shutdown.
    pub(super) fn ended(&self) -> Option<Ended> {
        match &self.end {
            SessionEnd::Shutdown => None,
            SessionEnd::Lost(_) => Some(Ended::Lost {
                configure_refused: self.configure_refused,
            }),
            SessionEnd::Redirect { wait, .. } => Some(Ended::Redirected { wait: *wait }),
            SessionEnd::Failback(better) => Some(Ended::FailedBack(*better)),
        }
    }
}

/// Everything an input changes while the session runs.
struct Session<'a> {
    ctx: SessionContext<'a>,
    client: ClientSession,
    wr: WriteHalf<Stream>,
    worked: bool,
    /// The submit rate limit ([`WorkerConfig::max_submits_per_second`]).
    submits: RateLimit,
    warnings: shares::Warnings,
    /// The pace of share result lines.
    results: ResultPace,
}

enum Input {
    Shutdown,
    Read(std::io::Result<usize>),
    Found(Option<Found>),
    RequestTimeout,
    Idle,
    Sample,
    Report,
    ProbeDue,
    ProbeAnswered(Option<usize>),
}

/// Runs a session on `stream`; on return the connection is closed.
pub(super) async fn run(ctx: SessionContext<'_>, stream: Stream) -> SessionReport {
    let span = info_span!("session", pool = %ctx.url);
    run_inner(ctx, stream).instrument(span).await
}

async fn run_inner(ctx: SessionContext<'_>, stream: Stream) -> SessionReport {
    let skipped_configure = ctx.resume.skip_configure;
    let (rd, wr) = tokio::io::split(stream);
    let client = ClientSession::new(client_config(&ctx), Instant::now());
    let submits = RateLimit::new(ctx.config.max_submits_per_second, Instant::now());
    let mut s = Session {
        ctx,
        client,
        wr,
        worked: false,
        submits,
        warnings: shares::Warnings::default(),
        results: ResultPace::new(Instant::now()),
    };
    let end = s.drive(rd).await;
    let resume = s.client.connection_lost();
    // Unanswered submits come out as ConnectionLost results: log them.
    while let Some(ev) = s.client.poll_event() {
        let _ = s.on_event(ev);
    }
    s.count_queue_drops(Instant::now());
    s.say_held_results(None);
    s.say_unsaid();
    SessionReport {
        configure_refused: !skipped_configure && resume.skip_configure,
        end,
        worked: s.worked,
        resume,
    }
}

fn client_config(ctx: &SessionContext<'_>) -> ClientConfig {
    let c = ctx.config;
    let mut cfg = ClientConfig::new(&c.user_agent, &c.username, &c.password);
    cfg.version_rolling = c.version_rolling.then_some(VersionRollingRequest {
        mask: VersionMask::BIP320,
        min_bit_count: 2,
    });
    cfg.skip_configure = ctx.resume.skip_configure;
    cfg.resume_session_id = ctx.resume.session_id.clone();
    cfg.extranonce_subscribe = true;
    cfg.suggest_difficulty = c.suggest_difficulty.and_then(|d| Difficulty::new(d).ok());
    cfg.request_timeout = c.timeout;
    cfg
}

fn lost(reason: impl Into<String>) -> SessionEnd {
    SessionEnd::Lost(reason.into())
}

/// The session's timers and its failback probe.
struct Timers {
    sample: tokio::time::Interval,
    report: tokio::time::Interval,
    probe_due: tokio::time::Interval,
    probe_tx: mpsc::Sender<Option<usize>>,
    probe_rx: mpsc::Receiver<Option<usize>>,
    probe: Option<JoinHandle<()>>,
}

impl Timers {
    async fn new(config: &WorkerConfig) -> Self {
        let mut report = tokio::time::interval(config.report_interval);
        report.tick().await;
        let mut probe_due = tokio::time::interval(config.failback_interval);
        probe_due.tick().await;
        let (probe_tx, probe_rx) = mpsc::channel(1);
        Timers {
            sample: tokio::time::interval(SAMPLE_EVERY),
            report,
            probe_due,
            probe_tx,
            probe_rx,
            probe: None,
        }
    }
}

impl Drop for Timers {
    /// A probe still running when the session ends is of no use any more.
    fn drop(&mut self) {
        if let Some(probe) = self.probe.take() {
            probe.abort();
        }
    }
}

impl Session<'_> {
    async fn drive(&mut self, mut rd: ReadHalf<Stream>) -> SessionEnd {
        let mut buf = vec![0u8; 16 * 1024];
        let mut codec = LineCodec::default();
        let mut t = Timers::new(self.ctx.config).await;
        loop {
            if let Some(end) = self.flush().await {
                return end;
            }
            let input = self.next_input(&mut rd, &mut buf, &mut t).await;
            let now = Instant::now();
            match input {
                Input::Read(Ok(n)) if n > 0 => {
                    codec.feed(&buf[..n]);
                    while let Some(line) = codec.next_line() {
                        match line {
                            Ok(line) => self.client.handle_line(&line, now),
                            Err(e) => self.client.handle_codec_error(e, now),
                        }
                    }
                }
                Input::ProbeDue => t.probe = Some(self.spawn_probe(t.probe_tx.clone())),
                Input::ProbeAnswered(None) => t.probe = None,
                other => {
                    if let Some(end) = self.on_input(other, now) {
                        return end;
                    }
                }
            }
        }
    }

    async fn next_input(
        &mut self,
        rd: &mut ReadHalf<Stream>,
        buf: &mut [u8],
        t: &mut Timers,
    ) -> Input {
        let far = Instant::now() + Duration::from_secs(3600);
        let request_deadline = self.client.next_timeout().unwrap_or(far);
        let idle_deadline = self.client.last_received() + self.ctx.config.timeout;
        let can_probe = self.worked && t.probe.is_none() && !self.ctx.better.is_empty();
        tokio::select! {
            _ = self.ctx.shutdown.cancelled() => Input::Shutdown,
            r = rd.read(buf) => Input::Read(r),
            f = self.ctx.mining.found() => Input::Found(f),
            _ = tokio::time::sleep_until(request_deadline.into()) => Input::RequestTimeout,
            _ = tokio::time::sleep_until(idle_deadline.into()) => Input::Idle,
            _ = t.sample.tick() => Input::Sample,
            _ = t.report.tick() => Input::Report,
            _ = t.probe_due.tick(), if can_probe => Input::ProbeDue,
            Some(p) = t.probe_rx.recv() => Input::ProbeAnswered(p),
        }
    }

    /// Acts on an input other than data and probe bookkeeping; `Some` ends the session.
    fn on_input(&mut self, input: Input, now: Instant) -> Option<SessionEnd> {
        match input {
            Input::Shutdown => return Some(SessionEnd::Shutdown),
            Input::Read(Ok(_)) => return Some(lost("the pool closed the connection")),
            Input::Read(Err(e)) => return Some(lost(format!("read error: {e}"))),
            Input::Found(Some(found)) => self.on_found(&found, now),
            Input::Found(None) => return Some(lost("share channel closed")),
            Input::RequestTimeout => self.client.handle_timeout(now),
            Input::Idle => {
                let secs = self.ctx.config.timeout.as_secs_f64();
                return Some(lost(format!("no data from the pool for {secs:.0} s")));
            }
            Input::Sample => {
                let per_thread = self.ctx.mining.miner().hashes_per_thread();
                lock(self.ctx.status).record_hashes(now, &per_thread);
                self.count_queue_drops(now);
                self.say_held_results(Some(now));
            }
            Input::Report => {
                if !self.ctx.config.quiet {
                    info!("{}", lock(self.ctx.status).hashrate_line());
                }
            }
            Input::ProbeAnswered(Some(better)) => return Some(SessionEnd::Failback(better)),
            Input::ProbeDue | Input::ProbeAnswered(None) => {}
        }
        None
    }

    /// Writes every queued line and handles every event, until both queues are empty.
    async fn flush(&mut self) -> Option<SessionEnd> {
        loop {
            let mut idle = true;
            while let Some(line) = self.client.poll_transmit() {
                idle = false;
                debug!(line = %stratum::redact_line(line.trim_end()), "sending");
                // A pool that stops reading must not hold the session (and its found
                // shares) forever: `-T` bounds a write as it bounds silence.
                let timeout = self.ctx.config.timeout;
                match tokio::time::timeout(timeout, self.wr.write_all(line.as_bytes())).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Some(lost(format!("write error: {e}"))),
                    Err(_) => return Some(lost("the pool stopped reading (write timed out)")),
                }
            }
            while let Some(ev) = self.client.poll_event() {
                idle = false;
                if let Some(end) = self.on_event(ev) {
                    return Some(end);
                }
            }
            if idle {
                return None;
            }
        }
    }

    /// Asks the better pools, best first, whether they answer; the first that does wins.
    fn spawn_probe(&self, tx: mpsc::Sender<Option<usize>>) -> JoinHandle<()> {
        let candidates = self.ctx.better.clone();
        let config = self.ctx.config;
        let tls = config.tls.clone();
        let timeout = config.timeout.min(Duration::from_secs(10));
        let agent = config.user_agent.clone();
        tokio::spawn(
            async move {
                for (i, url) in candidates {
                    if conn::probe(&url, tls.as_ref(), timeout, &agent).await {
                        let _ = tx.send(Some(i)).await;
                        return;
                    }
                }
                let _ = tx.send(None).await;
            }
            .in_current_span(),
        )
    }
}

/// Text from the pool for a log line: printable (see [`printable`]), and with the password
/// hidden should the pool echo it back (an authorize error quoting it). A password under 4
/// characters, such as the customary `x`, is left alone: hiding every `x` would garble
/// every line and protect nothing. What we send is redacted by its structure instead
/// ([`stratum::redact_line`]).
pub(super) fn pool_text(text: &str, password: &str) -> String {
    let text = printable(text);
    if password.chars().count() < 4 {
        return text;
    }
    text.replace(password, stratum::REDACTED)
}

#[cfg(test)]
mod tests {
    use super::pool_text;

    #[test]
    fn an_echoed_password_is_hidden_in_pool_text() {
        assert_eq!(
            pool_text("bad password hunter2\n", "hunter2"),
            "bad password <redacted> "
        );
        assert_eq!(pool_text("extranonce", "x"), "extranonce");
    }
}
