//! One tokio task per Stratum connection: read bytes → line codec → server session (with the
//! pool's hooks) → write what it returns. Bounded: line length, idle time, the time to
//! subscribe and authorize, the time to finish a line once begun (a client trickling a byte
//! every few seconds is dropped: issue 11 hole 6), and a client that sends garbage is dropped
//! without touching the others.

use std::sync::Arc;
use std::time::{Duration, Instant};

use stratum::methods::Notify;
use stratum::server::{ServerConfig, ServerEvent, ServerSession};
use stratum::{LineCodec, PrevHash, ProtocolError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::admit::Slot;
use super::shared::{Hooks, Shared, lock};
use crate::job::TemplateJob;

/// Limits of one connection.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Longest accepted line, in bytes.
    pub max_line: usize,
    /// A client silent for this long is dropped.
    pub idle_timeout: Duration,
    /// A client that has not both subscribed and authorized this long after connecting is
    /// dropped.
    pub handshake_timeout: Duration,
    /// A line must be complete this long after its first byte arrived.
    pub line_timeout: Duration,
    /// Malformed lines tolerated before the client is dropped.
    pub max_protocol_errors: u64,
}

/// Why a connection ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Closed,
    Idle,
    /// No subscribe + authorize within `handshake_timeout`.
    Handshake,
    /// A line not finished within `line_timeout`.
    SlowLine,
    Malformed(String),
    Shutdown,
    Io(String),
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Forces `clean_jobs` when the job's prevhash differs from the last one sent on this
/// connection. The job channel keeps only the latest job, so a connection that was busy
/// while a clean job and a quick mempool update followed each other would otherwise see the
/// new tip without the clean flag and keep its miner on the old one.
fn mark_new_tip(notify: &mut Notify, last_prevhash: &mut Option<PrevHash>) {
    if last_prevhash.is_some_and(|p| p != notify.prevhash) {
        notify.clean_jobs = true;
    }
    *last_prevhash = Some(notify.prevhash);
}

/// Serves one connection until it closes, misbehaves, idles out or the pool shuts down.
/// Runs in the connection's span (peer address; extranonce1 once granted).
/// `slot` is this connection's place in the connection counts, given back when it ends.
pub(crate) async fn serve(
    stream: TcpStream,
    slot: Slot,
    session_config: ServerConfig,
    limits: ConnLimits,
    shutdown: CancellationToken,
) {
    let shared = slot.shared().clone();
    let mut conn = Conn::new(stream, &shared, session_config, limits.max_line);
    let end = conn.run(&limits, &shutdown).await;
    conn.close(end).await;
    drop(slot);
}

/// One connection's driver state: the socket, the line codec, the session with the pool's
/// hooks, and the job channel.
struct Conn<'a> {
    stream: TcpStream,
    shared: &'a Shared,
    session: ServerSession,
    hooks: Hooks<'a>,
    codec: LineCodec,
    buf: Vec<u8>,
    jobs: watch::Receiver<Option<Arc<TemplateJob>>>,
    last_prevhash: Option<PrevHash>,
    /// When the first byte of a line not yet finished arrived.
    partial_since: Option<tokio::time::Instant>,
}

/// What woke the connection up.
enum Wake {
    Read(usize),
    Job,
    /// The session's timer (vardiff's check of a connection without shares).
    Timer,
    End(End),
}

impl<'a> Conn<'a> {
    /// A connection with the current job (if any) queued for the miner.
    fn new(
        stream: TcpStream,
        shared: &'a Shared,
        session_config: ServerConfig,
        max_line: usize,
    ) -> Self {
        let mut conn = Conn {
            stream,
            shared,
            session: ServerSession::new(session_config, now()),
            hooks: Hooks {
                shared,
                extranonce1: None,
            },
            codec: LineCodec::new(max_line),
            buf: vec![0u8; 4096],
            jobs: shared.job_tx.subscribe(),
            last_prevhash: None,
            partial_since: None,
        };
        conn.send_current_job();
        conn
    }

