//! Protocol errors shared by both sessions: things a peer sent that could not be used.

use crate::CodecError;
use crate::envelope::{Id, MessageError};
use crate::methods::ParamsError;

/// Something the peer sent that could not be used; never fatal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtocolError {
    /// The codec refused a line.
    #[error("{0}")]
    Codec(#[from] CodecError),
    /// Not a Stratum message.
    #[error("{0}")]
    Message(#[from] MessageError),
    /// Bad params (or result) of a known method.
    #[error("{0}")]
    Params(#[from] ParamsError),
    /// A method this crate does not know.
    #[error("unknown method {0:?}")]
    UnknownMethod(String),
    /// A reply whose id matches no pending request.
    #[error("reply to unknown request id {0:?}")]
    UnexpectedReply(Option<Id>),
    /// A message that is valid but out of place.
    #[error("{0}")]
    Unexpected(&'static str),
}
