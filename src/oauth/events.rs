//! What authorization is doing, for hosts to show: one event per step worth a line in a UI
//! ("sign-in needed", "signed in", "token refreshed", "step-up", "logged out", …).
//!
//! Events carry only what may be shown and logged: the server, the issuer, scopes, expiry,
//! the grant and the store. Never a token, a code, a verifier, a secret or an authorization URL
//! (its `state` is a secret until the redirect comes back).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// One step of authorization. Serialises as a JSON object whose `event` member names the
/// variant in snake case (`{"event":"signed_in","server":"…",…}`), as the C ABI delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthEvent {
    /// The server needs authorization that the tokens held cannot give: a grant runs now
    /// (for the browser and device grants, the user signs in).
    SignInRequired {
        /// The MCP server.
        server: String,
        /// The authorization server.
        issuer: String,
        /// The grant about to run (`authorization_code`, `client_credentials`, …).
        grant: String,
        /// The scopes it asks for.
        scopes: Vec<String>,
    },
    /// The authorization URL went to the presenter: the user's browser, or the host's
    /// callback. The engine now waits for the redirect.
    BrowserOpened {
        /// The MCP server.
        server: String,
        /// The authorization server.
        issuer: String,
        /// Where the browser will be sent back (the loopback listener or the host's URI).
        redirect_uri: String,
    },
    /// A grant gave new tokens.
    SignedIn {
        /// The MCP server.
        server: String,
        /// The authorization server.
        issuer: String,
        /// The grant that ran.
        grant: String,
        /// The scopes granted.
        scopes: Vec<String>,
        /// Access token expiry, seconds since the epoch.
        expires_at: Option<u64>,
        /// `Bearer` or `DPoP`.
        token_type: String,
    },
    /// The access token was refreshed.
    TokenRefreshed {
        /// The MCP server.
        server: String,
        /// The authorization server.
        issuer: String,
        /// The scopes granted.
        scopes: Vec<String>,
        /// New expiry, seconds since the epoch.
        expires_at: Option<u64>,
    },
    /// Another process sharing the store refreshed the token; this one uses its result.
    TokenAdopted {
        /// The MCP server.
        server: String,
        /// Access token expiry, seconds since the epoch.
        expires_at: Option<u64>,
    },
    /// The server refused a request for lack of scopes (403 `insufficient_scope`): a new
    /// authorization asks for more.
    StepUp {
        /// The MCP server.
        server: String,
        /// The scopes the server says the request needs.
        required: Vec<String>,
    },
    /// Refreshing the token failed; the engine forgets it and authorizes again.
    RefreshFailed {
        /// The MCP server.
        server: String,
        /// The authorization server.
        issuer: String,
        /// Why: the OAuth `error` code (e.g. `invalid_grant`) or a short reason.
        reason: String,
    },
    /// The credential store in use, announced the first time a credential is loaded from it
    /// or saved to it.
    StoreSelected {
        /// The MCP server.
        server: String,
        /// The store's name (`keyring`, `file (/home/…/mcp-client)`, `memory`, …).
        store: String,
        /// Why this store stands in for the OS keyring (`None`: it is the one chosen).
        fallback: Option<String>,
    },
    /// Tokens forgotten and the stored entry deleted.
    LoggedOut {
        /// The MCP server.
        server: String,
        /// Whether the authorization server revoked the tokens (RFC 7009).
        revoked: bool,
    },
}

impl AuthEvent {
    /// The event as one JSON object (see the type's docs).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// The MCP server the event is about.
    pub fn server(&self) -> &str {
        match self {
            AuthEvent::SignInRequired { server, .. }
            | AuthEvent::BrowserOpened { server, .. }
            | AuthEvent::SignedIn { server, .. }
            | AuthEvent::TokenRefreshed { server, .. }
            | AuthEvent::TokenAdopted { server, .. }
            | AuthEvent::StepUp { server, .. }
            | AuthEvent::RefreshFailed { server, .. }
            | AuthEvent::StoreSelected { server, .. }
            | AuthEvent::LoggedOut { server, .. } => server,
        }
    }
}

/// One line for people, e.g. `signed in to https://… (scopes: a b; expires in 3600 s)`.
impl fmt::Display for AuthEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthEvent::SignInRequired {
                server,
                issuer,
                grant,
                scopes,
            } => write!(
                f,
                "sign-in needed for {server} at {issuer} ({grant}{})",
                scopes_suffix(scopes)
            ),
            AuthEvent::BrowserOpened { issuer, .. } => {
                write!(f, "browser opened for sign-in at {issuer}")
            }
            AuthEvent::SignedIn {
                server,
                scopes,
                expires_at,
                ..
            } => write!(
                f,
                "signed in to {server}{}{}",
                scopes_suffix(scopes),
                expiry_suffix(*expires_at)
            ),
            AuthEvent::TokenRefreshed {
                server, expires_at, ..
            } => write!(
                f,
                "token refreshed for {server}{}",
                expiry_suffix(*expires_at)
            ),
            AuthEvent::TokenAdopted { server, .. } => {
                write!(f, "using the token another process refreshed for {server}")
            }
            AuthEvent::StepUp { server, required } => {
                write!(f, "step-up for {server}{}", scopes_suffix(required))
            }
            AuthEvent::RefreshFailed { server, reason, .. } => {
                write!(
                    f,
                    "refresh failed for {server} ({reason}); signing in again"
                )
            }
            AuthEvent::StoreSelected {
                store, fallback, ..
            } => match fallback {
                Some(why) => write!(f, "{why}; storing credentials in {store}"),
                None => write!(f, "credentials stored in {store}"),
            },
            AuthEvent::LoggedOut { server, revoked } => write!(
                f,
                "logged out of {server}{}",
                if *revoked { " (tokens revoked)" } else { "" }
            ),
        }
    }
}

fn scopes_suffix(scopes: &[String]) -> String {
    if scopes.is_empty() {
        String::new()
    } else {
        format!("; scopes: {}", scopes.join(" "))
    }
}

fn expiry_suffix(expires_at: Option<u64>) -> String {
    match expires_at {
        Some(at) => format!(
            "; expires in {} s",
            at.saturating_sub(crate::oauth::jwt::now_secs())
        ),
        None => String::new(),
    }
}

/// Receives every [`AuthEvent`] of an engine, on the thread doing the authorization step; it
/// must return quickly.
#[derive(Clone)]
pub struct AuthEventHook(Arc<dyn Fn(&AuthEvent) + Send + Sync>);

impl AuthEventHook {
    /// A hook calling `f`.
    pub fn new(f: impl Fn(&AuthEvent) + Send + Sync + 'static) -> Self {
        AuthEventHook(Arc::new(f))
    }
}

impl fmt::Debug for AuthEventHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthEventHook(..)")
    }
}

/// Where an engine's events go: the host's hook (if any) and the debug log.
#[derive(Clone, Default)]
pub(crate) struct Events {
    hook: Option<AuthEventHook>,
}

impl Events {
    pub(crate) fn new(hook: Option<AuthEventHook>) -> Self {
        Events { hook }
    }

    pub(crate) fn emit(&self, event: AuthEvent) {
        tracing::trace!(event = %event.to_json(), "auth event");
        if let Some(hook) = &self.hook {
            (hook.0)(&event);
        }
    }
}
