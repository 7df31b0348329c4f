//! An OAuth 2.1 authorization server on the same origin as `/mcp`, and the
//! protected-resource checks that `/mcp` applies when it is on.
//!
//! Everything is configured by [`AuthOptions`]; the state (clients, codes,
//! grants, tokens, devices) lives in one [`store::Store`] behind a mutex.

mod authorize;
mod device;
mod dpop;
mod login;
mod metadata;
mod persist;
mod register;
pub(crate) mod resource;
mod store;
mod token;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{
    header, request::Parts, HeaderMap, HeaderName, HeaderValue, Response, StatusCode,
};
use axum::routing::{any, MethodRouter};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Map, Value};

use crate::session::random_id;
use crate::sync::lock;
use crate::Shared;

pub use login::Login;
pub(crate) use store::Store;

/// The device authorization grant type (RFC 8628).
pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Largest form or JSON body the authorization server reads.
const MAX_AS_BODY: usize = 1024 * 1024;

/// Where the authorization server metadata is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataStyle {
    /// RFC 8414 only: `/.well-known/oauth-authorization-server{issuer path}`.
    #[default]
    OAuth,
    /// OpenID Connect Discovery only, both at
    /// `/.well-known/openid-configuration{issuer path}` (path insertion) and at
    /// `{issuer path}/.well-known/openid-configuration` (path appending).
    OpenIdOnly,
    /// The RFC 8414 URL and both OpenID Connect URLs.
    Both,
}

/// How the authorization server handles the RFC 9207 `iss` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IssMode {
    /// Advertised (`authorization_response_iss_parameter_supported: true`)
    /// and present in every authorization response.
    #[default]
    Advertised,
    /// Neither advertised nor sent.
    Silent,
    /// Advertised, but redirects carry `iss=http://evil.example`.
    Wrong,
    /// Advertised, but redirects carry no `iss`.
    Missing,
}

/// DPoP (RFC 9449). DPoP is on when either field is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DpopOptions {
    /// `/token` refuses requests without a proof, the protected resource
    /// metadata says `dpop_bound_access_tokens_required: true` and `/mcp`
    /// challenges with the `DPoP` scheme.
    pub required: bool,
    /// The first proof sent to `/token` and the first sent to `/mcp` are
    /// refused with `use_dpop_nonce` and a `DPoP-Nonce` header; later proofs
    /// must carry that nonce (one nonce for `/token`, another for `/mcp`).
    pub nonce: bool,
}

impl DpopOptions {
    /// Whether DPoP is on at all.
    pub fn enabled(&self) -> bool {
        self.required || self.nonce
    }
}

/// A client known to the authorization server from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreRegistered {
    /// Its `client_id`.
    pub client_id: String,
    /// Its secret (for `client_secret_basic` and `client_secret_post`).
    pub client_secret: Option<String>,
    /// `none`, `client_secret_basic` or `client_secret_post`.
    pub auth_method: String,
}

impl PreRegistered {
    /// A public client (`auth_method` `none`).
    pub fn public(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: None,
            auth_method: "none".into(),
        }
    }

    /// A confidential client authenticating with `method`
    /// (`client_secret_basic` or `client_secret_post`).
    pub fn confidential(
        client_id: impl Into<String>,
        secret: impl Into<String>,
        method: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: Some(secret.into()),
            auth_method: method.into(),
        }
    }
}

