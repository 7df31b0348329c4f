//! Client configuration and its builder.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::auth::AuthProvider;
use crate::error::{Error, Result};
use crate::handler::{Handlers, NotificationHandler, RequestHandler};
use crate::http_client::HttpSettings;
use crate::oauth::{AuthEvent, AuthEventHook, OAuthConfig};
use crate::secret::Secret;
pub use crate::transport::command::StdioCommand;
use crate::transport::http::HttpOptions;

/// Where the server is.
#[derive(Debug, Clone)]
pub enum ServerTarget {
    /// An HTTP endpoint: Streamable HTTP, with fallback to the legacy HTTP+SSE transport.
    Http(Url),
    /// A local process speaking newline-delimited JSON-RPC on stdin/stdout.
    Stdio(StdioCommand),
}

/// How requests are authorized.
#[derive(Clone, Default)]
pub enum AuthMode {
    /// No credentials (the default). A 401 fails with [`Error::Unauthorized`].
    #[default]
    None,
    /// A fixed bearer token sent as `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// A provider: the host's own.
    Provider(Arc<dyn AuthProvider>),
    /// The OAuth engine: nothing is sent until the server answers 401, then discovery,
    /// registration and authorization run and the request is retried.
    OAuth(Box<OAuthConfig>),
    /// An OAuth engine the host made beforehand (e.g. to run the two-step authorization
    /// before connecting): used as [`AuthMode::OAuth`] would be, and returned by
    /// [`crate::Client::oauth`].
    OAuthEngine(Arc<crate::oauth::OAuthEngine>),
}

impl std::fmt::Debug for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthMode::None => f.write_str("None"),
            AuthMode::Bearer(_) => f.write_str("Bearer([redacted])"),
            AuthMode::Provider(_) => f.write_str("Provider(..)"),
            AuthMode::OAuth(c) => write!(f, "OAuth({c:?})"),
            AuthMode::OAuthEngine(p) => write!(f, "OAuthEngine({p:?})"),
        }
    }
}

/// Everything a [`crate::Client`] is built from. Build it with [`ClientBuilder`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The server.
    pub target: ServerTarget,
    /// `clientInfo.name`.
    pub client_name: String,
    /// `clientInfo.version`.
    pub client_version: String,
    /// Extra capabilities to declare, merged over the ones the registered hooks imply.
    pub capabilities: Value,
    /// Pin one protocol version instead of negotiating the newest both sides speak.
    pub protocol_version: Option<String>,
    /// Default timeout of a request (overridable per request).
    pub request_timeout: Duration,
    /// Timeout to establish a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// The largest response body or SSE event accepted, in bytes.
    pub max_body_bytes: usize,
    /// Headers added to every HTTP request (API keys and the like).
    pub headers: Vec<(String, Secret)>,
    /// How requests are authorized.
    pub auth: AuthMode,
    /// PEM files of extra CA certificates to trust (besides the system's and `SSL_CERT_FILE`).
    pub extra_ca_files: Vec<PathBuf>,
    /// Open the optional standalone GET stream for server-initiated messages (2025-era
    /// servers). A 405 answer is tolerated.
    pub open_get_stream: bool,
    /// Fall back to the legacy HTTP+SSE transport when Streamable HTTP is refused.
    pub legacy_fallback: bool,
    /// How many times a broken SSE stream is resumed before the request fails.
    pub max_stream_reconnects: u32,
    /// The delay before resuming a stream when the server gave no `retry`.
    pub default_retry: Duration,
    /// Host hooks.
    pub handlers: Handlers,
    /// Receives the OAuth engine's [`AuthEvent`]s (unless its [`OAuthConfig`] has a hook of
    /// its own). An engine made beforehand ([`AuthMode::OAuthEngine`]) keeps the hook it was
    /// made with.
    pub auth_events: Option<AuthEventHook>,
}

/// Builds a [`ClientConfig`] and connects.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    config: ClientConfig,
}

