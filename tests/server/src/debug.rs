//! `/debug/*`: what a test in another process (the Python and Go suites) needs to see or do
//! that a Rust test reaches through [`crate::TestServer`]'s methods.
//!
//! | route | what |
//! |---|---|
//! | `GET /debug/cancelled` | the request ids seen in `notifications/cancelled`, as a JSON array |
//! | `GET /debug/auth-stats` | the authorization server's counters, as a JSON object |
//! | `POST /debug/expire-tokens` | every access token issued so far expires now (refresh tokens stay) |

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, StatusCode};
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