/// The authorization server and protected-resource mode
/// ([`crate::ServerOptions::auth`]).
#[derive(Debug, Clone)]
pub struct AuthOptions {
    /// A path for the issuer, e.g. `/tenant1`: the issuer is
    /// `http://127.0.0.1:PORT/tenant1` and every endpoint lives under it.
    /// Letters, digits and `-._~` segments only. Ignored when
    /// `resource_metadata` is false. Default none.
    pub issuer_path: Option<String>,
    /// Which metadata URLs are served. Default [`MetadataStyle::OAuth`].
    pub metadata: MetadataStyle,
    /// Serve RFC 9728 protected resource metadata and name it in 401
    /// challenges. False gives a 2025-03-26-style server: no PRM, a bare
    /// `Bearer` challenge, the authorization server at the MCP origin with
    /// `/authorize`, `/token` and `/register`, and `resource` optional.
    /// Default true.
    pub resource_metadata: bool,
    /// With `resource_metadata` false: serve no authorization server metadata
    /// either, so the client must fall back to the default endpoints.
    /// Default false.
    pub legacy_no_as_metadata: bool,
    /// The PRM `resource` (and the only accepted `resource` and token
    /// audience). Default the MCP URL, `http://127.0.0.1:PORT/mcp`.
    pub prm_resource: Option<String>,
    /// The PRM `scopes_supported`. Default `["mcp:read", "mcp:write"]`.
    pub scopes_supported: Vec<String>,
    /// Add `offline_access` to the authorization server's `scopes_supported`.
    /// Default true.
    pub offline_access: bool,
    /// A `scope` in the initial 401 challenge. Default `mcp:read`.
    pub challenge_scope: Option<String>,
    /// (tool name, required scope): calling the tool with a token lacking the
    /// scope gets 403 `insufficient_scope`. Default `[("admin", "mcp:admin")]`.
    /// The tool `admin` is listed and served whenever auth is on.
    pub step_up: Vec<(String, String)>,
    /// Dynamic client registration (RFC 7591) at `/register`. Default true.
    pub dcr: bool,
    /// Accept https URLs as client ids (Client ID Metadata Documents, not
    /// fetched) with any loopback redirect URI. Default false.
    pub cimd: bool,
    /// Clients known from the start (any loopback redirect URI is accepted).
    pub pre_registered: Vec<PreRegistered>,
    /// `token_endpoint_auth_methods_supported`. Default `none`,
    /// `client_secret_basic`, `client_secret_post`.
    pub token_endpoint_auth_methods: Vec<String>,
    /// Advertise `code_challenge_methods_supported: ["S256"]` (PKCE with S256
    /// is required regardless). Default true.
    pub pkce_advertised: bool,
    /// RFC 9207 behaviour. Default [`IssMode::Advertised`].
    pub iss: IssMode,
    /// Access token lifetime. Default 3600.
    pub access_token_ttl_secs: u64,
    /// Issue refresh tokens (authorization code and device grants). Default true.
    pub issue_refresh_tokens: bool,
    /// Every refresh returns a new refresh token and invalidates the old one;
    /// presenting a rotated one revokes the whole grant. When false, refresh
    /// responses carry no `refresh_token` and the old one stays valid.
    /// Default true.
    pub rotate_refresh_tokens: bool,
    /// The device authorization grant (RFC 8628). Default false.
    pub device_flow: bool,
    /// DPoP. Default off.
    pub dpop: DpopOptions,
    /// Token revocation (RFC 7009) at `/revoke`. Default true.
    pub revocation: bool,
    /// `/authorize` answers with a redirect at once; when false it shows a
    /// consent page whose buttons post to `/authorize/consent`. Default true.
    pub auto_approve: bool,
    /// An interactive sign-in, as a person would meet it: `/authorize` answers a login form
    /// (posted to `/authorize/login`); the right user and password set an `HttpOnly` session
    /// cookie and show the consent page (whatever `auto_approve` says), whose Allow redirects
    /// with a code and Deny with `access_denied`; a wrong password shows the form again with
    /// an error. Default none (no login).
    pub login: Option<Login>,
    /// Keep the clients, grants, refresh tokens and counters in this JSON file across
    /// restarts: read at start, rewritten after every `/token`, `/register` and `/revoke`
    /// request (access tokens are not kept: see `oauth/persist.rs`). Run the restarted server
    /// on the same port (the issuer and resource name it). Default none.
    pub state_file: Option<PathBuf>,
    /// A `/token` request with `grant_type=refresh_token` waits this many milliseconds before
    /// its refresh token is looked up (it is counted in [`AuthStats::token_requests`] and the
    /// request log at once). A client that disconnects (or is killed) during the wait has not
    /// used its refresh token: the wait ends with the connection. Default 0.
    pub refresh_delay_ms: u64,
    /// Behaviours of real authorization servers that clients must live with. Default none.
    pub quirks: Quirks,
}

