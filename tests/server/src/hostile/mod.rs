//! Hostile servers: `/hostile/{case}/mcp` is a complete MCP server protected by OAuth, with its
//! own authorization server, that is correct except for one misbehaviour, the `case` (see
//! [`cases`]). For the client's hostile-server tests (`tests/hostile.rs`, `tests/c/test_hostile.c`).
//!
//! Each case has an inner server, made on its first request: the test server's own
//! Streamable HTTP and OAuth routes (`crate::http`, `crate::oauth`) with the issuer
//! `http://127.0.0.1:PORT/hostile/{case}` and the resource `…/hostile/{case}/mcp`. Requests
//! reach it through one handler here, which records them (in the server's request log),
//! notes every secret they carry or their answers hand out, and, at the case's stage, answers
//! itself or changes the real answer. The routes:
//!
//! | path | inner path |
//! |---|---|
//! | `/hostile/{case}/mcp` | `/mcp` |
//! | `/hostile/{case}/{endpoint}` (`authorize`, `token`, `register`, …) | the same |
//! | `/.well-known/oauth-protected-resource/hostile/{case}/mcp` | `/.well-known/oauth-protected-resource/mcp` |
//! | `/.well-known/oauth-authorization-server/hostile/{case}` (and OpenID's) | the same |
//! | `GET /hostile/_state` | `{"secrets": [{kind, value}], "streamed": {case: bytes}}` |
//!
//! The inner servers' challenges name the hostile resource metadata URL. Every client secret,
//! token, code, PKCE verifier and Basic credential seen goes into `/hostile/_state` so tests
//! can check none reaches a log, event or error; `streamed` counts the bytes each case's
//! generated bodies yielded (they must stop when the client hangs up). A pre-registered
//! confidential client, [`CLIENT_ID`] / [`CLIENT_SECRET`] (`client_secret_basic`), is known to
//! every inner server; dynamic registration works too.

mod bodies;
mod cases;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Response, StatusCode, Uri};
use axum::routing::{any, get};
use axum::Router;
use base64::Engine as _;
use hyper::service::Service as _;
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};

use crate::oauth::Form;
use crate::reply::{json as json_reply, rpc_error};
use crate::rpc::code;
use crate::sync::lock;
use crate::{AuthOptions, PreRegistered, ServerOptions, Shared};

use cases::{At, Stage};

/// The client id every inner server knows.
pub(crate) const CLIENT_ID: &str = "hostile-client";
/// Its secret (`client_secret_basic`): a canary that must never reach a log or an error.
pub(crate) const CLIENT_SECRET: &str = "hostile-canary-client-secret-5b1e9f";
/// Largest request body read.
const MAX_REQUEST: usize = 16 * 1024 * 1024;
/// Largest inner answer read whole (inner answers are small; SSE passes through).
const MAX_INNER: usize = 64 * 1024 * 1024;

/// The state of the hostile routes of one test server.
#[derive(Default)]
struct Hostile {
    inner: Mutex<HashMap<&'static str, Arc<Inner>>>,
    secrets: Mutex<Vec<(String, String)>>,
    streamed: Mutex<HashMap<&'static str, Arc<AtomicU64>>>,
}

/// One case's inner server.
pub(crate) struct Inner {
    shared: Arc<Shared>,
    router: Router,
    /// `tools/call` requests seen.
    pub(crate) calls: AtomicU64,
    /// The first authorization code handed out (for `replayed_code`).
    pub(crate) first_code: Mutex<Option<String>>,
}

impl Inner {
    /// Ends every session of the inner server (the next request with one gets 404).
    pub(crate) fn expire_sessions(&self) {
        self.shared.expire_sessions();
    }
}

/// What a case's fault may look at.
pub(crate) struct Ctx<'a> {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: &'a str,
    /// The `Host` the request was sent to.
    pub(crate) host: &'a str,
    /// The case.
    pub(crate) case: &'static str,
    /// The port.
    pub(crate) port: u16,
    /// The JSON-RPC id of an MCP request.
    pub(crate) id: Value,
    /// The request's head and body (for the pages that reflect it).
    pub(crate) parts: &'a Parts,
    pub(crate) body: &'a [u8],
    /// The case's inner server.
    pub(crate) inner: &'a Inner,
    /// Counts the bytes of generated bodies.
    pub(crate) streamed: Arc<AtomicU64>,
    /// Cancelled when the server stops.
    pub(crate) stop: tokio_util::sync::CancellationToken,
}

