//! What a session does with each event of the `stratum` client session: log it, start or
//! restart jobs, count share results, or end the session.

use std::time::Duration;

use stratum::VersionMask;
use stratum::client::{ClientEvent, Job as ClientJob, ShareOutcome};
use stratum::methods::Reconnect;
use tracing::{debug, info, warn};

use super::{Session, SessionEnd, lost};
use crate::worker::mining::StartError;
use crate::worker::stats::{lock, printable};

impl Session<'_> {
    /// Acts on one session event; `Some` ends the session.
    pub(super) fn on_event(&mut self, ev: ClientEvent) -> Option<SessionEnd> {
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
            ClientEvent::Authorized => self.authorized(),
            ClientEvent::AuthFailed(r) => {
                let why = printable(&r.reason);
                return Some(lost(format!("authorization failed: {why}")));
            }
            ClientEvent::HandshakeFailed(why) => {
                return Some(lost(format!("handshake failed: {why}")));
            }
            ClientEvent::NewJob(job) => self.start_job(&job),
            ClientEvent::ExtranonceChanged {
                extranonce1,
                extranonce2_size,
            } => info!(
                "new extranonce1 {} ({extranonce2_size}-byte extranonce2) from the next job",
                extranonce1.to_hex()
            ),
            ClientEvent::VersionMask(mask) => self.new_mask(mask),
            ClientEvent::Reconnect(r) => return Some(self.redirect(r)),
            ClientEvent::ShowMessage(text) => info!("pool message: {}", printable(&text)),
            ClientEvent::ShareResult { outcome, .. } => self.share_result(outcome),
            ClientEvent::ProtocolError(e) => warn!("pool sent a bad line (skipped): {e}"),
        }
        None
    }

    fn authorized(&mut self) {
        self.worked = true;
        let pool = self.ctx.url.to_string();
        let user = printable(&self.ctx.config.username);
        info!("authorized as {user} on {pool}");
        lock(self.ctx.status).pool_connected(pool);
    }

    /// BIP310 `mining.set_version_mask` is valid at once: rebuild the current job with it.
    fn new_mask(&mut self, mask: VersionMask) {
        info!("version mask now {}", mask.to_hex());
        if let Err(e) = self.ctx.mining.restart_with_mask(mask.0) {
            warn!("could not restart the job: {e}");
        }
    }

    /// `client.reconnect [host, port, wait]`: empty parts mean the current pool's (as
    /// cpuminer).
    fn redirect(&self, r: Reconnect) -> SessionEnd {
        let mut url = self.ctx.url.clone();
        if let Some(host) = r.host.filter(|h| !h.is_empty()) {
            url.host = host;
        }
        if let Some(port) = r.port.filter(|p| *p != 0) {
            url.port = port;
        }
        let wait = Duration::from_secs(r.wait.unwrap_or(0));
        SessionEnd::Redirect { url, wait }
    }

    fn start_job(&mut self, job: &ClientJob) {
        let job_id = job.notify.job_id.as_str();
        let started = self.ctx.mining.start(job);
        if let Err(e @ StartError::Work(_)) = &started {
            warn!(job = job_id, "{e}");
            return;
        }
        let difficulty = job.difficulty.value();
        let changed = {
            let mut s = lock(self.ctx.status);
            let changed = s.difficulty != Some(difficulty);
            s.difficulty = Some(difficulty);
            changed
        };
        if changed {
            info!("difficulty {difficulty}");
        }
        debug!(job = job_id, clean = job.clean, "new job");
        if let Err(e) = started {
            warn!(job = job_id, "{e}");
        }
    }

    fn share_result(&self, outcome: ShareOutcome) {
        let mut s = lock(self.ctx.status);
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
}
