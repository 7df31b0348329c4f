//! The one error type of the library.
//!
//! Every failure a host can meet is a variant with the context needed to act on it. The C,
//! Go and Python bindings map [`Error::kind`] to their own codes and exception classes, so the
//! kinds are stable: new variants may be added, existing ones never change meaning.
//!
//! No variant carries a secret: tokens, codes and client secrets never reach an error message.
//! OAuth failures have their own enum ([`OAuthError`]), carried by [`Error::OAuth`].

mod oauth;

use std::fmt;
use std::time::Duration;

pub use oauth::OAuthError;

use crate::body::BodyError;
use crate::http_client::HttpClientError;

/// A JSON-RPC error object returned by the server (or produced locally for a server request
/// that no handler answered).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RpcError {
    /// The JSON-RPC error code, e.g. `-32601` (method not found).
    pub code: i64,
    /// The server's message.
    pub message: String,
    /// The server's optional `data` member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl RpcError {
    /// JSON-RPC "method not found".
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// JSON-RPC "invalid params".
    pub const INVALID_PARAMS: i64 = -32602;
    /// JSON-RPC "internal error".
    pub const INTERNAL_ERROR: i64 = -32603;
    /// MCP 2026-07-28 `HeaderMismatch`.
    pub const HEADER_MISMATCH: i64 = -32020;

    /// An error with a code and a message and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

/// A coarse classification of [`Error`], stable across releases; the bindings map it to their
/// own error codes and exception classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration or an argument is invalid.
    InvalidArgument,
    /// The server could not be reached, or the connection failed.
    Transport,
    /// The server sent something that breaks the HTTP, SSE or JSON-RPC contract.
    Protocol,
    /// The server answered with a JSON-RPC error.
    Rpc,
    /// The request timed out.
    Timeout,
    /// The request was cancelled.
    Cancelled,
    /// Authorization is needed or failed.
    Auth,
    /// The client was closed.
    Closed,
    /// A bug or an unexpected condition inside the library.
    Internal,
}

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration or an argument is invalid.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The server URL could not be parsed or is not http(s).
    #[error("invalid server URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },

    /// The HTTP connection failed (refused, reset, TLS, proxy, DNS).
    #[error("cannot reach {url}: {message}")]
    Connect {
        /// The URL the request went to (without query string).
        url: String,
        /// What failed.
        message: String,
    },

    /// The server answered with an HTTP status this request cannot accept.
    #[error("HTTP {status} from {url}{}", body_excerpt(.body))]
    HttpStatus {
        /// The HTTP status code.
        status: u16,
        /// The URL the request went to (without query string).
        url: String,
        /// The start of the response body, for diagnosis (at most 512 bytes).
        body: String,
    },

    /// The response had a content type that is neither JSON nor an SSE stream.
    #[error("unexpected content type `{content_type}` from {url}")]
    UnexpectedContentType {
        /// The `Content-Type` the server sent (empty when absent).
        content_type: String,
        /// The URL the request went to.
        url: String,
    },

    /// A response body was larger than the configured limit.
    #[error("response body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The configured limit, in bytes.
        limit: usize,
    },

    /// A message was not valid JSON, or not a valid JSON-RPC message.
    #[error("malformed message from server: {0}")]
    MalformedMessage(String),

    /// An SSE stream broke the event-stream format.
    #[error("malformed SSE stream: {0}")]
    MalformedSse(String),

    /// A response carried an id that matches no request in flight.
    #[error("response with unknown id {id}")]
    UnknownResponseId {
        /// The id as the server sent it.
        id: String,
    },

    /// The server closed the connection or stream before sending the response.
    #[error("server closed the stream before responding to `{method}`")]
    StreamClosed {
        /// The method of the request left without an answer.
        method: String,
    },

    /// The session was lost and could not be re-established.
    #[error("session lost: {0}")]
    SessionLost(String),

    /// No protocol version both sides support.
    #[error("no common protocol version: we offer {offered}, server supports {supported}")]
    UnsupportedProtocolVersion {
        /// What the client offered.
        offered: String,
        /// What the server answered or advertised.
        supported: String,
    },

    /// The server answered with a JSON-RPC error.
    #[error("server error: {0}")]
    Rpc(RpcError),

    /// The request did not complete in time.
    #[error("`{method}` timed out after {}", fmt_duration(*.after))]
    Timeout {
        /// The request's method.
        method: String,
        /// The timeout that ran out.
        after: Duration,
    },

    /// The request was cancelled by the host.
    #[error("`{method}` was cancelled")]
    Cancelled {
        /// The request's method.
        method: String,
    },

    /// The server requires authorization that this client is not configured to obtain
    /// (HTTP 401 with a static token or no auth mode).
    #[error("the server requires authorization (HTTP 401){}", hint(.www_authenticate))]
    Unauthorized {
        /// The `WWW-Authenticate` challenge, when the server sent one.
        www_authenticate: Option<String>,
    },

    /// The server refused the request with HTTP 403.
    #[error("the server refused access (HTTP 403){}", hint(.www_authenticate))]
    Forbidden {
        /// The `WWW-Authenticate` challenge, when the server sent one.
        www_authenticate: Option<String>,
    },

    /// OAuth authorization failed.
    #[error("authorization failed: {0}")]
    OAuth(#[from] OAuthError),

    /// The stdio server process could not be started or ended unexpectedly.
    #[error("stdio server: {0}")]
    Process(String),

    /// The client has been closed.
    #[error("the client is closed")]
    Closed,

    /// An I/O error outside HTTP (stdio pipes, files).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// A bug or an unexpected condition inside the library.
    #[error("internal error: {0}")]
    Internal(String),
}

