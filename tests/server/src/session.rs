//! Per-client protocol state shared by every transport: log level, pending
//! server-to-client requests, in-flight cancellable calls, the channel for
//! server-initiated messages and (for Streamable HTTP) the SSE streams.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::sse::{Attached, SseStream};
use crate::sync::lock;

/// How many streams a session keeps for resumption before forgetting the
/// oldest finished ones.
const MAX_STREAMS: usize = 512;
/// How many server-initiated messages wait for a `GET` stream to be opened.
const MAX_BACKLOG: usize = 64;

/// State shared by every session of one server.
pub(crate) struct Hub {
    /// Request ids seen in `notifications/cancelled`, in arrival order.
    pub(crate) cancelled: Mutex<Vec<Value>>,
    /// Cancelled when the server shuts down; every session token is a child.
    pub(crate) token: CancellationToken,
    /// List and serve the `admin` tool (auth is on).
    pub(crate) admin_tool: bool,
    /// Tasks are on ([`crate::ServerOptions::tasks`]).
    pub(crate) tasks: bool,
}

impl Hub {
    pub(crate) fn new() -> Self {
        Self {
            cancelled: Mutex::new(Vec::new()),
            token: CancellationToken::new(),
            admin_tool: false,
            tasks: false,
        }
    }
}

/// Where the messages related to one client request go (progress, logging,
/// server-to-client requests).
#[derive(Clone)]
pub(crate) enum Outbox {
    /// Nowhere: a plain JSON reply cannot carry them.
    None,
    /// The request's SSE stream.
    Stream(Arc<SseStream>),
    /// A message channel (stdio, legacy HTTP+SSE).
    Channel(mpsc::UnboundedSender<Value>),
}

impl Outbox {
    /// Sends one message; returns false if it had nowhere to go.
    pub(crate) fn send(&self, msg: Value) -> bool {
        match self {
            Outbox::None => false,
            Outbox::Stream(s) => {
                s.push(&msg);
                true
            }
            Outbox::Channel(tx) => tx.send(msg).is_ok(),
        }
    }
}

/// Where server-initiated messages (unrelated to a request) go.
enum Standalone {
    /// Streamable HTTP: the `GET` stream once opened; before that, a small backlog.
    Http {
        stream: Option<Arc<SseStream>>,
        backlog: VecDeque<Value>,
    },
    /// stdio and legacy HTTP+SSE: the one outgoing channel (None once closed).
    Channel(Option<mpsc::UnboundedSender<Value>>),
}

/// One client's session.
pub(crate) struct Session {
    /// The `Mcp-Session-Id` (or legacy `sessionId`), if sessions are on.
    pub(crate) id: Option<Arc<str>>,
    /// Whether SSE events carry ids.
    event_ids: bool,
    /// Minimum logging level index (see [`crate::mcp::LEVELS`]).
    level: AtomicU8,
    next_request_id: AtomicU64,
    next_stream_id: AtomicU64,
    /// Server-to-client requests awaiting the client's response, by id.
    pending: Mutex<HashMap<String, oneshot::Sender<Value>>>,
    /// Cancellable in-flight client requests, by id.
    inflight: Mutex<HashMap<String, CancellationToken>>,
    standalone: Mutex<Standalone>,
    streams: Mutex<BTreeMap<u64, Arc<SseStream>>>,
    /// Cancelled when the session ends.
    pub(crate) token: CancellationToken,
    /// The session's tasks.
    pub(crate) tasks: crate::task_store::Store,
}

impl Session {
    fn with(id: Option<Arc<str>>, event_ids: bool, standalone: Standalone, parent: &Hub) -> Self {
        Self {
            id,
            event_ids,
            level: AtomicU8::new(0),
            next_request_id: AtomicU64::new(1),
            next_stream_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
            standalone: Mutex::new(standalone),
            streams: Mutex::new(BTreeMap::new()),
            token: parent.token.child_token(),
            tasks: crate::task_store::Store::default(),
        }
    }

    /// A Streamable HTTP session.
    pub(crate) fn http(id: Option<Arc<str>>, event_ids: bool, hub: &Hub) -> Self {
        let standalone = Standalone::Http {
            stream: None,
            backlog: VecDeque::new(),
        };
        Self::with(id, event_ids, standalone, hub)
    }

    /// A session whose every outgoing message goes to one channel.
    pub(crate) fn channel(
        id: Option<Arc<str>>,
        tx: mpsc::UnboundedSender<Value>,
        hub: &Hub,
    ) -> Self {
        Self::with(id, false, Standalone::Channel(Some(tx)), hub)
    }

    /// The outgoing channel of a channel session.
    pub(crate) fn outbox_channel(&self) -> Outbox {
        match &*lock(&self.standalone) {
            Standalone::Channel(Some(tx)) => Outbox::Channel(tx.clone()),
            _ => Outbox::None,
        }
    }

    /// The current minimum logging level index.
    pub(crate) fn level(&self) -> u8 {
        self.level.load(Ordering::Relaxed)
    }

    /// Sets the minimum logging level index.
    pub(crate) fn set_level(&self, level: u8) {
        self.level.store(level, Ordering::Relaxed);
    }

