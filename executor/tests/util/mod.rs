//! A small fake Mesos agent on 127.0.0.1:0 speaking the executor API as the recordings
//! show it: protobuf calls, `200` + chunked RecordIO for SUBSCRIBE (events pushed by the
//! test), `202` for other calls, `503` "Agent has not finished recovery" on demand, and a
//! stream that ends with the chunk terminator or with a plain TCP close.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::Message;
use proto::executor::{Call, Event, call::Type as CallType};
use proto::v1::{TaskState, TaskStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};

/// Bound of every wait: a failure bound, never an assertion on timing.
pub(crate) const PATIENCE: Duration = Duration::from_secs(90);

/// What the test does to a stream.
enum StreamCmd {
    Event(Box<Event>),
    Terminate,
    Cut,
}

#[derive(Default)]
struct State {
    calls: Vec<(String, Call)>,
    streams: HashMap<String, mpsc::UnboundedSender<StreamCmd>>,
    refuse_subscribe: HashMap<String, u32>,
}

/// The agent and what it received.
#[derive(Clone)]
pub(crate) struct FakeAgent {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
}

impl FakeAgent {
    pub(crate) async fn start() -> FakeAgent {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let agent = FakeAgent {
            endpoint: listener.local_addr().unwrap().to_string(),
            state: Arc::default(),
            changed: Arc::default(),
        };
        let a = agent.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(a.clone().serve(socket));
            }
        });
        agent
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Pushes `event` on `executor`'s current stream.
    pub(crate) fn send(&self, executor: &str, event: Event) {
        let st = self.state();
        let tx = st.streams.get(executor).expect("no stream");
        let _ = tx.send(StreamCmd::Event(Box::new(event)));
    }

    /// ACKNOWLEDGED for `status`.
    pub(crate) fn ack(&self, executor: &str, status: &TaskStatus) {
        let uuid = status.uuid.clone().unwrap_or_default();
        let event = proto::events::executor::acknowledged(status.task_id.clone(), uuid);
        self.send(executor, event);
    }

    /// Ends the stream with `0\r\n\r\n` (TCP stays open), as a master/agent does on teardown.
    pub(crate) fn terminate_stream(&self, executor: &str) {
        if let Some(tx) = self.state().streams.remove(executor) {
            let _ = tx.send(StreamCmd::Terminate);
        }
    }

    /// Closes the stream's TCP connection without a chunk terminator (an agent restart).
    pub(crate) fn cut_stream(&self, executor: &str) {
        if let Some(tx) = self.state().streams.remove(executor) {
            let _ = tx.send(StreamCmd::Cut);
        }
    }

    /// Answers the next `n` SUBSCRIBEs of `executor` with 503.
    pub(crate) fn refuse_subscribes(&self, executor: &str, n: u32) {
        self.state().refuse_subscribe.insert(executor.into(), n);
    }

    /// Waits for the first call at index `from` or later of `executor` that `pred` accepts.
    pub(crate) async fn wait_call(
        &self,
        executor: &str,
        from: usize,
        what: &str,
        pred: impl Fn(&Call) -> bool,
    ) -> (usize, Call) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let notified = self.changed.notified();
            {
                let st = self.state();
                let found = st
                    .calls
                    .iter()
                    .enumerate()
                    .skip(from)
                    .find(|(_, (e, c))| e == executor && pred(c));
                if let Some((i, (_, call))) = found {
                    return (i, call.clone());
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("{executor}: no {what} within {PATIENCE:?}");
            }
        }
    }

    /// Waits for an UPDATE of `task` to `state` and returns its status.
    pub(crate) async fn wait_update(
        &self,
        executor: &str,
        from: usize,
        task: &str,
        state: TaskState,
    ) -> (usize, TaskStatus) {
        let what = format!("UPDATE {task} {state:?}");
        let (i, call) = self
            .wait_call(executor, from, &what, |c| {
                c.update
                    .as_ref()
                    .is_some_and(|u| u.status.task_id.value == task && u.status.state() == state)
            })
            .await;
        (i, call.update.unwrap().status)
    }

    /// Waits for a report (framework MESSAGE) that `pred` accepts.
    pub(crate) async fn wait_report(
        &self,
        executor: &str,
        from: usize,
        what: &str,
        pred: impl Fn(&proto::framework::Report) -> bool,
    ) -> (usize, proto::framework::Report) {
        let parse = |c: &Call| {
            c.message
                .as_ref()
                .and_then(|m| proto::framework::Report::parse(&m.data).ok())
        };
        let (i, call) = self
            .wait_call(executor, from, what, |c| parse(c).is_some_and(|r| pred(&r)))
            .await;
        (i, parse(&call).unwrap())
    }

    /// The calls of `executor` that `pred` accepts, in order.
    pub(crate) fn calls(&self, executor: &str, pred: impl Fn(&Call) -> bool) -> Vec<Call> {
        let st = self.state();
        st.calls
            .iter()
            .filter(|(e, c)| e == executor && pred(c))
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// How many calls of `executor` `pred` accepts.
    pub(crate) fn count(&self, executor: &str, pred: impl Fn(&Call) -> bool) -> usize {
        self.calls(executor, pred).len()
    }

    /// The number of calls so far.
    pub(crate) fn call_count(&self) -> usize {
        self.state().calls.len()
    }

    async fn serve(self, mut socket: TcpStream) {
        let mut buf = Vec::new();
        while let Some(call) = read_request(&mut socket, &mut buf).await {
            let executor = call.executor_id.value.clone();
            let kind = call.r#type();
            self.state().calls.push((executor.clone(), call));
            self.changed.notify_waiters();
            if kind != CallType::Subscribe {
                let ok = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
                if socket.write_all(ok).await.is_err() {
                    return;
                }
                continue;
            }
            let refuse = {
                let mut st = self.state();
                match st.refuse_subscribe.get_mut(&executor) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        true
                    }
                    _ => false,
                }
            };
            if refuse {
                let body = "Agent has not finished recovery";
                let head = format!(
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                continue;
            }
            return self.stream(socket, executor).await;
        }
    }

    async fn stream(self, mut socket: TcpStream, executor: String) {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-protobuf\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.state().streams.insert(executor, tx);
        self.changed.notify_waiters();
        while let Some(cmd) = rx.recv().await {
            let bytes = match cmd {
                StreamCmd::Event(e) => {
                    let record = proto::recordio::encode(&e.encode_to_vec());
                    let mut chunk = format!("{:x}\r\n", record.len()).into_bytes();
                    chunk.extend_from_slice(&record);
                    chunk.extend_from_slice(b"\r\n");
                    chunk
                }
                StreamCmd::Terminate => {
                    let _ = socket.write_all(b"0\r\n\r\n").await;
                    // Keep TCP open, as the recorded master does.
                    tokio::time::sleep(PATIENCE).await;
                    return;
                }
                StreamCmd::Cut => return,
            };
            if socket.write_all(&bytes).await.is_err() {
                return;
            }
        }
    }

    /// Waits until `executor` has an open stream (SUBSCRIBE answered 200).
    pub(crate) async fn wait_stream(&self, executor: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let notified = self.changed.notified();
            if self.state().streams.contains_key(executor) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("{executor} never subscribed");
            }
        }
    }
}

/// Reads one request; checks the content negotiation the agent insists on (spec §1.2).
async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Call> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    assert!(head.starts_with("post /api/v1/executor "), "{head}");
    assert!(
        head.contains("content-type: application/x-protobuf\r\n"),
        "{head}"
    );
    assert!(
        head.contains("accept: application/x-protobuf\r\n"),
        "{head}"
    );
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let mut chunk = [0u8; 4096];
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let call = Call::decode(&buf[head_end..head_end + len]).expect("a Call");
    buf.drain(..head_end + len);
    Some(call)
}
