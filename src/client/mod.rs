//! The client: the protocol handshake, requests with timeouts and cancellation, server
//! notifications and requests, and the MCP methods. `stateless.rs` is its 2026-07-28 request
//! path (per-request `_meta`, MCP headers, multi round-trip requests); `tasks.rs` tasks
//! (task-augmented tool calls and the `tasks/*` methods); `typed.rs` the typed twins of its
//! JSON methods.

mod stateless;
mod tasks;
mod typed;

pub use stateless::encode_header_value;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthLayer;
use crate::config::{AuthMode, ClientConfig, ServerTarget};
use crate::deadline::{Deadlines, Expired};
use crate::error::{Error, ErrorKind, Result, RpcError};
use crate::handler::{apply_elicitation_defaults, Handlers};
use crate::jsonrpc;
use crate::oauth::OAuthEngine;
use crate::protocol::{self, LATEST_STATEFUL, V2024_11_05};
use crate::transport::http::{HttpShared, HttpTransport};
use crate::transport::legacy::LegacyTransport;
use crate::transport::stdio::StdioTransport;
use crate::transport::{Inbound, Outgoing};
use crate::types::ProgressToken;
use stateless::ToolHeaders;
use tasks::TaskSupportCache;

/// Per-request options.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// Overrides the client's default timeout.
    pub timeout: Option<Duration>,
    /// Cancels the request when fired (the server is told with `notifications/cancelled`,
    /// or, on the stateless revision, by closing the request's stream).
    pub cancel: Option<CancellationToken>,
    /// Asks the server for progress: sent as the request's `_meta.progressToken` (kept with
    /// any `_meta` the params carry). The server's `notifications/progress` carrying it reach
    /// the notification handler; for a tool run as a task they keep coming until the task ends.
    pub progress_token: Option<ProgressToken>,
}

impl RequestOptions {
    /// Options with a timeout.
    pub fn timeout(t: Duration) -> Self {
        RequestOptions {
            timeout: Some(t),
            ..Default::default()
        }
    }

    /// These options with a progress token (see [`RequestOptions::progress_token`]).
    pub fn with_progress_token(mut self, token: impl Into<ProgressToken>) -> Self {
        self.progress_token = Some(token.into());
        self
    }

    /// Run `fut` (work that is not one request: connecting, signing in, logging out) within
    /// these options: [`Error::Timeout`] when the timeout runs out first, [`Error::Cancelled`]
    /// when the token fires first (the work is dropped). `what` names it in those errors.
    pub async fn bound<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let timed = async {
            match self.timeout {
                Some(after) => {
                    tokio::time::timeout(after, fut)
                        .await
                        .map_err(|_| Error::Timeout {
                            method: what.to_owned(),
                            after,
                        })?
                }
                None => fut.await,
            }
        };
        match &self.cancel {
            Some(token) => tokio::select! {
                biased;
                () = token.cancelled() => Err(Error::Cancelled { method: what.to_owned() }),
                r = timed => r,
            },
            None => timed.await,
        }
    }
}

enum Conn {
    Http(HttpTransport),
    Legacy(LegacyTransport),
    Stdio(Box<StdioTransport>),
}

/// What the handshake settled.
struct Negotiated {
    version: String,
    /// The `initialize` (or `server/discover`) result.
    server: Value,
}

struct Inner {
    config: ClientConfig,
    capabilities: Value,
    conn: Conn,
    next_id: AtomicU64,
    negotiated: RwLock<Arc<Negotiated>>,
    /// Whether the negotiated version is stateless (read on every request, so kept apart).
    stateless: AtomicBool,
    /// Serialises re-initialisation after a lost session; holds the session generation.
    reinit: tokio::sync::Mutex<u64>,
    generation: AtomicU64,
    tool_headers: RwLock<Option<Arc<HashMap<String, ToolHeaders>>>>,
    /// Whether the server accepts task-augmented `tools/call` (from the handshake).
    tool_tasks: AtomicBool,
    /// Whether the server supports `tasks/cancel` (from the handshake).
    task_cancel: AtomicBool,
    /// The tools' `execution.taskSupport` (shared with the inbound dispatcher, which empties
    /// it on `notifications/tools/list_changed`).
    task_support: TaskSupportCache,
    /// Stops everything in the background when the client closes.
    stop: CancellationToken,
    /// The runtime the client was connected on, where work that outlives a call runs (even
    /// when calls run on a thread's own runtime: see [`crate::runtime`]).
    home: tokio::runtime::Handle,
    /// Request timeouts.
    deadlines: Arc<Deadlines>,
    /// The OAuth engine, in OAuth mode.
    oauth: Option<Arc<OAuthEngine>>,
    /// Whether an auth provider may suspend request deadlines while it authorizes.
    auth_suspends: bool,
    /// Stops the current session's GET stream (a child of `stop`).
    get_stream_stop: std::sync::Mutex<CancellationToken>,
    closed: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Conn::Legacy(l) = &self.conn {
            l.close();
        }
    }
}

