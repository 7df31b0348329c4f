//! The OAuth engine as the transport sees it: an [`AuthProvider`] that adds the token to every
//! request, refreshes it ahead of expiry, and answers 401 (discover, register, authorize) and
//! 403 `insufficient_scope` (step up). One refresh and one authorization run at a time per
//! client (single flight): concurrent requests wait for it and then use its result.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use url::Url;

use crate::auth::{AuthHeaders, AuthProvider, Challenge, RequestInfo};
use crate::error::OAuthError;
use crate::error::Result;
use crate::http_client::HttpSettings;
use crate::oauth::authorize::{self, PendingAuthorization};
use crate::oauth::challenge::ChallengeInfo;
use crate::oauth::discovery::{self, AuthServerMetadata, ResourceMetadata};
use crate::oauth::dpop::DpopKey;
use crate::oauth::http::{endpoint, OAuthHttp};
use crate::oauth::jwt::SigningKey;
use crate::oauth::presenter::{AuthorizationRequest, RedirectListener};
use crate::oauth::registration::{self, Registration};
use crate::oauth::token::{self, ClientAuth, TokenRequest, TokenSet};
use crate::oauth::{DpopMode, Grant, OAuthConfig};
use crate::secret::Secret;
use crate::store::{MemoryStore, Store, StoredCredential, StoredTokens};
use base64::Engine;
use futures_util::future::BoxFuture;

const DPOP: HeaderName = HeaderName::from_static("dpop");

/// What the engine knows about the server it authorizes for.
#[derive(Default)]
struct State {
    resource: Option<String>,
    prm: Option<ResourceMetadata>,
    meta: Option<AuthServerMetadata>,
    registration: Option<Registration>,
    /// Registrations with other issuers (kept, never used with another issuer).
    registrations: std::collections::BTreeMap<String, Registration>,
    tokens: Option<TokenSet>,
    /// The issuer that granted `tokens`.
    tokens_issuer: Option<String>,
    /// When the metadata was discovered.
    discovered_at: u64,
    /// The generation of the stored entry last read or written.
    generation: u64,
    /// `Authorization` header value for the current token.
    header: Option<HeaderValue>,
    /// Scopes of the last authorization request.
    scopes: Vec<String>,
    /// Step-up authorizations per required scope set.
    step_ups: std::collections::HashMap<String, u32>,
    /// A pending two-step authorization.
    pending: Option<PendingAuthorization>,
}

/// A snapshot of the engine's state for status displays; never holds a secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OAuthStatus {
    /// The resource the tokens are for.
    pub resource: Option<String>,
    /// The authorization server.
    pub issuer: Option<String>,
    /// The client id.
    pub client_id: Option<String>,
    /// How the client was registered.
    pub registration: Option<String>,
    /// Whether an access token is held.
    pub has_token: bool,
    /// Whether a refresh token is held.
    pub has_refresh_token: bool,
    /// Token type (`Bearer` / `DPoP`).
    pub token_type: Option<String>,
    /// Expiry, seconds since the epoch.
    pub expires_at: Option<u64>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// The OAuth engine for one MCP server.
