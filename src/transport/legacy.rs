//! The deprecated HTTP+SSE transport (protocol 2024-11-05), reached only when a server refuses
//! Streamable HTTP.
//!
//! A GET to the server URL opens one SSE stream whose first event, `endpoint`, names the URL
//! to POST messages to; every reply and server message then arrives on that stream. The
//! endpoint must be on the same origin as the server URL: credentials are never sent to an
//! origin the user did not name.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::{Error, Result};
use crate::jsonrpc::{self, Incoming};
use crate::redact::redact_url;
use crate::transport::http::HttpShared;
use crate::transport::pending::Pending;
use crate::transport::sse::{SseEvent, SseParser};
use crate::transport::{Inbound, InboundTx, Outgoing, Responder};

/// The POST side, shared with responders.
pub(crate) struct LegacyShared {
    post: HttpShared,
}

impl LegacyShared {
    /// POST one message to the endpoint.
    pub(crate) async fn post(&self, body: Bytes) -> Result<()> {
        self.post.post_message(body).await
    }
}

/// The HTTP+SSE transport.
pub struct LegacyTransport {
    shared: Arc<LegacyShared>,
    pending: Arc<Pending>,
    stop: CancellationToken,
}

impl LegacyTransport {
    /// Open the SSE stream on `get` (the server URL), wait for the `endpoint` event, and start
    /// reading. `make_post` builds the POST side for the announced endpoint.
    pub(crate) async fn connect(
        get: HttpShared,
        make_post: impl FnOnce(Url) -> Result<HttpShared>,
        inbound: InboundTx,
    ) -> Result<Self> {
        let server = get.url().clone();
        let Some(mut resp) = get.get_stream(None).await? else {
            return Err(Error::HttpStatus {
                status: 405,
                url: redact_url(&server),
                body: "the server accepts neither Streamable HTTP nor HTTP+SSE".into(),
            });
        };
        let mut parser = SseParser::new(get.max_body());
        let mut events = Vec::new();
        let endpoint = 'found: loop {
            let chunk = resp.chunk().await.map_err(|e| Error::Connect {
                url: redact_url(&server),
                message: e.without_url().to_string(),
            })?;
            let Some(chunk) = chunk else {
                return Err(Error::MalformedSse(
                    "the HTTP+SSE stream ended before its `endpoint` event".into(),
                ));
            };
            parser.push(&chunk, &mut events)?;
            for (i, ev) in events.iter().enumerate() {
                if ev.event.as_deref() == Some("endpoint") {
                    let url = endpoint_url(&server, ev.data.trim())?;
                    events.drain(..=i);
                    break 'found url;
                }
            }
            events.clear();
        };
        let shared = Arc::new(LegacyShared {
            post: make_post(endpoint)?,
        });
        let pending = Arc::new(Pending::default());
        let stop = CancellationToken::new();
        let reader = Reader {
            pending: pending.clone(),
            inbound,
            shared: shared.clone(),
        };
        for ev in events.drain(..) {
            reader.route(ev);
        }
        let stop2 = stop.clone();
        tokio::spawn(async move {
            let mut events = Vec::new();
            let why = loop {
                let chunk = tokio::select! {
                    _ = stop2.cancelled() => break "the client closed the connection".to_owned(),
                    c = resp.chunk() => c,
                };
                match chunk {
                    Ok(Some(c)) => {
                        if let Err(e) = parser.push(&c, &mut events) {
                            break format!("the HTTP+SSE stream is malformed: {e}");
                        }
                        for ev in events.drain(..) {
                            reader.route(ev);
                        }
                    }
                    Ok(None) => break "the server closed the HTTP+SSE stream".to_owned(),
                    Err(e) => break format!("the HTTP+SSE stream broke: {}", e.without_url()),
                }
            };
            reader.pending.close(&why);
        });
        Ok(LegacyTransport {
            shared,
            pending,
            stop,
        })
    }

    /// Send a request and wait for its response on the stream.
    pub(crate) async fn request(&self, out: Outgoing<'_>) -> Result<Box<RawValue>> {
        let waiter = self.pending.register(out.id)?;
        self.shared.post(out.body).await?;
        waiter.wait(out.method).await
    }

    /// Send a notification.
    pub(crate) async fn notify(&self, body: Bytes) -> Result<()> {
        self.shared.post(body).await
    }

    /// Stop reading the stream (which closes it).
    pub(crate) fn close(&self) {
        self.stop.cancel();
        self.pending.close("the client closed the connection");
    }
}

impl Drop for LegacyTransport {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

struct Reader {
    pending: Arc<Pending>,
    inbound: InboundTx,
    shared: Arc<LegacyShared>,
}

impl Reader {
    fn route(&self, ev: SseEvent) {
        if !ev.is_message() || ev.data.trim().is_empty() {
            return;
        }
        match jsonrpc::parse(ev.data.as_bytes()) {
            Ok(Incoming::Response { id, outcome }) => {
                let known = jsonrpc::our_id(&id)
                    .map(|n| self.pending.complete(n, outcome))
                    .unwrap_or(false);
                if !known {
                    tracing::warn!(id = %id, "HTTP+SSE server sent a response with an unknown id");
                }
            }
            Ok(Incoming::Notification(n)) => {
                let _ = self.inbound.send(Inbound::Notification(n));
            }
            Ok(Incoming::Request(r)) => {
                let _ = self
                    .inbound
                    .send(Inbound::Request(r, Responder::Legacy(self.shared.clone())));
            }
            Err(e) => tracing::warn!(error = %e, "ignoring a bad message on the HTTP+SSE stream"),
        }
    }
}

/// Resolve the `endpoint` event's URL and insist on the server's origin.
pub(crate) fn endpoint_url(server: &Url, data: &str) -> Result<Url> {
    let url = server
        .join(data)
        .map_err(|e| Error::MalformedSse(format!("bad `endpoint` URL: {e}")))?;
    if url.origin() != server.origin() {
        return Err(Error::MalformedSse(format!(
            "the `endpoint` event points to another origin ({})",
            redact_url(&url)
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_must_stay_on_origin() {
        let s = Url::parse("http://127.0.0.1:9/sse").unwrap();
        assert_eq!(
            endpoint_url(&s, "/messages?sessionId=1").unwrap().as_str(),
            "http://127.0.0.1:9/messages?sessionId=1"
        );
        assert!(endpoint_url(&s, "http://evil.example/messages").is_err());
    }
}
