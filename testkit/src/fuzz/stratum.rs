//! Stratum targets: the line codec with the message and method parsers (`stratum_codec`),
//! and the client and server sessions fed sequences of lines (`stratum_client`,
//! `stratum_server`).
//!
//! Input of every target: one flags byte, then a byte stream split into lines by the
//! session's own [`LineCodec`] (so the seeds are real Stratum lines, one per line).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value;
use stratum::client::{ClientConfig, ClientEvent, ClientSession, Share};
use stratum::methods::{ConfigureResult, GetVersion, Ping, SubscribeResult, VersionRollingRequest};
use stratum::server::{ServerConfig, ServerHooks, ServerSession, ShareCheck, SubscribeGrant};
use stratum::{
    ClientRequest, Difficulty, ErrorCode, Extranonce1, Extranonce2, JobId, LineCodec, Message,
    Method, PrevHash, RpcError, ServerMessage, VersionMask,
};

use super::split_first;

/// `stratum_codec`. Flags: bits 0-2 pick the line limit (16 << n bytes), bits 3-7 the
/// chunk size (1..=32) the stream is fed in. Checks: the lines do not depend on the
/// chunking, no line is over the limit, the codec buffers at most limit + 1 bytes, and every
/// message (and every known method's params or result) survives encode → parse unchanged.
pub fn codec(data: &[u8]) {
    let (flags, bytes) = split_first(data);
    let max_line = 16usize << (flags & 7);
    let chunk = usize::from(flags >> 3) + 1;
    let mut whole = LineCodec::new(max_line);
    whole.feed(bytes);
    let whole: Vec<_> = std::iter::from_fn(|| whole.next_line()).collect();
    let mut pieces = LineCodec::new(max_line);
    let mut lines = Vec::new();
    for part in bytes.chunks(chunk) {
        pieces.feed(part);
        assert!(
            pieces.buffered() <= max_line + 1,
            "codec buffers past its limit"
        );
        lines.extend(std::iter::from_fn(|| pieces.next_line()));
    }
    assert_eq!(
        lines, whole,
        "the lines depend on how the stream was chunked"
    );
    for line in lines.into_iter().flatten() {
        assert!(
            line.len() <= max_line && !line.contains('\n'),
            "line over the limit"
        );
        message_round_trip(&line);
    }
}

/// Parses `line`; a message must re-parse equal from its own encoding, and so must the
/// typed params (or result) of a method this crate knows.
fn message_round_trip(line: &str) {
    let Ok(msg) = Message::parse(line) else {
        return;
    };
    let text = msg.to_json_string();
    let again = Message::parse(&text).unwrap_or_else(|e| panic!("own {text:?} fails: {e}"));
    assert_eq!(again, msg, "message changed through {text:?}");
    match &msg {
        Message::Request(r) => methods_round_trip(&r.method, &r.params),
        Message::Notification(n) => methods_round_trip(&n.method, &n.params),
        Message::Response(r) => {
            let _ = (r.bool_outcome(), r.rejection());
            if let Ok(sub) = SubscribeResult::from_result(&r.result) {
                let back = SubscribeResult::from_result(&sub.to_result());
                assert_eq!(back.as_ref(), Ok(&sub), "subscribe result round trip");
            }
            if let Ok(conf) = ConfigureResult::from_result(&r.result) {
                let back = ConfigureResult::from_result(&conf.to_result(true));
                assert_eq!(back.as_ref(), Ok(&conf), "configure result round trip");
            }
        }
    }
}

fn methods_round_trip(method: &str, params: &[Value]) {
    if let Ok(Some(req)) = ClientRequest::parse(method, params) {
        let back = ClientRequest::parse(method, &client_params(&req));
        assert_eq!(back, Ok(Some(req)), "{method} params round trip");
    }
    if let Ok(Some(msg)) = ServerMessage::parse(method, params) {
        let back = ServerMessage::parse(method, &server_params(&msg));
        assert_eq!(back, Ok(Some(msg)), "{method} params round trip");
    }
}

fn client_params(req: &ClientRequest) -> Vec<Value> {
    match req {
        ClientRequest::Subscribe(m) => m.to_params(),
        ClientRequest::Authorize(m) => m.to_params(),
        ClientRequest::Configure(m) => m.to_params(),
        ClientRequest::SuggestDifficulty(m) => m.to_params(),
        ClientRequest::ExtranonceSubscribe => stratum::methods::ExtranonceSubscribe.to_params(),
        ClientRequest::Submit(m) => m.to_params(),
    }
}

