//! A client session and a server session joined in memory: every line goes through a
//! `LineCodec` on each side, as it would over TCP. The scripts read like a miner talking to
//! a pool: handshake, job, shares, every rejection code, resume, version rolling.

use std::collections::HashMap;
use std::time::Instant;

use stratum::client::{
    ClientConfig, ClientEvent, ClientSession, Job, ResumeInfo, Share, ShareOutcome, SubmitError,
};
use stratum::methods::VersionRollingRequest;
use stratum::methods::server::Notify;
use stratum::server::{
    ServerConfig, ServerEvent, ServerHooks, ServerSession, ShareCheck, SubscribeGrant,
};
use stratum::{
    CodecError, Difficulty, ErrorCode, Extranonce1, Extranonce2, JobId, LineCodec, PrevHash,
    RpcError, VersionMask,
};

/// Pool decisions: extranonce1 from a counter, resume of known session ids, password "x",
/// and a "proof of work" that passes when the nonce is below 0x8000_0000.
#[derive(Default)]
struct FakePool {
    next: u32,
    sessions: HashMap<String, Extranonce1>,
    checked: Vec<ShareCheck>,
}

impl ServerHooks for FakePool {
    fn subscribe(
        &mut self,
        resume: Option<&str>,
        _: Option<&str>,
    ) -> Result<SubscribeGrant, RpcError> {
        if let Some((sid, en1)) = resume.and_then(|r| self.sessions.get_key_value(r)) {
            return Ok(SubscribeGrant {
                extranonce1: en1.clone(),
                session_id: sid.clone(),
            });
        }
        self.next += 1;
        let extranonce1 = Extranonce1::from_bytes(self.next.to_be_bytes().to_vec()).unwrap();
        let session_id = format!("{:08x}", self.next.wrapping_mul(0x9e37_79b9));
        self.sessions
            .insert(session_id.clone(), extranonce1.clone());
        Ok(SubscribeGrant {
            extranonce1,
            session_id,
        })
    }

    fn authorize(&mut self, _: &str, password: &str) -> bool {
        password == "x"
    }

    fn check_share(&mut self, share: &ShareCheck) -> Result<(), RpcError> {
        self.checked.push(share.clone());
        if share.nonce < 0x8000_0000 {
            Ok(())
        } else {
            Err(RpcError::new(
                ErrorCode::LowDifficulty,
                "Low difficulty share",
            ))
        }
    }
}

struct Pair {
    client: ClientSession,
    server: ServerSession,
    pool: FakePool,
    to_server: LineCodec,
    to_client: LineCodec,
    now: Instant,
    client_events: Vec<ClientEvent>,
    server_events: Vec<ServerEvent>,
}

impl Pair {
    fn new(client: ClientConfig, server: ServerConfig, pool: FakePool) -> Self {
        let now = Instant::now();
        Self {
            client: ClientSession::new(client, now),
            server: ServerSession::new(server, now),
            pool,
            to_server: LineCodec::default(),
            to_client: LineCodec::default(),
            now,
            client_events: Vec::new(),
            server_events: Vec::new(),
        }
    }

    /// Moves lines both ways until both sides are quiet.
    fn drive(&mut self) {
        loop {
            let mut moved = false;
            while let Some(line) = self.client.poll_transmit() {
                self.to_server.feed(line.as_bytes());
                moved = true;
            }
            while let Some(line) = self.to_server.next_line() {
                match line {
                    Ok(l) => self.server.handle_line(&l, self.now, &mut self.pool),
                    Err(e) => self.server.handle_codec_error(e),
                }
            }
            while let Some(line) = self.server.poll_transmit() {
                self.to_client.feed(line.as_bytes());
                moved = true;
            }
            while let Some(line) = self.to_client.next_line() {
                match line {
                    Ok(l) => self.client.handle_line(&l, self.now),
                    Err(e) => self.client.handle_codec_error(e, self.now),
                }
            }
            self.client_events
                .extend(std::iter::from_fn(|| self.client.poll_event()));
            self.server_events
                .extend(std::iter::from_fn(|| self.server.poll_event()));
            if !moved {
                break;
            }
        }
    }

