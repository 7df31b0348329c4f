//! OAuth failures, each with what the user or the host can do about it.
//!
//! Messages name endpoints (without query strings) and the server's `error` /
//! `error_description`, never a token, code, verifier or secret.

/// Why authorization failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// An OAuth request could not be sent or its reply could not be read.
    #[error("{what}: cannot reach {url}: {reason}")]
    Network {
        /// Which step.
        what: String,
        /// Where it went.
        url: String,
        /// What failed.
        reason: String,
    },
    /// An OAuth endpoint answered with an unexpected HTTP status.
    #[error("{what}: HTTP {status} from {url}")]
    HttpStatus {
        /// Which step.
        what: String,
        /// Where it went.
        url: String,
        /// The status.
        status: u16,
    },
    /// A reply was not what the protocol requires.
    #[error("{what}: unexpected reply: {reason}")]
    BadResponse {
        /// Which step.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// A metadata document is unusable.
    #[error("{what}: {reason}")]
    BadMetadata {
        /// Which document.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// An OAuth endpoint is neither HTTPS nor loopback.
    #[error("refusing the insecure OAuth endpoint {url}: HTTPS is required (loopback excepted)")]
    InsecureEndpoint {
        /// The endpoint.
        url: String,
    },
    /// No protected resource metadata was found, and no fallback applies.
    #[error("the server requires authorization but publishes no usable protected resource metadata (tried {tried})")]
    NoResourceMetadata {
        /// The URLs tried.
        tried: String,
    },
    /// The protected resource metadata names another resource than the server we talk to.
    #[error("the protected resource metadata is for `{advertised}`, not for this server (`{server}`): refusing to authorize")]
    ResourceMismatch {
        /// The MCP server URL.
        server: String,
        /// The metadata's `resource`.
        advertised: String,
    },
    /// No authorization server metadata could be found for an issuer.
    #[error("no authorization server metadata for issuer `{issuer}` (tried {tried})")]
    NoAuthServerMetadata {
        /// The issuer.
        issuer: String,
        /// The URLs tried.
        tried: String,
    },
    /// A metadata document's `issuer` differs from the issuer it was fetched for.
    #[error("the authorization server metadata says issuer `{found}`, expected `{expected}`: not using it")]
    IssuerMismatch {
        /// The issuer the URL was built from.
        expected: String,
        /// What the document said.
        found: String,
    },
    /// The authorization server in use is not the one the host's own credentials are bound to.
    #[error("the authorization server `{found}` is not `{bound}`, the one this client's own credentials (pre-registered client, key or assertion) are bound to: not sending them there. If the server really moved, set the client's issuer to `{found}` (--client-issuer, mcp_options_set_client_issuer) or log out")]
    IssuerNotBound {
        /// The issuer the credentials belong to (configured, or the one first used).
        bound: String,
        /// The issuer the server names now.
        found: String,
    },
    /// The authorization server does not advertise PKCE with S256.
    #[error("the authorization server `{issuer}` does not advertise PKCE S256 (code_challenge_methods_supported); refusing to proceed (set allow_missing_pkce_metadata for servers known to omit it)")]
    PkceNotSupported {
        /// The issuer.
        issuer: String,
    },
    /// No way to obtain a client id.
    #[error("cannot register with `{issuer}`: it supports neither client ID metadata documents nor dynamic registration; configure a pre-registered client id (and secret) for this server")]
    NoRegistration {
        /// The issuer.
        issuer: String,
    },
    /// The authorization server answered an OAuth request with an error.
    #[error("{what} failed: {error}{}", describe(.description))]
    Server {
        /// Which step (`token request`, `registration`, …).
        what: String,
        /// The OAuth `error` code, e.g. `invalid_grant`.
        error: String,
        /// The server's `error_description`.
        description: Option<String>,
    },
    /// The user or the authorization server refused the authorization request.
    #[error("authorization was refused: {error}{}", describe(.description))]
    Denied {
        /// The OAuth `error` from the redirect.
        error: String,
        /// The `error_description` from the redirect.
        description: Option<String>,
    },
    /// The redirect's `state` does not match the request's.
    #[error(
        "the authorization response's state does not match the request (possible CSRF): ignored"
    )]
    StateMismatch,
    /// The redirect's `iss` is missing where required, or differs from the issuer (RFC 9207).
    #[error("the authorization response's issuer check failed ({0}): possible mix-up attack, the code was not used")]
    IssuerCheck(String),
    /// The redirect carried no code.
    #[error("the authorization response has no code")]
    NoCode,
    /// Waiting for the browser's redirect timed out.
    #[error(
        "no authorization response within {secs} s (was the sign-in finished in the browser?)"
    )]
    RedirectTimeout {
        /// The timeout.
        secs: u64,
    },
    /// The host's presenter failed.
    #[error("presenting the authorization URL failed: {0}")]
    Presenter(String),
    /// Interaction is needed but this client may not interact (e.g. a refresh token was
    /// revoked and the mode is non-interactive).
    #[error("authorization needs the user ({0}); run an interactive sign-in (e.g. `mcp-client auth login`)")]
    InteractionRequired(String),
    /// Step-up authorization kept failing.
    #[error("the server still refuses after {attempts} authorization attempts (scopes requested: {scopes})")]
    StepUpLimit {
        /// How many attempts were made.
        attempts: u32,
        /// The scopes last requested.
        scopes: String,
    },
    /// A key or assertion could not be used (bad PEM, unsupported algorithm).
    #[error("key error: {0}")]
    Key(String),
    /// The configuration cannot work.
    #[error("OAuth configuration: {0}")]
    Config(String),
    /// The credential store failed where going on without it is not safe: a store many
    /// hosts share (Redis) that is unreachable, too slow, or whose refresh lock cannot be had.
    #[error("credential store {store} unavailable: {reason}")]
    StoreUnavailable {
        /// The store (never with a password).
        store: String,
        /// What failed.
        reason: String,
    },
}

fn describe(d: &Option<String>) -> String {
    match d {
        Some(d) if !d.is_empty() => format!(" ({d})"),
        _ => String::new(),
    }
}

impl OAuthError {
    /// The OAuth `error` code, when the server gave one.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            OAuthError::Server { error, .. } | OAuthError::Denied { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The server's `error_description`, when it gave one.
    pub fn oauth_error_description(&self) -> Option<&str> {
        match self {
            OAuthError::Server { description, .. } | OAuthError::Denied { description, .. } => {
                description.as_deref()
            }
            _ => None,
        }
    }
}
