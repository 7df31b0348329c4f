//! Transports: how JSON-RPC messages reach the server and come back.
//!
//! - [`http`]: Streamable HTTP (2025-03-26 to 2026-07-28): a POST per message, JSON or SSE
//!   replies, sessions, resumable streams, the optional GET stream.
//! - [`legacy`]: the deprecated HTTP+SSE transport (2024-11-05), reached only by fallback.
//! - [`stdio`]: a child process speaking newline-delimited JSON-RPC.
//! - [`sse`]: the event-stream parser both HTTP transports read with.
//!
//! A transport returns the response to each request directly. Everything else the server
//! sends (notifications, server requests) goes to the client's inbound queue as `Inbound`,
//! together with a `Responder` that knows how to send the answer back on the same transport.

pub mod command;
pub mod http;
pub mod legacy;
pub(crate) mod pending;
pub mod sse;
pub mod stdio;

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::jsonrpc::{Notification, ServerRequest};

/// Something the server sent that is not the response to a request.
pub(crate) enum Inbound {
    /// A notification.
    Notification(Notification),
    /// A server request and the way back for its answer.
    Request(ServerRequest, Responder),
}

/// The queue of inbound messages.
pub(crate) type InboundTx = mpsc::UnboundedSender<Inbound>;

/// Sends the answer to a server request back over the transport it came from.
#[derive(Clone)]
pub(crate) enum Responder {
    Http(Arc<http::HttpShared>),
    Legacy(Arc<legacy::LegacyShared>),
    Stdio(stdio::StdioWriter),
}

impl Responder {
    /// Send one encoded JSON-RPC response.
    pub(crate) async fn send(&self, body: Vec<u8>) -> Result<()> {
        match self {
            Responder::Http(h) => h.post_message(Bytes::from(body)).await,
            Responder::Legacy(l) => l.post(Bytes::from(body)).await,
            Responder::Stdio(w) => w.send(body).await,
        }
    }
}

/// One request on its way out.
pub(crate) struct Outgoing<'a> {
    /// Our JSON-RPC id.
    pub id: u64,
    /// The method (for errors, and for headers of the 2026-07-28 revision).
    pub method: &'a str,
    /// The encoded JSON-RPC request.
    pub body: Bytes,
    /// Per-request HTTP headers (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`).
    pub headers: Option<HeaderMap>,
}