/// Behaviours seen in widely deployed authorization servers (each off by default).
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// A Basic-authenticated token request whose form lacks `client_id` fails with
    /// `invalid_client`.
    pub basic_needs_client_id_in_body: bool,
    /// Token requests authenticated this way (`client_secret_basic` or
    /// `client_secret_post`) fail with `invalid_client` though the method is advertised;
    /// any other advertised method is accepted for every client.
    pub refused_auth_method: Option<String>,
    /// `token_type` spelled this way (e.g. `bearer`) in token responses.
    pub token_type_spelling: Option<String>,
    /// `expires_in` sent as a JSON string (`"3600"`).
    pub expires_in_as_string: bool,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            issuer_path: None,
            metadata: MetadataStyle::OAuth,
            resource_metadata: true,
            legacy_no_as_metadata: false,
            prm_resource: None,
            scopes_supported: vec!["mcp:read".into(), "mcp:write".into()],
            offline_access: true,
            challenge_scope: Some("mcp:read".into()),
            step_up: vec![("admin".into(), "mcp:admin".into())],
            dcr: true,
            cimd: false,
            pre_registered: Vec::new(),
            token_endpoint_auth_methods: vec![
                "none".into(),
                "client_secret_basic".into(),
                "client_secret_post".into(),
            ],
            pkce_advertised: true,
            iss: IssMode::Advertised,
            access_token_ttl_secs: 3600,
            issue_refresh_tokens: true,
            rotate_refresh_tokens: true,
            device_flow: false,
            dpop: DpopOptions::default(),
            revocation: true,
            auto_approve: true,
            login: None,
            state_file: None,
            refresh_delay_ms: 0,
            quirks: Quirks::default(),
        }
    }
}

/// Counters of the authorization server's activity ([`crate::TestServer::auth_stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthStats {
    /// Requests to `/authorize` (valid or not).
    pub authorize_requests: u64,
    /// Requests to `/token`, by `grant_type` (as sent; "" when missing).
    pub token_requests: BTreeMap<String, u64>,
    /// Successful dynamic client registrations.
    pub registrations: u64,
    /// Already-rotated refresh tokens presented again (each revoked its grant).
    pub refresh_replays_detected: u64,
    /// Token requests answered `invalid_grant` (replays included).
    pub invalid_grants: u64,
    /// Authorization codes presented again (each revoked its grant).
    pub code_replays_detected: u64,
    /// Successful device authorization requests.
    pub device_authorizations: u64,
    /// Revocation requests that passed client authentication.
    pub revocations: u64,
    /// Login form posts with a wrong user name or password ([`AuthOptions::login`]).
    pub login_failures: u64,
}

impl AuthStats {
    /// Token requests of one grant type.
    pub fn token_requests_for(&self, grant_type: &str) -> u64 {
        self.token_requests.get(grant_type).copied().unwrap_or(0)
    }

    /// Token requests of every grant type.
    pub fn token_requests_total(&self) -> u64 {
        self.token_requests.values().sum()
    }
}

/// A running authorization server's configuration and state.
pub(crate) struct AuthServer {
    pub(crate) opts: AuthOptions,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// The issuer path ("" or e.g. `/tenant1`).
    pub(crate) path: String,
    /// `base` + `path`.
    pub(crate) issuer: String,
    /// The PRM `resource` and token audience.
    pub(crate) resource: String,
    /// The URL named in challenges' `resource_metadata`.
    pub(crate) prm_url: String,
    /// A 2025-03-26-style server (no PRM).
    pub(crate) legacy: bool,
    /// DPoP is on.
    pub(crate) dpop: bool,
    /// The DPoP nonce of `/token`.
    pub(crate) as_nonce: String,
    /// The DPoP nonce of `/mcp`.
    pub(crate) rs_nonce: String,
    store: Mutex<Store>,
    rng: SystemRandom,
    /// The authorization server the PRM names instead of this one, once set
    /// ([`crate::TestServer::name_authorization_server`]).
    pub(crate) named_issuer: Mutex<Option<String>>,
}