fn server_params(msg: &ServerMessage) -> Vec<Value> {
    match msg {
        ServerMessage::Notify(m) => m.to_params(),
        ServerMessage::SetDifficulty(m) => m.to_params(),
        ServerMessage::SetExtranonce(m) => m.to_params(),
        ServerMessage::SetVersionMask(m) => m.to_params(),
        ServerMessage::Reconnect(m) => m.to_params(),
        ServerMessage::ShowMessage(m) => m.to_params(),
        ServerMessage::GetVersion => GetVersion.to_params(),
        ServerMessage::Ping => Ping.to_params(),
    }
}

/// Splits `bytes` into lines with a codec of the default limit, or 256 bytes when `small`.
fn lines(bytes: &[u8], small: bool) -> Vec<Result<String, stratum::CodecError>> {
    let mut codec = if small {
        LineCodec::new(256)
    } else {
        LineCodec::default()
    };
    codec.feed(bytes);
    std::iter::from_fn(|| codec.next_line()).collect()
}

/// Every line a session writes must be one line of a message the crate itself parses.
fn check_own_line(side: &str, line: &str) {
    let body = line
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("{side} line without newline: {line:?}"));
    assert!(
        !body.contains('\n'),
        "{side} wrote two lines at once: {line:?}"
    );
    if let Err(e) = Message::parse(body) {
        panic!("{side} wrote {body:?}, which does not parse: {e}");
    }
}

/// `stratum_client`: the miner's session against the lines of a pool. Flags: bit 0 asks
/// for version rolling, 1 extranonce subscription, 2 suggests a difficulty, 3 resumes
/// session `s1`, 4 skips configure, 5 lets every 8th line arrive after the request timeout,
/// 6 uses a 256-byte line limit. Every `NewJob` gets a share submitted. Checks: every line
/// the session writes parses; after `connection_lost` every submit sent has exactly one
/// result and the counters add up to them (no share lost or counted twice).
pub fn client(data: &[u8]) {
    let (flags, bytes) = split_first(data);
    let mut now = Instant::now();
    let mut config = ClientConfig::new("mesos-miner/fuzz", "addr.w1", "x");
    if flags & 1 != 0 {
        config.version_rolling = Some(VersionRollingRequest {
            mask: VersionMask::BIP320,
            min_bit_count: 2,
        });
    }
    config.extranonce_subscribe = flags & 2 != 0;
    config.suggest_difficulty = (flags & 4 != 0).then_some(Difficulty::ONE);
    config.resume_session_id = (flags & 8 != 0).then(|| "s1".to_string());
    config.skip_configure = flags & 16 != 0;
    let mut session = ClientSession::new(config, now);
    let mut tally = ClientTally::default();
    tally.drain(&mut session, now);
    for (n, line) in lines(bytes, flags & 64 != 0).into_iter().enumerate() {
        let step = if flags & 32 != 0 && n % 8 == 7 { 31 } else { 1 };
        now += Duration::from_secs(step);
        if session.next_timeout().is_some_and(|t| now >= t) {
            session.handle_timeout(now);
        }
        match line {
            Ok(line) => session.handle_line(&line, now),
            Err(e) => session.handle_codec_error(e, now),
        }
        tally.drain(&mut session, now);
    }
    session.connection_lost();
    tally.drain(&mut session, now);
    let stats = session.stats();
    assert_eq!(
        tally.results, tally.submitted,
        "a submit without exactly one result"
    );
    assert_eq!(
        stats.accepted + stats.rejected + stats.unanswered,
        tally.submitted,
        "share counters {stats:?} do not add up to the submits"
    );
}

#[derive(Default)]
struct ClientTally {
    submitted: u64,
    results: u64,
    nonce: u32,
}

impl ClientTally {
    /// Writes out and checks the session's lines; submits a share for every new job.
    fn drain(&mut self, session: &mut ClientSession, now: Instant) {
        loop {
            while let Some(line) = session.poll_transmit() {
                check_own_line("client", &line);
            }
            let Some(event) = session.poll_event() else {
                return;
            };
            match event {
                ClientEvent::NewJob(job) => {
                    self.nonce = self.nonce.wrapping_add(1);
                    let share = Share {
                        job_id: job.notify.job_id.clone(),
                        extranonce2: Extranonce2::from_counter(
                            u64::from(self.nonce),
                            job.extranonce2_size,
                        ),
                        ntime: job.notify.ntime,
                        nonce: self.nonce,
                        version: None,
                    };
                    if session.submit(share, now).is_ok() {
                        self.submitted += 1;
                    }
                }
                ClientEvent::ShareResult { .. } => self.results += 1,
                _ => {}
            }
        }
    }
}

