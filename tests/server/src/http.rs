//! Streamable HTTP (protocol versions 2025-03-26 to 2025-11-25) at `/mcp`.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Response, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;

use crate::mcp;
use crate::oauth;
use crate::reply::{json, rpc_error};
use crate::rpc::{self, code, Message};
use crate::session::Ctx;
use crate::session::{random_id, Outbox, Session};
use crate::sse::{self, Attached};
use crate::{ReplyMode, Shared};

/// Largest request body accepted.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;
const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/mcp", post(post_mcp).get(get_mcp).delete(delete_mcp))
}

/// A request refused before dispatch: status, JSON-RPC code and message.
pub(crate) struct Reject(StatusCode, i64, Cow<'static, str>);

impl Reject {
    fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self(status, code::INVALID_REQUEST, message.into())
    }

    /// The HTTP response for this refusal.
    pub(crate) fn response(&self) -> Response<Body> {
        rpc_error(self.0, self.1, &self.2)
    }
}

/// A response with no body.
pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}

/// Reads a request's body, records the request and parses the body as JSON.
pub(crate) async fn read(
    shared: &Shared,
    req: Request,
) -> Result<(Parts, Option<Value>), Response<Body>> {
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            shared.recorder.record(&parts, None);
            return Err(rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::INVALID_REQUEST,
                "request body unreadable or too large",
            ));
        }
    };
    let msg = serde_json::from_slice::<Value>(&bytes).ok();
    shared.recorder.record(&parts, msg.as_ref());
    Ok((parts, msg))
}

/// Any unknown path: recorded, then 404.
pub(crate) async fn not_found(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    match read(&shared, req).await {
        Ok(_) => rpc_error(StatusCode::NOT_FOUND, code::INVALID_REQUEST, "Not found"),
        Err(resp) => resp,
    }
}

/// 403 unless a present `Origin` is a loopback one (DNS-rebinding protection).
fn check_origin(headers: &HeaderMap) -> Result<(), Reject> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = origin
        .to_str()
        .ok()
        .and_then(|o| {
            o.strip_prefix("http://")
                .or_else(|| o.strip_prefix("https://"))
        })
        .map(|rest| {
            if let Some(v6) = rest.strip_prefix('[') {
                v6.split(']').next().unwrap_or_default()
            } else {
                rest.split(':').next().unwrap_or_default()
            }
        });
    match host {
        Some("127.0.0.1" | "localhost" | "::1") => Ok(()),
        _ => Err(Reject::new(
            StatusCode::FORBIDDEN,
            "Forbidden: invalid Origin",
        )),
    }
}

/// Which of `application/json` and `text/event-stream` the Accept headers list.
fn accepted(headers: &HeaderMap) -> (bool, bool) {
    let (mut json, mut sse) = (false, false);
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let media = item.split(';').next().unwrap_or_default().trim();
            if media.eq_ignore_ascii_case("application/json") {
                json = true;
            } else if media.eq_ignore_ascii_case("text/event-stream") {
                sse = true;
            }
        }
    }
    (json, sse)
}

/// 400 if `MCP-Protocol-Version` is present but not a version we speak.
fn check_version(headers: &HeaderMap) -> Result<(), Reject> {
    let Some(value) = headers.get(VERSION_HEADER) else {
        return Ok(());
    };
    let value = value.to_str().unwrap_or("?");
    if mcp::HTTP_VERSIONS.contains(&value) {
        return Ok(());
    }
    let message = format!(
        "Bad Request: Unsupported protocol version: {value} (supported versions: {})",
        mcp::HTTP_VERSIONS.join(", ")
    );
    Err(Reject::new(StatusCode::BAD_REQUEST, message))
}

/// The session a request belongs to: 400 without a session id, 404 for an unknown one.
fn session_for(shared: &Shared, headers: &HeaderMap) -> Result<Arc<Session>, Reject> {
    if !shared.opts.sessions {
        return Ok(shared.default_session.clone());
    }
    let Some(id) = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()) else {
        return Err(Reject::new(
            StatusCode::BAD_REQUEST,
            "Bad Request: missing Mcp-Session-Id",
        ));
    };
    let sessions = shared.sessions.read().unwrap_or_else(|e| e.into_inner());
    sessions
        .get(id)
        .cloned()
        .ok_or_else(|| Reject::new(StatusCode::NOT_FOUND, "Session not found"))
}

