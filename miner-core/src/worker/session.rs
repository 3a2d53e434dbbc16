//! One connection: read lines into the `stratum` client session, write what it says, start
//! its jobs on the miner, submit found shares, and end on EOF, errors, silence (`-T`),
//! `client.reconnect`, a successful failback probe or shutdown.

use std::time::{Duration, Instant};

use stratum::client::{ClientConfig, ClientEvent, ClientSession, ShareOutcome, SubmitError};
use stratum::methods::VersionRollingRequest;
use stratum::{Difficulty, LineCodec, VersionMask};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::conn::{self, Stream};
use super::driver::{SessionEnd, Shutdown, Worker, lock};
use super::jobs::FoundShare;
use super::stats::printable;
use super::url::PoolUrl;
use crate::search::Found;

/// How often the hash counters are sampled into the meters.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

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

fn client_config(w: &Worker, pool: usize) -> ClientConfig {
    let c = &w.config;
    let mut cfg = ClientConfig::new(&c.user_agent, &c.username, &c.password);
    cfg.version_rolling = c.version_rolling.then_some(VersionRollingRequest {
        mask: VersionMask::BIP320,
        min_bit_count: 2,
    });
    cfg.skip_configure = w.resume[pool].skip_configure;
    cfg.resume_session_id = w.resume[pool].session_id.clone();
    cfg.extranonce_subscribe = true;
    cfg.suggest_difficulty = c.suggest_difficulty.and_then(|d| Difficulty::new(d).ok());
    cfg.request_timeout = c.timeout;
    cfg
}

struct Conn {
    session: ClientSession,
    rd: ReadHalf<Stream>,
    wr: WriteHalf<Stream>,
    codec: LineCodec,
    worked: bool,
}

/// Runs the session; on return the connection is closed and its resume info saved.
pub(super) async fn run(
    w: &mut Worker,
    stream: Stream,
    pool: usize,
    mut shutdown: Shutdown<'_>,
) -> SessionEnd {
    let (rd, wr) = tokio::io::split(stream);
    let session = ClientSession::new(client_config(w, pool), Instant::now());
    let mut c = Conn {
        session,
        rd,
        wr,
        codec: LineCodec::default(),
        worked: false,
    };
    let end = drive(w, &mut c, shutdown.as_mut()).await;
    w.resume[pool] = c.session.connection_lost();
    // Unanswered submits come out as ConnectionLost results: log them.
    while let Some(ev) = c.session.poll_event() {
        let _ = on_event(w, &mut c, ev);
    }
    match end {
        SessionEnd::Lost { reason, .. } => SessionEnd::Lost {
            worked: c.worked,
            reason,
        },
        other => other,
    }
}

async fn drive(w: &mut Worker, c: &mut Conn, mut shutdown: Shutdown<'_>) -> SessionEnd {
    let mut buf = vec![0u8; 16 * 1024];
    let mut sample = tokio::time::interval(SAMPLE_EVERY);
    let mut report = tokio::time::interval(w.config.report_interval);
    report.tick().await;
    let mut probe_due = tokio::time::interval(w.config.failback_interval);
    probe_due.tick().await;
    let (probe_tx, mut probe_rx) = mpsc::channel::<Option<usize>>(1);
    let mut probing = false;
    loop {
        if let Some(end) = flush(w, c).await {
            return end;
        }
        let far = Instant::now() + Duration::from_secs(3600);
        let request_deadline = c.session.next_timeout().unwrap_or(far);
        let idle_deadline = c.session.last_received() + w.config.timeout;
        let can_probe = c.worked && !probing && !w.failover.better_pools().is_empty();
        let input = tokio::select! {
            _ = shutdown.as_mut() => Input::Shutdown,
            r = c.rd.read(&mut buf) => Input::Read(r),
            f = w.found_rx.recv() => Input::Found(f),
            _ = tokio::time::sleep_until(request_deadline.into()) => Input::RequestTimeout,
            _ = tokio::time::sleep_until(idle_deadline.into()) => Input::Idle,
            _ = sample.tick() => Input::Sample,
            _ = report.tick() => Input::Report,
            _ = probe_due.tick(), if can_probe => Input::ProbeDue,
            Some(p) = probe_rx.recv() => Input::ProbeAnswered(p),
        };
        let now = Instant::now();
        match input {
            Input::Shutdown => return SessionEnd::Shutdown,
            Input::Read(Ok(0)) => return lost("the pool closed the connection"),
            Input::Read(Err(e)) => return lost(&format!("read error: {e}")),
            Input::Read(Ok(n)) => {
                c.codec.feed(&buf[..n]);
                while let Some(line) = c.codec.next_line() {
                    match line {
                        Ok(line) => c.session.handle_line(&line, now),
                        Err(e) => c.session.handle_codec_error(e, now),
                    }
                }
            }
            Input::Found(Some(found)) => on_found(w, c, &found, now),
            Input::Found(None) => return lost("share channel closed"),
            Input::RequestTimeout => c.session.poll_timeout(now),
            Input::Idle => {
                let secs = w.config.timeout.as_secs_f64();
                return lost(&format!("no data from the pool for {secs:.0} s"));
            }
            Input::Sample => sample_hashes(w, now),
            Input::Report => {
                if !w.config.quiet {
                    info!("{}", lock(&w.status).hashrate_line());
                }
            }
            Input::ProbeDue => {
                probing = true;
                spawn_probe(w, probe_tx.clone());
            }
            Input::ProbeAnswered(Some(better)) => return SessionEnd::Failback(better),
            Input::ProbeAnswered(None) => probing = false,
        }
    }
}

