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

fn read_error(e: reqwest::Error) -> BodyError {
    BodyError::Read {
        url: e.url().map(redact_url).unwrap_or_default(),
        reason: e.without_url().to_string(),
    }
}