fn body_excerpt(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

fn hint(challenge: &Option<String>) -> String {
    match challenge {
        Some(c) => format!("; challenge: {c}"),
        None => String::new(),
    }
}

fn fmt_duration(d: Duration) -> String {
    if d.as_secs() >= 1 && d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

impl Error {
    /// The stable classification of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) | Error::InvalidUrl { .. } => ErrorKind::InvalidArgument,
            Error::Connect { .. } | Error::Io(_) | Error::Process(_) => ErrorKind::Transport,
            Error::HttpStatus { .. }
            | Error::UnexpectedContentType { .. }
            | Error::BodyTooLarge { .. }
            | Error::MalformedMessage(_)
            | Error::MalformedSse(_)
            | Error::UnknownResponseId { .. }
            | Error::StreamClosed { .. }
            | Error::SessionLost(_)
            | Error::UnsupportedProtocolVersion { .. } => ErrorKind::Protocol,
            Error::Rpc(_) => ErrorKind::Rpc,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Cancelled { .. } => ErrorKind::Cancelled,
            Error::Unauthorized { .. } | Error::Forbidden { .. } | Error::OAuth(_) => {
                ErrorKind::Auth
            }
            Error::Closed => ErrorKind::Closed,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The JSON-RPC error, when the server answered with one.
    pub fn rpc(&self) -> Option<&RpcError> {
        match self {
            Error::Rpc(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status the server answered with, when that is the error.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::HttpStatus { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The OAuth error (with the server's `error` and `error_description`), when it is one.
    pub fn oauth(&self) -> Option<&OAuthError> {
        match self {
            Error::OAuth(e) => Some(e),
            _ => None,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<BodyError> for Error {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge { limit } => Error::BodyTooLarge { limit },
            BodyError::Read { url, reason } => Error::Connect {
                url,
                message: format!("reading the response body failed: {reason}"),
            },
        }
    }
}

impl From<HttpClientError> for Error {
    fn from(e: HttpClientError) -> Self {
        Error::InvalidArgument(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable() {
        assert_eq!(Error::Closed.kind(), ErrorKind::Closed);
        assert_eq!(
            Error::Rpc(RpcError::new(-32601, "nope")).kind(),
            ErrorKind::Rpc
        );
        assert_eq!(
            Error::Timeout {
                method: "x".into(),
                after: Duration::from_secs(2)
            }
            .to_string(),
            "`x` timed out after 2s"
        );
    }
}
