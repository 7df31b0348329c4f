//! `/debug/*`: what a test in another process (the Python and Go suites) needs to see or do
//! that a Rust test reaches through [`crate::TestServer`]'s methods.
//!
//! | route | what |
//! |---|---|
//! | `GET /debug/cancelled` | the request ids seen in `notifications/cancelled`, as a JSON array |
//! | `GET /debug/auth-stats` | the authorization server's counters, as a JSON object |
//! | `POST /debug/expire-tokens` | every access token issued so far expires now (refresh tokens stay) |
//! | `GET /debug/request-counts` | every request received but `/debug/*` ones, counted by `"METHOD /path"`, as a JSON object |
//! | `GET /debug/rpc-counts` | the recorded requests' JSON-RPC methods (`"-"` for a response or no body), counted, as a JSON object |

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Response, StatusCode};
use axum::middleware::Next;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::http::empty;
use crate::reply::json;
use crate::sync::lock;
use crate::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/debug/cancelled", get(cancelled))
        .route("/debug/auth-stats", get(auth_stats))
        .route("/debug/expire-tokens", post(expire_tokens))
        .route("/debug/request-counts", get(request_counts))
        .route("/debug/rpc-counts", get(rpc_counts))
}

async fn cancelled(State(shared): State<Arc<Shared>>) -> Response<Body> {
    let ids = lock(&shared.hub.cancelled).clone();
    json(StatusCode::OK, &json!(ids))
}

async fn auth_stats(State(shared): State<Arc<Shared>>) -> Response<Body> {
    let s = shared
        .auth
        .as_ref()
        .map(crate::oauth::AuthServer::stats)
        .unwrap_or_default();
    json(
        StatusCode::OK,
        &json!({
            "authorize_requests": s.authorize_requests,
            "token_requests": s.token_requests,
            "registrations": s.registrations,
            "refresh_replays_detected": s.refresh_replays_detected,
            "invalid_grants": s.invalid_grants,
            "code_replays_detected": s.code_replays_detected,
            "device_authorizations": s.device_authorizations,
            "revocations": s.revocations,
        }),
    )
}

async fn expire_tokens(State(shared): State<Arc<Shared>>) -> Response<Body> {
    if let Some(auth) = &shared.auth {
        let now = std::time::Instant::now();
        for t in auth.store().access.values_mut() {
            t.expires = now;
        }
    }
    empty(StatusCode::NO_CONTENT)
}

/// The middleware behind `/debug/request-counts`: counts every request but `/debug/*` ones
/// (benches/compare counts a client's HTTP requests from nothing to its first call with it).
pub(crate) async fn count_request(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response<Body> {
    if !req.uri().path().starts_with("/debug/") {
        let key = format!("{} {}", req.method(), req.uri().path());
        *lock(&shared.request_counts).entry(key).or_default() += 1;
    }
    next.run(req).await
}

async fn request_counts(State(shared): State<Arc<Shared>>) -> Response<Body> {
    let counts = lock(&shared.request_counts).clone();
    json(StatusCode::OK, &json!(counts))
}

async fn rpc_counts(State(shared): State<Arc<Shared>>) -> Response<Body> {
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for r in shared.recorder.snapshot() {
        if r.path.starts_with("/debug/") {
            continue;
        }
        let key = format!("{} {} {}", r.method, r.path, r.rpc_method().unwrap_or("-"));
        *counts.entry(key).or_default() += 1;
    }
    json(StatusCode::OK, &json!(counts))
}