pub struct OAuthProvider {
    cfg: OAuthConfig,
    server: Url,
    http: OAuthHttp,
    state: Mutex<State>,
    /// Single flight for refreshes and authorizations.
    flight: tokio::sync::Mutex<()>,
    dpop: Mutex<Option<Arc<DpopKey>>>,
    signing_key: Option<Arc<SigningKey>>,
    /// Opened on first use: a client whose server never asks for authorization never touches
    /// the keyring or the disk.
    store: std::sync::OnceLock<Store>,
    key: String,
    loaded: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("server", &self.server.as_str())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl OAuthProvider {
    /// An engine for the MCP server at `server`.
    pub fn new(cfg: OAuthConfig, server: Url, http: OAuthHttp) -> Result<Self, OAuthError> {
        let signing_key = match &cfg.private_key_pem {
            Some(pem) => Some(Arc::new(SigningKey::from_pem(
                pem.expose(),
                cfg.private_key_alg.as_deref(),
            )?)),
            None => None,
        };
        let dpop = match cfg.dpop {
            DpopMode::Always => Some(Arc::new(DpopKey::generate()?)),
            _ => None,
        };
        let key = crate::store::key_for(&server);
        Ok(OAuthProvider {
            cfg,
            server,
            http,
            state: Mutex::new(State::default()),
            flight: tokio::sync::Mutex::new(()),
            dpop: Mutex::new(dpop),
            signing_key,
            store: std::sync::OnceLock::new(),
            key,
            loaded: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The store in use (for status displays).
    pub fn store_name(&self) -> String {
        self.store().name()
    }

    fn store(&self) -> &Store {
        self.store.get_or_init(|| {
            self.cfg.store.open().unwrap_or_else(|e| {
                tracing::warn!(error = %e, "credential store unusable; keeping credentials in memory only");
                Arc::new(MemoryStore::default())
            })
        })
    }

    /// Read the stored entry once, before the first use.
    fn ensure_loaded(&self) {
        use std::sync::atomic::Ordering;
        if self.loaded.swap(true, Ordering::AcqRel) {
            return;
        }
        match self.read_stored() {
            Some(c) => self.adopt(c, true),
            None => tracing::debug!(server = %self.key, "no stored credential"),
        }
    }

    fn read_stored(&self) -> Option<StoredCredential> {
        match self.store().load(&self.key) {
            Ok(Some(raw)) => crate::store::decode(&self.key, &raw),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the stored credential; signing in afresh");
                None
            }
        }
    }

    /// Take a stored entry's state. With `all`, metadata and registrations too (start-up);
    /// otherwise only tokens newer than ours (another process refreshed).
    fn adopt(&self, c: StoredCredential, all: bool) {
        let mut s = lock(&self.state);
        if all {
            s.resource = c.resource.clone();
            s.prm = c.resource_metadata.clone();
            s.meta = c.auth_server.clone();
            s.discovered_at = c.discovered_at;
            s.registrations = c.registrations.clone();
            s.registration = s
                .meta
                .as_ref()
                .and_then(|m| c.registrations.get(&m.issuer).cloned());
        }
        s.generation = s.generation.max(c.generation);
        let Some(t) = c.tokens else { return };
        // Tokens from another issuer than the one in use are not ours to send.
        if s.meta.as_ref().map(|m| &m.issuer) != Some(&t.issuer) {
            return;
        }
        if let Some(k) = &t.dpop_key {
            let decoded = base64::engine::general_purpose::STANDARD.decode(k.expose());
            match decoded.ok().and_then(|b| DpopKey::from_pkcs8(&b).ok()) {
                Some(key) => *lock(&self.dpop) = Some(Arc::new(key)),
                None => return, // a bound token without its key is useless
            }
        }
        drop(s);
        if let Err(e) = self.set_tokens_in_memory(t.tokens, Some(t.issuer)) {
            tracing::warn!(error = %e, "stored token unusable");
        }
    }

    /// Write the current state to the store (failures are logged, never fatal: the session
    /// goes on with the credentials in memory).
    fn persist(&self) {
        let cred = {
            let mut s = lock(&self.state);
            s.generation += 1;
            if let Some(r) = &s.registration {
                let r = r.clone();
                s.registrations.insert(r.issuer.clone(), r);
            }
            let dpop_key = lock(&self.dpop).as_ref().map(|k| {
                crate::secret::Secret::new(
                    base64::engine::general_purpose::STANDARD.encode(k.pkcs8()),
                )
            });
            StoredCredential {
                format: crate::store::FORMAT,
                server: self.key.clone(),
                generation: s.generation,
                saved_at: crate::oauth::jwt::now_secs(),
                resource: s.resource.clone(),
                resource_metadata: s.prm.clone(),
                auth_server: s.meta.clone(),
                discovered_at: s.discovered_at,
                registrations: s.registrations.clone(),
                tokens: match (&s.tokens, &s.tokens_issuer) {
                    (Some(t), Some(i)) => Some(StoredTokens {
                        issuer: i.clone(),
                        tokens: t.clone(),
                        dpop_key: if t.is_dpop() { dpop_key } else { None },
                    }),
                    _ => None,
                },
            }
        };
        match serde_json::to_string(&cred) {
            Ok(raw) => {
                if let Err(e) = self.store().save(&self.key, &raw) {
                    tracing::warn!(error = %e, "cannot save the credential; it lasts only for this session");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot encode the credential"),
        }
    }

    /// Take the cross-process lock for this server's entry (off the async threads: it may
    /// wait for another process's refresh).
    async fn cross_process_lock(&self) -> Option<crate::store::StoreLock> {
        let store = self.store().clone();
        let key = self.key.clone();
        match tokio::task::spawn_blocking(move || store.lock(&key)).await {
            Ok(Ok(l)) => Some(l),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot take the credential lock; refreshing without it");
                None
            }
            Err(_) => None,
        }
    }

    /// Another process may have refreshed: use its tokens when they differ from ours and
    /// are still good. Returns whether it did.
    fn adopt_newer_tokens(&self) -> bool {
        let Some(c) = self.read_stored() else {
            return false;
        };
        let ours = lock(&self.state)
            .tokens
            .as_ref()
            .map(|t| t.access_token.clone());
        let theirs_ok = c.tokens.as_ref().is_some_and(|t| {
            Some(&t.tokens.access_token) != ours.as_ref()
                && !t.tokens.due_for_refresh(self.cfg.refresh_margin.as_secs())
        });
        if theirs_ok {
            self.adopt(c, false);
            tracing::debug!("adopted a token another process refreshed");
        }
        theirs_ok
    }

    /// What is held now (no secrets).
    pub fn status(&self) -> OAuthStatus {
        let s = lock(&self.state);
        OAuthStatus {
            resource: s.resource.clone(),
            issuer: s.meta.as_ref().map(|m| m.issuer.clone()),
            client_id: s.registration.as_ref().map(|r| r.client_id.clone()),
            registration: s.registration.as_ref().map(|r| r.kind.clone()),
            has_token: s.tokens.is_some(),
            has_refresh_token: s.tokens.as_ref().is_some_and(|t| t.refresh_token.is_some()),
            token_type: s.tokens.as_ref().map(|t| t.token_type.clone()),
            expires_at: s.tokens.as_ref().and_then(|t| t.expires_at),
            scopes: s
                .tokens
                .as_ref()
                .map(|t| t.scopes.clone())
                .unwrap_or_default(),
        }
    }

    /// Drop the tokens held (the next request authorizes again).
    pub fn forget_tokens(&self) {
        let mut s = lock(&self.state);
        s.tokens = None;
        s.header = None;
    }

    fn dpop_key(&self) -> Option<Arc<DpopKey>> {
        lock(&self.dpop).clone()
    }

    fn current_header(&self) -> Option<HeaderValue> {
        lock(&self.state).header.clone()
    }

    /// Keep new tokens and save them.
    fn set_tokens(&self, tokens: TokenSet) -> Result<(), OAuthError> {
        let issuer = lock(&self.state).meta.as_ref().map(|m| m.issuer.clone());
        self.set_tokens_in_memory(tokens, issuer)?;
        self.persist();
        Ok(())
    }

    fn set_tokens_in_memory(
        &self,
        tokens: TokenSet,
        issuer: Option<String>,
    ) -> Result<(), OAuthError> {
        let scheme = if tokens.is_dpop() { "DPoP" } else { "Bearer" };
        let mut v = HeaderValue::from_str(&format!("{scheme} {}", tokens.access_token.expose()))
            .map_err(|_| OAuthError::BadResponse {
                what: "token response".into(),
                reason: "the access token is not a valid header value".into(),
            })?;
        v.set_sensitive(true);
        let mut s = lock(&self.state);
        s.header = Some(v);
        s.tokens = Some(tokens);
        s.tokens_issuer = issuer;
        Ok(())
    }

    /// The token for the next request, refreshing first when it is about to expire.
    async fn token_header(&self) -> Result<Option<HeaderValue>> {
        self.ensure_loaded();
        let (header, expiring) = {
            let s = lock(&self.state);
            let expiring = s.tokens.as_ref().is_some_and(|t| {
                t.refresh_token.is_some() && t.due_for_refresh(self.cfg.refresh_margin.as_secs())
            });
            (s.header.clone(), expiring)
        };
        if !expiring {
            return Ok(header);
        }
        let _flight = self.flight.lock().await;
        // Another task may have refreshed while we waited.
        let still = {
            let s = lock(&self.state);
            s.header == header
        };
        if still {
            if let Err(e) = self.refresh().await {
                tracing::info!(error = %e, "refreshing the access token ahead of expiry failed");
                // Keep going with the old token; a 401 will lead to a new authorization.
            }
        }
        Ok(self.current_header())
    }

    /// Use the refresh token. Rotated refresh tokens replace the old one; a kept one stays.
    /// Across processes sharing the store, one refreshes while the others wait and adopt its
    /// result; an `invalid_grant` never deletes a credential newer than the one that failed.
    async fn refresh(&self) -> Result<(), OAuthError> {
        let _xlock = self.cross_process_lock().await;
        if self.adopt_newer_tokens() {
            return Ok(());
        }
        let (meta, reg, tokens, resource) = {
            let s = lock(&self.state);
            (
                s.meta.clone(),
                s.registration.clone(),
                s.tokens.clone(),
                s.resource.clone(),
            )
        };
        let (Some(meta), Some(reg), Some(tokens)) = (meta, reg, tokens) else {
            return Err(OAuthError::InteractionRequired("nothing to refresh".into()));
        };
        let Some(rt) = tokens.refresh_token.clone() else {
            return Err(OAuthError::InteractionRequired("no refresh token".into()));
        };
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", rt.expose().to_owned()),
        ];
        if let Some(r) = &resource {
            form.push(("resource", r.clone()));
        }
        match self
            .token_call(&meta, &reg, form, &tokens.scopes, "token refresh")
            .await
        {
            Ok(mut fresh) => {
                if fresh.refresh_token.is_none() {
                    fresh.refresh_token = Some(rt);
                }
                tracing::debug!("access token refreshed");
                self.set_tokens(fresh)
            }
            Err(e) => {
                if e.oauth_error() == Some("invalid_grant") {
                    // Drop the dead tokens, but only if the store still holds these very
                    // tokens (never a newer credential another process saved).
                    let stored = self.read_stored();
                    let stored_rt = stored
                        .as_ref()
                        .and_then(|c| c.tokens.as_ref())
                        .and_then(|t| t.tokens.refresh_token.clone());
                    if stored_rt.is_none() || stored_rt.as_ref() == Some(&rt) {
                        self.forget_tokens();
                        self.persist();
                    } else if let Some(c) = stored {
                        self.adopt(c, false);
                        return Ok(());
                    }
                }
                Err(e)
            }
        }
    }

    async fn token_call(
        &self,
        meta: &AuthServerMetadata,
        reg: &Registration,
        form: Vec<(&'static str, String)>,
        scopes: &[String],
        what: &str,
    ) -> Result<TokenSet, OAuthError> {
        let token_endpoint = endpoint(
            meta.token_endpoint
                .as_deref()
                .ok_or_else(|| OAuthError::BadMetadata {
                    what: "authorization server metadata".into(),
                    reason: "no token_endpoint".into(),
                })?,
            "token_endpoint",
        )?;
        let auth = self.client_auth(reg)?;
        let dpop = self.dpop_key();
        token::request(
            &self.http,
            TokenRequest {
                endpoint: &token_endpoint,
                issuer: &meta.issuer,
                auth: &auth,
                form,
                dpop: dpop.as_deref(),
                requested_scopes: scopes,
                what,
            },
        )
        .await
    }

    fn client_auth(&self, reg: &Registration) -> Result<ClientAuth, OAuthError> {
        let id = reg.client_id.clone();
        let secret = || {
            reg.client_secret.clone().ok_or_else(|| {
                OAuthError::Config(format!(
                    "`{}` needs a client secret, and none is configured",
                    reg.auth_method
                ))
            })
        };
        Ok(match reg.auth_method.as_str() {
            "client_secret_basic" => ClientAuth::SecretBasic {
                client_id: id,
                secret: secret()?,
            },
            "client_secret_post" => ClientAuth::SecretPost {
                client_id: id,
                secret: secret()?,
            },
            "private_key_jwt" => ClientAuth::PrivateKeyJwt {
                client_id: id,
                key: self.signing_key.clone().ok_or_else(|| {
                    OAuthError::Config("private_key_jwt needs a private key".into())
                })?,
            },
            _ => ClientAuth::None { client_id: id },
        })
    }

    /// Discover the resource's metadata and its authorization server's.
    async fn discover(&self, info: &ChallengeInfo) -> Result<(), OAuthError> {
        let prm = discovery::fetch_resource_metadata(
            &self.http,
            &self.server,
            info.resource_metadata.as_deref(),
        )
        .await?;
        let (resource, meta) = match &prm {
            Some((_, prm)) => {
                let mut last_err = None;
                let mut found = None;
                for issuer in &prm.authorization_servers {
                    match discovery::fetch_auth_server_metadata(&self.http, issuer).await {
                        Ok(m) => {
                            found = Some(m);
                            break;
                        }
                        Err(e) => {
                            tracing::info!(issuer = %issuer, error = %e, "authorization server unusable; trying the next");
                            last_err = Some(e);
                        }
                    }
                }
                let meta = match (found, last_err) {
                    (Some(m), _) => m,
                    (None, Some(e)) => return Err(e),
                    (None, None) => {
                        return Err(OAuthError::BadMetadata {
                            what: "protected resource metadata".into(),
                            reason: "no authorization_servers".into(),
                        })
                    }
                };
                (prm.resource.clone(), meta)
            }
            None => (
                discovery::canonical_resource(&self.server),
                discovery::legacy_auth_server_metadata(&self.http, &self.server).await?,
            ),
        };
        if !meta.supports_s256()
            && !self.cfg.allow_missing_pkce_metadata
            && matches!(self.cfg.grant, Grant::AuthorizationCode)
        {
            return Err(OAuthError::PkceNotSupported {
                issuer: meta.issuer.clone(),
            });
        }
        let mut s = lock(&self.state);
        // A registration (and tokens) from another issuer are never reused.
        if s.meta.as_ref().is_some_and(|m| m.issuer != meta.issuer) {
            if let Some(r) = s.registration.take() {
                s.registrations.insert(r.issuer.clone(), r);
            }
            s.tokens = None;
            s.header = None;
        }
        if s.registration.is_none() {
            s.registration = s.registrations.get(&meta.issuer).cloned();
        }
        s.discovered_at = crate::oauth::jwt::now_secs();
        if self.cfg.dpop == DpopMode::Auto {
            let wants = meta
                .dpop_signing_alg_values_supported
                .as_ref()
                .is_some_and(|a| a.iter().any(|x| x == "ES256"))
                && (info.dpop
                    || prm
                        .as_ref()
                        .is_some_and(|(_, p)| p.dpop_bound_access_tokens_required));
            if wants && lock(&self.dpop).is_none() {
                *lock(&self.dpop) = Some(Arc::new(DpopKey::generate()?));
            }
        }
        s.resource = Some(resource);
        s.prm = prm.map(|(_, p)| p);
        s.meta = Some(meta);
        drop(s);
        self.persist();
        Ok(())
    }

    /// Scopes for a new authorization: configured, else the challenge's, else the resource
    /// metadata's; plus `offline_access` when the authorization server offers it.
    fn choose_scopes(&self, info: &ChallengeInfo, step_up: bool) -> Vec<String> {
        let s = lock(&self.state);
        let mut scopes: Vec<String> = if let Some(c) = &self.cfg.scopes {
            c.clone()
        } else if let Some(c) = &info.scope {
            c.clone()
        } else {
            s.prm
                .as_ref()
                .and_then(|p| p.scopes_supported.clone())
                .unwrap_or_default()
        };
        if step_up {
            // The union of what was asked before and what the challenge requires.
            let mut union = s.scopes.clone();
            if let Some(t) = &s.tokens {
                for x in &t.scopes {
                    if !union.contains(x) {
                        union.push(x.clone());
                    }
                }
            }
            // The challenge's scopes are what this operation needs, whatever was configured.
            for x in scopes
                .into_iter()
                .chain(info.scope.clone().unwrap_or_default())
            {
                if !union.contains(&x) {
                    union.push(x);
                }
            }
            scopes = union;
        }
        let offers_offline = s
            .meta
            .as_ref()
            .and_then(|m| m.scopes_supported.as_ref())
            .is_some_and(|v| v.iter().any(|x| x == "offline_access"));
        if matches!(self.cfg.grant, Grant::AuthorizationCode | Grant::DeviceCode)
            && offers_offline
            && !scopes.iter().any(|x| x == "offline_access")
        {
            scopes.push("offline_access".into());
        }
        scopes
    }

    async fn ensure_registration(&self, redirect_uri: &Url) -> Result<Registration, OAuthError> {
        let (meta, existing) = {
            let s = lock(&self.state);
            (s.meta.clone(), s.registration.clone())
        };
        let meta = meta.ok_or_else(|| OAuthError::Config("no authorization server".into()))?;
        if let Some(r) = existing {
            if r.issuer == meta.issuer
                && !r.expired()
                && (r.redirect_uris.iter().any(|u| u == redirect_uri.as_str())
                    || r.kind != "dynamic")
            {
                return Ok(r);
            }
        }
        let mut rc = self.cfg.registration.clone();
        rc.has_private_key = self.signing_key.is_some();
        let reg = registration::register(&self.http, &meta, &rc, redirect_uri).await?;
        lock(&self.state).registration = Some(reg.clone());
        self.persist();
        Ok(reg)
    }

    /// Run the configured grant now and keep its tokens.
    async fn obtain_tokens(&self, info: &ChallengeInfo, step_up: bool) -> Result<(), OAuthError> {
        let meta = lock(&self.state)
            .meta
            .clone()
            .ok_or_else(|| OAuthError::Config("no authorization server".into()))?;
        let resource = lock(&self.state).resource.clone().unwrap_or_default();
        let scopes = self.choose_scopes(info, step_up);
        lock(&self.state).scopes = scopes.clone();
        let tokens = match &self.cfg.grant {
            Grant::AuthorizationCode => {
                if !self.cfg.interactive {
                    return Err(OAuthError::InteractionRequired(
                        "the server asks for a new authorization".into(),
                    ));
                }
                let listener = RedirectListener::bind(self.cfg.redirect_port).await?;
                let reg = self.ensure_registration(listener.redirect_uri()).await?;
                let pending = authorize::begin(
                    &meta,
                    &reg.client_id,
                    listener.redirect_uri(),
                    &scopes,
                    &resource,
                )?;
                let request = AuthorizationRequest {
                    url: pending.url.clone(),
                    redirect_uri: pending.redirect_uri.clone(),
                };
                let redirect = match self.cfg.presenter.present(&request).await? {
                    Some(u) => u,
                    None => {
                        listener
                            .wait(pending.state.secret(), self.cfg.redirect_timeout)
                            .await?
                    }
                };
                self.exchange_code(&meta, &reg, &pending, &redirect).await?
            }
            Grant::ClientCredentials => {
                let reg = self.ensure_registration(&placeholder_redirect()).await?;
                let mut form = vec![("grant_type", "client_credentials".to_owned())];
                if !scopes.is_empty() {
                    form.push(("scope", scopes.join(" ")));
                }
                form.push(("resource", resource.clone()));
                self.token_call(&meta, &reg, form, &scopes, "client credentials grant")
                    .await?
            }
            Grant::JwtBearer { assertion } => {
                self.jwt_bearer(&meta, assertion, &scopes, &resource)
                    .await?
            }
            Grant::DeviceCode => {
                if !self.cfg.interactive {
                    return Err(OAuthError::InteractionRequired(
                        "the server asks for a new authorization".into(),
                    ));
                }
                let reg = self.ensure_registration(&placeholder_redirect()).await?;
                let auth = self.client_auth(&reg)?;
                let dpop = self.dpop_key();
                crate::oauth::device::run(crate::oauth::device::DeviceFlow {
                    http: &self.http,
                    meta: &meta,
                    auth: &auth,
                    scopes: &scopes,
                    resource: &resource,
                    presenter: self.cfg.presenter.as_ref(),
                    dpop: dpop.as_deref(),
                    timeout: self.cfg.redirect_timeout,
                })
                .await?
            }
            Grant::EnterpriseManaged(e) => {
                let id_jag = self.exchange_at_idp(e, &meta, &scopes, &resource).await?;
                self.jwt_bearer(&meta, &id_jag, &scopes, &resource).await?
            }
        };
        self.set_tokens(tokens)?;
        Ok(())
    }

    /// RFC 7523 §2.1: redeem an assertion at the token endpoint.
    async fn jwt_bearer(
        &self,
        meta: &AuthServerMetadata,
        assertion: &Secret,
        scopes: &[String],
        resource: &str,
    ) -> Result<TokenSet, OAuthError> {
        let reg = self.ensure_registration(&placeholder_redirect()).await?;
        let mut form = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned(),
            ),
            ("assertion", assertion.expose().to_owned()),
        ];
        if !scopes.is_empty() {
            form.push(("scope", scopes.join(" ")));
        }
        form.push(("resource", resource.to_owned()));
        self.token_call(meta, &reg, form, scopes, "jwt-bearer grant")
            .await
    }

    /// RFC 8693 at the identity provider: the subject token for an ID-JAG whose audience is
    /// this authorization server and whose resource is this MCP server.
    async fn exchange_at_idp(
        &self,
        e: &crate::oauth::EnterpriseGrant,
        meta: &AuthServerMetadata,
        scopes: &[String],
        resource: &str,
    ) -> Result<Secret, OAuthError> {
        let idp = endpoint(&e.idp_token_endpoint, "identity provider token endpoint")?;
        let auth = match &e.idp_client_secret {
            Some(secret) => ClientAuth::SecretPost {
                client_id: e.idp_client_id.clone(),
                secret: secret.clone(),
            },
            None => ClientAuth::None {
                client_id: e.idp_client_id.clone(),
            },
        };
        let mut form = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
            ),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:id-jag".to_owned(),
            ),
            ("subject_token", e.subject_token.expose().to_owned()),
            ("subject_token_type", e.subject_token_type.clone()),
            ("audience", meta.issuer.clone()),
            ("resource", resource.to_owned()),
        ];
        if !scopes.is_empty() {
            form.push(("scope", scopes.join(" ")));
        }
        let issued = token::request(
            &self.http,
            TokenRequest {
                endpoint: &idp,
                issuer: &e.idp_token_endpoint,
                auth: &auth,
                form,
                dpop: None,
                requested_scopes: scopes,
                what: "token exchange at the identity provider",
            },
        )
        .await?;
        Ok(issued.access_token)
    }

    async fn exchange_code(
        &self,
        meta: &AuthServerMetadata,
        reg: &Registration,
        pending: &PendingAuthorization,
        redirect: &Url,
    ) -> Result<TokenSet, OAuthError> {
        let code = authorize::finish(pending, redirect)?;
        let resource = lock(&self.state).resource.clone().unwrap_or_default();
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", pending.redirect_uri.to_string()),
            ("code_verifier", pending.verifier.secret().to_owned()),
            ("resource", resource),
        ];
        self.token_call(meta, reg, form, &pending.scopes, "token request")
            .await
    }

    /// Handle a refusal; `Ok(true)`: retry the request.
    async fn handle(&self, ch: &Challenge) -> Result<bool, OAuthError> {
        self.ensure_loaded();
        let info = ChallengeInfo::from_headers(ch.www_authenticate.iter().map(String::as_str));
        // A resource server's DPoP nonce demand: remember it and retry.
        if info.error.as_deref() == Some("use_dpop_nonce") {
            if let (Some(k), Some(n)) = (self.dpop_key(), &ch.dpop_nonce) {
                k.set_nonce(&ch.url, n);
                return Ok(true);
            }
        }
        let _flight = self.flight.lock().await;
        // Someone else already got a new token while we waited: just retry with it.
        if self.current_header().is_some() && self.current_header() != ch.sent_authorization {
            return Ok(true);
        }
        let insufficient = ch.status == 403 && info.error.as_deref() == Some("insufficient_scope");
        if ch.status == 403 && !insufficient {
            return Ok(false);
        }
        if insufficient {
            // Attempts are counted per required scope set (one operation's needs), so a
            // long-lived client can step up for different operations over time; a set the
            // token already holds will not be helped by asking again.
            let mut required = info.scope.clone().unwrap_or_default();
            required.sort();
            let key = required.join(" ");
            let (attempts, already_held) = {
                let mut s = lock(&self.state);
                let held = s
                    .tokens
                    .as_ref()
                    .map(|t| t.scopes.clone())
                    .unwrap_or_default();
                let already = !required.is_empty() && required.iter().all(|r| held.contains(r));
                let n = s.step_ups.entry(key).or_insert(0);
                *n += 1;
                (*n, already)
            };
            if attempts > self.cfg.max_step_up || (already_held && attempts > 1) {
                let scopes = lock(&self.state).scopes.join(" ");
                return Err(OAuthError::StepUpLimit {
                    attempts: attempts - 1,
                    scopes,
                });
            }
            if lock(&self.state).meta.is_none() || info.resource_metadata.is_some() {
                self.discover(&info).await?;
            }
            self.obtain_tokens(&info, true).await?;
            return Ok(true);
        }
        // 401: a token we hold was refused (expired, revoked): refresh first.
        let have_refresh = lock(&self.state)
            .tokens
            .as_ref()
            .is_some_and(|t| t.refresh_token.is_some());
        if have_refresh && ch.sent_authorization.is_some() {
            match self.refresh().await {
                Ok(()) => return Ok(true),
                Err(e) => {
                    tracing::info!(error = %e, "refresh failed; authorizing again");
                    self.forget_tokens();
                }
            }
        } else {
            self.forget_tokens();
        }
        self.discover(&info).await?;
        self.obtain_tokens(&info, false).await?;
        lock(&self.state).step_ups.clear();
        Ok(true)
    }

    /// Authorize now, without waiting for a 401 (discovery through the well-known URLs).
    pub async fn authorize(&self) -> Result<(), OAuthError> {
        self.ensure_loaded();
        let _flight = self.flight.lock().await;
        let info = ChallengeInfo::default();
        self.discover(&info).await?;
        self.obtain_tokens(&info, false).await
    }

    /// Step one of the two-step flow for hosts with their own redirect handling: discover,
    /// register with `redirect_uri`, and return the URL to send the user to.
    pub async fn begin_authorization(&self, redirect_uri: &Url) -> Result<Url, OAuthError> {
        self.ensure_loaded();
        let _flight = self.flight.lock().await;
        let info = ChallengeInfo::default();
        self.discover(&info).await?;
        let meta = lock(&self.state)
            .meta
            .clone()
            .ok_or_else(|| OAuthError::Config("no authorization server".into()))?;
        let reg = self.ensure_registration(redirect_uri).await?;
        let scopes = self.choose_scopes(&info, false);
        let resource = lock(&self.state).resource.clone().unwrap_or_default();
        let pending = authorize::begin(&meta, &reg.client_id, redirect_uri, &scopes, &resource)?;
        let url = pending.url.clone();
        let mut s = lock(&self.state);
        s.scopes = scopes;
        s.pending = Some(pending);
        Ok(url)
    }

    /// Step two: the URL the browser was redirected to; checks it and gets the tokens.
    pub async fn complete_authorization(&self, redirect: &Url) -> Result<(), OAuthError> {
        let _flight = self.flight.lock().await;
        let (pending, meta, reg) = {
            let mut s = lock(&self.state);
            (s.pending.take(), s.meta.clone(), s.registration.clone())
        };
        let (Some(pending), Some(meta), Some(reg)) = (pending, meta, reg) else {
            return Err(OAuthError::Config(
                "no authorization is pending (call begin first)".into(),
            ));
        };
        let tokens = self.exchange_code(&meta, &reg, &pending, redirect).await?;
        self.set_tokens(tokens)
    }

    /// Revoke the tokens at the server when it supports RFC 7009, then forget them and delete
    /// the stored entry. Local deletion happens even when revocation fails (that error is
    /// returned after).
    pub async fn logout(&self) -> Result<(), OAuthError> {
        self.ensure_loaded();
        let _flight = self.flight.lock().await;
        let (meta, reg, tokens) = {
            let s = lock(&self.state);
            (s.meta.clone(), s.registration.clone(), s.tokens.clone())
        };
        let mut outcome = Ok(());
        if let (Some(meta), Some(reg), Some(tokens)) = (meta, reg, tokens) {
            if let Some(rev) = &meta.revocation_endpoint {
                outcome = async {
                    let url = endpoint(rev, "revocation_endpoint")?;
                    let auth = self.client_auth(&reg)?;
                    let mut targets = vec![(tokens.access_token.clone(), "access_token")];
                    if let Some(r) = &tokens.refresh_token {
                        targets.insert(0, (r.clone(), "refresh_token"));
                    }
                    for (tok, hint) in targets {
                        revoke(&self.http, &url, &meta.issuer, &auth, &tok, hint).await?;
                    }
                    Ok(())
                }
                .await;
            }
        }
        self.forget_tokens();
        if let Err(e) = self.store().delete(&self.key) {
            tracing::warn!(error = %e, "cannot delete the stored credential");
        }
        outcome
    }
}