/// A line with the Stratum password (in `mining.authorize`) hidden: secrets never reach a
/// log line, at any level.
fn redact(line: &str, password: &str) -> String {
    if password.is_empty() {
        return line.to_owned();
    }
    // The line holds the password JSON-escaped; hide both forms.
    let escaped = serde_json::to_string(password).unwrap_or_default();
    let escaped = escaped.trim_matches('"');
    line.replace(escaped, "<redacted>")
        .replace(password, "<redacted>")
}

fn lost(reason: &str) -> SessionEnd {
    SessionEnd::Lost {
        worked: false,
        reason: reason.to_owned(),
    }
}

/// Writes every queued line and handles every event, until both queues are empty.
async fn flush(w: &mut Worker, c: &mut Conn) -> Option<SessionEnd> {
    loop {
        let mut idle = true;
        while let Some(line) = c.session.poll_transmit() {
            idle = false;
            debug!(line = %redact(line.trim_end(), &w.config.password), "sending");
            if let Err(e) = c.wr.write_all(line.as_bytes()).await {
                return Some(lost(&format!("write error: {e}")));
            }
        }
        while let Some(ev) = c.session.poll_event() {
            idle = false;
            if let Some(end) = on_event(w, c, ev) {
                return Some(end);
            }
        }
        if idle {
            return None;
        }
    }
}

fn sample_hashes(w: &Worker, now: Instant) {
    let per_thread = w.miner.hashes_per_thread();
    lock(&w.status).record_hashes(now, &per_thread);
}

fn spawn_probe(w: &Worker, tx: mpsc::Sender<Option<usize>>) {
    let candidates: Vec<(usize, PoolUrl)> = w
        .failover
        .better_pools()
        .map(|i| (i, w.pools[i].clone()))
        .collect();
    let tls = w.config.tls.clone();
    let timeout = w.config.timeout.min(Duration::from_secs(10));
    let agent = w.config.user_agent.clone();
    tokio::spawn(async move {
        for (i, url) in candidates {
            if conn::probe(&url, tls.as_ref(), timeout, &agent).await {
                let _ = tx.send(Some(i)).await;
                return;
            }
        }
        let _ = tx.send(None).await;
    });
}

fn on_found(w: &mut Worker, c: &mut Conn, found: &Found, now: Instant) {
    let share = match w.jobs.share(found) {
        FoundShare::Submit(share) => share,
        FoundShare::Stale => {
            lock(&w.status).shares.stale += 1;
            debug!(job = found.job_id, "share of a void job dropped");
            return;
        }
    };
    match c.session.submit(share, now) {
        Ok(_) => {}
        Err(SubmitError::Stale(job)) => {
            lock(&w.status).shares.stale += 1;
            debug!("share of void job {job} dropped");
        }
        Err(e) => warn!("share not sent: {e}"),
    }
}