impl Ctx<'_> {
    /// The same server under another origin (`localhost` instead of `127.0.0.1`).
    pub(crate) fn other_origin(&self) -> String {
        format!("http://localhost:{}/hostile/{}", self.port, self.case)
    }

    /// The protected resource metadata URL challenges name.
    pub(crate) fn prm_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-protected-resource/hostile/{}/mcp",
            self.base, self.case
        )
    }

    /// The URL this request was sent to, as the client saw it.
    pub(crate) fn request_url(&self) -> String {
        let pq = self
            .parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        format!("http://{}{pq}", self.host)
    }
}

/// Every hostile route.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    let state = Arc::new(Hostile::default());
    let h = state.clone();
    let handler = move |State(shared): State<Arc<Shared>>, req: Request| {
        let h = h.clone();
        async move { handle(h, shared, req).await }
    };
    let s = state;
    let report = move || {
        let s = s.clone();
        async move { json_reply(StatusCode::OK, &s.report()) }
    };
    Router::new()
        .route("/hostile/_state", get(report))
        .route("/hostile/{case}/{*rest}", any(handler.clone()))
        .route(
            "/.well-known/oauth-protected-resource/hostile/{*rest}",
            any(handler.clone()),
        )
        .route(
            "/.well-known/oauth-authorization-server/hostile/{*rest}",
            any(handler.clone()),
        )
        .route(
            "/.well-known/openid-configuration/hostile/{*rest}",
            any(handler),
        )
}

impl Hostile {
    fn report(&self) -> Value {
        let secrets: Vec<Value> = lock(&self.secrets)
            .iter()
            .map(|(k, v)| json!({"kind": k, "value": v}))
            .collect();
        let streamed: serde_json::Map<String, Value> = lock(&self.streamed)
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v.load(Ordering::Relaxed))))
            .collect();
        json!({"secrets": secrets, "streamed": streamed})
    }

    fn secret(&self, kind: &str, value: &str) {
        if value.len() < 8 {
            return;
        }
        let mut s = lock(&self.secrets);
        if !s.iter().any(|(_, v)| v == value) {
            s.push((kind.to_owned(), value.to_owned()));
        }
    }

    fn streamed(&self, case: &'static str) -> Arc<AtomicU64> {
        lock(&self.streamed).entry(case).or_default().clone()
    }

    /// The case's inner server, made on first use.
    fn inner(&self, case: &'static str, port: u16, outer: &Shared) -> std::io::Result<Arc<Inner>> {
        let mut all = lock(&self.inner);
        if let Some(i) = all.get(case) {
            return Ok(i.clone());
        }
        let base = format!("http://127.0.0.1:{port}");
        let opts = ServerOptions {
            record: false,
            auth: Some(AuthOptions {
                issuer_path: Some(format!("hostile/{case}")),
                prm_resource: Some(format!("{base}/hostile/{case}/mcp")),
                pre_registered: vec![PreRegistered::confidential(
                    CLIENT_ID,
                    CLIENT_SECRET,
                    "client_secret_basic",
                )],
                ..Default::default()
            }),
            ..Default::default()
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let shared = Arc::new(Shared::new(opts, addr)?);
        let auth = shared
            .auth
            .as_ref()
            .ok_or_else(|| std::io::Error::other("the inner server has no auth"))?;
        let router = Router::new()
            .merge(crate::http::routes())
            .merge(crate::oauth::routes(auth))
            .fallback(crate::http::not_found)
            .with_state(shared.clone());
        // The inner server stops with the outer one.
        let (stop, inner_shared) = (outer.hub.token.clone(), shared.clone());
        tokio::spawn(async move {
            stop.cancelled().await;
            inner_shared.close_all();
        });
        let inner = Arc::new(Inner {
            shared,
            router,
            calls: AtomicU64::new(0),
            first_code: Mutex::new(None),
        });
        all.insert(case, inner.clone());
        Ok(inner)
    }

    /// Notes the secrets a request carries.
    fn request_secrets(&self, parts: &Parts, body: &[u8]) {
        if let Some(a) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            if let Some((scheme, cred)) = a.trim().split_once(' ') {
                let cred = cred.trim();
                if scheme.eq_ignore_ascii_case("basic") {
                    self.secret("Basic credentials", cred);
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(cred)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok());
                    if let Some((_, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                        let secret: String =
                            url::form_urlencoded::parse(format!("s={secret}").as_bytes())
                                .next()
                                .map(|(_, v)| v.into_owned())
                                .unwrap_or_default();
                        self.secret("client secret", &secret);
                    }
                } else {
                    self.secret("access token", cred);
                }
            }
        }
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            for (k, v) in url::form_urlencoded::parse(body) {
                let kind = match k.as_ref() {
                    "code" => "authorization code",
                    "code_verifier" => "PKCE verifier",
                    "client_secret" => "client secret",
                    "refresh_token" => "refresh token",
                    "client_assertion" => "client assertion",
                    "token" => "token",
                    _ => continue,
                };
                self.secret(kind, &v);
            }
        }
    }

    /// Notes the secrets an answer hands out.
    fn answer_secrets(&self, headers: &HeaderMap, body: &[u8]) {
        if let Some(loc) = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url::Url::parse(l).ok())
        {
            for (k, v) in loc.query_pairs() {
                if k == "code" {
                    self.secret("authorization code", &v);
                }
            }
        }
        if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
            for (k, kind) in [
                ("access_token", "access token"),
                ("refresh_token", "refresh token"),
                ("client_secret", "client secret"),
                ("device_code", "device code"),
            ] {
                if let Some(v) = m.get(k).and_then(Value::as_str) {
                    self.secret(kind, v);
                }
            }
        }
    }
}