impl OAuthProvider {
    /// An engine for `server` with these TLS and proxy settings (a client's are
    /// [`crate::ClientConfig::http_settings`]).
    pub fn for_server(
        cfg: OAuthConfig,
        server: &Url,
        settings: &HttpSettings,
    ) -> crate::Result<Self> {
        let http = OAuthHttp::new(
            settings.oauth_client(cfg.http_timeout)?,
            cfg.max_response_bytes,
        );
        Ok(Self::new(cfg, server.clone(), http)?)
    }
}

async fn revoke(
    http: &OAuthHttp,
    url: &Url,
    issuer: &str,
    auth: &ClientAuth,
    token: &Secret,
    hint: &str,
) -> Result<(), OAuthError> {
    let mut form = vec![
        ("token", token.expose().to_owned()),
        ("token_type_hint", hint.to_owned()),
    ];
    let mut headers = reqwest::header::HeaderMap::new();
    token::apply_client_auth(auth, &mut form, &mut headers, issuer)?;
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = http
        .post_form(url, &pairs, headers, "token revocation")
        .await?;
    if (200..300).contains(&reply.status) {
        Ok(())
    } else {
        Err(OAuthError::HttpStatus {
            what: "token revocation".into(),
            url: crate::redact::redact_url(url),
            status: reply.status,
        })
    }
}

