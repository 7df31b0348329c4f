//! Streamable HTTP.
//!
//! Each JSON-RPC message is its own POST with `Accept: application/json, text/event-stream`.
//! A request's answer is either one JSON object or an SSE stream that may carry notifications
//! and server requests before the response. A broken SSE stream that has event ids is resumed
//! with a GET carrying `Last-Event-ID`, after the server's `retry` delay. The session id the
//! server assigns at `initialize` is echoed on every later request, and the negotiated
//! protocol version is sent as `MCP-Protocol-Version`.
//!
//! One `HttpClient` (one connection pool per runtime, `TCP_NODELAY`) serves every request of
//! a client; requests run concurrently with no lock held across a request. The headers common to
//! every request are built once per session and cloned per request.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::{AuthLayer, Challenge, RequestInfo};
use crate::error::{Error, Result, RpcError};
use crate::http_client::HttpClient;
use crate::jsonrpc::{self, Incoming};
use crate::redact::{redact_url, truncate_utf8};
use crate::transport::sse::{SseEvent, SseParser};
use crate::transport::{Inbound, InboundTx, Outgoing, Responder};

/// `MCP-Session-Id`.
pub const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// `MCP-Protocol-Version`.
pub const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
/// `Last-Event-ID`.
pub const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

const ACCEPT_BOTH: HeaderValue = HeaderValue::from_static("application/json, text/event-stream");
const ACCEPT_SSE: HeaderValue = HeaderValue::from_static("text/event-stream");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// How many 401/403 answers one request may meet before it fails.
const MAX_AUTH_ROUNDS: u32 = 4;

/// How much of an error body is kept for the error message.
const ERROR_BODY_EXCERPT: usize = 512;

/// What the HTTP transports take from the client's configuration.
#[derive(Debug, Clone)]
pub(crate) struct HttpOptions {
    /// Headers added to every request (API keys and the like).
    pub headers: Vec<(String, crate::secret::Secret)>,
    /// The largest response body or SSE event accepted, in bytes.
    pub max_body: usize,
    /// How many times a broken SSE stream is resumed before the request fails.
    pub max_reconnects: u32,
    /// The delay before resuming a stream when the server gave no `retry`.
    pub default_retry: Duration,
}

/// The session-dependent part of every request's headers.
struct SessionHeaders {
    headers: HeaderMap,
    session_id: Option<HeaderValue>,
    version: Option<String>,
}

/// The state shared by the transport, its responders and its GET stream.
pub(crate) struct HttpShared {
    http: HttpClient,
    url: Url,
    url_for_errors: String,
    auth: AuthLayer,
    base_headers: HeaderMap,
    session: RwLock<Arc<SessionHeaders>>,
    max_body: usize,
    max_reconnects: u32,
    default_retry: Duration,
}

/// The Streamable HTTP transport.
#[derive(Clone)]
pub struct HttpTransport {
    shared: Arc<HttpShared>,
    inbound: InboundTx,
}

impl HttpTransport {
    pub(crate) fn new(shared: HttpShared, inbound: InboundTx) -> Self {
        HttpTransport {
            shared: Arc::new(shared),
            inbound,
        }
    }

    /// The endpoint URL.
    pub fn url(&self) -> &Url {
        &self.shared.url
    }

    /// The session id the server assigned, if any.
    pub fn session_id(&self) -> Option<String> {
        self.shared
            .session()
            .session_id
            .as_ref()
            .and_then(|v| v.to_str().ok().map(str::to_owned))
    }

    /// Set the protocol version sent in `MCP-Protocol-Version` (`None`: no header).
    pub(crate) fn set_protocol_version(&self, version: Option<&str>) {
        let cur = self.shared.session();
        self.shared
            .set_session(cur.session_id.clone(), version.map(str::to_owned));
    }

    /// Forget the session (before a new `initialize`).
    pub(crate) fn reset_session(&self) {
        let cur = self.shared.session();
        self.shared.set_session(None, cur.version.clone());
    }

