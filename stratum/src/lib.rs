//! Stratum v1 for the miner and the pool: messages, a bounded line codec, and client and
//! server sessions as sans-IO state machines.
//!
//! This crate owns the wire protocol (spec: `shared/spec/stratum.md`): the JSON-RPC envelope
//! ([`envelope`]), one type per method ([`methods`]), the wire newtypes and byte-order rules
//! ([`wire`]), and newline framing with a maximum line length ([`codec`]). It does no I/O,
//! reads no clock (time is passed in as `now`) and does no hashing: the proof-of-work check is
//! the pool's, and header assembly is `miner-core`'s.
//!
//! Typical use by a driver: feed received bytes to a [`codec::LineCodec`], hand each line to a
//! session's `handle_line`, then write every `poll_transmit` line and act on every
//! `poll_event`.

pub mod client;
pub mod codec;
pub mod envelope;
pub mod error;
pub mod methods;
pub mod server;
pub mod wire;

pub use codec::{CodecError, DEFAULT_MAX_LINE, LineCodec};
pub use envelope::{
    ErrorCode, Id, Message, MessageError, Notification, Rejection, Request, Response, RpcError,
};
pub use error::ProtocolError;
pub use methods::{ClientRequest, Method, ParamsError, ServerMessage};
pub use wire::{
    Difficulty, Extranonce1, Extranonce2, JobId, PrevHash, VersionMask, WireError, u32_from_hex,
    u32_to_hex,
};