    fn send_job(&mut self, notify: &Notify) {
        self.server.send_job(notify, self.now);
        self.drive();
    }

    fn take_client_events(&mut self) -> Vec<ClientEvent> {
        std::mem::take(&mut self.client_events)
    }

    fn last_job(&self) -> Job {
        self.client_events
            .iter()
            .rev()
            .find_map(|e| match e {
                ClientEvent::NewJob(j) => Some(j.clone()),
                _ => None,
            })
            .expect("a job")
    }

    fn submit(&mut self, job: &Job, nonce: u32) -> Result<ShareOutcome, SubmitError> {
        let share = Share {
            job_id: job.notify.job_id.clone(),
            extranonce2: Extranonce2::from_counter(1, job.extranonce2_size),
            ntime: job.notify.ntime,
            nonce,
            version: None,
        };
        self.submit_share(share)
    }

    fn submit_share(&mut self, share: Share) -> Result<ShareOutcome, SubmitError> {
        self.client.submit(share, self.now)?;
        self.drive();
        let outcome = self.client_events.iter().rev().find_map(|e| match e {
            ClientEvent::ShareResult { outcome, .. } => Some(outcome.clone()),
            _ => None,
        });
        Ok(outcome.expect("a share result"))
    }
}

fn notify(id: &str, clean: bool) -> Notify {
    Notify {
        job_id: JobId::new(id).unwrap(),
        prevhash: PrevHash::from_internal([0x11; 32]),
        coinb1: vec![1, 0, 0, 0],
        coinb2: vec![0xff; 8],
        merkle_branch: vec![[0x22; 32], [0x33; 32]],
        version: 0x2000_0000,
        nbits: 0x1703_a30c,
        ntime: 1_700_000_000,
        clean_jobs: clean,
    }
}

fn client_config() -> ClientConfig {
    ClientConfig::new("mesos-miner/test", "bc1qworker.rig1", "x")
}

fn server_config() -> ServerConfig {
    ServerConfig {
        vardiff: None,
        ..ServerConfig::default()
    }
}