/// Checks common to every request after `initialize`.
fn admit(shared: &Shared, headers: &HeaderMap) -> Result<Arc<Session>, Reject> {
    check_version(headers)?;
    session_for(shared, headers)
}

fn session_header(resp: &mut Response<Body>, session: &Session) {
    if let Some(id) = &session.id {
        if let Ok(v) = HeaderValue::from_str(id) {
            resp.headers_mut().insert(SESSION_HEADER, v);
        }
    }
}

async fn post_mcp(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, msg) = match read(&shared, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if let Err(reject) = check_origin(&parts.headers) {
        return reject.response();
    }
    if let Some(auth) = &shared.auth {
        if let Some(resp) = oauth::resource::refusal(auth, &parts, msg.as_ref()) {
            return resp;
        }
    }
    if accepted(&parts.headers) != (true, true) {
        return rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            code::INVALID_REQUEST,
            "Not Acceptable: Accept must list application/json and text/event-stream",
        );
    }
    let Some(msg) = msg else {
        return rpc_error(StatusCode::BAD_REQUEST, code::PARSE_ERROR, "Parse error");
    };
    match rpc::parse(msg) {
        Message::Request { id, method, params } if method == "initialize" => {
            initialize(&shared, &id, params.as_ref())
        }
        Message::Request { id, method, params } => match admit(&shared, &parts.headers) {
            Ok(session) => request(shared, session, id, method, params).await,
            Err(reject) => reject.response(),
        },
        Message::Notification { method, params } => match admit(&shared, &parts.headers) {
            Ok(session) => {
                let ctx = Ctx {
                    session: &session,
                    hub: &shared.hub,
                    out: &Outbox::None,
                    versions: mcp::HTTP_VERSIONS,
                };
                mcp::handle_notification(&ctx, &method, params.as_ref());
                empty(StatusCode::ACCEPTED)
            }
            Err(reject) => reject.response(),
        },
        Message::Response(msg) => match admit(&shared, &parts.headers) {
            Ok(session) => {
                session.deliver_response(&msg);
                empty(StatusCode::ACCEPTED)
            }
            Err(reject) => reject.response(),
        },
        Message::Invalid => rpc_error(
            StatusCode::BAD_REQUEST,
            code::INVALID_REQUEST,
            "Invalid Request: not a JSON-RPC request, notification or response",
        ),
    }
}

/// `initialize`: negotiates, mints a session (when on and successful) and replies.
fn initialize(shared: &Shared, id: &Value, params: Option<&Value>) -> Response<Body> {
    let result = mcp::initialize_with(params, mcp::HTTP_VERSIONS, shared.hub.tasks);
    let session = if result.is_ok() && shared.opts.sessions {
        let sid: Arc<str> = random_id().into();
        let session = Arc::new(Session::http(
            Some(sid.clone()),
            shared.opts.sse_event_ids,
            &shared.hub,
        ));
        shared
            .sessions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sid, session.clone());
        session
    } else {
        shared.default_session.clone()
    };
    let reply = rpc::respond(id, result);
    let mut resp = if shared.opts.reply == ReplyMode::Sse {
        let stream = session.new_stream();
        if shared.opts.sse_priming {
            stream.push_data(b"");
        }
        let attached = stream.attach(0);
        stream.push(&reply);
        stream.finish();
        sse::response(shared.opts.sse_retry_ms, attached)
    } else {
        json(StatusCode::OK, &reply)
    };
    session_header(&mut resp, &session);
    resp
}