/// The case and the inner path of a hostile URL path.
fn route(path: &str) -> Option<(&str, String)> {
    if let Some(rest) = path.strip_prefix("/hostile/") {
        let (case, rest) = rest.split_once('/')?;
        let inner = if rest == "mcp" {
            "/mcp".to_owned()
        } else {
            format!("/hostile/{case}/{rest}")
        };
        return Some((case, inner));
    }
    if let Some(rest) = path.strip_prefix("/.well-known/oauth-protected-resource/hostile/") {
        let (case, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let inner = if tail.is_empty() {
            "/.well-known/oauth-protected-resource".to_owned()
        } else {
            format!("/.well-known/oauth-protected-resource/{tail}")
        };
        return Some((case, inner));
    }
    for wk in [
        "/.well-known/oauth-authorization-server/hostile/",
        "/.well-known/openid-configuration/hostile/",
    ] {
        if let Some(rest) = path.strip_prefix(wk) {
            let case = rest.split('/').next().unwrap_or(rest);
            return Some((case, path.to_owned()));
        }
    }
    None
}

/// The step of the flow a request (to the inner `path`) belongs to.
fn stage_of(path: &str, rpc_method: Option<&str>) -> At {
    if path == "/mcp" {
        At::Mcp(rpc_method.map(str::to_owned))
    } else if path.starts_with("/.well-known/oauth-protected-resource") {
        At::Prm
    } else if path.contains("/.well-known/") {
        At::AsMeta
    } else if path.ends_with("/register") {
        At::Register
    } else if path.ends_with("/authorize") {
        At::Authorize
    } else if path.ends_with("/token") {
        At::Token
    } else {
        At::Other
    }
}

/// The port of the `Host` header.
fn port_of(headers: &HeaderMap) -> Option<u16> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    host.rsplit_once(':')?.1.parse().ok()
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(text.to_owned()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn handle(h: Arc<Hostile>, shared: Arc<Shared>, req: Request) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let Some((name, inner_path)) = route(&path) else {
        return plain(StatusCode::NOT_FOUND, "not a hostile path");
    };
    let Some(case) = cases::find(name) else {
        return plain(StatusCode::NOT_FOUND, "unknown hostile case");
    };
    let Some(port) = port_of(req.headers()) else {
        return plain(StatusCode::BAD_REQUEST, "no port in Host");
    };
    let inner = match h.inner(case.name, port, &shared) {
        Ok(i) => i,
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REQUEST).await else {
        shared.recorder.record(&parts, None);
        return rpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::INVALID_REQUEST,
            "request body unreadable or too large",
        );
    };
    let json_body = serde_json::from_slice::<Value>(&bytes).ok();
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let recorded = if is_form {
        Some(Form::parse(&bytes).to_json())
    } else {
        json_body.clone()
    };
    shared.recorder.record(&parts, recorded.as_ref());
    h.request_secrets(&parts, &bytes);

    let rpc_method = json_body
        .as_ref()
        .filter(|_| inner_path == "/mcp")
        .and_then(|v| v.get("method"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let id = json_body
        .as_ref()
        .and_then(|v| v.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    if rpc_method.as_deref() == Some("tools/call") {
        inner.calls.fetch_add(1, Ordering::Relaxed);
    }
    let stage = stage_of(&inner_path, rpc_method.as_deref());
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let base = format!("http://127.0.0.1:{port}");
    let ctx = Ctx {
        base: &base,
        host: &host,
        case: case.name,
        port,
        id,
        parts: &parts,
        body: &bytes,
        inner: &inner,
        streamed: h.streamed(case.name),
        stop: shared.hub.token.clone(),
    };
    let hit = case.stage.matches(&stage);
    if hit {
        if let Some(resp) = cases::answer(case, &ctx).await {
            return resp;
        }
        cases::before(case, &ctx);
    }

    // The real answer, from the inner server.
    let mut fwd = parts.clone();
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    fwd.uri = match format!("{inner_path}{query}").parse::<Uri>() {
        Ok(u) => u,
        Err(_) => return plain(StatusCode::BAD_REQUEST, "bad path"),
    };
    let inner_req = Request::from_parts(fwd, Body::from(bytes.clone()));
    let resp = match TowerToHyperService::new(inner.router.clone())
        .call(inner_req)
        .await
    {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (mut rparts, rbody) = resp.into_parts();
    fix_challenge(&mut rparts.headers, &ctx);
    let sse = rparts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let challenged = matches!(stage, At::Mcp(_))
        && (rparts.status == StatusCode::UNAUTHORIZED || rparts.status == StatusCode::FORBIDDEN);
    let edit = hit || (case.stage == Stage::Challenge && challenged);
    if sse && !edit {
        return Response::from_parts(rparts, rbody);
    }
    let Ok(rbytes) = axum::body::to_bytes(rbody, MAX_INNER).await else {
        return plain(StatusCode::BAD_GATEWAY, "the inner answer was unreadable");
    };
    h.answer_secrets(&rparts.headers, &rbytes);
    if !edit {
        return Response::from_parts(rparts, Body::from(rbytes));
    }
    let resp = cases::rewrite(case, &ctx, rparts, rbytes);
    // What the rewritten answer hands out (a replayed code, an edited token) is noted too.
    if let Some(loc) = resp.headers().get(header::LOCATION) {
        let mut hm = HeaderMap::new();
        hm.insert(header::LOCATION, loc.clone());
        h.answer_secrets(&hm, b"");
    }
    resp
}

/// Points the inner server's challenges at the hostile resource metadata URL.
fn fix_challenge(headers: &mut HeaderMap, ctx: &Ctx<'_>) {
    let inner_prm = format!("{}/.well-known/oauth-protected-resource/mcp", ctx.base);
    let values: Vec<HeaderValue> = headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .cloned()
        .collect();
    if values.is_empty() {
        return;
    }
    headers.remove(header::WWW_AUTHENTICATE);
    for v in values {
        let fixed = match v.to_str() {
            Ok(s) => HeaderValue::from_str(&s.replace(&inner_prm, &ctx.prm_url())).unwrap_or(v),
            Err(_) => v,
        };
        headers.append(header::WWW_AUTHENTICATE, fixed);
    }
}

/// A response with these parts and a new body (any stale `Content-Length` dropped).
pub(crate) fn rebuilt(mut parts: axum::http::response::Parts, body: Body) -> Response<Body> {
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, body)
}

/// A response with a status, a content type (any bytes) and a body.
pub(crate) fn raw(status: u16, content_type: &[u8], body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_bytes(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// How long trickling bodies wait between bytes.
pub(crate) const TRICKLE: Duration = Duration::from_secs(1);
