//! A cheap log of the HTTP requests the server received, for tests to inspect.

use std::sync::Mutex;

use axum::http::request::Parts;
use serde_json::Value;

use crate::sync::lock;

/// One HTTP request as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The path, without the query, e.g. `/mcp`.
    pub path: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    /// Every header in arrival order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body, when it was JSON; for form posts to the authorization
    /// server (`/token`, `/revoke`, `/device_authorization`,
    /// `/authorize/consent`), the form fields as a JSON object of strings.
    pub body: Option<Value>,
}

impl RecordedRequest {
    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC method of the body, if any.
    pub fn rpc_method(&self) -> Option<&str> {
        self.body.as_ref()?.get("method")?.as_str()
    }
}

/// The request log; a no-op when disabled.
pub(crate) struct Recorder {
    enabled: bool,
    log: Mutex<Vec<RecordedRequest>>,
}

impl Recorder {
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            enabled,
            log: Mutex::new(Vec::new()),
        }
    }

    /// Records one request (cheaply skipped when disabled).
    pub(crate) fn record(&self, parts: &Parts, body: Option<&Value>) {
        if !self.enabled {
            return;
        }
        let entry = RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.cloned(),
        };
        lock(&self.log).push(entry);
    }

    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        lock(&self.log).clone()
    }

    pub(crate) fn clear(&self) {
        lock(&self.log).clear();
    }
}