impl AuthServer {
    /// Builds the server for `addr`; fails on an unusable issuer path or state file.
    pub(crate) fn new(opts: AuthOptions, addr: SocketAddr) -> std::io::Result<Self> {
        let base = format!("http://127.0.0.1:{}", addr.port());
        let legacy = !opts.resource_metadata;
        let path = if legacy {
            String::new()
        } else {
            normalize_path(opts.issuer_path.as_deref())?
        };
        let issuer = format!("{base}{path}");
        let resource = opts
            .prm_resource
            .clone()
            .unwrap_or_else(|| format!("{base}/mcp"));
        let prm_url = format!("{base}/.well-known/oauth-protected-resource/mcp");
        let mut store = Store::default();
        for c in &opts.pre_registered {
            store.clients.insert(
                c.client_id.clone(),
                store::Client {
                    id: c.client_id.clone(),
                    secret: c.client_secret.clone(),
                    method: c.auth_method.clone(),
                    redirect_uris: Vec::new(),
                    any_loopback: true,
                },
            );
        }
        if let Some(path) = &opts.state_file {
            persist::load(path, &mut store)?;
        }
        let rng = SystemRandom::new();
        let dpop = opts.dpop.enabled();
        let mut server = Self {
            opts,
            base,
            path,
            issuer,
            resource,
            prm_url,
            legacy,
            dpop,
            as_nonce: String::new(),
            rs_nonce: String::new(),
            store: Mutex::new(store),
            named_issuer: Mutex::new(None),
            rng,
        };
        server.as_nonce = server.random_token();
        server.rs_nonce = server.random_token();
        Ok(server)
    }

    /// The state, locked.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// The URL of an endpoint under the issuer, e.g. `endpoint("/token")`.
    pub(crate) fn endpoint(&self, name: &str) -> String {
        format!("{}{name}", self.issuer)
    }

    /// 32 random bytes, base64url.
    pub(crate) fn random_token(&self) -> String {
        let mut buf = [0u8; 32];
        if self.rng.fill(&mut buf).is_err() {
            return format!("{}{}", random_id(), random_id());
        }
        URL_SAFE_NO_PAD.encode(buf)
    }

    /// `n` random bytes.
    pub(crate) fn random_bytes(&self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        if self.rng.fill(&mut buf).is_err() {
            buf = random_id().into_bytes();
            buf.resize(n, 0);
        }
        buf
    }

    /// Whether a scope may be requested: `scopes_supported`, the step-up and
    /// challenge scopes, and `offline_access`.
    pub(crate) fn scope_allowed(&self, scope: &str) -> bool {
        scope == "offline_access"
            || self.opts.scopes_supported.iter().any(|s| s == scope)
            || self.opts.step_up.iter().any(|(_, s)| s == scope)
            || self.opts.challenge_scope.as_deref() == Some(scope)
    }

    /// Parses a requested `scope`: None (absent) gives `scopes_supported`;
    /// an unknown scope is an error (the offending scope).
    pub(crate) fn requested_scopes(&self, scope: Option<&str>) -> Result<Vec<String>, String> {
        match scope {
            None => Ok(self.opts.scopes_supported.clone()),
            Some(s) => {
                let scopes = split_scopes(s);
                match scopes.iter().find(|s| !self.scope_allowed(s)) {
                    Some(bad) => Err(bad.clone()),
                    None => Ok(scopes),
                }
            }
        }
    }

    /// Whether a `resource` value names this protected resource (scheme and
    /// host compared case-insensitively, as the url crate normalizes them).
    pub(crate) fn resource_matches(&self, resource: &str) -> bool {
        if resource == self.resource {
            return true;
        }
        match (url::Url::parse(resource), url::Url::parse(&self.resource)) {
            (Ok(a), Ok(b)) => a == b && a.fragment().is_none(),
            _ => false,
        }
    }

