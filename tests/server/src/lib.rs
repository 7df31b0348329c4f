//! `mcp-test-server`: a real MCP server on 127.0.0.1 for mcp-client's tests,
//! benchmarks and demo.
//!
//! It speaks Streamable HTTP (protocol versions 2025-03-26, 2025-06-18 and
//! 2025-11-25) at `/mcp`, the legacy HTTP+SSE transport (2024-11-05) at
//! `/sse` + `/messages`, deliberately broken variants at `/faulty/{mode}`,
//! and newline-delimited JSON-RPC over stdio ([`serve_stdio`]).
//!
//! With [`ServerOptions::auth`] set, `/mcp` becomes an OAuth 2.1 protected
//! resource (RFC 9728 metadata, 401/403 challenges, optional DPoP) and the
//! same origin serves a real authorization server (RFC 8414 / OpenID
//! discovery, PKCE, dynamic registration, refresh rotation, revocation,
//! RFC 7662 introspection for resource servers elsewhere, device flow); see
//! [`AuthOptions`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = mcp_test_server::start(Default::default()).await?;
//! println!("MCP endpoint: {}", server.url());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod debug;
mod faults;
mod hostile;
mod http;
mod legacy;
mod mcp;
mod oauth;
mod record;
mod reply;
mod rpc;
mod session;
mod sse;
mod stdio;
mod sync;
mod task_store;
mod tasks;

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

pub use oauth::{
    AuthOptions, AuthStats, DpopOptions, IssMode, Login, MetadataStyle, PreRegistered, Quirks,
};
pub use record::RecordedRequest;
pub use stdio::serve_stdio;

use session::{Hub, Session};
use sync::lock;

/// How the server answers JSON-RPC requests at `/mcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    /// A single `application/json` body (tools that stream still use SSE).
    #[default]
    Json,
    /// A `text/event-stream` body for every request.
    Sse,
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// JSON or SSE replies at `/mcp` (default JSON).
    pub reply: ReplyMode,
    /// Mint an `Mcp-Session-Id` on `initialize` and require it afterwards
    /// (400 if missing, 404 if unknown). Default true.
    pub sessions: bool,
    /// Port on 127.0.0.1; 0 (the default) picks a free one.
    pub port: u16,
    /// Give SSE events ids (`<stream>-<seq>`) and keep them for resumption. Default true.
    pub sse_event_ids: bool,
    /// Send `retry: <ms>` at the start of every SSE response. Default none.
    pub sse_retry_ms: Option<u64>,
    /// Start every SSE stream with a priming event (an id and empty data). Default false.
    pub sse_priming: bool,
    /// For resumption tests: a POST's SSE reply (except `initialize`'s) is a
    /// priming event (with `retry` if set), then the connection closes; the
    /// rest of the stream is replayed to a `GET` with `Last-Event-ID`.
    /// Needs `sse_event_ids`. Default false.
    pub drop_sse_after_first_event: bool,
    /// Keep a log of requests for [`TestServer::requests`]. Default true;
    /// benchmarks turn it off.
    pub record: bool,
    /// Protect `/mcp` with OAuth and serve an authorization server on the
    /// same origin. Default None: unprotected.
    pub auth: Option<AuthOptions>,
    /// Support tasks (protocol 2025-11-25): advertise the `tasks` capability, list the task
    /// tools (`report`, `convert`, `quick`, `confirm`, `crash`, after the others) and serve
    /// task-augmented `tools/call` and `tasks/*`. Default false.
    pub tasks: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            reply: ReplyMode::Json,
            sessions: true,
            port: 0,
            sse_event_ids: true,
            sse_retry_ms: None,
            sse_priming: false,
            drop_sse_after_first_event: false,
            record: true,
            auth: None,
            tasks: false,
        }
    }
}

