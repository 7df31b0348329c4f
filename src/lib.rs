//! # mcp-client
//!
//! A Model Context Protocol client: Streamable HTTP (JSON and SSE replies, sessions,
//! resumable streams), the legacy HTTP+SSE transport, and stdio; protocol versions 2025-03-26
//! through 2026-07-28. One Rust core that the C ABI, Go and Python bindings all reuse.
//!
//! ```no_run
//! # async fn run() -> mcp_client::Result<()> {
//! let client = mcp_client::ClientBuilder::http("http://127.0.0.1:8080/mcp")?
//!     .bearer("token")
//!     .connect()
//!     .await?;
//! let tools = client.list_tools().await?;
//! let result = client
//!     .call_tool("echo", serde_json::json!({"text": "hi"}))
//!     .await?;
//! client.close().await?;
//! # Ok(()) }
//! ```
//!
//! JSON goes in and comes out at the edges ([`serde_json::Value`], or raw JSON text through
//! [`Client::request_raw`]); hooks are trait objects ([`handler`]); errors are one enum
//! ([`Error`]) with a stable [`ErrorKind`].

#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

// The ground floor: helpers that know nothing of the rest.
mod body;
mod deadline;
pub mod http_client;
pub mod protocol;
mod redact;
pub mod runtime;
pub mod secret;
mod tls;
// Errors, then the message layer, then transport / auth / OAuth / store, the client on top
// (docs/architecture.md).
pub mod auth;
mod client;
pub mod config;
pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod handler;
pub mod jsonrpc;
pub mod oauth;
pub mod store;
pub mod transport;
pub mod types;

pub use client::encode_header_value;
pub use client::{Client, RequestOptions};
pub use config::{AuthMode, ClientBuilder, ClientConfig, ServerTarget, StdioCommand};
pub use error::{Error, ErrorKind, OAuthError, Result, RpcError};
pub use futures_util::future::BoxFuture;
pub use handler::{Handlers, NotificationHandler, RequestHandler, SyncHandler};
pub use jsonrpc::{Notification, ServerRequest};
pub use secret::Secret;
pub use tokio_util::sync::CancellationToken;
pub use types::{
    CallToolResult, ContentBlock, CreateTaskResult, GetPromptResult, ProgressToken, Prompt,
    PromptArgument, PromptMessage, ReadResourceResult, Resource, ResourceContents,
    ResourceTemplate, Task, TaskStatus, TaskSupport, Tool, ToolAnnotations,
};

/// The library's version (the crate's, the C header's, the wheel's and the Go module's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