    /// Checks the `resource` parameters of a request: each must name this
    /// resource; none at all is refused unless `optional` or legacy.
    pub(crate) fn check_resources(&self, form: &Form, optional: bool) -> Result<(), OAuthError> {
        let resources = form.all("resource");
        if resources.is_empty() {
            if optional || self.legacy {
                return Ok(());
            }
            return Err(OAuthError::bad("invalid_target", "missing resource"));
        }
        match resources.iter().find(|r| !self.resource_matches(r)) {
            Some(r) => Err(OAuthError::bad(
                "invalid_target",
                format!("unknown resource: {r}"),
            )),
            None => Ok(()),
        }
    }

    /// The name a client registered with (`client_name`), else its id.
    pub(crate) fn client_name(&self, client_id: &str) -> String {
        self.store()
            .client_names
            .get(client_id)
            .cloned()
            .unwrap_or_else(|| client_id.to_owned())
    }

    /// The statistics so far.
    pub(crate) fn stats(&self) -> AuthStats {
        self.store().stats.clone()
    }
}

/// Validates and normalizes an issuer path: "" or `/seg/seg`.
fn normalize_path(path: Option<&str>) -> std::io::Result<String> {
    let Some(path) = path else {
        return Ok(String::new());
    };
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let ok = trimmed.split('/').all(|seg| {
        !seg.is_empty()
            && !seg.starts_with('.')
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    });
    if !ok {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("unusable issuer_path {path:?}: use letters, digits and -._~ segments"),
        ));
    }
    Ok(format!("/{trimmed}"))
}

/// Splits a space-delimited scope string, dropping empties and duplicates.
pub(crate) fn split_scopes(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in s.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == scope) {
            out.push(scope.to_owned());
        }
    }
    out
}

/// Every authorization server and protected resource metadata route.
pub(crate) fn routes(auth: &AuthServer) -> Router<Arc<Shared>> {
    let p = &auth.path;
    let o = &auth.opts;
    let mut routes: Vec<(String, MethodRouter<Arc<Shared>>)> = Vec::new();
    if !auth.legacy {
        routes.push((
            "/.well-known/oauth-protected-resource/mcp".into(),
            any(metadata::protected_resource),
        ));
        routes.push((
            "/.well-known/oauth-protected-resource".into(),
            any(metadata::protected_resource),
        ));
    }
    if !(auth.legacy && o.legacy_no_as_metadata) {
        if o.metadata != MetadataStyle::OpenIdOnly {
            routes.push((
                format!("/.well-known/oauth-authorization-server{p}"),
                any(metadata::oauth),
            ));
        }
        if o.metadata != MetadataStyle::OAuth {
            routes.push((
                format!("/.well-known/openid-configuration{p}"),
                any(metadata::openid),
            ));
            routes.push((
                format!("{p}/.well-known/openid-configuration"),
                any(metadata::openid),
            ));
        }
    }
    routes.push((format!("{p}/authorize"), any(authorize::authorize)));
    routes.push((format!("{p}/authorize/consent"), any(authorize::consent)));
    if o.login.is_some() {
        routes.push((format!("{p}/authorize/login"), any(login::login)));
    }
    routes.push((format!("{p}/token"), any(token::token)));
    if o.dcr {
        routes.push((format!("{p}/register"), any(register::register)));
    }
    if o.revocation {
        routes.push((format!("{p}/revoke"), any(token::revoke)));
    }
    routes.push((format!("{p}/introspect"), any(token::introspect)));
    if o.device_flow {
        routes.push((
            format!("{p}/device_authorization"),
            any(device::device_authorization),
        ));
        routes.push((format!("{p}/device"), any(device::verify)));
    }
    let mut seen = HashSet::new();
    let mut router = Router::new();
    for (path, handler) in routes {
        if seen.insert(path.clone()) {
            router = router.route(&path, handler);
        }
    }
    router
}

/// The answer when auth is off (its routes exist only when it is on).
pub(crate) fn auth_off() -> Response<Body> {
    OAuthError::new(StatusCode::NOT_FOUND, "not_found", "auth is off").response()
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// base64url (no padding) of the SHA-256 of `data`.
pub(crate) fn sha256_b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, data))
}