/// State shared by every handler of one server.
pub(crate) struct Shared {
    pub(crate) opts: ServerOptions,
    pub(crate) hub: Hub,
    pub(crate) recorder: record::Recorder,
    /// Streamable HTTP sessions by id.
    pub(crate) sessions: RwLock<HashMap<Arc<str>, Arc<Session>>>,
    /// The session every request shares when sessions are off.
    pub(crate) default_session: Arc<Session>,
    /// Legacy HTTP+SSE sessions by id.
    pub(crate) legacy: Mutex<HashMap<Arc<str>, Arc<Session>>>,
    /// The authorization server, when auth is on.
    pub(crate) auth: Option<oauth::AuthServer>,
    /// Every request but `/debug/*`, counted by `METHOD /path` (see `debug.rs`).
    pub(crate) request_counts: Mutex<BTreeMap<String, u64>>,
}

impl Shared {
    fn new(opts: ServerOptions, addr: SocketAddr) -> std::io::Result<Self> {
        let mut hub = Hub::new();
        hub.admin_tool = opts.auth.is_some();
        hub.tasks = opts.tasks;
        let auth = match &opts.auth {
            Some(a) => Some(oauth::AuthServer::new(a.clone(), addr)?),
            None => None,
        };
        let default_session = Arc::new(Session::http(None, opts.sse_event_ids, &hub));
        Ok(Self {
            recorder: record::Recorder::new(opts.record),
            opts,
            hub,
            sessions: RwLock::new(HashMap::new()),
            default_session,
            legacy: Mutex::new(HashMap::new()),
            auth,
            request_counts: Mutex::new(BTreeMap::new()),
        })
    }

    /// Ends every Streamable HTTP session.
    fn expire_sessions(&self) {
        let sessions =
            std::mem::take(&mut *self.sessions.write().unwrap_or_else(|e| e.into_inner()));
        for s in sessions.values() {
            s.close();
        }
    }

    /// Ends everything: sessions, legacy streams, in-flight work.
    fn close_all(&self) {
        self.hub.token.cancel();
        self.expire_sessions();
        self.default_session.close();
        let legacy = std::mem::take(&mut *lock(&self.legacy));
        for s in legacy.values() {
            s.close();
        }
    }
}

/// A running server; dropping it stops it too (without waiting).
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

/// Starts a server on 127.0.0.1 (must be called within a Tokio runtime).
pub async fn start(opts: ServerOptions) -> std::io::Result<TestServer> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(opts, addr)?);
    let app = router(shared.clone());
    let task = tokio::spawn(accept_loop(listener, app, shared.hub.token.clone()));
    Ok(TestServer {
        addr,
        shared,
        task: Some(task),
    })
}

/// Every route (the authorization server's only when auth is on).
fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new()
        .merge(http::routes())
        .merge(legacy::routes())
        .merge(faults::routes())
        .merge(hostile::routes())
        .merge(debug::routes());
    if let Some(auth) = &shared.auth {
        router = router.merge(oauth::routes(auth));
    }
    router
        .fallback(http::not_found)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            debug::count_request,
        ))
        .with_state(shared)
}

/// Serves HTTP/1.1 connections until `token` is cancelled, then drops them all.
async fn accept_loop(listener: TcpListener, app: Router, token: CancellationToken) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = token.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let svc = TowerToHyperService::new(app.clone());
                    conns.spawn(async move {
                        let conn = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc);
                        let _ = conn.await;
                    });
                }
                // Out of file descriptors and the like: back off briefly.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    conns.shutdown().await;
}

