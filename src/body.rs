//! Reading a whole HTTP response body with a size limit (MCP responses and OAuth replies alike).

use bytes::{Bytes, BytesMut};

use crate::redact::redact_url;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// The body is larger than the limit (declared or actual).
    #[error("response body exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The connection failed while reading.
    #[error("reading the response body failed: {reason}")]
    Read {
        /// The URL the response came from (redacted; empty when unknown).
        url: String,
        /// What failed.
        reason: String,
    },
}

/// Read a whole body, refusing more than `limit` bytes.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Bytes, BodyError> {
    if let Some(len) = resp.content_length() {
        if len > limit as u64 {
            return Err(BodyError::TooLarge { limit });
        }
    }
    // reqwest's body errors carry no URL: the response's is kept for them.
    let url = resp.url().clone();
    let read_error = |e: reqwest::Error| read_error(&url, e);
    let first = match resp.chunk().await.map_err(read_error)? {
        Some(c) => c,
        None => return Ok(Bytes::new()),
    };
    if first.len() > limit {
        return Err(BodyError::TooLarge { limit });
    }
    let second = match resp.chunk().await.map_err(read_error)? {
        Some(c) => c,
        None => return Ok(first), // the common case: one chunk, no copy
    };
    let mut buf = BytesMut::with_capacity(first.len() + second.len());
    buf.extend_from_slice(&first);
    buf.extend_from_slice(&second);
    loop {
        if buf.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        match resp.chunk().await.map_err(read_error)? {
            Some(c) => buf.extend_from_slice(&c),
            None => return Ok(buf.freeze()),
        }
    }
}

fn read_error(url: &url::Url, e: reqwest::Error) -> BodyError {
    BodyError::Read {
        url: redact_url(url),
        reason: reqwest_reason(e),
    }
}

/// What went wrong with a request, with its causes and without its URL: reqwest's own message
/// ("error sending request", "error decoding response body") hides the cause (a timeout, a
/// connection closed mid-body). The causes name no URL, header or body.
pub(crate) fn reqwest_reason(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut reason = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        src = s.source();
    }
    reason
}
