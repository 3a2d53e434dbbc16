//! The HTTP request handling of the master and agent as plain functions, without sockets,
//! for the fuzz targets in `testkit::fuzz` (issue 11): each request goes through the same
//! `Request` → `Reply` path the axum handlers take (`driver::http`), on a seeded core of one
//! master and one agent. Launches are reported started at once and events are encoded as
//! the driver would write them, so every reply and event path runs. Hidden from the docs:
//! not an interface for users of the crate.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::agent::AgentConfig;
use crate::core::{Core, Out};
use crate::ids::{Ids, Wall};
use crate::master::MasterConfig;
use crate::resources::Res;
use crate::wire::{self, Format, Reply, Request};

/// Which listener a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The master's `/api/v1/scheduler`.
    Master,
    /// The agent's `/api/v1/executor`.
    Agent,
}

/// One request as the HTTP layer extracts it (header values already strings).
#[derive(Clone, Debug, Default)]
pub struct SimRequest {
    /// `POST`, `GET`, ...
    pub method: String,
    /// Path plus `?query`.
    pub path_and_query: String,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Accept`.
    pub accept: Option<String>,
    /// `Mesos-Stream-Id`.
    pub stream_id: Option<String>,
    /// `Authorization`.
    pub authorization: Option<String>,
    /// The whole body.
    pub body: Vec<u8>,
}

/// What the HTTP layer would answer.
#[derive(Clone, Debug, PartialEq)]
pub struct SimReply {
    /// The status code.
    pub code: u16,
    /// The text body (empty for streams).
    pub body: String,
    /// `Mesos-Stream-Id` of a new subscription stream.
    pub mesos_stream_id: Option<String>,
}

/// One master and one agent (2 cpus, 1024 MB, ports 31000-31009) on a seeded core.
pub struct HttpSim {
    core: Core,
    now: Instant,
    agent: String,
    streams: HashMap<u64, Format>,
    framework_id: Option<String>,
    offer_id: Option<String>,
    event_bytes: usize,
}

impl HttpSim {
    /// A fresh cluster; `credentials` (principal, secret) turn on HTTP Basic authentication.
    pub fn new(seed: u64, credentials: Vec<(String, String)>) -> HttpSim {
        let now = Instant::now();
        let wall = Wall::anchored(now, Duration::from_secs(1_700_000_000));
        let master = MasterConfig {
            credentials,
            ..MasterConfig::default()
        };
        let mut core = Core::new(master, wall, Ids::seeded(seed));
        let agent = core.new_agent_id();
        let total = Res::new(2.0, 1024.0, 0.0, &[(31000, 31009)]);
        let cfg = AgentConfig::new(agent.clone(), 5051, total, PathBuf::from("/nonexistent"));
        core.add_agent(cfg, now);
        let mut sim = HttpSim {
            core,
            now,
            agent,
            streams: HashMap::new(),
            framework_id: None,
            offer_id: None,
            event_bytes: 0,
        };
        sim.drain();
        sim
    }

    /// The agent's id.
    pub fn agent_id(&self) -> &str {
        &self.agent
    }

    /// The framework id of the latest SUBSCRIBED event, if any.
    pub fn framework_id(&self) -> Option<&str> {
        self.framework_id.as_deref()
    }

    /// The id of the latest offer sent, if any.
    pub fn offer_id(&self) -> Option<&str> {
        self.offer_id.as_deref()
    }

    /// Bytes of events written to streams so far.
    pub fn event_bytes(&self) -> usize {
        self.event_bytes
    }

    /// Handles one request as the HTTP driver does, then routes and encodes the outputs.
    pub fn request(&mut self, to: Endpoint, req: SimRequest) -> SimReply {
        let req = Request {
            method: req.method,
            path_and_query: req.path_and_query,
            content_type: req.content_type,
            accept: req.accept,
            stream_id: req.stream_id,
            authorization: req.authorization,
            body: req.body.into(),
        };
        let reply = match to {
            Endpoint::Master => self.core.scheduler_request(0, &req, self.now),
            Endpoint::Agent => self.core.executor_request(&self.agent, &req, self.now),
        };
        let reply = match reply {
            Reply::Plain { code, body, .. } => SimReply {
                code,
                body,
                mesos_stream_id: None,
            },
            Reply::Stream {
                id,
                format,
                mesos_stream_id,
            } => {
                self.streams.insert(id, format);
                SimReply {
                    code: 200,
                    body: String::new(),
                    mesos_stream_id,
                }
            }
        };
        self.drain();
        reply
    }

    /// Time passes: every due timer fires.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.core.handle_timeout(self.now);
        self.drain();
    }

    /// Every client of an open stream goes away.
    pub fn close_streams(&mut self) {
        let mut open: Vec<u64> = self.streams.drain().map(|(id, _)| id).collect();
        open.sort_unstable();
        for id in open {
            self.core.stream_closed(id, self.now);
        }
        self.drain();
    }

    /// Executes the outputs as the driver would, without processes: a launch is reported
    /// started, events are encoded in their stream's format, ended streams are forgotten.
    fn drain(&mut self) {
        // Bounded like `Core::pump`: a launch reported started may produce more outputs.
        for _ in 0..64 {
            let outs = self.core.take_outputs();
            if outs.is_empty() {
                return;
            }
            for out in outs {
                self.execute(out);
            }
        }
    }

    fn execute(&mut self, out: Out) {
        match out {
            Out::SchedEvent { stream, event } => {
                if let Some(s) = &event.subscribed {
                    self.framework_id = Some(s.framework_id.value.clone());
                }
                if let Some(o) = event.offers.as_ref().and_then(|o| o.offers.last()) {
                    self.offer_id = Some(o.id.value.clone());
                }
                if let Some(format) = self.streams.get(&stream) {
                    self.event_bytes += wire::record(*format, &event).len();
                }
            }
            Out::ExecEvent { conn, event } => {
                if let Some(format) = self.streams.get(&conn) {
                    self.event_bytes += wire::record(*format, &event).len();
                }
            }
            Out::Close { stream } | Out::Abort { stream } => {
                self.streams.remove(&stream);
            }
            Out::Launch { container, .. } => self.core.process_started(&container, self.now),
            Out::Signal { container, .. } => self.core.process_exited(&container, 9, self.now),
        }
    }
}
