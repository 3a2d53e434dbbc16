//! Stratum v1 for the miner and the pool: messages, a bounded line codec, and client and
//! server sessions as sans-IO state machines.
//!
//! This crate owns the wire protocol (spec: `shared/spec/stratum.md`): the JSON-RPC envelope
//! ([`envelope`]), one type per method ([`methods`]), the wire newtypes and byte-order rules
//! ([`wire`]), newline framing with a maximum line length ([`codec`]), the miner's session
//! ([`client`]) and the pool's per-connection session ([`server`], with [`server::vardiff`]),
//! and the one way to log a line without its credentials ([`redact_line`]).
//! It does no I/O, reads no clock (time is passed in as `now`) and does no hashing: the
//! proof-of-work check is the pool's (through [`server::ServerHooks`]), header and coinbase
//! assembly are `miner-core`'s.
//!
//! # Driving a session
//!
//! Feed received bytes to a [`LineCodec`], hand each line to the session's `handle_line`
//! (codec errors to `handle_codec_error`), then write every `poll_transmit` line and act on
//! every `poll_event`. This example joins a client and a server in memory:
//!
//! ```
//! use std::time::Instant;
//! use stratum::client::{ClientConfig, ClientEvent, ClientSession, Share, ShareOutcome};
//! use stratum::methods::Notify;
//! use stratum::server::{ServerConfig, ServerHooks, ServerSession, ShareCheck, SubscribeGrant};
//! use stratum::{Extranonce1, Extranonce2, JobId, LineCodec, PrevHash, RpcError};
//!
//! struct Pool;
//! impl ServerHooks for Pool {
//!     fn subscribe(&mut self, _resume: Option<&str>, _agent: Option<&str>)
//!         -> Result<SubscribeGrant, RpcError> {
//!         Ok(SubscribeGrant { extranonce1: Extranonce1::from_hex("b386086b").unwrap(),
//!                             session_id: "6b0886b3".into() })
//!     }
//!     fn authorize(&mut self, _user: &str, _password: &str) -> bool { true }
//!     // A real pool rebuilds the header and compares sha256d with the share target here.
//!     fn check_share(&mut self, _share: &ShareCheck) -> Result<(), RpcError> { Ok(()) }
//! }
//!
//! let now = Instant::now();
//! let mut client = ClientSession::new(ClientConfig::new("mesos-miner/0.1", "addr.w1", "x"), now);
//! let mut server = ServerSession::new(ServerConfig::default(), now);
//! let (mut to_server, mut to_client) = (LineCodec::default(), LineCodec::default());
//! let mut pump = |client: &mut ClientSession, server: &mut ServerSession| {
//!     for _ in 0..4 {
//!         while let Some(line) = client.poll_transmit() { to_server.feed(line.as_bytes()); }
//!         while let Some(Ok(line)) = to_server.next_line() { server.handle_line(&line, now, &mut Pool); }
//!         while let Some(line) = server.poll_transmit() { to_client.feed(line.as_bytes()); }
//!         while let Some(Ok(line)) = to_client.next_line() { client.handle_line(&line, now); }
//!     }
//! };
//! pump(&mut client, &mut server); // subscribe, authorize
//! server.send_job(&Notify {
//!     job_id: JobId::new("1").unwrap(),
//!     prevhash: PrevHash::from_internal([0; 32]),
//!     coinb1: vec![], coinb2: vec![], merkle_branch: vec![],
//!     version: 0x2000_0000, nbits: 0x1d00ffff, ntime: 1_700_000_000, clean_jobs: true,
//! }, now);
//! pump(&mut client, &mut server);
//! let job = std::iter::from_fn(|| client.poll_event())
//!     .find_map(|e| match e { ClientEvent::NewJob(j) => Some(j), _ => None })
//!     .unwrap();
//! assert_eq!(job.difficulty, ServerConfig::default().initial_difficulty);
//! client.submit(Share {
//!     job_id: job.notify.job_id.clone(),
//!     extranonce2: Extranonce2::from_counter(0, job.extranonce2_size),
//!     ntime: job.notify.ntime, nonce: 42, version: None,
//! }, now).unwrap();
//! pump(&mut client, &mut server);
//! let accepted = std::iter::from_fn(|| client.poll_event())
//!     .any(|e| matches!(e, ClientEvent::ShareResult { outcome: ShareOutcome::Accepted, .. }));
//! assert!(accepted);
//! ```

pub mod client;
pub mod codec;
pub mod envelope;
pub mod error;
pub mod methods;
pub mod redact;
pub mod server;
pub mod wire;

pub use codec::{CodecError, DEFAULT_MAX_LINE, LineCodec};
pub use envelope::{
    ErrorCode, Id, Message, MessageError, Notification, Rejection, Request, Response, RpcError,
};
pub use error::ProtocolError;
pub use methods::{ClientRequest, Method, ParamsError, ServerMessage};
pub use redact::{REDACTED, redact_line};
pub use wire::{
    Difficulty, Extranonce1, Extranonce2, JobId, PrevHash, VersionMask, WireError, u32_from_hex,
    u32_to_hex,
};