    /// Send a request and return its result.
    pub(crate) async fn request(&self, out: Outgoing<'_>) -> Result<Box<RawValue>> {
        let sh = &self.shared;
        let is_init = out.method == "initialize";
        // `initialize` goes without a session id, and only its answer replaces the session:
        // requests sent meanwhile by other callers carry the old one, so that when it is dead
        // they get a 404 (`SessionLost`) and wait for this new session, never go without one.
        let resp = sh
            .send_with(
                Method::POST,
                Some(out.body),
                out.headers.as_ref(),
                None,
                is_init,
            )
            .await?;
        let status = resp.status();
        if is_init {
            let sid = resp.headers().get(SESSION_ID).cloned();
            if sid.is_some() || status.is_success() {
                let cur = sh.session();
                sh.set_session(sid, cur.version.clone());
            }
        }
        if status == StatusCode::ACCEPTED {
            return Err(Error::MalformedMessage(format!(
                "the server answered `{}` with 202 Accepted and no response",
                out.method
            )));
        }
        if !status.is_success() {
            if status == StatusCode::NOT_FOUND && sh.session().session_id.is_some() && !is_init {
                return Err(Error::SessionLost(format!(
                    "the server no longer knows session (HTTP 404 from {})",
                    sh.url_for_errors
                )));
            }
            return Err(Box::pin(sh.status_error(resp, Some(out.id))).await);
        }
        match content_kind(&resp) {
            ContentKind::Json => {
                let body = crate::body::read_limited(resp, sh.max_body).await?;
                match jsonrpc::parse(&body)? {
                    Incoming::Response { id, outcome } => {
                        if jsonrpc::our_id(&id) == Some(out.id) {
                            outcome.map_err(Error::Rpc)
                        } else {
                            Err(unknown_id(&id, outcome))
                        }
                    }
                    _ => Err(Error::MalformedMessage(format!(
                        "expected the response to `{}`, got a request or notification",
                        out.method
                    ))),
                }
            }
            // Boxed: the stream reader's state is large and kept off the JSON fast path, whose
            // future would otherwise be copied through every layer that awaits it.
            ContentKind::Sse => Box::pin(self.read_response_stream(resp, out.id, out.method)).await,
            ContentKind::Other(ct) => Err(Error::UnexpectedContentType {
                content_type: ct,
                url: sh.url_for_errors.clone(),
            }),
        }
    }

    /// Send a notification (expects 202).
    pub(crate) async fn notify(&self, body: Bytes) -> Result<()> {
        self.shared.post_message(body).await
    }