impl TestServer {
    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// The Streamable HTTP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("{}/mcp", self.base_url())
    }

    /// The legacy HTTP+SSE endpoint, `http://127.0.0.1:PORT/sse`.
    pub fn legacy_url(&self) -> String {
        format!("{}/sse", self.base_url())
    }

    /// A misbehaving endpoint, `http://127.0.0.1:PORT/faulty/{mode}`.
    ///
    /// `initialize` gets a normal JSON reply with an `Mcp-Session-Id` and
    /// notifications get 202; every other request misbehaves per `mode`:
    /// `malformed-sse` (200 `text/event-stream` with two `data: {not json`
    /// events, then the stream ends), `wrong-content-type` (200 `text/html`),
    /// `not-json` (200 `application/json` body `hello`), `oversized` (200, a
    /// valid response carrying 8 MiB of text), `close-mid-stream` (SSE: one
    /// `notifications/progress` without an event id, then the connection is
    /// aborted), `never` (no reply; the connection is held open),
    /// `unknown-id` (a response with id 987654321), `status-500` (500
    /// `text/plain`), `empty-200` (200 `application/json`, empty body).
    /// `GET` gets 405, `DELETE` 200, an unknown mode 404.
    pub fn faulty_url(&self, mode: &str) -> String {
        format!("{}/faulty/{mode}", self.base_url())
    }

    /// The options the server runs with.
    pub fn options(&self) -> &ServerOptions {
        &self.shared.opts
    }

    /// Every request received so far (empty when recording is off).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorder.snapshot()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.recorder.clear();
    }

    /// Ends every Streamable HTTP session, so the next request using one gets 404.
    pub fn expire_sessions(&self) {
        self.shared.expire_sessions();
    }

    /// The request ids seen in `notifications/cancelled`, in arrival order.
    pub fn cancelled(&self) -> Vec<serde_json::Value> {
        lock(&self.shared.hub.cancelled).clone()
    }

    /// The authorization server's issuer, `http://127.0.0.1:PORT` plus the
    /// issuer path (just the base URL when auth is off).
    pub fn issuer(&self) -> String {
        match &self.shared.auth {
            Some(auth) => auth.issuer.clone(),
            None => self.base_url(),
        }
    }

    /// The protected resource metadata URL named in 401 challenges,
    /// `http://127.0.0.1:PORT/.well-known/oauth-protected-resource/mcp`.
    pub fn resource_metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            self.base_url()
        )
    }

    /// Revokes every grant and token issued so far (auth on; else a no-op).
    pub fn revoke_all_tokens(&self) {
        if let Some(auth) = &self.shared.auth {
            let mut store = auth.store();
            let ids: Vec<u64> = store.grants.keys().copied().collect();
            for id in ids {
                store.revoke_grant(id);
            }
        }
    }

    /// From now on the protected resource metadata names `issuer` as the authorization
    /// server (the server moved to another one, or was taken over). Auth on; else a no-op.
    pub fn name_authorization_server(&self, issuer: &str) {
        if let Some(auth) = &self.shared.auth {
            *lock(&auth.named_issuer) = Some(issuer.to_owned());
        }
    }

    /// Gives the known client `client_id` a new secret (the old one stops working). Auth
    /// on; else a no-op.
    pub fn rotate_client_secret(&self, client_id: &str, secret: &str) {
        if let Some(auth) = &self.shared.auth {
            if let Some(c) = auth.store().clients.get_mut(client_id) {
                c.secret = Some(secret.to_owned());
            }
        }
    }

    /// Makes every access token issued so far expired (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        if let Some(auth) = &self.shared.auth {
            let now = std::time::Instant::now();
            for t in auth.store().access.values_mut() {
                t.expires = now;
            }
        }
    }

    /// Approves every pending device authorization (as if the user had
    /// visited each `verification_uri_complete`).
    pub fn approve_all_devices(&self) {
        if let Some(auth) = &self.shared.auth {
            for d in auth.store().devices.values_mut() {
                d.approved = true;
            }
        }
    }

    /// The authorization server's counters (all zero when auth is off).
    pub fn auth_stats(&self) -> AuthStats {
        self.shared
            .auth
            .as_ref()
            .map(oauth::AuthServer::stats)
            .unwrap_or_default()
    }

    /// Stops the server: closes the listener and every connection and ends
    /// all in-flight work.
    pub async fn shutdown(mut self) {
        self.shared.close_all();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.close_all();
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .field("options", &self.shared.opts)
            .finish()
    }
}