/// An `application/x-www-form-urlencoded` body or query, kept with repeats.
#[derive(Debug, Default)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parses form data.
    pub(crate) fn parse(data: &[u8]) -> Self {
        Self {
            pairs: url::form_urlencoded::parse(data).into_owned().collect(),
        }
    }

    /// A parameter that must not repeat (RFC 6749 §3.1); empty counts as absent.
    pub(crate) fn one(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = self
            .pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        let first = found.next();
        if found.next().is_some() {
            return Err(OAuthError::bad(
                "invalid_request",
                format!("parameter {name} repeated"),
            ));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// A parameter that must be present once.
    pub(crate) fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.one(name)?
            .ok_or_else(|| OAuthError::bad("invalid_request", format!("missing {name}")))
    }

    /// Every value of a parameter that may repeat (`resource`).
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The form as a JSON object (for the request log; a repeated name keeps
    /// its last value).
    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (n, v) in &self.pairs {
            m.insert(n.clone(), Value::String(v.clone()));
        }
        Value::Object(m)
    }
}

/// Reads a request body (up to 1 MiB); on failure records the request and
/// answers 413.
pub(crate) async fn body(shared: &Shared, req: Request) -> Result<(Parts, Bytes), Response<Body>> {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, MAX_AS_BODY).await {
        Ok(b) => Ok((parts, b)),
        Err(_) => {
            shared.recorder.record(&parts, None);
            Err(OAuthError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "body unreadable or too large",
            )
            .response())
        }
    }
}

/// Reads, records and checks a form POST: 405 for another method, 400 for
/// another content type.
pub(crate) async fn read_form(
    shared: &Shared,
    req: Request,
) -> Result<(Parts, Form), Response<Body>> {
    let (parts, bytes) = body(shared, req).await?;
    let form = Form::parse(&bytes);
    shared.recorder.record(&parts, Some(&form.to_json()));
    if parts.method != axum::http::Method::POST {
        return Err(method_not_allowed());
    }
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false);
    if !is_form {
        return Err(OAuthError::bad(
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        )
        .response());
    }
    Ok((parts, form))
}

/// 405 with an OAuth error body.
pub(crate) fn method_not_allowed() -> Response<Body> {
    OAuthError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "method not allowed",
    )
    .response()
}

/// An OAuth error response: `{error, error_description}`.
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    headers: Vec<(HeaderName, String)>,
}

impl OAuthError {
    /// An error with any status.
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            headers: Vec::new(),
        }
    }

    /// A 400 error.
    pub(crate) fn bad(error: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, description)
    }

    /// 401 `invalid_client`, with a `Basic` challenge when the client tried
    /// HTTP Basic (RFC 6749 §5.2).
    pub(crate) fn invalid_client(description: impl Into<String>, basic: bool) -> Self {
        let e = Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description);
        if basic {
            e.header(header::WWW_AUTHENTICATE, "Basic realm=\"mcp-test-server\"")
        } else {
            e
        }
    }

    /// Adds a response header.
    pub(crate) fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The description.
    pub(crate) fn description(&self) -> &str {
        &self.description
    }

    /// The HTTP response.
    pub(crate) fn response(&self) -> Response<Body> {
        let mut resp = json_response(
            self.status,
            &json!({"error": self.error, "error_description": self.description}),
        );
        no_store(&mut resp);
        for (n, v) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                resp.headers_mut().append(n.clone(), v);
            }
        }
        resp
    }
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    crate::reply::json(status, v)
}

/// Adds `Cache-Control: no-store` and `Pragma: no-cache`.
pub(crate) fn no_store(resp: &mut Response<Body>) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A small HTML page.
pub(crate) fn html(status: StatusCode, title: &str, body_html: &str) -> Response<Body> {
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1>{body_html}</body></html>",
        t = escape(title)
    );
    let mut resp = Response::new(Body::from(page));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    no_store(&mut resp);
    resp
}

/// HTML-escapes text.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The first value of a header as text.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `http://{Host}{path}`, the URL a request was sent to as the client saw it.
pub(crate) fn host_url(parts: &Parts) -> Option<String> {
    let host = header_str(&parts.headers, "host")?;
    Some(format!("http://{host}{}", parts.uri.path()))
}

/// Counts per-key occurrences (used for stats maps).
pub(crate) fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_insert(0) += 1;
}
