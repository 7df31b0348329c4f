//! HTTP responses with JSON bodies, for every route (MCP and OAuth).

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use serde_json::Value;

use crate::rpc;

/// A response with a JSON body.
pub(crate) fn json(status: StatusCode, v: &Value) -> Response<Body> {
    let body = serde_json::to_vec(v).unwrap_or_default();
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// An HTTP error whose body is a JSON-RPC error without an id.
pub(crate) fn rpc_error(status: StatusCode, code: i64, message: &str) -> Response<Body> {
    json(status, &rpc::error(None, code, message))
}
