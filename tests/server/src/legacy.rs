//! The legacy HTTP+SSE transport (protocol version 2024-11-05): `GET /sse`
//! opens the stream (first event `endpoint`), `POST /messages?sessionId=…`
//! sends messages, whose replies arrive as `message` events on the stream.

use std::convert::Infallible;
use std::sync::{Arc, Weak};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::http::{empty, read};
use crate::mcp;
use crate::reply::rpc_error;
use crate::rpc::{self, code, Message};
use crate::session::Ctx;
use crate::session::{random_id, Session};
use crate::sync::lock;
use crate::{sse, Shared};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sse", get(open).post(post_sse))
        .route("/messages", post(messages))
}

/// Removes a legacy session when its SSE connection goes away.
struct Guard {
    shared: Weak<Shared>,
    id: Arc<str>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            let session = lock(&shared.legacy).remove(&self.id);
            if let Some(session) = session {
                session.close();
            }
        }
    }
}

/// `GET /sse`: a new session and its stream.
async fn open(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, _) = req.into_parts();
    shared.recorder.record(&parts, None);
    let id: Arc<str> = random_id().into();
    let (tx, rx) = mpsc::unbounded_channel::<Value>();
    let session = Arc::new(Session::channel(Some(id.clone()), tx, &shared.hub));
    lock(&shared.legacy).insert(id.clone(), session);
    let endpoint = sse::frame(
        Some("endpoint"),
        None,
        format!("/messages?sessionId={id}").as_bytes(),
    );
    let guard = Guard {
        shared: Arc::downgrade(&shared),
        id,
    };
    let messages = UnboundedReceiverStream::new(rx).map(move |msg| {
        let _keep = &guard;
        sse::frame(
            Some("message"),
            None,
            &serde_json::to_vec(&msg).unwrap_or_default(),
        )
    });
    let body = stream::once(async move { endpoint })
        .chain(messages)
        .map(Ok::<_, Infallible>);
    sse::with_sse_headers(Response::new(Body::from_stream(body)))
}

/// `POST /sse` (a client trying Streamable HTTP first): 405.
async fn post_sse(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    if let Err(resp) = read(&shared, req).await {
        return resp;
    }
    let mut resp = empty(StatusCode::METHOD_NOT_ALLOWED);
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    resp
}

/// `POST /messages?sessionId=…`: 202, the reply goes out on the stream.
async fn messages(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, msg) = match read(&shared, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let sid = parts
        .uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("sessionId=")));
    let Some(sid) = sid else {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            code::INVALID_REQUEST,
            "Bad Request: missing sessionId",
        );
    };
    let Some(session) = lock(&shared.legacy).get(sid).cloned() else {
        return rpc_error(
            StatusCode::NOT_FOUND,
            code::INVALID_REQUEST,
            "Session not found",
        );
    };
    let Some(msg) = msg else {
        return rpc_error(StatusCode::BAD_REQUEST, code::PARSE_ERROR, "Parse error");
    };
    match rpc::parse(msg) {
        Message::Request { id, method, params } => {
            let out = session.outbox_channel();
            let long = mcp::is_long(&method, params.as_ref());
            let shared = shared.clone();
            let work = async move {
                let ctx = Ctx {
                    session: &session,
                    hub: &shared.hub,
                    out: &out,
                    versions: mcp::ALL_VERSIONS,
                };
                if let Some(reply) = mcp::handle_request(&ctx, &id, &method, params.as_ref()).await
                {
                    out.send(reply);
                }
            };
            if long {
                tokio::spawn(work);
            } else {
                work.await;
            }
        }
        Message::Notification { method, params } => {
            let out = session.outbox_channel();
            let ctx = Ctx {
                session: &session,
                hub: &shared.hub,
                out: &out,
                versions: mcp::ALL_VERSIONS,
            };
            mcp::handle_notification(&ctx, &method, params.as_ref());
        }
        Message::Response(msg) => {
            session.deliver_response(&msg);
        }
        Message::Invalid => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                code::INVALID_REQUEST,
                "Invalid Request",
            )
        }
    }
    empty(StatusCode::ACCEPTED)
}
