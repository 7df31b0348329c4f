//! Deliberately broken Streamable HTTP endpoints at `/faulty/{mode}`, for
//! the client's bad-input tests.
//!
//! `initialize` gets a normal JSON reply with an `Mcp-Session-Id` (never
//! checked afterwards) and notifications/responses get 202; every other
//! request misbehaves according to the mode:
//!
//! | mode | reply |
//! |---|---|
//! | `malformed-sse` | 200 `text/event-stream`: two `data: {not json` events, then the stream ends |
//! | `wrong-content-type` | 200 `text/html` body |
//! | `not-json` | 200 `application/json` body `hello` |
//! | `oversized` | 200 `application/json`: a valid response whose text is 8 MiB |
//! | `close-mid-stream` | 200 `text/event-stream`: one `notifications/progress` without an event id, then the connection is aborted (no final chunk, no response) |
//! | `never` | no reply at all; the connection stays open until the client gives up or the server stops |
//! | `unknown-id` | 200 `application/json`: a response with id 987654321 |
//! | `status-500` | 500 `text/plain` body |
//! | `empty-200` | 200 `application/json` with an empty body |
//!
//! `GET` gets 405, `DELETE` 200, an unknown mode 404.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::routing::post;
use axum::Router;
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::http::{empty, read};
use crate::mcp;
use crate::reply::{json, rpc_error};
use crate::rpc::{self, code, Message};
use crate::session::random_id;
use crate::{sse, Shared};

/// Every mode.
pub(crate) const MODES: &[&str] = &[
    "malformed-sse",
    "wrong-content-type",
    "not-json",
    "oversized",
    "close-mid-stream",
    "never",
    "unknown-id",
    "status-500",
    "empty-200",
];

/// Size of the `oversized` reply's text.
const OVERSIZED: usize = 8 * 1024 * 1024;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(
        "/faulty/{mode}",
        post(post_fault).get(get_fault).delete(delete_fault),
    )
}

fn unknown_mode() -> Response<Body> {
    rpc_error(
        StatusCode::NOT_FOUND,
        code::INVALID_REQUEST,
        "unknown fault mode",
    )
}

fn with_type(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

async fn get_fault(
    State(shared): State<Arc<Shared>>,
    Path(mode): Path<String>,
    req: Request,
) -> Response<Body> {
    if let Err(resp) = read(&shared, req).await {
        return resp;
    }
    if !MODES.contains(&mode.as_str()) {
        return unknown_mode();
    }
    empty(StatusCode::METHOD_NOT_ALLOWED)
}

async fn delete_fault(
    State(shared): State<Arc<Shared>>,
    Path(mode): Path<String>,
    req: Request,
) -> Response<Body> {
    if let Err(resp) = read(&shared, req).await {
        return resp;
    }
    if !MODES.contains(&mode.as_str()) {
        return unknown_mode();
    }
    empty(StatusCode::OK)
}

async fn post_fault(
    State(shared): State<Arc<Shared>>,
    Path(mode): Path<String>,
    req: Request,
) -> Response<Body> {
    let msg = match read(&shared, req).await {
        Ok((_, msg)) => msg,
        Err(resp) => return resp,
    };
    if !MODES.contains(&mode.as_str()) {
        return unknown_mode();
    }
    let Some(msg) = msg else {
        return rpc_error(StatusCode::BAD_REQUEST, code::PARSE_ERROR, "Parse error");
    };
    let (id, params) = match rpc::parse(msg) {
        Message::Request { id, method, params } if method == "initialize" => {
            let reply = rpc::respond(&id, mcp::initialize(params.as_ref(), mcp::HTTP_VERSIONS));
            let mut resp = json(StatusCode::OK, &reply);
            if let Ok(v) = HeaderValue::from_str(&random_id()) {
                resp.headers_mut().insert("mcp-session-id", v);
            }
            return resp;
        }
        Message::Request { id, params, .. } => (id, params),
        Message::Notification { .. } | Message::Response(_) => return empty(StatusCode::ACCEPTED),
        Message::Invalid => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                code::INVALID_REQUEST,
                "Invalid Request",
            )
        }
    };
    misbehave(&shared, &mode, &id, params.as_ref()).await
}

async fn misbehave(
    shared: &Shared,
    mode: &str,
    id: &Value,
    params: Option<&Value>,
) -> Response<Body> {
    match mode {
        "malformed-sse" => {
            let body = Body::from("data: {not json\n\ndata: {not json\n\n");
            sse::with_sse_headers(Response::new(body))
        }
        "wrong-content-type" => with_type(
            StatusCode::OK,
            "text/html",
            Body::from("<html><body>hello</body></html>"),
        ),
        "not-json" => with_type(StatusCode::OK, "application/json", Body::from("hello")),
        "oversized" => {
            let head = serde_json::to_string(id).unwrap_or_else(|_| "null".into());
            let mut body = Vec::with_capacity(OVERSIZED + 128);
            body.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
            body.extend_from_slice(head.as_bytes());
            body.extend_from_slice(br#","result":{"content":[{"type":"text","text":""#);
            body.resize(body.len() + OVERSIZED, b'x');
            body.extend_from_slice(br#""}]}}"#);
            with_type(StatusCode::OK, "application/json", Body::from(body))
        }
        "close-mid-stream" => {
            let token = params
                .and_then(|p| p.get("_meta"))
                .and_then(|m| m.get("progressToken"))
                .cloned()
                .unwrap_or_else(|| json!("close-mid-stream"));
            let note = json!({
                "jsonrpc": "2.0", "method": "notifications/progress",
                "params": {"progressToken": token, "progress": 1, "total": 2},
            });
            let frame = sse::frame(None, None, &serde_json::to_vec(&note).unwrap_or_default());
            // Pause after the event so it is flushed before the connection is aborted.
            let abort = stream::once(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "close-mid-stream",
                ))
            });
            let items =
                stream::once(async move { Ok::<Bytes, std::io::Error>(frame) }).chain(abort);
            sse::with_sse_headers(Response::new(Body::from_stream(items)))
        }
        "never" => {
            shared.hub.token.cancelled().await;
            empty(StatusCode::SERVICE_UNAVAILABLE)
        }
        "unknown-id" => json(
            StatusCode::OK,
            &rpc::ok(&json!(987_654_321), json!({"content": []})),
        ),
        "status-500" => with_type(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            Body::from("internal server error (faulty/status-500)"),
        ),
        "empty-200" => with_type(StatusCode::OK, "application/json", Body::empty()),
        _ => unknown_mode(),
    }
}