    /// Reads, feeds the session and writes its answers until the connection ends.
    async fn run(&mut self, limits: &ConnLimits, shutdown: &CancellationToken) -> End {
        // Idle = nothing received for `idle_timeout`. A deadline, not a per-read timeout:
        // jobs sent every `job_refresh` restart the select loop and must not keep a silent
        // client.
        let start = tokio::time::Instant::now();
        let mut idle_deadline = start + limits.idle_timeout;
        loop {
            let deadline = self.deadline(limits, start, idle_deadline);
            match self.wait(deadline, shutdown).await {
                Wake::Read(n) => {
                    idle_deadline = tokio::time::Instant::now() + limits.idle_timeout;
                    self.handle_bytes(n);
                }
                Wake::Job => self.send_current_job(),
                Wake::Timer => self.session.on_timer(now()),
                Wake::End(end) => return end,
            }
            // A client that stops reading must not hold its task forever.
            let flushed = flush(&mut self.stream, &mut self.session);
            match tokio::time::timeout(limits.idle_timeout, flushed).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return End::Io(e.to_string()),
                Err(_) => return End::Idle,
            }
            if let Some(reason) = account(self.shared, &mut self.session, limits) {
                return End::Malformed(reason);
            }
        }
    }

    /// The earliest of the deadlines that apply now, with the reason it ends the connection:
    /// idle, the handshake (until subscribed and authorized), the line begun.
    fn deadline(
        &self,
        limits: &ConnLimits,
        start: tokio::time::Instant,
        idle: tokio::time::Instant,
    ) -> (tokio::time::Instant, End) {
        let mut earliest = (idle, End::Idle);
        let handshaken = self.session.grant().is_some() && !self.session.workers().is_empty();
        if !handshaken && start + limits.handshake_timeout < earliest.0 {
            earliest = (start + limits.handshake_timeout, End::Handshake);
        }
        if let Some(since) = self.partial_since
            && since + limits.line_timeout < earliest.0
        {
            earliest = (since + limits.line_timeout, End::SlowLine);
        }
        earliest
    }

    async fn wait(
        &mut self,
        (deadline, reason): (tokio::time::Instant, End),
        shutdown: &CancellationToken,
    ) -> Wake {
        let timer = self
            .session
            .next_timer()
            .map(tokio::time::Instant::from_std);
        tokio::select! {
            read = self.stream.read(&mut self.buf) => match read {
                Err(e) => Wake::End(End::Io(e.to_string())),
                Ok(0) => Wake::End(End::Closed),
                Ok(n) => Wake::Read(n),
            },
            changed = self.jobs.changed() => match changed {
                Ok(()) => Wake::Job,
                Err(_) => Wake::End(End::Shutdown),
            },
            _ = tokio::time::sleep_until(deadline) => Wake::End(reason),
            _ = tokio::time::sleep_until(timer.unwrap_or(deadline)), if timer.is_some() => {
                Wake::Timer
            }
            _ = shutdown.cancelled() => Wake::End(End::Shutdown),
        }
    }

    /// Feeds `n` bytes just read to the codec and every whole line to the session.
    fn handle_bytes(&mut self, n: usize) {
        let bytes = &self.buf[..n];
        // The line clock runs from the first byte after a newline: a line finished in this
        // read stops it, a remainder after the last newline starts it again.
        self.partial_since = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(last) if last + 1 == n => None,
            Some(_) => Some(tokio::time::Instant::now()),
            None => self
                .partial_since
                .or_else(|| Some(tokio::time::Instant::now())),
        };
        self.codec.feed(bytes);
        while let Some(line) = self.codec.next_line() {
            match line {
                Ok(line) => self.session.handle_line(&line, now(), &mut self.hooks),
                Err(e) => self.session.handle_codec_error(e),
            }
        }
    }

    fn send_current_job(&mut self) {
        let job = self.jobs.borrow_and_update().clone();
        if let Some(mut notify) = job.map(|j| j.notify.clone()) {
            mark_new_tip(&mut notify, &mut self.last_prevhash);
            self.session.send_job(&notify, now());
        }
    }

    /// Flushes the last replies, closes the socket and gives the extranonce1 back.
    async fn close(mut self, end: End) {
        // Best effort: the error replies explain the drop to the client.
        let last = flush(&mut self.stream, &mut self.session);
        let _ = tokio::time::timeout(Duration::from_secs(1), last).await;
        let _ = self.stream.shutdown().await;
        if let Some(id) = self.hooks.extranonce1 {
            lock(&self.shared.extranonces).release(id);
        }
        tracing::info!(reason = ?end, "stratum connection closed");
    }
}

async fn flush(stream: &mut TcpStream, session: &mut ServerSession) -> std::io::Result<()> {
    let mut out = String::new();
    while let Some(line) = session.poll_transmit() {
        out.push_str(&line);
    }
    if !out.is_empty() {
        stream.write_all(out.as_bytes()).await?;
    }
    Ok(())
}

/// Books the session's events; `Some(reason)` when the client must be dropped.
fn account(shared: &Shared, session: &mut ServerSession, limits: &ConnLimits) -> Option<String> {
    let mut drop_reason = None;
    while let Some(event) = session.poll_event() {
        match event {
            ServerEvent::ShareAccepted { share } => {
                lock(&shared.stats).share_accepted(&share.worker, share.difficulty.value(), now());
            }
            ServerEvent::ShareRejected { submit, error } => {
                tracing::debug!(code = error.code, message = %error.message, "share rejected");
                // Only an authorized name gets a stats entry: a client cycling through
                // made-up names must not fill the worker map (and evict real workers).
                let worker = submit
                    .as_ref()
                    .map(|s| s.worker.as_str())
                    .filter(|w| session.workers().iter().any(|a| a == w));
                lock(&shared.stats).share_rejected(worker, now());
            }
            ServerEvent::ProtocolError(e) => {
                tracing::debug!(error = %e, "bad line from miner");
                // A line over the limit, not UTF-8 or not JSON-RPC at all does not come
                // from a Stratum client: drop it. Unknown methods and bad params only get
                // an error reply.
                if matches!(e, ProtocolError::Codec(_) | ProtocolError::Message(_)) {
                    drop_reason = Some(e.to_string());
                }
            }
            ServerEvent::Authorized(worker) => tracing::info!(%worker, "worker authorized"),
            other => tracing::debug!(event = ?other, "session event"),
        }
    }
    if session.stats().protocol_errors > limits.max_protocol_errors {
        drop_reason.get_or_insert_with(|| "too many malformed lines".to_string());
    }
    drop_reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratum::JobId;

    fn notify(prev: u8, clean: bool) -> Notify {
        Notify {
            job_id: JobId::new("1").unwrap(),
            prevhash: PrevHash::from_internal([prev; 32]),
            coinb1: vec![],
            coinb2: vec![],
            merkle_branch: vec![],
            version: 0x2000_0000,
            nbits: 0x207fffff,
            ntime: 0,
            clean_jobs: clean,
        }
    }

    #[test]
    fn a_missed_clean_job_still_reaches_the_miner_as_clean() {
        let mut last = None;
        // (prevhash, clean as built by the job book, clean as sent)
        let table = [
            (1, true, true),
            (1, false, false),
            (2, false, true),
            (2, false, false),
        ];
        for (prev, built, expected) in table {
            let mut n = notify(prev, built);
            mark_new_tip(&mut n, &mut last);
            assert_eq!(n.clean_jobs, expected, "prev {prev} built {built}");
        }
    }
}