/// The redirect URI registered by clients of grants without a browser (never used).
fn placeholder_redirect() -> Url {
    Url::parse("http://127.0.0.1/callback").unwrap_or_else(|_| unreachable_url())
}

#[cold]
fn unreachable_url() -> Url {
    // The literal above always parses; this keeps the library free of unwrap().
    Url::parse("http://localhost/").unwrap_or_else(|_| std::process::abort())
}

impl AuthProvider for OAuthProvider {
    fn headers<'a>(&'a self, request: RequestInfo<'a>) -> BoxFuture<'a, Result<AuthHeaders>> {
        Box::pin(async move {
            let Some(header) = self.token_header().await? else {
                return Ok(Vec::new());
            };
            let mut out = vec![(AUTHORIZATION, header.clone())];
            let is_dpop = lock(&self.state)
                .tokens
                .as_ref()
                .is_some_and(TokenSet::is_dpop);
            if is_dpop {
                if let Some(k) = self.dpop_key() {
                    let token = lock(&self.state)
                        .tokens
                        .as_ref()
                        .map(|t| t.access_token.clone());
                    let proof = k
                        .proof(
                            request.method,
                            request.url,
                            token.as_ref().map(Secret::expose),
                        )
                        .map_err(crate::Error::OAuth)?;
                    let v = HeaderValue::from_str(&proof).map_err(|_| {
                        crate::Error::OAuth(OAuthError::Key("bad DPoP proof".into()))
                    })?;
                    out.push((DPOP, v));
                }
            }
            Ok(out)
        })
    }

    fn on_challenge<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move { self.handle(challenge).await.map_err(crate::Error::OAuth) })
    }
}

/// How long before expiry a token is refreshed by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