    /// Read an SSE reply until the response to `id`, resuming the stream when it breaks.
    async fn read_response_stream(
        &self,
        mut resp: reqwest::Response,
        id: u64,
        method: &str,
    ) -> Result<Box<RawValue>> {
        let sh = &self.shared;
        let mut parser = SseParser::new(sh.max_body);
        let mut events = Vec::new();
        let mut reconnects = 0u32;
        loop {
            // Read until the stream ends or breaks.
            loop {
                let chunk = match resp.chunk().await {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::debug!(error = %e, "SSE stream broke");
                        break;
                    }
                };
                parser.push(&chunk, &mut events)?;
                for ev in events.drain(..) {
                    if let Some(result) = self.route_event(ev, Some(id))? {
                        return result;
                    }
                }
            }
            // The stream ended without our response: resume it if the server made that
            // possible (an event id), as 2025-11-25 SSE polling requires.
            let Some(last_id) = parser.last_event_id().map(str::to_owned) else {
                return Err(Error::StreamClosed {
                    method: method.to_owned(),
                });
            };
            if reconnects >= sh.max_reconnects {
                return Err(Error::StreamClosed {
                    method: method.to_owned(),
                });
            }
            reconnects += 1;
            let delay = parser.retry().unwrap_or(sh.default_retry);
            tokio::time::sleep(delay).await;
            resp = match sh.get_stream(Some(&last_id)).await? {
                Some(r) => r,
                None => {
                    return Err(Error::StreamClosed {
                        method: method.to_owned(),
                    })
                }
            };
            let keep = parser.last_event_id().map(str::to_owned);
            parser = SseParser::new(sh.max_body);
            parser.set_last_event_id(keep);
        }
    }

    /// Handle one SSE event. Returns the outcome when it is the response to `want`.
    fn route_event(
        &self,
        ev: SseEvent,
        want: Option<u64>,
    ) -> Result<Option<Result<Box<RawValue>>>> {
        if !ev.is_message() || ev.data.trim().is_empty() {
            return Ok(None); // priming events and other event types carry no message
        }
        match jsonrpc::parse(ev.data.as_bytes())? {
            Incoming::Response { id, outcome } => {
                if want.is_some() && jsonrpc::our_id(&id) == want {
                    Ok(Some(outcome.map_err(Error::Rpc)))
                } else {
                    Err(unknown_id(&id, outcome))
                }
            }
            Incoming::Notification(n) => {
                let _ = self.inbound.send(Inbound::Notification(n));
                Ok(None)
            }
            Incoming::Request(r) => {
                let _ = self
                    .inbound
                    .send(Inbound::Request(r, Responder::Http(self.shared.clone())));
                Ok(None)
            }
        }
    }

    /// Open the standalone GET stream and, when the server offers one, keep reading it in the
    /// background until `stop` fires. Returns once the server answered the GET (so a server
    /// request sent right after on that stream is not missed), or after `wait` at most.
    pub(crate) async fn open_get_stream(&self, stop: CancellationToken, wait: Duration) {
        let first = tokio::time::timeout(wait, self.shared.get_stream(None)).await;
        match first {
            Ok(Ok(Some(resp))) => {
                tokio::spawn(self.clone().run_get_stream(resp, stop));
            }
            Ok(Ok(None)) => tracing::debug!("the server offers no standalone GET stream (405)"),
            Ok(Err(e)) => tracing::debug!(error = %e, "no standalone GET stream"),
            Err(_) => tracing::debug!("the server did not answer the GET stream in time"),
        }
    }

    /// Read the GET stream, reconnecting with `Last-Event-ID` after the server's `retry`
    /// delay when it ends, until `stop` fires or it cannot be re-established.
    async fn run_get_stream(self, mut resp: reqwest::Response, stop: CancellationToken) {
        let sh = self.shared.clone();
        let mut parser = SseParser::new(sh.max_body);
        let mut failures = 0u32;
        loop {
            let mut events = Vec::new();
            loop {
                let chunk = tokio::select! {
                    _ = stop.cancelled() => return,
                    c = resp.chunk() => c,
                };
                let Ok(Some(chunk)) = chunk else { break };
                failures = 0;
                if let Err(e) = parser.push(&chunk, &mut events) {
                    tracing::warn!(error = %e, "dropping a malformed GET stream");
                    break;
                }
                for ev in events.drain(..) {
                    if let Err(e) = self.route_event(ev, None) {
                        tracing::warn!(error = %e, "ignoring a bad message on the GET stream");
                    }
                }
            }
            let last_id = parser.last_event_id().map(str::to_owned);
            let retry = parser.retry().unwrap_or(sh.default_retry);
            resp = loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(retry * (failures + 1)) => {}
                }
                match sh.get_stream(last_id.as_deref()).await {
                    Ok(Some(r)) => break r,
                    Ok(None) => return,
                    Err(e) => {
                        failures += 1;
                        tracing::debug!(error = %e, failures, "GET stream reconnection failed");
                        if failures > sh.max_reconnects {
                            return;
                        }
                    }
                }
            };
            parser = SseParser::new(sh.max_body);
            parser.set_last_event_id(last_id);
        }
    }

    /// End the session with a DELETE, when there is one. A 405 (the server does not let
    /// clients end sessions) is not an error, nor a 401 or 403 (no credential any more, e.g.
    /// after a logout: the server expires the session itself).
    pub(crate) async fn close(&self) -> Result<()> {
        let sh = &self.shared;
        if sh.session().session_id.is_none() {
            return Ok(());
        }
        let resp = sh.send(Method::DELETE, None, None, None).await?;
        let status = resp.status();
        self.reset_session();
        if status.is_success()
            || status == StatusCode::METHOD_NOT_ALLOWED
            || status == StatusCode::NOT_FOUND
            || status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN
        {
            Ok(())
        } else {
            Err(sh.status_error(resp, None).await)
        }
    }
}

