//! One Stratum connection as JSON lines (spec/stratum.md Part A.1: one JSON-RPC object per
//! `\n`-terminated line), over any byte stream (TCP, TLS).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::io::{Lines, ReadHalf, WriteHalf};

/// How long a test waits for any single expected line before failing.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A connection read and written line by line; every read waits at most `patience`.
pub struct JsonLines<S> {
    lines: Lines<BufReader<ReadHalf<S>>>,
    writer: WriteHalf<S>,
    patience: Duration,
}

impl<S: AsyncRead + AsyncWrite> JsonLines<S> {
    /// Lines over `stream`, waiting [`PATIENCE`] for each.
    pub fn new(stream: S) -> Self {
        Self::with_patience(stream, PATIENCE)
    }

    /// Lines over `stream`, waiting `patience` for each.
    pub fn with_patience(stream: S, patience: Duration) -> Self {
        let (r, writer) = tokio::io::split(stream);
        JsonLines {
            lines: BufReader::new(r).lines(),
            writer,
            patience,
        }
    }

    /// The next line as JSON; `None` when the peer closed the connection (or it broke).
    /// Panics when nothing comes in time or the line is not JSON.
    pub async fn recv(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(self.patience, self.lines.next_line())
            .await
            .expect("the peer said something in time")
            .ok()??;
        Some(serde_json::from_str(&line).expect("the peer sends JSON lines"))
    }

    /// Writes `v` as one line; a closed connection is not an error here (tests read the
    /// outcome on the other side).
    pub async fn send(&mut self, v: &Value) {
        let _ = self.send_raw(format!("{v}\n").as_bytes()).await;
    }

    /// Writes bytes as they are (bad lines, partial lines).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes).await
    }

    /// A JSON-RPC reply to request `id`.
    pub async fn reply(&mut self, id: &Value, result: Value) {
        self.send(&json!({"id": id, "result": result, "error": null}))
            .await;
    }
}