/// Acts on one session event; `Some` ends the session.
fn on_event(w: &mut Worker, c: &mut Conn, ev: ClientEvent) -> Option<SessionEnd> {
    match ev {
        ClientEvent::VersionRolling(Some(mask)) => {
            info!("version rolling on, mask {}", mask.to_hex())
        }
        ClientEvent::VersionRolling(None) => info!("version rolling refused by the pool"),
        ClientEvent::Subscribed {
            extranonce1,
            extranonce2_size,
            resumed,
            ..
        } => {
            let how = if resumed {
                "resumed session"
            } else {
                "subscribed"
            };
            info!(
                "{how}: extranonce1 {}, extranonce2 {extranonce2_size} bytes",
                extranonce1.to_hex()
            );
        }
        ClientEvent::ResumeRefused(r) => {
            info!("pool did not resume the session: {}", printable(&r.reason))
        }
        ClientEvent::Authorized => {
            c.worked = true;
            w.failover.working();
            let pool = w.pools[w.failover.current()].to_string();
            info!("authorized as {} on {pool}", printable(&w.config.username));
            lock(&w.status).pool_connected(pool);
        }
        ClientEvent::AuthFailed(r) => {
            return Some(lost(&format!(
                "authorization failed: {}",
                printable(&r.reason)
            )));
        }
        ClientEvent::HandshakeFailed(why) => {
            return Some(lost(&format!("handshake failed: {why}")));
        }
        ClientEvent::NewJob(job) => start_job(w, &job),
        ClientEvent::ExtranonceChanged {
            extranonce1,
            extranonce2_size,
        } => info!(
            "new extranonce1 {} ({extranonce2_size}-byte extranonce2) from the next job",
            extranonce1.to_hex()
        ),
        ClientEvent::VersionMask(mask) => new_mask(w, mask),
        ClientEvent::Reconnect(r) => return Some(redirect(w, r)),
        ClientEvent::ShowMessage(text) => info!("pool message: {}", printable(&text)),
        ClientEvent::ShareResult { outcome, .. } => share_result(w, outcome),
        ClientEvent::ProtocolError(e) => warn!("pool sent a bad line (skipped): {e}"),
    }
    None
}

/// BIP310 `mining.set_version_mask` is valid at once: rebuild the current job with it.
fn new_mask(w: &mut Worker, mask: VersionMask) {
    info!("version mask now {}", mask.to_hex());
    if let Some(job) = w.jobs.restart_with_mask(mask.0) {
        if let Err(e) = w.miner.start_job(job, w.found_tx.clone()) {
            warn!("could not restart the job: {e}");
        }
    }
}

/// `client.reconnect [host, port, wait]`: empty parts mean the current pool's (as cpuminer).
fn redirect(w: &Worker, r: stratum::methods::Reconnect) -> SessionEnd {
    let mut url = w.pools[w.failover.current()].clone();
    if let Some(host) = r.host.filter(|h| !h.is_empty()) {
        url.host = host;
    }
    if let Some(port) = r.port.filter(|p| *p != 0) {
        url.port = port;
    }
    let wait = Duration::from_secs(r.wait.unwrap_or(0));
    SessionEnd::Redirect { url, wait }
}

fn start_job(w: &mut Worker, job: &stratum::client::Job) {
    let difficulty = job.difficulty.value();
    let miner_job = match w.jobs.start(job) {
        Ok(j) => j,
        Err(e) => {
            warn!("job {} cannot be mined: {e}", job.notify.job_id.as_str());
            return;
        }
    };
    let changed = {
        let mut s = lock(&w.status);
        let changed = s.difficulty != Some(difficulty);
        s.difficulty = Some(difficulty);
        changed
    };
    if changed {
        info!("difficulty {difficulty}");
    }
    debug!(
        job = job.notify.job_id.as_str(),
        clean = job.clean,
        "new job"
    );
    if let Err(e) = w.miner.start_job(miner_job, w.found_tx.clone()) {
        warn!("could not start job: {e}");
    }
}

fn share_result(w: &Worker, outcome: ShareOutcome) {
    let mut s = lock(&w.status);
    let rate = s.hashrate();
    match outcome {
        ShareOutcome::Accepted => {
            s.shares.accepted += 1;
            info!("{}", s.shares.result_line(rate, None));
        }
        ShareOutcome::Rejected(r) => {
            s.shares.rejected += 1;
            info!("{}", s.shares.result_line(rate, Some(&r.reason)));
        }
        ShareOutcome::TimedOut => warn!("share got no answer in time"),
        ShareOutcome::ConnectionLost => warn!("share unanswered: connection lost"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn the_password_never_reaches_a_log_line() {
        let line = r#"{"id":3,"method":"mining.authorize","params":["u","p\"w"]}"#;
        assert_eq!(
            redact(line, "p\"w"),
            r#"{"id":3,"method":"mining.authorize","params":["u","<redacted>"]}"#
        );
        assert_eq!(redact("x", ""), "x");
    }
}
