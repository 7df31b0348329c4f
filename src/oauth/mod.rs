//! The OAuth 2.1 authorization engine of the MCP authorization spec (2025-11-25 and
//! 2026-07-28): on a 401 it discovers the resource's metadata (RFC 9728) and its authorization
//! server's (RFC 8414 / OpenID Connect), registers the client (pre-registered, client ID
//! metadata document, or RFC 7591), runs the grant (authorization code with PKCE S256,
//! `state`, RFC 9207 `iss` and RFC 8707 `resource`; client credentials; jwt-bearer; the device
//! authorization grant, RFC 8628; enterprise-managed authorization, RFC 8693 then RFC 7523),
//! refreshes tokens ahead of expiry, steps up scopes on 403 `insufficient_scope`, binds tokens
//! with DPoP (RFC 9449) when the server asks, and revokes them on logout (RFC 7009). Each step
//! is reported as an [`AuthEvent`].
//!
//! [`OAuthEngine`] (`engine.rs`) composes the pieces: `credentials.rs` holds what is known and
//! keeps it in the store (in the format of [`stored`]), `grants.rs` runs one grant or refresh,
//! `policy.rs` decides what a refusal calls for and which scopes to ask.
//!
//! Enable it with [`crate::ClientBuilder::oauth`]; see `docs/auth.md`.

pub mod authorize;
pub mod challenge;
mod credentials;
pub mod device;
pub mod discovery;
pub mod dpop;
mod engine;
pub mod events;
mod grants;
pub mod http;
pub mod jwt;
mod policy;
pub mod presenter;
pub mod registration;
pub mod stored;
pub mod token;
mod two_step;

use std::sync::Arc;
use std::time::Duration;

pub use crate::error::OAuthError;
pub use credentials::OAuthStatus;
pub use engine::{OAuthEngine, DEFAULT_REFRESH_MARGIN};
pub use events::{AuthEvent, AuthEventHook};
pub use presenter::{
    AuthorizationPresenter, AuthorizationRequest, BrowserPresenter, DeviceAuthorization,
    HeadlessPresenter, Presenter, RedirectListener,
};
pub use registration::RegistrationConfig;

use crate::secret::Secret;

/// Which grant obtains tokens.
#[derive(Clone, Default)]
pub enum Grant {
    /// Authorization code with PKCE, through the user's browser (the default).
    #[default]
    AuthorizationCode,
    /// `client_credentials`: the client acts on its own behalf (machine to machine).
    ClientCredentials,
    /// RFC 7523 jwt-bearer with an assertion the host already holds (e.g. a workload identity
    /// token).
    JwtBearer {
        /// The assertion.
        assertion: Secret,
    },
    /// The device authorization grant (RFC 8628): the user approves on another device while
    /// the client polls; for hosts without a browser.
    DeviceCode,
    /// Enterprise-managed authorization (SEP-990): the user's identity-provider token is
    /// exchanged at the IdP (RFC 8693) for an identity assertion grant (ID-JAG) for this
    /// authorization server, which is then redeemed with the jwt-bearer grant (RFC 7523).
    EnterpriseManaged(EnterpriseGrant),
}

/// The identity provider side of [`Grant::EnterpriseManaged`].
#[derive(Clone)]
pub struct EnterpriseGrant {
    /// The IdP's token endpoint.
    pub idp_token_endpoint: String,
    /// This client's id at the IdP.
    pub idp_client_id: String,
    /// Its secret at the IdP, if it is confidential there.
    pub idp_client_secret: Option<Secret>,
    /// The token to exchange (usually the user's ID token).
    pub subject_token: Secret,
    /// Its type (default `urn:ietf:params:oauth:token-type:id_token`).
    pub subject_token_type: String,
}

impl Grant {
    /// The grant's name as OAuth spells its `grant_type` (short forms for the URN ones):
    /// `authorization_code`, `client_credentials`, `jwt_bearer`, `device_code`,
    /// `enterprise_managed`.
    pub fn name(&self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::ClientCredentials => "client_credentials",
            Grant::JwtBearer { .. } => "jwt_bearer",
            Grant::DeviceCode => "device_code",
            Grant::EnterpriseManaged(_) => "enterprise_managed",
        }
    }
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Grant::AuthorizationCode => "AuthorizationCode",
            Grant::ClientCredentials => "ClientCredentials",
            Grant::DeviceCode => "DeviceCode",
            Grant::JwtBearer { .. } => "JwtBearer([redacted])",
            Grant::EnterpriseManaged(_) => "EnterpriseManaged([redacted])",
        })
    }
}

/// When tokens are bound with DPoP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopMode {
    /// When the server asks for it (a `DPoP` challenge or `dpop_bound_access_tokens_required`)
    /// and the authorization server supports ES256.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// OAuth settings.