/// How many times one request is sent again on a new session after the server forgot the
/// one it was sent on.
const MAX_SESSION_RESENDS: u32 = 3;

/// An MCP client connected to one server. Cheap to clone; every clone is the same
/// connection. Safe to use from many tasks at once: requests are multiplexed.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.inner.config.target)
            .field("protocol_version", &self.protocol_version())
            .finish()
    }
}

impl Client {
    /// A builder for an HTTP server.
    pub fn builder(url: &str) -> Result<crate::ClientBuilder> {
        crate::ClientBuilder::http(url)
    }

    /// [`Client::connect`] within `opts`: its timeout bounds the whole connect (a sign-in the
    /// server asks for included), its token cancels it.
    pub async fn connect_with(config: ClientConfig, opts: &RequestOptions) -> Result<Client> {
        opts.bound("connect", Client::connect(config)).await
    }

    /// Connect with `config`: start the transport and complete the handshake.
    pub async fn connect(config: ClientConfig) -> Result<Client> {
        let capabilities = config.effective_capabilities();
        let (tx, rx) = mpsc::unbounded_channel();
        let task_support = TaskSupportCache::default();
        tokio::spawn(dispatch_inbound(
            rx,
            config.handlers.clone(),
            capabilities.clone(),
            task_support.clone(),
        ));
        let stop = CancellationToken::new();
        let target = config.target.clone();
        match &target {
            ServerTarget::Stdio(cmd) => {
                let t = StdioTransport::spawn(cmd, config.max_body_bytes, tx)?;
                let conn = Conn::Stdio(Box::new(t));
                let client =
                    Client::from_conn(config, capabilities, conn, stop, None, task_support);
                if let Err(e) = client.initialize().await {
                    let _ = client.close().await;
                    return Err(e);
                }
                Ok(client)
            }
            ServerTarget::Http(url) => {
                let http = config.http_settings().mcp_client()?;
                let options = config.http_options();
                let mut oauth = None;
                let auth = match &config.auth {
                    AuthMode::None => AuthLayer::None,
                    AuthMode::Bearer(t) => AuthLayer::bearer(t)?,
                    AuthMode::Provider(p) => AuthLayer::Provider(p.clone()),
                    AuthMode::OAuthEngine(p) => {
                        if crate::oauth::stored::key_for(p.server())
                            != crate::oauth::stored::key_for(url)
                        {
                            return Err(Error::InvalidArgument(format!(
                                "the OAuth engine is for {}, not for {}",
                                crate::redact::redact_url(p.server()),
                                crate::redact::redact_url(url)
                            )));
                        }
                        oauth = Some(p.clone());
                        AuthLayer::Provider(p.clone())
                    }
                    AuthMode::OAuth(c) => {
                        let mut cfg = (**c).clone();
                        if cfg.on_event.is_none() {
                            cfg.on_event = config.auth_events.clone();
                        }
                        let p =
                            Arc::new(OAuthEngine::for_server(cfg, url, &config.http_settings())?);
                        oauth = Some(p.clone());
                        AuthLayer::Provider(p)
                    }
                };
                let shared = HttpShared::new(http.clone(), url.clone(), &options, auth.clone())?;
                let transport = HttpTransport::new(shared, tx.clone());
                let client = Client::from_conn(
                    config,
                    capabilities,
                    Conn::Http(transport),
                    stop,
                    oauth.clone(),
                    task_support,
                );
                match client.handshake_http().await {
                    Ok(()) => {
                        client.start_get_stream().await;
                        Ok(client)
                    }
                    Err(e) if client.inner.config.legacy_fallback && refused_by_http(&e) => {
                        tracing::info!(error = %e, "Streamable HTTP refused; trying HTTP+SSE");
                        let Client { inner } = client;
                        let inner = Arc::try_unwrap(inner)
                            .map_err(|_| Error::Internal("client shared during connect".into()))?;
                        let config = inner.config.clone();
                        let capabilities = inner.capabilities.clone();
                        let task_support = inner.task_support.clone();
                        drop(inner);
                        let url = url.clone();
                        let get =
                            HttpShared::new(http.clone(), url.clone(), &options, auth.clone())?;
                        let legacy = LegacyTransport::connect(
                            get,
                            |endpoint| HttpShared::new(http, endpoint, &options, auth),
                            tx,
                        )
                        .await
                        .map_err(|le| {
                            tracing::debug!(error = %le, "HTTP+SSE fallback failed");
                            e
                        })?;
                        let client = Client::from_conn(
                            config,
                            capabilities,
                            Conn::Legacy(legacy),
                            CancellationToken::new(),
                            oauth,
                            task_support,
                        );
                        client.initialize().await?;
                        Ok(client)
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    fn from_conn(
        config: ClientConfig,
        capabilities: Value,
        conn: Conn,
        stop: CancellationToken,
        oauth: Option<Arc<OAuthEngine>>,
        task_support: TaskSupportCache,
    ) -> Client {
        let auth_suspends = matches!(
            config.auth,
            AuthMode::Provider(_) | AuthMode::OAuth(_) | AuthMode::OAuthEngine(_)
        );
        Client {
            inner: Arc::new(Inner {
                config,
                capabilities,
                conn,
                next_id: AtomicU64::new(1),
                negotiated: RwLock::new(Arc::new(Negotiated {
                    version: String::new(),
                    server: Value::Null,
                })),
                stateless: AtomicBool::new(false),
                reinit: tokio::sync::Mutex::new(0),
                generation: AtomicU64::new(0),
                tool_headers: RwLock::new(None),
                tool_tasks: AtomicBool::new(false),
                task_cancel: AtomicBool::new(false),
                task_support,
                get_stream_stop: std::sync::Mutex::new(stop.child_token()),
                deadlines: Deadlines::start(stop.clone()),
                stop,
                home: tokio::runtime::Handle::current(),
                auth_suspends,
                oauth,
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// The OAuth engine, when the client authorizes with OAuth: its status, logout, and the
    /// two-step authorization for hosts with their own redirect handling.
    pub fn oauth(&self) -> Option<&Arc<OAuthEngine>> {
        self.inner.oauth.as_ref()
    }

    /// The negotiated protocol version.
    pub fn protocol_version(&self) -> String {
        self.negotiated().version.clone()
    }

    /// The server's `initialize` (or `server/discover`) result: `serverInfo`, `capabilities`,
    /// `instructions`.
    pub fn server_info(&self) -> Value {
        self.negotiated().server.clone()
    }

    /// The session id the server assigned (Streamable HTTP, stateful versions).
    pub fn session_id(&self) -> Option<String> {
        match &self.inner.conn {
            Conn::Http(h) => h.session_id(),
            _ => None,
        }
    }

    /// The transport in use: `"streamable-http"`, `"http+sse"` or `"stdio"`.
    pub fn transport_name(&self) -> &'static str {
        match &self.inner.conn {
            Conn::Http(_) => "streamable-http",
            Conn::Legacy(_) => "http+sse",
            Conn::Stdio(_) => "stdio",
        }
    }

    fn negotiated(&self) -> Arc<Negotiated> {
        self.inner
            .negotiated
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn is_stateless(&self) -> bool {
        self.inner.stateless.load(Ordering::Acquire)
    }

    /// Pick the era over HTTP: the stateless revision when pinned or when the server speaks
    /// it, otherwise `initialize`.
    async fn handshake_http(&self) -> Result<()> {
        let pinned = self.inner.config.protocol_version.clone();
        match pinned.as_deref() {
            Some(v) if protocol::is_stateless(v) => self.discover(v).await,
            Some(_) => self.initialize().await,
            None => match self.discover(protocol::V2026_07_28).await {
                Ok(()) => Ok(()),
                Err(e) if stateless::is_modern_refusal(&e) => Err(e),
                Err(e) => {
                    tracing::debug!(error = %e, "no stateless MCP here; falling back to initialize");
                    self.initialize().await
                }
            },
        }
    }

    /// The stateless handshake: `server/discover`.
    async fn discover(&self, version: &str) -> Result<()> {
        self.set_negotiated(version.to_owned(), Value::Null);
        let result = self.request("server/discover", Some(json!({}))).await?;
        let server_version = stateless::pick_version(&result, version)?;
        self.set_negotiated(server_version, result);
        Ok(())
    }

    /// The stateful handshake: `initialize`, then `notifications/initialized`.
    async fn initialize(&self) -> Result<()> {
        let offered = match &self.inner.config.protocol_version {
            Some(v) if !protocol::is_stateless(v) => v.clone(),
            _ => LATEST_STATEFUL.to_owned(),
        };
        // The session is replaced when the answer comes (the request goes without one): until
        // then concurrent requests keep the old, and a dead one sends them to `reinitialize`.
        self.set_negotiated(String::new(), Value::Null);
        let params = json!({
            "protocolVersion": offered,
            "capabilities": self.inner.capabilities,
            "clientInfo": {
                "name": self.inner.config.client_name,
                "version": self.inner.config.client_version,
            },
        });
        let raw = self
            .send_once(
                "initialize",
                &Params::Value(Some(&params)),
                &RequestOptions::default(),
            )
            .await?;
        let result: Value = serde_json::from_str(raw.get())
            .map_err(|e| Error::MalformedMessage(format!("initialize result: {e}")))?;
        let version = result
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let legacy = matches!(self.inner.conn, Conn::Legacy(_));
        let acceptable = protocol::is_supported(&version)
            && !protocol::is_stateless(&version)
            && (version != V2024_11_05 || legacy || matches!(self.inner.conn, Conn::Stdio(_)));
        if !acceptable {
            return Err(Error::UnsupportedProtocolVersion {
                offered,
                supported: if version.is_empty() {
                    "(none given)".into()
                } else {
                    version
                },
            });
        }
        self.set_negotiated(version, result);
        self.notify("notifications/initialized", None).await?;
        Ok(())
    }

    fn set_negotiated(&self, version: String, server: Value) {
        if let Conn::Http(h) = &self.inner.conn {
            h.set_protocol_version((!version.is_empty()).then_some(version.as_str()));
        }
        let stateless = protocol::is_stateless(&version);
        self.inner.stateless.store(stateless, Ordering::Release);
        // Tasks as 2025-11-25 defines them; the stateless revision moved them to an extension.
        let tasks = server.pointer("/capabilities/tasks").filter(|_| !stateless);
        let tool_tasks = tasks
            .and_then(|t| t.pointer("/requests/tools/call"))
            .is_some();
        let task_cancel = tasks.and_then(|t| t.get("cancel")).is_some();
        self.inner.tool_tasks.store(tool_tasks, Ordering::Release);
        self.inner.task_cancel.store(task_cancel, Ordering::Release);
        *self
            .inner
            .negotiated
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Arc::new(Negotiated { version, server });
    }

    async fn start_get_stream(&self) {
        if !self.inner.config.open_get_stream || self.is_stateless() {
            return;
        }
        if let Conn::Http(h) = &self.inner.conn {
            // One GET stream per session: a new session replaces the old stream.
            let token = self.inner.stop.child_token();
            let old = std::mem::replace(
                &mut *self
                    .inner
                    .get_stream_stop
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
                token.clone(),
            );
            old.cancel();
            let (h, wait) = (h.clone(), self.inner.config.connect_timeout);
            let open = async move { h.open_get_stream(token, wait).await };
            if crate::runtime::on_thread_runtime() {
                // The stream outlives this call: its connection and reader belong at home.
                let _ = self.inner.home.spawn(open).await;
            } else {
                open.await;
            }
        }
    }

    /// Move to another protocol version of the same era (after `UnsupportedProtocolVersion`).
    pub(crate) fn switch_version(&self, version: &str) {
        let server = self.negotiated().server.clone();
        self.set_negotiated(version.to_owned(), server);
    }

    /// Send any request; `params` and the result are JSON values.
    pub async fn request(&self, method: &str, params: Option<Value>) -> Result<Value> {
        self.request_with(method, params, RequestOptions::default())
            .await
    }

    /// [`Client::request`] with per-request options.
    pub async fn request_with(
        &self,
        method: &str,
        params: Option<Value>,
        opts: RequestOptions,
    ) -> Result<Value> {
        let out = self
            .dispatch(method, Params::Value(params.as_ref()), &opts)
            .await?;
        serde_json::from_str(out.get())
            .map_err(|e| Error::MalformedMessage(format!("result of `{method}`: {e}")))
    }

    /// Send any request with params as raw JSON text; the result comes back as raw JSON text
    /// (no parse-and-print round trip: what the bindings use).
    pub async fn request_raw(
        &self,
        method: &str,
        params: Option<&RawValue>,
        opts: RequestOptions,
    ) -> Result<Box<RawValue>> {
        self.dispatch(method, Params::Raw(params), &opts).await
    }

    async fn dispatch(
        &self,
        method: &str,
        params: Params<'_>,
        opts: &RequestOptions,
    ) -> Result<Box<RawValue>> {
        let with_token;
        let params = match &opts.progress_token {
            Some(token) => {
                with_token = Value::Object(params.with_progress_token(method, token)?);
                Params::Value(Some(&with_token))
            }
            None => params,
        };
        if self.inner.stateless.load(Ordering::Acquire) {
            return stateless::request(self, method, params.into_map(method)?, opts).await;
        }
        // A 404 for the session means the server never took the request: it is sent again on
        // the new session. More than once, within a bound: under load a resent request can
        // meet the next expiry too (the server's, or another caller's re-initialisation
        // racing ours).
        let mut lost = 0;
        loop {
            let generation = self.inner.generation.load(Ordering::Acquire);
            match self.send_once(method, &params, opts).await {
                Err(Error::SessionLost(why))
                    if method != "initialize" && lost < MAX_SESSION_RESENDS =>
                {
                    lost += 1;
                    self.reinitialize(generation, &why).await?;
                }
                other => return other,
            }
        }
    }

    /// Re-run `initialize` after the server forgot the session, once for all callers that
    /// saw the same session die.
    async fn reinitialize(&self, seen_generation: u64, why: &str) -> Result<()> {
        let mut gen = self.inner.reinit.lock().await;
        if *gen != seen_generation {
            return Ok(()); // another caller already re-initialised
        }
        tracing::info!("{why}; starting a new session");
        self.initialize()
            .await
            .map_err(|e| Error::SessionLost(format!("{why}; re-initialising failed: {e}")))?;
        *gen += 1;
        self.inner.generation.store(*gen, Ordering::Release);
        self.start_get_stream().await;
        Ok(())
    }

    /// One attempt: encode, send, wait with timeout and cancellation.
    async fn send_once(
        &self,
        method: &str,
        params: &Params<'_>,
        opts: &RequestOptions,
    ) -> Result<Box<RawValue>> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let body = Bytes::from(match params {
            Params::Value(v) => jsonrpc::encode_request(id, method, *v),
            Params::Raw(r) => jsonrpc::encode_request(id, method, *r),
            Params::Tool(name, arguments) => {
                jsonrpc::encode_request(id, method, Some(&ToolCall { name, arguments }))
            }
            Params::ToolRaw(name, arguments) => {
                jsonrpc::encode_request(id, method, Some(&ToolCall { name, arguments }))
            }
        });
        self.send_encoded(id, method, body, None, opts).await
    }

    /// Send an encoded request with optional per-request headers.
    pub(crate) async fn send_encoded(
        &self,
        id: u64,
        method: &str,
        body: Bytes,
        headers: Option<HeaderMap>,
        opts: &RequestOptions,
    ) -> Result<Box<RawValue>> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let out = Outgoing {
            id,
            method,
            body,
            headers,
        };
        let fut = async {
            match &self.inner.conn {
                Conn::Http(h) => h.request(out).await,
                Conn::Legacy(l) => l.request(out).await,
                Conn::Stdio(s) => s.request(out).await,
            }
        };
        let timeout = opts.timeout.unwrap_or(self.inner.config.request_timeout);
        let flag = self.inner.deadlines.register(id, timeout);
        // Only an auth provider (OAuth) may suspend the deadline while it authorizes; the
        // task-local that lets it is skipped on the plain path, where it would cost every poll.
        let fut = if self.inner.auth_suspends {
            futures_util::future::Either::Left(crate::deadline::scope(flag.clone(), fut))
        } else {
            futures_util::future::Either::Right(fut)
        };
        let expired = || Error::Timeout {
            method: method.to_owned(),
            after: timeout,
        };
        let outcome = match &opts.cancel {
            // A cancellation token is watched only when the caller gave one: waiting on a
            // token takes its lock, which concurrent requests would otherwise contend for.
            None => tokio::select! {
                biased;
                r = fut => r,
                _ = Expired(&flag) => Err(expired()),
            },
            Some(cancel) => tokio::select! {
                biased;
                r = fut => r,
                _ = Expired(&flag) => Err(expired()),
                _ = cancel.cancelled() => Err(Error::Cancelled { method: method.to_owned() }),
            },
        };
        if let Err(e) = &outcome {
            if matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Cancelled) {
                self.tell_cancelled(id, method, e);
            }
        }
        outcome
    }

    /// Tell the server a request was abandoned. On the stateless HTTP revision closing the
    /// stream (already done by dropping it) is the signal; elsewhere a notification.
    fn tell_cancelled(&self, id: u64, method: &str, why: &Error) {
        if method == "initialize"
            || (self.is_stateless() && matches!(self.inner.conn, Conn::Http(_)))
        {
            return;
        }
        let client = self.clone();
        let reason = why.to_string();
        self.inner.home.spawn(async move {
            let params = json!({"requestId": id, "reason": reason});
            if let Err(e) = client.notify("notifications/cancelled", Some(params)).await {
                tracing::debug!(error = %e, "could not send notifications/cancelled");
            }
        });
    }

    /// Send a notification.
    pub async fn notify(&self, method: &str, params: Option<Value>) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let body = jsonrpc::encode_notification(method, params.as_ref());
        match &self.inner.conn {
            Conn::Http(h) => h.notify(Bytes::from(body)).await,
            Conn::Legacy(l) => l.notify(Bytes::from(body)).await,
            Conn::Stdio(s) => s.notify(body).await,
        }
    }

    /// Close the connection: end the session (HTTP DELETE where there is one), stop the
    /// stdio server, stop background streams. Later calls fail with [`Error::Closed`].
    pub async fn close(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.inner.stop.cancel();
        match &self.inner.conn {
            Conn::Http(h) => h.close().await,
            Conn::Legacy(l) => {
                l.close();
                Ok(())
            }
            Conn::Stdio(s) => s.close().await,
        }
    }

    // ---- typed MCP methods ------------------------------------------------------------

    /// `ping`.
    pub async fn ping(&self) -> Result<()> {
        self.request("ping", None).await.map(|_| ())
    }

    /// One page of `tools/list`.
    pub async fn list_tools_page(&self, cursor: Option<&str>) -> Result<Value> {
        let mut page = self.request("tools/list", cursor_params(cursor)).await?;
        if self.uses_tool_headers() {
            stateless::filter_invalid_tools(&mut page);
        }
        if let Some(Value::Array(tools)) = page.get("tools") {
            tasks::remember_task_support(&self.inner.task_support, tools, false);
        }
        Ok(page)
    }

    /// Every tool, following `nextCursor` to the end.
    pub async fn list_tools(&self) -> Result<Vec<Value>> {
        self.list_tools_with(RequestOptions::default()).await
    }

    /// [`Client::list_tools`] with per-request options (applied to each page).
    pub async fn list_tools_with(&self, opts: RequestOptions) -> Result<Vec<Value>> {
        let tools = self.collect_pages("tools/list", "tools", &opts).await?;
        tasks::remember_task_support(&self.inner.task_support, &tools, true);
        if self.uses_tool_headers() {
            let mut page = json!({ "tools": tools });
            stateless::filter_invalid_tools(&mut page);
            let tools = match page.get_mut("tools").map(Value::take) {
                Some(Value::Array(t)) => t,
                _ => Vec::new(),
            };
            self.remember_tool_headers(&tools);
            return Ok(tools);
        }
        Ok(tools)
    }

    /// `tools/call` with JSON arguments; returns the `CallToolResult` (a tool error is a
    /// result with `isError: true`, not an `Err`).
    ///
    /// A tool that must run as a task (`execution.taskSupport: "required"`, learnt from
    /// [`Client::list_tools`] or from the server's refusal of a plain call) is called as one
    /// and waited for: the result is the task's, the timeout bounds the whole wait, and a
    /// cancellation cancels the task (see [`Client::start_tool_task`] for the task itself).
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<Value> {
        self.call_tool_with(name, arguments, RequestOptions::default())
            .await
    }

    /// [`Client::call_tool`] with per-request options.
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        opts: RequestOptions,
    ) -> Result<Value> {
        // The hot path: params are written straight from the borrowed parts, with no
        // intermediate JSON tree.
        let method = "tools/call";
        let out = self
            .call_tool_any(name, Params::Tool(name, &arguments), &opts)
            .await?;
        serde_json::from_str(out.get())
            .map_err(|e| Error::MalformedMessage(format!("result of `{method}`: {e}")))
    }

    /// [`Client::call_tool_with`] with the arguments as raw JSON text (an object) and the
    /// `CallToolResult` back as raw JSON text: no parse-and-print round trip (the bindings' path).
    pub async fn call_tool_raw(
        &self,
        name: &str,
        arguments: &RawValue,
        opts: RequestOptions,
    ) -> Result<Box<RawValue>> {
        if !arguments.get().trim_start().starts_with('{') {
            return Err(Error::InvalidArgument(format!(
                "the arguments of `{name}` must be a JSON object"
            )));
        }
        self.call_tool_any(name, Params::ToolRaw(name, arguments), &opts)
            .await
    }

    /// Every resource, following `nextCursor`.
    pub async fn list_resources(&self) -> Result<Vec<Value>> {
        self.list_resources_with(RequestOptions::default()).await
    }

    /// [`Client::list_resources`] with per-request options (applied to each page).
    pub async fn list_resources_with(&self, opts: RequestOptions) -> Result<Vec<Value>> {
        self.collect_pages("resources/list", "resources", &opts)
            .await
    }

    /// Every resource template, following `nextCursor`.
    pub async fn list_resource_templates(&self) -> Result<Vec<Value>> {
        self.collect_pages(
            "resources/templates/list",
            "resourceTemplates",
            &RequestOptions::default(),
        )
        .await
    }

    /// `resources/read`.
    pub async fn read_resource(&self, uri: &str) -> Result<Value> {
        self.read_resource_with(uri, RequestOptions::default())
            .await
    }

    /// [`Client::read_resource`] with per-request options.
    pub async fn read_resource_with(&self, uri: &str, opts: RequestOptions) -> Result<Value> {
        self.request_with("resources/read", Some(json!({ "uri": uri })), opts)
            .await
    }

    /// `resources/subscribe`: updates then arrive as `notifications/resources/updated`.
    pub async fn subscribe(&self, uri: &str) -> Result<()> {
        self.request("resources/subscribe", Some(json!({ "uri": uri })))
            .await
            .map(|_| ())
    }

    /// `resources/unsubscribe`.
    pub async fn unsubscribe(&self, uri: &str) -> Result<()> {
        self.request("resources/unsubscribe", Some(json!({ "uri": uri })))
            .await
            .map(|_| ())
    }

    /// Every prompt, following `nextCursor`.
    pub async fn list_prompts(&self) -> Result<Vec<Value>> {
        self.list_prompts_with(RequestOptions::default()).await
    }

    /// [`Client::list_prompts`] with per-request options (applied to each page).
    pub async fn list_prompts_with(&self, opts: RequestOptions) -> Result<Vec<Value>> {
        self.collect_pages("prompts/list", "prompts", &opts).await
    }

    /// `prompts/get` with string arguments (a JSON object).
    pub async fn get_prompt(&self, name: &str, arguments: Value) -> Result<Value> {
        self.get_prompt_with(name, arguments, RequestOptions::default())
            .await
    }

    /// [`Client::get_prompt`] with per-request options.
    pub async fn get_prompt_with(
        &self,
        name: &str,
        arguments: Value,
        opts: RequestOptions,
    ) -> Result<Value> {
        self.request_with(
            "prompts/get",
            Some(json!({"name": name, "arguments": arguments})),
            opts,
        )
        .await
    }

    /// `completion/complete`: `reference` is `{"type":"ref/prompt","name":…}` or
    /// `{"type":"ref/resource","uri":…}`, `argument` is `{"name":…,"value":…}`.
    pub async fn complete(&self, reference: Value, argument: Value) -> Result<Value> {
        self.request(
            "completion/complete",
            Some(json!({"ref": reference, "argument": argument})),
        )
        .await
    }

    /// `logging/setLevel`.
    pub async fn set_logging_level(&self, level: &str) -> Result<()> {
        self.request("logging/setLevel", Some(json!({ "level": level })))
            .await
            .map(|_| ())
    }

    async fn collect_pages(
        &self,
        method: &str,
        key: &str,
        opts: &RequestOptions,
    ) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        // A server that hands out the same cursor forever must not hang us.
        for _ in 0..10_000 {
            let page = self
                .request_with(method, cursor_params(cursor.as_deref()), opts.clone())
                .await?;
            match page.get(key) {
                Some(Value::Array(items)) => all.extend(items.iter().cloned()),
                Some(_) | None => {
                    return Err(Error::MalformedMessage(format!(
                        "`{method}` result has no `{key}` array"
                    )))
                }
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(c) if !c.is_empty() && Some(c) != cursor.as_deref() => {
                    cursor = Some(c.to_owned())
                }
                _ => return Ok(all),
            }
        }
        Err(Error::MalformedMessage(format!(
            "`{method}` kept returning pages"
        )))
    }

    fn uses_tool_headers(&self) -> bool {
        self.is_stateless() && matches!(self.inner.conn, Conn::Http(_))
    }

    fn remember_tool_headers(&self, tools: &[Value]) {
        let map = stateless::tool_header_map(tools);
        *self
            .inner
            .tool_headers
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(map));
    }

    /// The `x-mcp-header` mappings of known tools (listing the tools once if needed).
    pub(crate) async fn tool_headers(&self) -> Result<Arc<HashMap<String, ToolHeaders>>> {
        if let Some(m) = self
            .inner
            .tool_headers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(m);
        }
        // Boxed: listing tools is itself a request, which may land here again.
        Box::pin(self.list_tools()).await?;
        Ok(self
            .inner
            .tool_headers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default())
    }

    /// Forget cached tool definitions (after `notifications/tools/list_changed` or a
    /// `HeaderMismatch`).
    pub(crate) fn forget_tools(&self) {
        *self
            .inner
            .tool_headers
            .write()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    pub(crate) fn capabilities(&self) -> &Value {
        &self.inner.capabilities
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn is_http(&self) -> bool {
        matches!(self.inner.conn, Conn::Http(_))
    }

    pub(crate) fn handlers(&self) -> &Handlers {
        &self.inner.config.handlers
    }
}

/// Request params as the caller gave them: a JSON tree, raw JSON text, or a tool call's parts.
#[derive(Clone, Copy)]
enum Params<'a> {
    Value(Option<&'a Value>),
    Raw(Option<&'a RawValue>),
    Tool(&'a str, &'a Value),
    ToolRaw(&'a str, &'a RawValue),
}

/// `tools/call` params, serialised without building a tree.
#[derive(serde::Serialize)]
struct ToolCall<'a, A: serde::Serialize + ?Sized> {
    name: &'a str,
    arguments: &'a A,
}

impl Params<'_> {
    /// The params as an object (the stateless revision adds `_meta` to them).
    fn into_map(self, method: &str) -> Result<serde_json::Map<String, Value>> {
        let parsed;
        let v = match self {
            Params::Tool(name, arguments) => {
                let mut m = serde_json::Map::new();
                m.insert("name".into(), Value::from(name));
                m.insert("arguments".into(), arguments.clone());
                return Ok(m);
            }
            Params::ToolRaw(name, arguments) => {
                let arguments: Value = serde_json::from_str(arguments.get()).map_err(|e| {
                    Error::InvalidArgument(format!("the arguments of `{name}` are not JSON: {e}"))
                })?;
                let mut m = serde_json::Map::new();
                m.insert("name".into(), Value::from(name));
                m.insert("arguments".into(), arguments);
                return Ok(m);
            }
            Params::Value(v) => v,
            Params::Raw(None) => None,
            Params::Raw(Some(r)) => {
                parsed = serde_json::from_str::<Value>(r.get()).map_err(|e| {
                    Error::InvalidArgument(format!("the params of `{method}` are not JSON: {e}"))
                })?;
                Some(&parsed)
            }
        };
        match v {
            None | Some(Value::Null) => Ok(serde_json::Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(_) => Err(Error::InvalidArgument(format!(
                "the params of `{method}` must be a JSON object"
            ))),
        }
    }
}

impl Params<'_> {
    /// The params as an object with `_meta.progressToken` set (other `_meta` members kept).
    fn with_progress_token(
        self,
        method: &str,
        token: &ProgressToken,
    ) -> Result<serde_json::Map<String, Value>> {
        let mut m = self.into_map(method)?;
        let meta = m
            .entry("_meta")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        let Value::Object(meta) = meta else {
            return Err(Error::InvalidArgument(format!(
                "the `_meta` of `{method}` must be a JSON object"
            )));
        };
        meta.insert("progressToken".into(), Value::from(token));
        Ok(m)
    }
}

fn cursor_params(cursor: Option<&str>) -> Option<Value> {
    cursor.map(|c| json!({ "cursor": c }))
}

/// Whether an `initialize` failure means "this is not a Streamable HTTP server" (the spec's
/// fallback condition: 400, 404 or 405 without a modern JSON-RPC error).
fn refused_by_http(e: &Error) -> bool {
    matches!(
        e,
        Error::HttpStatus {
            status: 400 | 404 | 405,
            ..
        }
    ) || matches!(e, Error::UnexpectedContentType { .. })
}

/// Deliver notifications in order and answer server requests, each in its own task.
async fn dispatch_inbound(
    mut rx: mpsc::UnboundedReceiver<Inbound>,
    handlers: Handlers,
    capabilities: Value,
    task_support: TaskSupportCache,
) {
    let capabilities = Arc::new(capabilities);
    while let Some(msg) = rx.recv().await {
        match msg {
            Inbound::Notification(n) => {
                tracing::debug!(method = %n.method, "server notification");
                if n.method == "notifications/tools/list_changed" {
                    task_support
                        .write()
                        .unwrap_or_else(|p| p.into_inner())
                        .clear();
                }
                if let Some(h) = &handlers.notification {
                    h.on_notification(&n);
                }
            }
            Inbound::Request(req, responder) => {
                let handlers = handlers.clone();
                let capabilities = capabilities.clone();
                tokio::spawn(async move {
                    let outcome =
                        answer_server_request(&handlers, &req.method, req.params, &capabilities)
                            .await;
                    let body = jsonrpc::encode_response(&req.id, &outcome);
                    if let Err(e) = responder.send(body).await {
                        tracing::warn!(error = %e, method = %req.method, "could not answer a server request");
                    }
                });
            }
        }
    }
}

/// The answer to one server request, through the host's hooks. `capabilities` are the
/// client's: whether to apply elicitation defaults, whether it runs tasks for the request.
pub(crate) async fn answer_server_request(
    handlers: &Handlers,
    method: &str,
    mut params: Value,
    capabilities: &Value,
) -> std::result::Result<Value, RpcError> {
    if method == "ping" {
        return Ok(json!({}));
    }
    let Some(h) = handlers.for_method(method) else {
        return Err(RpcError::new(
            RpcError::METHOD_NOT_FOUND,
            format!("the client has no handler for `{method}`"),
        ));
    };
    // A request the client declares no task support for is answered plainly: its `task`
    // field is ignored (2025-11-25, tasks).
    let tasks_for = format!("/tasks/requests/{method}");
    if let (Value::Object(p), None) = (&mut params, capabilities.pointer(&tasks_for)) {
        p.remove("task");
    }
    let apply_defaults = capabilities
        .pointer("/elicitation/form/applyDefaults")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let defaults_from = (apply_defaults && method == "elicitation/create").then(|| params.clone());
    // An answer to a task's request carries the task's id back.
    let related = params
        .pointer("/_meta")
        .and_then(|m| m.get(tasks::RELATED_TASK))
        .cloned();
    let mut result = h.handle(method, params).await?;
    if let Some(p) = defaults_from {
        apply_elicitation_defaults(&p, &mut result);
    }
    if let (Some(related), Value::Object(r)) = (related, &mut result) {
        let meta = r.entry("_meta").or_insert_with(|| json!({}));
        if let Value::Object(m) = meta {
            m.insert(tasks::RELATED_TASK.into(), related);
        }
    }
    Ok(result)
}