/// The pool's decisions in `stratum_server`: grants counted extranonce1s, refuses the
/// password `bad` and the resume id `deny`, and calls every nonce ≡ 3 (mod 4) low
/// difficulty. It remembers what it accepted: the session must never pass an accepted share
/// to it again (the `ServerHooks` contract: duplicates are refused per connection).
#[derive(Default)]
struct Hooks {
    grants: u32,
    accepted: HashSet<(String, Vec<u8>, u32, u32, u32)>,
}

impl ServerHooks for Hooks {
    fn subscribe(
        &mut self,
        resume: Option<&str>,
        _user_agent: Option<&str>,
    ) -> Result<SubscribeGrant, RpcError> {
        if resume == Some("deny") {
            return Err(RpcError::new(ErrorCode::Other, "no resume"));
        }
        self.grants += 1;
        let extranonce1 = Extranonce1::from_bytes(self.grants.to_be_bytes().to_vec())
            .unwrap_or_else(|e| panic!("4-byte extranonce1 refused: {e}"));
        Ok(SubscribeGrant {
            extranonce1,
            session_id: format!("{:08x}", self.grants),
        })
    }

    fn authorize(&mut self, _username: &str, password: &str) -> bool {
        password != "bad"
    }

    fn check_share(&mut self, share: &ShareCheck) -> Result<(), RpcError> {
        if share.nonce % 4 == 3 {
            return Err(RpcError::new(ErrorCode::LowDifficulty, "low difficulty"));
        }
        let key = (
            share.job_id.as_str().to_owned(),
            share.extranonce2.as_bytes().to_vec(),
            share.ntime,
            share.nonce,
            share.version,
        );
        assert!(
            self.accepted.insert(key),
            "an accepted share reached the pool again"
        );
        Ok(())
    }
}

/// A job as the pool sends it: id `n`, ntime 1 700 000 000, a one-level branch.
fn job(n: u32, clean: bool) -> stratum::methods::Notify {
    stratum::methods::Notify {
        job_id: JobId::new(n.to_string()).unwrap_or_else(|e| panic!("job id {n}: {e}")),
        prevhash: PrevHash::from_internal([n as u8; 32]),
        coinb1: vec![1, 0, 0, 0],
        coinb2: vec![0xff; 8],
        merkle_branch: vec![[7; 32]],
        version: 0x2000_0000,
        nbits: 0x207f_ffff,
        ntime: 1_700_000_000,
        clean_jobs: clean,
    }
}

/// `stratum_server`: the pool's per-connection session against the lines of a miner; job
/// `1` is sent at once, and a new job every `(flags >> 4) + 1` lines (clean every fourth).
/// Flags: bit 0 refuses version rolling, 1 turns vardiff off, 2 uses a 256-byte line
/// limit, 3 sets difficulty 1 halfway. Checks: every line the session writes parses, an
/// accepted share never reaches the pool twice, and the counters match the events.
pub fn server(data: &[u8]) {
    let (flags, bytes) = split_first(data);
    let mut now = Instant::now();
    let mut config = ServerConfig::default();
    if flags & 1 != 0 {
        config.version_rolling_mask = None;
    }
    if flags & 2 != 0 {
        config.vardiff = None;
    }
    let every = usize::from(flags >> 4) + 1;
    let mut session = ServerSession::new(config, now);
    let mut hooks = Hooks::default();
    let mut jobs = 1;
    session.send_job(&job(jobs, true), now);
    let mut tally = ServerTally::default();
    let lines = lines(bytes, flags & 4 != 0);
    let half = lines.len() / 2;
    for (n, line) in lines.into_iter().enumerate() {
        now += Duration::from_secs(1);
        match line {
            Ok(line) => session.handle_line(&line, now, &mut hooks),
            Err(e) => session.handle_codec_error(e),
        }
        if n % every == every - 1 {
            jobs += 1;
            session.send_job(&job(jobs, jobs % 4 == 0), now);
        }
        if flags & 8 != 0 && n == half {
            session.set_difficulty(Difficulty::ONE, now);
        }
        tally.drain(&mut session);
    }
    tally.drain(&mut session);
    let stats = session.stats();
    assert_eq!(stats.accepted, tally.accepted, "accepted counter");
    assert_eq!(stats.rejected, tally.rejected, "rejected counter");
}

#[derive(Default)]
struct ServerTally {
    accepted: u64,
    rejected: u64,
}

impl ServerTally {
    fn drain(&mut self, session: &mut ServerSession) {
        while let Some(line) = session.poll_transmit() {
            check_own_line("server", &line);
        }
        while let Some(event) = session.poll_event() {
            match event {
                stratum::server::ServerEvent::ShareAccepted { .. } => self.accepted += 1,
                stratum::server::ServerEvent::ShareRejected { .. } => self.rejected += 1,
                _ => {}
            }
        }
    }
}