#[derive(Clone)]
pub struct OAuthConfig {
    /// How the client is registered.
    pub registration: RegistrationConfig,
    /// A PEM private key for `private_key_jwt` client authentication.
    pub private_key_pem: Option<Secret>,
    /// Its algorithm (`ES256` / `RS256`; default: from the key).
    pub private_key_alg: Option<String>,
    /// Scopes to request instead of the server's guidance.
    pub scopes: Option<Vec<String>>,
    /// The grant.
    pub grant: Grant,
    /// Shows the authorization URL to the user.
    pub presenter: Presenter,
    /// Port of the loopback redirect listener (0: any free port).
    pub redirect_port: u16,
    /// How long to wait for the browser's redirect.
    pub redirect_timeout: Duration,
    /// Whether the user may be asked to sign in (false: a needed sign-in is an error).
    pub interactive: bool,
    /// Proceed with authorization servers whose metadata omits
    /// `code_challenge_methods_supported` (off: the spec says refuse).
    pub allow_missing_pkce_metadata: bool,
    /// DPoP binding.
    pub dpop: DpopMode,
    /// Step-up re-authorizations allowed before a 403 is final.
    pub max_step_up: u32,
    /// Refresh this long before the access token expires.
    pub refresh_margin: Duration,
    /// Timeout of each OAuth HTTP request.
    pub http_timeout: Duration,
    /// Largest OAuth response accepted.
    pub max_response_bytes: usize,
    /// Where credentials are kept between runs (`MCP_CLIENT_STORE` overrides it).
    pub store: crate::store::StoreChoice,
    /// Receives the engine's [`AuthEvent`]s.
    pub on_event: Option<AuthEventHook>,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("registration", &self.registration)
            .field(
                "private_key",
                &self.private_key_pem.as_ref().map(|_| "[redacted]"),
            )
            .field("scopes", &self.scopes)
            .field("grant", &self.grant)
            .field("redirect_port", &self.redirect_port)
            .field("interactive", &self.interactive)
            .field("dpop", &self.dpop)
            .field("store", &self.store)
            .field("on_event", &self.on_event)
            .finish_non_exhaustive()
    }
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            registration: RegistrationConfig {
                client_name: "mcp-client".into(),
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                ..Default::default()
            },
            private_key_pem: None,
            private_key_alg: None,
            scopes: None,
            grant: Grant::AuthorizationCode,
            presenter: Arc::new(BrowserPresenter::default()),
            redirect_port: 0,
            redirect_timeout: Duration::from_secs(300),
            interactive: true,
            allow_missing_pkce_metadata: false,
            dpop: DpopMode::Auto,
            max_step_up: 2,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            http_timeout: Duration::from_secs(30),
            max_response_bytes: 1 << 20,
            store: crate::store::StoreChoice::Auto,
            on_event: None,
        }
    }
}

impl OAuthConfig {
    /// Use a pre-registered client.
    pub fn client(mut self, client_id: &str, client_secret: Option<&str>) -> Self {
        self.registration.client_id = Some(client_id.into());
        self.registration.client_secret = client_secret.map(Secret::new);
        self
    }

    /// The issuer the pre-registered client (and any key or assertion configured) belongs
    /// to. Without it they are bound to the issuer they are first used with.
    pub fn client_issuer(mut self, issuer: &str) -> Self {
        self.registration.client_issuer = Some(issuer.into());
        self
    }

    /// Use a client ID metadata document at `url` when the server supports them.
    pub fn client_metadata_url(mut self, url: &str) -> Self {
        self.registration.client_metadata_url = Some(url.into());
        self
    }

    /// Show the authorization URL with `presenter`.
    pub fn presenter(mut self, presenter: impl AuthorizationPresenter) -> Self {
        self.presenter = Arc::new(presenter);
        self
    }

    /// Use `grant`.
    pub fn grant(mut self, grant: Grant) -> Self {
        self.grant = grant;
        if !matches!(self.grant, Grant::AuthorizationCode) {
            self.registration.grant_types = match &self.grant {
                Grant::ClientCredentials => vec!["client_credentials".into()],
                Grant::DeviceCode => vec![
                    "urn:ietf:params:oauth:grant-type:device_code".into(),
                    "refresh_token".into(),
                ],
                Grant::JwtBearer { .. } | Grant::EnterpriseManaged(_) => {
                    vec!["urn:ietf:params:oauth:grant-type:jwt-bearer".into()]
                }
                Grant::AuthorizationCode => unreachable_grant(),
            };
        }
        self
    }

    /// Send the engine's [`AuthEvent`]s to `hook`.
    pub fn on_event(mut self, hook: impl Fn(&AuthEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(AuthEventHook::new(hook));
        self
    }

    /// Authenticate with `private_key_jwt` using this PEM key.
    pub fn private_key(mut self, pem: &str, alg: Option<&str>) -> Self {
        self.private_key_pem = Some(Secret::new(pem));
        self.private_key_alg = alg.map(str::to_owned);
        self
    }
}

#[cold]
fn unreachable_grant() -> Vec<String> {
    vec!["authorization_code".into()]
}