fn rejected_code(outcome: ShareOutcome) -> Option<i64> {
    match outcome {
        ShareOutcome::Rejected(r) => r.code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// Handshake done and job "j1" delivered.
fn mining_pair(client: ClientConfig, server: ServerConfig) -> Pair {
    let mut p = Pair::new(client, server, FakePool::default());
    p.drive();
    p.send_job(&notify("j1", true));
    p
}

#[test]
fn subscribe_authorize_notify_submit_accept() {
    let mut p = Pair::new(client_config(), server_config(), FakePool::default());
    p.server.send_job(&notify("j1", true), p.now);
    p.drive();
    let ev = p.take_client_events();
    assert!(
        matches!(
            &ev[0],
            ClientEvent::Subscribed {
                extranonce2_size: 8,
                ..
            }
        ),
        "{ev:?}"
    );
    assert_eq!(ev[1], ClientEvent::Authorized);
    let ClientEvent::NewJob(job) = &ev[2] else {
        panic!("{ev:?}")
    };
    assert_eq!(job.notify, notify("j1", true));
    assert_eq!(
        job.difficulty.value(),
        0.01,
        "server's initial difficulty, latched at the notify"
    );
    assert_eq!(&job.extranonce1, &p.server.grant().unwrap().extranonce1);
    assert!(p.client.is_ready());

    assert_eq!(p.submit(job, 42), Ok(ShareOutcome::Accepted));
    let c = &p.pool.checked[0];
    assert_eq!(
        (c.nonce, c.ntime, c.version),
        (42, 1_700_000_000, 0x2000_0000)
    );
    assert_eq!(c.extranonce2, Extranonce2::from_counter(1, 8));
    assert_eq!(p.client.stats().accepted, 1);
    assert_eq!(p.server.stats().accepted, 1);
    assert!(
        p.server_events
            .iter()
            .any(|e| matches!(e, ServerEvent::ShareAccepted { .. }))
    );
}

#[test]
fn each_rejection_code_end_to_end() {
    let cfg = ServerConfig {
        max_jobs: 2,
        ..server_config()
    };
    let mut p = mining_pair(client_config(), cfg);
    let j1 = p.last_job();
    // 23: the pool's proof-of-work check fails.
    assert_eq!(rejected_code(p.submit(&j1, 0x9000_0000).unwrap()), Some(23));
    // 22: the same share twice.
    assert_eq!(p.submit(&j1, 7), Ok(ShareOutcome::Accepted));
    assert_eq!(rejected_code(p.submit(&j1, 7).unwrap()), Some(22));
    // 20: ntime beyond job ntime + 7000.
    let mut share = Share {
        job_id: j1.notify.job_id.clone(),
        extranonce2: Extranonce2::from_counter(9, 8),
        ntime: j1.notify.ntime + 7001,
        nonce: 8,
        version: None,
    };
    assert_eq!(
        rejected_code(p.submit_share(share.clone()).unwrap()),
        Some(20)
    );
    // 21: the pool forgot j1 (keeps two jobs) while the client still holds it (not clean).
    p.send_job(&notify("j2", false));
    p.send_job(&notify("j3", false));
    share.ntime = j1.notify.ntime;
    assert_eq!(rejected_code(p.submit_share(share).unwrap()), Some(21));
    // 24 and 25 cannot come from our client (it never submits unauthorized or unsubscribed);
    // a foreign miner's lines show them.
    p.to_server.feed(b"{\"id\":90,\"method\":\"mining.submit\",\"params\":[\"intruder\",\"j3\",\"0000000000000000\",\"6553f100\",\"00000001\"]}\n");
    p.drive();
    let mut other = Pair::new(client_config(), server_config(), FakePool::default());
    other.to_server.feed(b"{\"id\":91,\"method\":\"mining.submit\",\"params\":[\"w\",\"j\",\"00\",\"6553f100\",\"00000001\"]}\n");
    other.drive();
    let code = |events: &[ServerEvent], worker: &str| {
        events.iter().find_map(|e| match e {
            ServerEvent::ShareRejected {
                submit: Some(s),
                error,
            } if s.worker == worker => Some(error.code),
            _ => None,
        })
    };
    assert_eq!(code(&p.server_events, "intruder"), Some(24));
    assert_eq!(code(&other.server_events, "w"), Some(25));
    // Each answer reached the miner as a rejection with the pool's text.
    let reasons: Vec<String> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::ShareResult {
                outcome: ShareOutcome::Rejected(r),
                ..
            } => Some(r.reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "Low difficulty share",
            "Duplicate share",
            "Ntime out of range",
            "Job not found"
        ]
    );
    assert_eq!(p.client.stats().rejected, 4);
}

#[test]
fn clean_jobs_and_difficulty_change_agree_on_both_sides() {
    let mut p = mining_pair(client_config(), server_config());
    let j1 = p.last_job();
    p.server
        .set_difficulty(Difficulty::new(0.5).unwrap(), p.now);
    p.send_job(&notify("j2", false));
    let j2 = p.last_job();
    assert_eq!(j2.difficulty.value(), 0.5);
    // Shares of j1 are still judged at j1's difficulty on the pool side.
    assert_eq!(p.submit(&j1, 1), Ok(ShareOutcome::Accepted));
    assert_eq!(p.submit(&j2, 1), Ok(ShareOutcome::Accepted));
    let diffs: Vec<f64> = p
        .pool
        .checked
        .iter()
        .map(|c| c.difficulty.value())
        .collect();
    assert_eq!(diffs, [0.01, 0.5]);
    // clean_jobs: the client refuses old shares itself; none reaches the pool.
    p.send_job(&notify("j3", true));
    assert!(p.last_job().clean);
    assert!(matches!(p.submit(&j2, 2), Err(SubmitError::Stale(_))));
    assert_eq!(p.pool.checked.len(), 2);
    assert_eq!(p.client.stats().stale, 1);
}

#[test]
fn version_rolling_negotiated_and_rebuilt_by_the_pool() {
    let mut cfg = client_config();
    cfg.version_rolling = Some(VersionRollingRequest {
        mask: VersionMask(0xffff_ffff),
        min_bit_count: 2,
    });
    let mut p = mining_pair(cfg, server_config());
    assert!(
        p.client_events
            .contains(&ClientEvent::VersionRolling(Some(VersionMask::BIP320)))
    );
    let job = p.last_job();
    assert_eq!(job.version_mask, Some(VersionMask::BIP320));
    let share = Share {
        job_id: job.notify.job_id.clone(),
        extranonce2: Extranonce2::from_counter(3, 8),
        ntime: job.notify.ntime,
        nonce: 5,
        version: Some(0x2abc_e000),
    };
    assert_eq!(p.submit_share(share), Ok(ShareOutcome::Accepted));
    assert_eq!(p.pool.checked[0].version, 0x2abc_e000);
}

#[test]
fn reconnect_resumes_the_session_and_suggested_difficulty_applies() {
    let mut p = mining_pair(client_config(), server_config());
    let en1 = p.server.grant().unwrap().extranonce1.clone();
    let info = p.client.connection_lost();
    assert_eq!(
        info,
        ResumeInfo {
            session_id: Some(p.server.grant().unwrap().session_id.clone()),
            skip_configure: false
        }
    );
    // The pool restarts the connection; the pool state (known sessions) survives.
    let mut cfg = client_config();
    cfg.resume_session_id = info.session_id;
    cfg.suggest_difficulty = Some(Difficulty::new(0.25).unwrap());
    let mut q = Pair::new(cfg, server_config(), std::mem::take(&mut p.pool));
    q.drive();
    assert!(matches!(
        &q.client_events[0],
        ClientEvent::Subscribed { resumed: true, .. }
    ));
    assert_eq!(q.server.grant().unwrap().extranonce1, en1);
    q.send_job(&notify("j9", true));
    assert_eq!(q.last_job().difficulty.value(), 0.25);
    assert_eq!(q.last_job().extranonce1, en1);
}

#[test]
fn bad_lines_from_either_side_are_skipped() {
    let mut p = mining_pair(client_config(), server_config());
    let long = vec![b'x'; stratum::DEFAULT_MAX_LINE + 10];
    // Pool → miner: an over-long line, garbage, then a good job.
    p.to_client.feed(&long);
    p.to_client.feed(b"\n{not json\n");
    let start = p.client_events.len();
    p.send_job(&notify("j2", false));
    let ev = p.client_events[start..].to_vec();
    let errors = ev
        .iter()
        .filter(|e| matches!(e, ClientEvent::ProtocolError(_)))
        .count();
    assert_eq!(errors, 2);
    assert!(
        ev.contains(&ClientEvent::ProtocolError(
            CodecError::LineTooLong {
                limit: stratum::DEFAULT_MAX_LINE
            }
            .into()
        ))
    );
    assert!(matches!(ev.last(), Some(ClientEvent::NewJob(_))));
    // Miner → pool: the same; the connection keeps working.
    p.to_server.feed(&long);
    p.to_server.feed(b"\n\xff\xfe\n");
    p.drive();
    assert_eq!(p.server.stats().protocol_errors, 2);
    let j2 = p.last_job();
    assert_eq!(p.submit(&j2, 3), Ok(ShareOutcome::Accepted));
}