impl ClientBuilder {
    /// A builder for an HTTP server at `url`.
    pub fn http(url: &str) -> Result<Self> {
        let parsed = Url::parse(url).map_err(|e| Error::InvalidUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::InvalidUrl {
                url: url.to_owned(),
                reason: "the scheme must be http or https".into(),
            });
        }
        Ok(Self::new(ServerTarget::Http(parsed)))
    }

    /// A builder for a stdio server started with `command`.
    pub fn stdio(command: StdioCommand) -> Self {
        Self::new(ServerTarget::Stdio(command))
    }

    /// A builder for `target` with every default.
    pub fn new(target: ServerTarget) -> Self {
        ClientBuilder {
            config: ClientConfig {
                target,
                client_name: "mcp-client".into(),
                client_version: crate::VERSION.into(),
                capabilities: Value::Object(Default::default()),
                protocol_version: None,
                request_timeout: Duration::from_secs(60),
                connect_timeout: Duration::from_secs(10),
                max_body_bytes: 16 * 1024 * 1024,
                headers: Vec::new(),
                auth: AuthMode::None,
                extra_ca_files: Vec::new(),
                open_get_stream: true,
                legacy_fallback: true,
                max_stream_reconnects: 5,
                default_retry: Duration::from_millis(1000),
                handlers: Handlers::default(),
                auth_events: None,
            },
        }
    }

    /// Set `clientInfo`.
    pub fn client_info(mut self, name: &str, version: &str) -> Self {
        self.config.client_name = name.into();
        self.config.client_version = version.into();
        self
    }

    /// Declare extra capabilities (a JSON object merged over the implied ones).
    pub fn capabilities(mut self, caps: Value) -> Self {
        self.config.capabilities = caps;
        self
    }

    /// Pin the protocol version.
    pub fn protocol_version(mut self, version: &str) -> Self {
        self.config.protocol_version = Some(version.into());
        self
    }

    /// The default request timeout.
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.config.request_timeout = t;
        self
    }

    /// The connect timeout.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.config.connect_timeout = t;
        self
    }

    /// The largest response body or SSE event accepted.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.config.max_body_bytes = n;
        self
    }

    /// Add a header to every HTTP request.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.config.headers.push((name.into(), Secret::new(value)));
        self
    }

    /// Send `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &str) -> Self {
        self.config.auth = AuthMode::Bearer(Secret::new(token));
        self
    }

    /// Authorize with OAuth when the server asks (HTTP 401).
    pub fn oauth(mut self, config: OAuthConfig) -> Self {
        self.config.auth = AuthMode::OAuth(Box::new(config));
        self
    }

    /// Send the OAuth engine's [`AuthEvent`]s (sign-in needed, signed in, refreshed, step-up,
    /// store chosen, logged out, …) to `hook`, e.g. to show them in a UI.
    pub fn on_auth_event(mut self, hook: impl Fn(&AuthEvent) + Send + Sync + 'static) -> Self {
        self.config.auth_events = Some(AuthEventHook::new(hook));
        self
    }

    /// Authorize with an OAuth engine made beforehand (see [`AuthMode::OAuthEngine`]).
    pub fn oauth_engine(mut self, engine: Arc<crate::oauth::OAuthEngine>) -> Self {
        self.config.auth = AuthMode::OAuthEngine(engine);
        self
    }

    /// Authorize with OAuth through an engine made here for this server, and return it too:
    /// for hosts that drive the engine themselves (sign in before connecting, the two-step
    /// flow, status, logout), as the C ABI and the Python package do. Fails for a stdio server.
    pub fn oauth_with_engine(
        self,
        config: OAuthConfig,
    ) -> Result<(Self, Arc<crate::oauth::OAuthEngine>)> {
        let ServerTarget::Http(url) = &self.config.target else {
            return Err(Error::InvalidArgument(
                "OAuth needs an HTTP server, and this one is a stdio command".into(),
            ));
        };
        let engine = Arc::new(crate::oauth::OAuthEngine::for_server(
            config,
            url,
            &self.config.http_settings(),
        )?);
        Ok((self.oauth_engine(engine.clone()), engine))
    }

    /// Choose the auth mode.
    pub fn auth(mut self, auth: AuthMode) -> Self {
        self.config.auth = auth;
        self
    }

    /// Trust the CA certificates in this PEM file too.
    pub fn extra_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.extra_ca_files.push(path.into());
        self
    }

    /// Whether to open the standalone GET stream (default: yes).
    pub fn open_get_stream(mut self, yes: bool) -> Self {
        self.config.open_get_stream = yes;
        self
    }

    /// Whether to fall back to HTTP+SSE (default: yes).
    pub fn legacy_fallback(mut self, yes: bool) -> Self {
        self.config.legacy_fallback = yes;
        self
    }

    /// How many times to resume a broken SSE stream (default 5).
    pub fn max_stream_reconnects(mut self, n: u32) -> Self {
        self.config.max_stream_reconnects = n;
        self
    }

    /// Receive server notifications.
    pub fn on_notification(mut self, h: impl NotificationHandler) -> Self {
        self.config.handlers.notification = Some(Arc::new(h));
        self
    }

    /// Answer `elicitation/create` (declares the `elicitation` capability, form mode with
    /// schema defaults applied to accepted answers).
    pub fn on_elicitation(mut self, h: impl RequestHandler) -> Self {
        self.config.handlers.elicitation = Some(Arc::new(h));
        self
    }

    /// Answer `sampling/createMessage` (declares `sampling`).
    pub fn on_sampling(mut self, h: impl RequestHandler) -> Self {
        self.config.handlers.sampling = Some(Arc::new(h));
        self
    }

    /// Answer `roots/list` (declares `roots`).
    pub fn on_roots(mut self, h: impl RequestHandler) -> Self {
        self.config.handlers.roots = Some(Arc::new(h));
        self
    }

    /// Answer any other server request.
    pub fn on_request(mut self, h: impl RequestHandler) -> Self {
        self.config.handlers.fallback = Some(Arc::new(h));
        self
    }

    /// Set every hook at once.
    pub fn handlers(mut self, h: Handlers) -> Self {
        self.config.handlers = h;
        self
    }

    /// The configuration as built so far.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Finish without connecting.
    pub fn build(self) -> ClientConfig {
        self.config
    }

    /// Connect: start the transport and complete the protocol handshake.
    pub async fn connect(self) -> Result<crate::Client> {
        crate::Client::connect(self.config).await
    }
}