/// Any other request: a JSON reply, or an SSE stream for SSE mode and for
/// tools that talk to the client while running.
async fn request(
    shared: Arc<Shared>,
    session: Arc<Session>,
    id: Value,
    method: String,
    params: Option<Value>,
) -> Response<Body> {
    let streamed = mcp::needs_stream(&method, params.as_ref());
    if !streamed && shared.opts.reply == ReplyMode::Json {
        // The hot path: no stream, no task.
        let ctx = Ctx {
            session: &session,
            hub: &shared.hub,
            out: &Outbox::None,
            versions: mcp::HTTP_VERSIONS,
        };
        let reply = mcp::handle_request(&ctx, &id, &method, params.as_ref())
            .await
            .unwrap_or_else(|| rpc::error(Some(&id), code::REQUEST_CANCELLED, "Request cancelled"));
        return json(StatusCode::OK, &reply);
    }

    let opts = &shared.opts;
    let stream = session.new_stream();
    let drop_connection = opts.drop_sse_after_first_event && opts.sse_event_ids;
    if opts.sse_priming || drop_connection {
        stream.push_data(b"");
    }
    let attached = if drop_connection {
        // Only the priming event; the rest waits for a GET with Last-Event-ID.
        stream.replay(0)
    } else {
        stream.attach(0)
    };

    if !drop_connection && !mcp::is_long(&method, params.as_ref()) {
        let out = Outbox::Stream(stream.clone());
        let ctx = Ctx {
            session: &session,
            hub: &shared.hub,
            out: &out,
            versions: mcp::HTTP_VERSIONS,
        };
        if let Some(reply) = mcp::handle_request(&ctx, &id, &method, params.as_ref()).await {
            stream.push(&reply);
        }
        stream.finish();
        return sse::response(opts.sse_retry_ms, attached);
    }

    let task_stream = stream.clone();
    let task_shared = shared.clone();
    tokio::spawn(async move {
        let out = Outbox::Stream(task_stream.clone());
        let ctx = Ctx {
            session: &session,
            hub: &task_shared.hub,
            out: &out,
            versions: mcp::HTTP_VERSIONS,
        };
        if let Some(reply) = mcp::handle_request(&ctx, &id, &method, params.as_ref()).await {
            task_stream.push(&reply);
        }
        task_stream.finish();
    });
    sse::response(opts.sse_retry_ms, attached)
}

/// `GET /mcp`: the standalone stream, or with `Last-Event-ID` the
/// resumption of any stream of the session.
async fn get_mcp(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, _) = req.into_parts();
    shared.recorder.record(&parts, None);
    if let Err(reject) = check_origin(&parts.headers) {
        return reject.response();
    }
    if let Some(auth) = &shared.auth {
        if let Some(resp) = oauth::resource::refusal(auth, &parts, None) {
            return resp;
        }
    }
    if !accepted(&parts.headers).1 {
        return rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            code::INVALID_REQUEST,
            "Not Acceptable: Accept must list text/event-stream",
        );
    }
    let session = match admit(&shared, &parts.headers) {
        Ok(s) => s,
        Err(reject) => return reject.response(),
    };
    let last = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok());
    let attached: Attached = match last {
        Some(last) => {
            let stream =
                sse::parse_event_id(last).and_then(|(s, seq)| Some((session.stream(s)?, seq)));
            match stream {
                Some((stream, seq)) => stream.attach(seq),
                None => {
                    return rpc_error(
                        StatusCode::BAD_REQUEST,
                        code::INVALID_REQUEST,
                        "Bad Request: unknown Last-Event-ID",
                    )
                }
            }
        }
        None => session.open_standalone(shared.opts.sse_priming),
    };
    sse::response(shared.opts.sse_retry_ms, attached)
}

/// `DELETE /mcp`: ends the session (405 when sessions are off).
async fn delete_mcp(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, _) = req.into_parts();
    shared.recorder.record(&parts, None);
    if let Err(reject) = check_origin(&parts.headers) {
        return reject.response();
    }
    if let Some(auth) = &shared.auth {
        if let Some(resp) = oauth::resource::refusal(auth, &parts, None) {
            return resp;
        }
    }
    if !shared.opts.sessions {
        return empty(StatusCode::METHOD_NOT_ALLOWED);
    }
    let session = match admit(&shared, &parts.headers) {
        Ok(s) => s,
        Err(reject) => return reject.response(),
    };
    if let Some(id) = &session.id {
        shared
            .sessions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
    session.close();
    empty(StatusCode::OK)
}
