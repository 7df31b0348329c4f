//! Server-Sent Events: framing, resumable streams and response bodies.
//!
//! Every SSE stream of the Streamable HTTP transport is an [`SseStream`]: the
//! events written to it are kept (when event ids are on) so that a `GET` with
//! `Last-Event-ID: <stream>-<seq>` can replay what came after that event and
//! then continue the stream live.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;

/// Frames one SSE event: optional `event:` and `id:` lines, then one `data:` line.
///
/// `data` must not contain a newline (serialized JSON never does).
pub(crate) fn frame(event: Option<&str>, id: Option<&str>, data: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(data.len() + 48);
    if let Some(event) = event {
        buf.put_slice(b"event: ");
        buf.put_slice(event.as_bytes());
        buf.put_u8(b'\n');
    }
    if let Some(id) = id {
        buf.put_slice(b"id: ");
        buf.put_slice(id.as_bytes());
        buf.put_u8(b'\n');
    }
    buf.put_slice(b"data: ");
    buf.put_slice(data);
    buf.put_slice(b"\n\n");
    buf.freeze()
}

/// Formats the event id of event `seq` (1-based) on stream `stream`.
pub(crate) fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}-{seq}")
}

/// Parses an event id made by [`event_id`].
pub(crate) fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (stream, seq) = id.trim().split_once('-')?;
    Some((stream.parse().ok()?, seq.parse().ok()?))
}

/// One SSE stream of a session, resumable when event ids are on.
pub(crate) struct SseStream {
    /// The stream's number, unique within its session.
    pub(crate) id: u64,
    /// Whether events carry ids (and so are kept for replay).
    ids: bool,
    /// Mirror of `Inner::finished`, readable without the lock.
    finished: AtomicBool,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Every framed event so far (only when ids are on); event `seq` is at `seq - 1`.
    events: Vec<Bytes>,
    /// Number of events written so far.
    written: u64,
    /// The connection currently carrying the stream, if any.
    live: Option<mpsc::UnboundedSender<Bytes>>,
    /// Set once the stream is over (final response sent, cancelled or session ended).
    finished: bool,
}

/// What a connection attaching to a stream gets: the events to replay, then
/// the live continuation unless the stream is already over.
pub(crate) struct Attached {
    pub(crate) replay: Vec<Bytes>,
    pub(crate) live: Option<mpsc::UnboundedReceiver<Bytes>>,
}

impl SseStream {
    pub(crate) fn new(id: u64, ids: bool) -> Self {
        Self {
            id,
            ids,
            finished: AtomicBool::new(false),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the stream is over.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Writes one JSON-RPC message as an event.
    pub(crate) fn push(&self, msg: &Value) {
        if let Ok(data) = serde_json::to_vec(msg) {
            self.push_data(&data);
        }
    }

    /// Writes one event with the given data (empty data makes a priming event).
    pub(crate) fn push_data(&self, data: &[u8]) {
        let mut inner = self.lock();
        if inner.finished {
            return;
        }
        inner.written += 1;
        let frame = if self.ids {
            let id = event_id(self.id, inner.written);
            let frame = frame(None, Some(&id), data);
            inner.events.push(frame.clone());
            frame
        } else {
            frame(None, None, data)
        };
        if let Some(live) = &inner.live {
            if live.send(frame).is_err() {
                inner.live = None;
            }
        }
    }

    /// Ends the stream: its live connection (if any) ends after what was sent.
    pub(crate) fn finish(&self) {
        let mut inner = self.lock();
        inner.finished = true;
        inner.live = None;
        self.finished.store(true, Ordering::Release);
    }

    /// Attaches a new connection that gets the events after `after` (a
    /// sequence number, 0 for all) and then, unless the stream is over, the
    /// live continuation. A previously attached connection is ended.
    pub(crate) fn attach(&self, after: u64) -> Attached {
        let mut inner = self.lock();
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(inner.events.len());
        let replay = inner.events[start..].to_vec();
        if inner.finished {
            return Attached { replay, live: None };
        }
        let (tx, rx) = mpsc::unbounded_channel();
        inner.live = Some(tx);
        Attached {
            replay,
            live: Some(rx),
        }
    }

    /// The kept events after `after`, without attaching a connection.
    pub(crate) fn replay(&self, after: u64) -> Attached {
        let inner = self.lock();
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(inner.events.len());
        Attached {
            replay: inner.events[start..].to_vec(),
            live: None,
        }
    }
}

/// Builds a `200 text/event-stream` response: an optional `retry:` line, the
/// replayed frames, then the live frames until the sender side is dropped.
pub(crate) fn response(retry_ms: Option<u64>, attached: Attached) -> Response<Body> {
    let retry = retry_ms.map(|ms| Bytes::from(format!("retry: {ms}\n")));
    let head = stream::iter(retry.into_iter().chain(attached.replay));
    let live = stream::iter(attached.live.map(UnboundedReceiverStream::new)).flatten();
    let body = Body::from_stream(head.chain(live).map(Ok::<_, Infallible>));
    with_sse_headers(Response::new(body))
}

/// Sets the status and headers of an SSE response.
pub(crate) fn with_sse_headers(mut resp: Response<Body>) -> Response<Body> {
    *resp.status_mut() = StatusCode::OK;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_ids() {
        assert_eq!(
            &frame(Some("message"), Some("1-2"), b"{}")[..],
            b"event: message\nid: 1-2\ndata: {}\n\n"
        );
        assert_eq!(parse_event_id("7-3"), Some((7, 3)));
        assert_eq!(parse_event_id("x"), None);
    }

    #[test]
    fn replay_after_an_event() {
        let s = SseStream::new(4, true);
        s.push_data(b"a");
        s.push_data(b"b");
        s.finish();
        let a = s.attach(1);
        assert_eq!(a.replay.len(), 1);
        assert_eq!(&a.replay[0][..], b"id: 4-2\ndata: b\n\n");
        assert!(a.live.is_none());
    }
}