impl ClientConfig {
    /// The TLS and connection settings every HTTP client of this configuration uses (MCP and
    /// OAuth alike).
    pub fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            connect_timeout: self.connect_timeout,
            extra_ca_files: self.extra_ca_files.clone(),
        }
    }

    /// What the HTTP transports need of this configuration.
    pub(crate) fn http_options(&self) -> HttpOptions {
        HttpOptions {
            headers: self.headers.clone(),
            max_body: self.max_body_bytes,
            max_reconnects: self.max_stream_reconnects,
            default_retry: self.default_retry,
        }
    }

    /// The capabilities to declare: those implied by the registered hooks, with the host's
    /// extra capabilities merged over them.
    pub fn effective_capabilities(&self) -> Value {
        let mut caps = serde_json::Map::new();
        if self.handlers.elicitation.is_some() {
            caps.insert(
                "elicitation".into(),
                serde_json::json!({"form": {"applyDefaults": true}}),
            );
        }
        if self.handlers.sampling.is_some() {
            caps.insert("sampling".into(), serde_json::json!({}));
        }
        if self.handlers.roots.is_some() {
            caps.insert("roots".into(), serde_json::json!({"listChanged": true}));
        }
        if let Value::Object(extra) = &self.capabilities {
            for (k, v) in extra {
                caps.insert(k.clone(), v.clone());
            }
        }
        Value::Object(caps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_refused() {
        assert!(ClientBuilder::http("ftp://x").is_err());
        assert!(ClientBuilder::http("not a url").is_err());
        assert!(ClientBuilder::http("http://127.0.0.1:1/mcp").is_ok());
    }

    #[test]
    fn capabilities_follow_hooks() {
        let b = ClientBuilder::http("http://127.0.0.1/mcp")
            .unwrap()
            .on_elicitation(crate::handler::SyncHandler(|_: &str, _| {
                Ok(serde_json::json!({"action": "decline"}))
            }));
        let caps = b.config().effective_capabilities();
        assert_eq!(caps["elicitation"]["form"]["applyDefaults"], true);
        assert!(caps.get("sampling").is_none());
    }
}