impl HttpShared {
    /// The state for requests to `url`, with the options' headers and `auth`.
    pub(crate) fn new(
        http: HttpClient,
        url: Url,
        options: &HttpOptions,
        auth: AuthLayer,
    ) -> Result<Self> {
        let mut base_headers = HeaderMap::new();
        base_headers.insert(ACCEPT, ACCEPT_BOTH);
        base_headers.insert(CONTENT_TYPE, JSON);
        for (k, v) in &options.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| Error::InvalidArgument(format!("invalid header name `{k}`")))?;
            let mut value = HeaderValue::from_str(v.expose())
                .map_err(|_| Error::InvalidArgument(format!("invalid value for header `{k}`")))?;
            value.set_sensitive(true);
            base_headers.append(name, value);
        }
        let session = SessionHeaders {
            headers: base_headers.clone(),
            session_id: None,
            version: None,
        };
        Ok(HttpShared {
            http,
            url_for_errors: redact_url(&url),
            url,
            auth,
            base_headers,
            session: RwLock::new(Arc::new(session)),
            max_body: options.max_body,
            max_reconnects: options.max_reconnects,
            default_retry: options.default_retry,
        })
    }

    /// The URL requests go to.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// The largest body accepted.
    pub(crate) fn max_body(&self) -> usize {
        self.max_body
    }

    fn session(&self) -> Arc<SessionHeaders> {
        self.session
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_session(&self, session_id: Option<HeaderValue>, version: Option<String>) {
        let mut headers = self.base_headers.clone();
        if let Some(v) = version.as_deref() {
            if crate::protocol::sends_version_header(v) {
                if let Ok(hv) = HeaderValue::from_str(v) {
                    headers.insert(PROTOCOL_VERSION, hv);
                }
            }
        }
        if let Some(sid) = &session_id {
            headers.insert(SESSION_ID, sid.clone());
        }
        let next = Arc::new(SessionHeaders {
            headers,
            session_id,
            version,
        });
        *self.session.write().unwrap_or_else(|p| p.into_inner()) = next;
    }

    /// Send one HTTP request with the session's headers, the auth layer's, and `extra`;
    /// answer 401/403 through the auth layer, which says whether to retry (at most
    /// `MAX_AUTH_ROUNDS` rounds per request).
    async fn send(
        &self,
        method: Method,
        body: Option<Bytes>,
        extra: Option<&HeaderMap>,
        last_event_id: Option<&str>,
    ) -> Result<reqwest::Response> {
        self.send_with(method, body, extra, last_event_id, false)
            .await
    }

    /// [`HttpShared::send`], without the session id when `new_session` (`initialize`).
    async fn send_with(
        &self,
        method: Method,
        body: Option<Bytes>,
        extra: Option<&HeaderMap>,
        last_event_id: Option<&str>,
        new_session: bool,
    ) -> Result<reqwest::Response> {
        // A request may meet a 401 (authorize), then a 403 (step up), then a DPoP nonce
        // demand: a few rounds, bounded. The auth provider bounds its own attempts too.
        let mut rounds = 0u32;
        loop {
            let mut headers = self.session().headers.clone();
            if new_session {
                headers.remove(SESSION_ID);
            }
            if method == Method::GET {
                headers.insert(ACCEPT, ACCEPT_SSE);
                headers.remove(CONTENT_TYPE);
            } else if method == Method::DELETE {
                headers.remove(CONTENT_TYPE);
            }
            if let Some(extra) = extra {
                for (k, v) in extra {
                    headers.insert(k.clone(), v.clone());
                }
            }
            if let Some(id) = last_event_id {
                let v = HeaderValue::from_str(id).map_err(|_| {
                    Error::MalformedSse("the server's event id is not a valid header value".into())
                })?;
                headers.insert(LAST_EVENT_ID, v);
            }
            self.auth
                .apply(
                    &mut headers,
                    RequestInfo {
                        method: method.as_str(),
                        url: &self.url,
                    },
                )
                .await?;
            // Build, then move the prepared headers in (the builder's `headers()` would copy
            // them entry by entry).
            let mut req = reqwest::Request::new(method.clone(), self.url.clone());
            *req.headers_mut() = headers;
            if let Some(b) = &body {
                *req.body_mut() = Some(reqwest::Body::from(b.clone()));
            }
            let sent_authorization = req.headers().get(AUTHORIZATION).cloned();
            let http = self.http.get().map_err(|e| Error::Connect {
                url: self.url_for_errors.clone(),
                message: e.0,
            })?;
            let resp = http.execute(req).await.map_err(|e| self.connect_error(e))?;
            let status = resp.status();
            // A challenge counts only from the server itself (redirects stay on its origin,
            // but the check keeps that true whatever the policy).
            let from_server = resp.url().origin() == self.url.origin();
            // Ending a session never signs in (after a logout it would ask the user again
            // only to say goodbye): `close` takes the refusal as the end.
            if from_server
                && method != Method::DELETE
                && (status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN)
            {
                let challenge = Challenge {
                    status: status.as_u16(),
                    www_authenticate: resp
                        .headers()
                        .get_all(reqwest::header::WWW_AUTHENTICATE)
                        .iter()
                        .filter_map(|v| v.to_str().ok().map(str::to_owned))
                        .collect(),
                    url: self.url.clone(),
                    method: method.as_str().to_owned(),
                    sent_authorization,
                    headers: resp.headers().clone(),
                };
                rounds += 1;
                if rounds > MAX_AUTH_ROUNDS {
                    return Err(challenge.into_error());
                }
                self.auth.on_challenge(challenge).await?;
                continue;
            }
            let mut resp = resp;
            if !status.is_success() {
                // An error page may quote the request: `status_error` cuts the credentials
                // out of what it keeps of the body.
                if let Some(a) = sent_authorization {
                    resp.extensions_mut().insert(SentAuthorization(a));
                }
            }
            return Ok(resp);
        }
    }

    /// POST a notification or a response; the server should answer 202.
    pub(crate) async fn post_message(&self, body: Bytes) -> Result<()> {
        let resp = self.send(Method::POST, Some(body), None, None).await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(self.status_error(resp, None).await)
        }
    }

    /// Open an SSE stream with GET. `Ok(None)` when the server offers none (405).
    pub(crate) async fn get_stream(
        &self,
        last_event_id: Option<&str>,
    ) -> Result<Option<reqwest::Response>> {
        let resp = self.send(Method::GET, None, None, last_event_id).await?;
        let status = resp.status();
        if status == StatusCode::METHOD_NOT_ALLOWED {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.status_error(resp, None).await);
        }
        match content_kind(&resp) {
            ContentKind::Sse => Ok(Some(resp)),
            ContentKind::Json => Err(Error::UnexpectedContentType {
                content_type: "application/json".into(),
                url: self.url_for_errors.clone(),
            }),
            ContentKind::Other(ct) => Err(Error::UnexpectedContentType {
                content_type: ct,
                url: self.url_for_errors.clone(),
            }),
        }
    }

    /// The error for a non-success status. A JSON-RPC error in the body with one of the codes
    /// modern servers use to explain a refusal (header mismatch, unsupported version, missing
    /// capability, invalid params, unknown method) becomes [`Error::Rpc`], so callers can act on
    /// it; anything else is [`Error::HttpStatus`] with an excerpt of the body, which is also what
    /// tells an older server (that calls for the legacy fallback) from a modern one.
    async fn status_error(&self, resp: reqwest::Response, id: Option<u64>) -> Error {
        let status = resp.status().as_u16();
        let sent = resp.extensions().get::<SentAuthorization>().cloned();
        let body = crate::body::read_limited(resp, 64 * 1024)
            .await
            .unwrap_or_default();
        if let Ok(Incoming::Response {
            id: rid,
            outcome: Err(e),
        }) = jsonrpc::parse(&body)
        {
            let ours = rid.is_null() || id.is_none() || jsonrpc::our_id(&rid) == id;
            if ours && is_modern_refusal_code(e.code) {
                return Error::Rpc(e);
            }
        }
        let mut text = String::from_utf8_lossy(&body).into_owned();
        // Never the credentials the request carried, should the page quote them.
        let credentials = sent
            .iter()
            .filter_map(|a| a.0.to_str().ok())
            .map(|a| a.split_once(' ').map_or(a, |(_, c)| c.trim()))
            .chain(
                self.base_headers
                    .values()
                    .filter(|v| v.is_sensitive())
                    .filter_map(|v| v.to_str().ok()),
            );
        for c in credentials.filter(|c| c.len() >= 6) {
            text = text.replace(c, "[redacted]");
        }
        Error::HttpStatus {
            status,
            url: self.url_for_errors.clone(),
            body: truncate_utf8(text.trim(), ERROR_BODY_EXCERPT).to_owned(),
        }
    }

    fn connect_error(&self, e: reqwest::Error) -> Error {
        // reqwest's message can include the URL with its query; ours is redacted.
        let e = e.without_url();
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        Error::Connect {
            url: self.url_for_errors.clone(),
            message: msg,
        }
    }
}

/// The `Authorization` a request that failed carried (kept with its response).
#[derive(Clone)]
struct SentAuthorization(HeaderValue);

/// JSON-RPC codes a modern (2026-07-28) server uses in HTTP error replies: invalid params,
/// method not found, header mismatch, missing client capability, unsupported protocol version.
fn is_modern_refusal_code(code: i64) -> bool {
    matches!(code, -32602 | -32601 | -32020 | -32021 | -32022)
}

enum ContentKind {
    Json,
    Sse,
    Other(String),
}

fn content_kind(resp: &reqwest::Response) -> ContentKind {
    let ct = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        ContentKind::Json
    } else if essence.eq_ignore_ascii_case("text/event-stream") {
        ContentKind::Sse
    } else {
        ContentKind::Other(ct.to_owned())
    }
}

fn unknown_id(
    id: &serde_json::Value,
    outcome: std::result::Result<Box<RawValue>, RpcError>,
) -> Error {
    // A JSON-RPC error with a null id is the server's answer to a request it could not read.
    if id.is_null() {
        if let Err(e) = outcome {
            return Error::Rpc(e);
        }
    }
    Error::UnknownResponseId { id: id.to_string() }
}