    /// Sends a server-initiated message on the standalone channel: the `GET`
    /// stream (kept for a later `GET` if none is open yet) or the channel.
    pub(crate) fn send_standalone(&self, msg: Value) {
        match &mut *lock(&self.standalone) {
            Standalone::Http { stream, backlog } => match stream {
                Some(s) if !s.is_finished() => s.push(&msg),
                _ => {
                    if backlog.len() >= MAX_BACKLOG {
                        backlog.pop_front();
                    }
                    backlog.push_back(msg);
                }
            },
            Standalone::Channel(Some(tx)) => {
                let _ = tx.send(msg);
            }
            Standalone::Channel(None) => {}
        }
    }

    /// Opens a new SSE stream in this session.
    pub(crate) fn new_stream(&self) -> Arc<SseStream> {
        let id = self.next_stream_id.fetch_add(1, Ordering::Relaxed);
        let stream = Arc::new(SseStream::new(id, self.event_ids));
        if self.event_ids {
            let mut streams = lock(&self.streams);
            if streams.len() >= MAX_STREAMS {
                let old: Vec<u64> = streams
                    .iter()
                    .filter(|(_, s)| s.is_finished())
                    .map(|(k, _)| *k)
                    .take(MAX_STREAMS / 4)
                    .collect();
                for k in old {
                    streams.remove(&k);
                }
            }
            streams.insert(id, stream.clone());
        }
        stream
    }

    /// A stream of this session, by number.
    pub(crate) fn stream(&self, id: u64) -> Option<Arc<SseStream>> {
        lock(&self.streams).get(&id).cloned()
    }

    /// Opens the standalone (`GET`) stream, replacing (and ending) any
    /// previous one, and moves the backlog into it.
    pub(crate) fn open_standalone(&self, priming: bool) -> Attached {
        let stream = self.new_stream();
        if priming {
            stream.push_data(b"");
        }
        let attached = stream.attach(0);
        let mut standalone = lock(&self.standalone);
        if let Standalone::Http {
            stream: current,
            backlog,
        } = &mut *standalone
        {
            if let Some(old) = current.replace(stream.clone()) {
                old.finish();
            }
            for msg in backlog.drain(..) {
                stream.push(&msg);
            }
        }
        attached
    }

    /// A fresh id for a server-to-client request.
    pub(crate) fn next_request_id(&self) -> u64 {
        self.next_request_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a server-to-client request awaiting its response.
    pub(crate) fn expect_response(&self, id: &Value) -> oneshot::Receiver<Value> {
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id.to_string(), tx);
        rx
    }

    /// Forgets a server-to-client request (cancelled or timed out).
    pub(crate) fn forget_response(&self, id: &Value) {
        lock(&self.pending).remove(&id.to_string());
    }

    /// Delivers a client's JSON-RPC response; false if nothing awaited it.
    pub(crate) fn deliver_response(&self, msg: &Value) -> bool {
        let Some(id) = msg.get("id") else {
            return false;
        };
        let waiter = lock(&self.pending).remove(&id.to_string());
        match waiter {
            Some(tx) => tx.send(msg.clone()).is_ok(),
            None => false,
        }
    }

    /// Registers a cancellable in-flight request; the guard unregisters it.
    pub(crate) fn track(self: &Arc<Self>, id: &Value) -> Inflight {
        let key = id.to_string();
        let token = self.token.child_token();
        lock(&self.inflight).insert(key.clone(), token.clone());
        Inflight {
            session: self.clone(),
            key,
            token,
        }
    }

    /// Cancels an in-flight request (from `notifications/cancelled`).
    pub(crate) fn cancel(&self, id: &Value) {
        if let Some(token) = lock(&self.inflight).remove(&id.to_string()) {
            token.cancel();
        }
    }

    /// Ends the session: cancels its work, fails pending server requests and
    /// ends every stream and channel.
    pub(crate) fn close(&self) {
        self.token.cancel();
        self.tasks.close();
        lock(&self.pending).clear();
        lock(&self.inflight).clear();
        match &mut *lock(&self.standalone) {
            Standalone::Http { stream, backlog } => {
                if let Some(s) = stream.take() {
                    s.finish();
                }
                backlog.clear();
            }
            Standalone::Channel(tx) => *tx = None,
        }
        let streams = std::mem::take(&mut *lock(&self.streams));
        for s in streams.values() {
            s.finish();
        }
    }
}

/// A cancellable in-flight request; unregistered on drop.
pub(crate) struct Inflight {
    session: Arc<Session>,
    key: String,
    /// Cancelled by `notifications/cancelled`, session end or shutdown.
    pub(crate) token: CancellationToken,
}

impl Drop for Inflight {
    fn drop(&mut self) {
        lock(&self.session.inflight).remove(&self.key);
    }
}

/// Makes hard-to-guess ids from the process's random hash keys, a counter and the clock.
pub(crate) fn random_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut out = String::with_capacity(32);
    for salt in 0..2u64 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u128(nanos);
        h.write_u64(salt);
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// What a request handler can reach.
pub(crate) struct Ctx<'a> {
    /// The client's session.
    pub(crate) session: &'a Arc<Session>,
    /// Server-wide state.
    pub(crate) hub: &'a Hub,
    /// Where request-related messages go.
    pub(crate) out: &'a Outbox,
    /// Protocol versions this transport speaks, newest first.
    pub(crate) versions: &'static [&'static str],
}
