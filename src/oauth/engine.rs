//! The OAuth engine as the transport sees it: an [`AuthProvider`] that adds the token to every
//! request, refreshes it ahead of expiry, and answers 401 (discover, register, authorize) and
//! 403 `insufficient_scope` (step up). One refresh or authorization runs at a time per engine
//! (single flight): concurrent requests wait for it and then use its result.
//!
//! It composes the pieces: [`Credentials`] (memory, store, cross-process lock), [`Grants`]
//! (one grant or refresh each), the [`policy`](crate::oauth::policy) (what a refusal calls
//! for, which scopes), discovery and registration.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use url::Url;

use crate::auth::{AuthHeaders, AuthProvider, Challenge, RequestInfo};
use crate::error::{OAuthError, Result};
use crate::http_client::HttpSettings;
use crate::oauth::authorize::TwoStep;
use crate::oauth::challenge::ChallengeInfo;
use crate::oauth::credentials::{Credentials, OAuthStatus};
use crate::oauth::discovery;
use crate::oauth::dpop::{self, DpopKey};
use crate::oauth::events::{AuthEvent, Events};
use crate::oauth::grants::{placeholder_redirect, GrantTarget, Grants};
use crate::oauth::http::OAuthHttp;
use crate::oauth::jwt::SigningKey;
use crate::oauth::policy::{self, Attempts, ScopeInputs, StepUps, Verdict};
use crate::oauth::presenter::RedirectListener;
use crate::oauth::registration::{self, Registration};
use crate::oauth::token::TokenSet;
use crate::oauth::{stored, DpopMode, Grant, OAuthConfig};

/// How long before expiry a token is refreshed by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The OAuth engine for one MCP server.
pub struct OAuthEngine {
    cfg: OAuthConfig,
    server: Url,
    pub(super) creds: Credentials,
    pub(super) grants: Grants,
    step_ups: StepUps,
    /// The last authorization attempt's outcome, shared with the requests that waited.
    attempts: Attempts,
    /// Scopes of the last authorization request.
    pub(super) requested: Mutex<Vec<String>>,
    /// A pending two-step authorization.
    pub(super) pending: Mutex<Option<TwoStep>>,
    /// Single flight for refreshes and authorizations.
    pub(super) flight: tokio::sync::Mutex<()>,
    events: Events,
}

impl std::fmt::Debug for OAuthEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthEngine")
            .field("server", &self.server.as_str())
            .finish_non_exhaustive()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl OAuthEngine {
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
        let events = Events::new(cfg.on_event.clone());
        let creds = Credentials::new(
            stored::key_for(&server),
            cfg.store.clone(),
            dpop,
            events.clone(),
        );
        let grants = Grants::new(
            http,
            signing_key,
            cfg.presenter.clone(),
            cfg.redirect_timeout,
        );
        Ok(OAuthEngine {
            cfg,
            server,
            creds,
            grants,
            step_ups: StepUps::default(),
            attempts: Attempts::default(),
            requested: Mutex::new(Vec::new()),
            pending: Mutex::new(None),
            flight: tokio::sync::Mutex::new(()),
            events,
        })
    }

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
            server,
        );
        Ok(Self::new(cfg, server.clone(), http)?)
    }

    /// The MCP server this engine authorizes requests to.
    pub fn server(&self) -> &Url {
        &self.server
    }

    /// The store in use (for status displays).
    pub fn store_name(&self) -> String {
        self.creds.store_name()
    }

    /// What is held now (no secrets).
    pub fn status(&self) -> OAuthStatus {
        self.creds.status()
    }

    /// Drop the tokens held (the next request authorizes again).
    pub fn forget_tokens(&self) {
        self.creds.held().forget_tokens();
    }

    /// Authorize now, without waiting for a 401 (discovery through the well-known URLs).
    pub async fn authorize(&self) -> Result<(), OAuthError> {
        self.creds.ensure_loaded()?;
        let _flight = self.flight.lock().await;
        let info = ChallengeInfo::default();
        self.discover(&info).await?;
        self.obtain_tokens(&info, false).await
    }

    /// Revoke the tokens at the server when it supports RFC 7009, then forget them and delete
    /// the stored entry. Local deletion happens even when revocation fails (that error is
    /// returned after).
    pub async fn logout(&self) -> Result<(), OAuthError> {
        self.creds.ensure_loaded()?;
        let _flight = self.flight.lock().await;
        let (meta, reg, tokens) = {
            let h = self.creds.held();
            (h.meta.clone(), h.registration.clone(), h.tokens().cloned())
        };
        let outcome = match (meta, reg, tokens) {
            (Some(meta), Some(reg), Some(tokens)) => self.grants.revoke(&meta, &reg, &tokens).await,
            _ => Ok(false),
        };
        self.forget_tokens();
        self.creds.delete_stored();
        self.events.emit(AuthEvent::LoggedOut {
            server: self.creds.key().to_owned(),
            revoked: matches!(outcome, Ok(true)),
        });
        outcome.map(|_| ())
    }

    /// The metadata in use and the resource identifier.
    pub(super) fn meta_and_resource(
        &self,
    ) -> Result<(discovery::AuthServerMetadata, String), OAuthError> {
        let h = self.creds.held();
        let meta = h
            .meta
            .clone()
            .ok_or_else(|| OAuthError::Config("no authorization server".into()))?;
        Ok((meta, h.resource.clone().unwrap_or_default()))
    }

    /// The token for the next request, refreshing first when it is about to expire.
    async fn token_headers(&self, request: RequestInfo<'_>) -> Result<AuthHeaders, OAuthError> {
        // The tokens are for this server: never for a request elsewhere (an engine attached
        // to another client, a redirect).
        if request.url.origin() != self.server.origin() {
            return Err(OAuthError::Config(format!(
                "this OAuth engine is for {} and does not authorize requests to {}",
                crate::redact::redact_url(&self.server),
                crate::redact::redact_url(request.url)
            )));
        }
        self.creds.ensure_loaded()?;
        let margin = self.cfg.refresh_margin.as_secs();
        let expiring = self
            .creds
            .held()
            .tokens()
            .is_some_and(|t| t.refresh_token.is_some() && t.due_for_refresh(margin));
        let header = self.creds.current_header();
        if expiring {
            let seen = self.attempts.seen();
            let _flight = self.flight.lock().await;
            // Another task may have refreshed (or failed to) while we waited: its outcome
            // stands for this request too.
            let failed = self.attempts.failed_since(seen);
            if let Some(e @ OAuthError::StoreUnavailable { .. }) = failed {
                // The store this engine cannot do without just failed: the same answer.
                return Err(e);
            }
            if self.creds.current_header() == header && failed.is_none() {
                let outcome = self.refresh().await;
                self.attempts.record(&outcome);
                if let Err(e @ OAuthError::StoreUnavailable { .. }) = outcome {
                    // Going on could mean signing in again on every host: say so instead.
                    return Err(e);
                }
                if let Err(e) = outcome {
                    tracing::info!(error = %e, "refreshing the access token ahead of expiry failed");
                    // Keep going with the old token; a 401 will lead to a new authorization.
                }
            }
        }
        self.creds.request_headers(request)
    }

    /// Use the refresh token. Across processes sharing the store, one refreshes while the
    /// others wait and adopt its result; an `invalid_grant` never deletes a credential newer
    /// than the one that failed.
    async fn refresh(&self) -> Result<(), OAuthError> {
        let _xlock = self.creds.cross_process_lock().await?;
        if self
            .creds
            .adopt_newer_tokens(self.cfg.refresh_margin.as_secs())?
        {
            return Ok(());
        }
        let (meta, reg, tokens, resource) = {
            let h = self.creds.held();
            let resource = h.resource.clone().unwrap_or_default();
            (
                h.meta.clone(),
                h.registration.clone(),
                h.tokens().cloned(),
                resource,
            )
        };
        let (Some(meta), Some(reg), Some(tokens)) = (meta, reg, tokens) else {
            return Err(OAuthError::InteractionRequired("nothing to refresh".into()));
        };
        self.check_issuer_binding(&meta.issuer)?;
        let reg = self.registration_for_refresh(reg, &meta)?;
        let Some(rt) = tokens.refresh_token.clone() else {
            return Err(OAuthError::InteractionRequired("no refresh token".into()));
        };
        let target = GrantTarget {
            meta: &meta,
            reg: &reg,
            scopes: &tokens.scopes,
            resource: &resource,
            dpop: self.creds.dpop_key(),
        };
        match self.grants.refresh(&target, &rt).await {
            Ok(fresh) => {
                tracing::debug!("access token refreshed");
                let (scopes, expires_at) = (fresh.scopes.clone(), fresh.expires_at);
                self.creds.set_tokens(fresh)?;
                self.events.emit(AuthEvent::TokenRefreshed {
                    server: self.creds.key().to_owned(),
                    issuer: meta.issuer.clone(),
                    scopes,
                    expires_at,
                });
                Ok(())
            }
            Err(e) if e.oauth_error() == Some("invalid_grant") => {
                if self.on_invalid_grant(&rt) {
                    return Ok(());
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// The refresh token `rt` is dead: drop the tokens, but only if the store still holds
    /// these very tokens. A newer credential another process saved is adopted instead
    /// (returns true).
    fn on_invalid_grant(&self, rt: &crate::secret::Secret) -> bool {
        let stored = self.creds.read_stored().ok().flatten();
        let newer = stored
            .as_ref()
            .and_then(|c| c.tokens.as_ref())
            .and_then(|t| t.tokens.refresh_token.as_ref())
            .is_some_and(|s| s != rt);
        if let Some(c) = stored.filter(|_| newer) {
            if self.creds.adopt(c, false) {
                return true;
            }
        }
        self.creds.drop_tokens();
        false
    }

    /// Handle a refusal; `Ok(true)`: retry the request.
    async fn handle(&self, ch: &Challenge) -> Result<bool, OAuthError> {
        self.creds.ensure_loaded()?;
        let info = ChallengeInfo::from_headers(ch.www_authenticate.iter().map(String::as_str));
        if policy::is_nonce_demand(&info) {
            if let (Some(k), Some(n)) = (self.creds.dpop_key(), dpop::nonce_from(&ch.headers)) {
                k.set_nonce(&ch.url, n);
                return Ok(true);
            }
        }
        // A plain 403 (not a scope problem) calls for nothing: no need to wait for the flight.
        if ch.status == 403 && info.error.as_deref() != Some("insufficient_scope") {
            return Ok(false);
        }
        let seen = self.attempts.seen();
        let _flight = self.flight.lock().await;
        if let Some(e) = self.attempts.failed_since(seen) {
            // The attempt this request waited for failed: the same answer, not another try.
            return Err(e);
        }
        let current = self.creds.current_header();
        let outcome = match policy::decide(
            ch.status,
            &info,
            ch.sent_authorization.as_ref(),
            current.as_ref(),
        ) {
            Verdict::Retry => return Ok(true),
            Verdict::GiveUp => return Ok(false),
            Verdict::StepUp => self.step_up(&info).await,
            Verdict::Reauthorize => {
                self.reauthorize(&info, ch.sent_authorization.is_some())
                    .await
            }
        };
        self.attempts.record(&outcome);
        outcome.map(|()| true)
    }

    /// 403 `insufficient_scope`: authorize again for the union of the scopes.
    async fn step_up(&self, info: &ChallengeInfo) -> Result<(), OAuthError> {
        let required = info.scope.clone().unwrap_or_default();
        let held = self
            .creds
            .held()
            .tokens()
            .map(|t| t.scopes.clone())
            .unwrap_or_default();
        let last = lock(&self.requested).clone();
        self.step_ups
            .count(&required, &held, self.cfg.max_step_up, &last)?;
        self.events.emit(AuthEvent::StepUp {
            server: self.creds.key().to_owned(),
            required,
        });
        if self.creds.held().meta.is_none() || info.resource_metadata.is_some() {
            self.discover(info).await?;
        }
        self.obtain_tokens(info, true).await
    }

    /// 401: a token we hold was refused (expired, revoked): refresh first; else (or when that
    /// fails) discover and authorize again.
    async fn reauthorize(&self, info: &ChallengeInfo, sent_token: bool) -> Result<(), OAuthError> {
        let have_refresh = self
            .creds
            .held()
            .tokens()
            .is_some_and(|t| t.refresh_token.is_some());
        if have_refresh && sent_token {
            match self.refresh().await {
                Ok(()) => return Ok(()),
                Err(e @ OAuthError::StoreUnavailable { .. }) => return Err(e),
                Err(e) => {
                    tracing::info!(error = %e, "refresh failed; authorizing again");
                    let issuer = self.creds.held().issuer().unwrap_or_default().to_owned();
                    self.events.emit(AuthEvent::RefreshFailed {
                        server: self.creds.key().to_owned(),
                        issuer,
                        reason: e.oauth_error().unwrap_or("refresh failed").to_owned(),
                    });
                }
            }
        }
        self.forget_tokens();
        self.discover(info).await?;
        self.obtain_tokens(info, false).await?;
        self.step_ups.reset();
        Ok(())
    }

    /// Discover the resource's metadata and its authorization server's, and keep them.
    pub(super) async fn discover(&self, info: &ChallengeInfo) -> Result<(), OAuthError> {
        let found = discovery::discover(
            &self.grants.http,
            &self.server,
            info.resource_metadata.as_deref(),
        )
        .await?;
        let meta = found.meta;
        if !meta.supports_s256()
            && !self.cfg.allow_missing_pkce_metadata
            && matches!(self.cfg.grant, Grant::AuthorizationCode)
        {
            return Err(OAuthError::PkceNotSupported {
                issuer: meta.issuer.clone(),
            });
        }
        let wants_dpop = self.cfg.dpop == DpopMode::Auto
            && meta
                .dpop_signing_alg_values_supported
                .as_ref()
                .is_some_and(|a| a.iter().any(|x| x == "ES256"))
            && (info.dpop
                || found
                    .prm
                    .as_ref()
                    .is_some_and(|p| p.dpop_bound_access_tokens_required));
        if wants_dpop {
            self.creds.ensure_dpop_key()?;
        }
        {
            let mut h = self.creds.held();
            // A registration (and tokens) from another issuer are never reused.
            if h.meta.as_ref().is_some_and(|m| m.issuer != meta.issuer) {
                if let Some(r) = h.registration.take() {
                    h.registrations.insert(r.issuer.clone(), r);
                }
                h.forget_tokens();
            }
            if h.registration.is_none() {
                h.registration = h.registrations.get(&meta.issuer).cloned();
            }
            h.discovered_at = crate::oauth::jwt::now_secs();
            h.resource = Some(found.resource);
            h.prm = found.prm;
            h.meta = Some(meta);
        }
        self.creds.persist();
        Ok(())
    }

    /// Scopes for a new authorization (see [`policy::choose_scopes`]).
    pub(super) fn choose_scopes(&self, info: &ChallengeInfo, step_up: bool) -> Vec<String> {
        let h = self.creds.held();
        let last = lock(&self.requested);
        let granted = h.tokens().map(|t| t.scopes.as_slice()).unwrap_or_default();
        policy::choose_scopes(
            &ScopeInputs {
                configured: self.cfg.scopes.as_deref(),
                grant: &self.cfg.grant,
                info,
                prm: h.prm.as_ref(),
                meta: h.meta.as_ref(),
                last_requested: &last,
                granted,
            },
            step_up,
        )
    }

    /// The registration to use with the authorization server in use: the one held when it
    /// fits `redirect_uri`, else a new one (kept and stored).
    pub(super) async fn ensure_registration(
        &self,
        redirect_uri: &Url,
    ) -> Result<Registration, OAuthError> {
        let (meta, existing) = {
            let h = self.creds.held();
            (h.meta.clone(), h.registration.clone())
        };
        let meta = meta.ok_or_else(|| OAuthError::Config("no authorization server".into()))?;
        self.check_issuer_binding(&meta.issuer)?;
        if let Some(r) = existing {
            if r.issuer == meta.issuer
                && r.fits(&self.cfg.registration)
                && !r.expired()
                && (r.redirect_uris.iter().any(|u| u == redirect_uri.as_str())
                    || r.kind != "dynamic")
            {
                return Ok(r);
            }
        }
        let mut rc = self.cfg.registration.clone();
        rc.has_private_key = self.grants.has_signing_key();
        let reg = registration::register(&self.grants.http, &meta, &rc, redirect_uri).await?;
        self.creds.held().registration = Some(reg.clone());
        self.creds.persist();
        Ok(reg)
    }

    /// The registration to refresh with: the stored one while it fits the configuration; the
    /// configured client when only its secret or method changed (the refresh token still
    /// belongs to that client id); otherwise the tokens belong to a client no longer
    /// configured, and are dropped.
    fn registration_for_refresh(
        &self,
        reg: Registration,
        meta: &discovery::AuthServerMetadata,
    ) -> Result<Registration, OAuthError> {
        let rc = &self.cfg.registration;
        if reg.fits(rc) {
            return Ok(reg);
        }
        if reg.kind == "pre-registered" && rc.client_id.as_deref() == Some(reg.client_id.as_str()) {
            let mut rc = rc.clone();
            rc.has_private_key = self.grants.has_signing_key();
            let redirect = reg
                .redirect_uris
                .first()
                .and_then(|u| Url::parse(u).ok())
                .unwrap_or_else(placeholder_redirect);
            let fresh = registration::pre_registered(meta, &rc, &reg.client_id, &redirect)?;
            self.creds.held().registration = Some(fresh.clone());
            return Ok(fresh);
        }
        {
            let mut h = self.creds.held();
            h.registration = None;
            h.forget_tokens();
        }
        self.creds.persist();
        Err(OAuthError::InteractionRequired(
            "the configured client changed: the stored tokens belong to another one".into(),
        ))
    }

    /// Whether the host gave credentials of its own that must reach only their issuer: a
    /// pre-registered client, a signing key, an assertion (or the IdP token it comes from).
    fn has_host_credentials(&self) -> bool {
        self.cfg.registration.client_id.is_some()
            || self.grants.has_signing_key()
            || matches!(
                self.cfg.grant,
                Grant::JwtBearer { .. } | Grant::EnterpriseManaged(_)
            )
    }

    /// Refuse to use the host's own credentials with `issuer` unless they belong to it: the
    /// configured client issuer, else the issuer they were first used with (stored). The
    /// first use binds them. The 2026-07-28 authorization-server binding: a server that names
    /// a new authorization server must not receive another's client secret or assertion.
    fn check_issuer_binding(&self, issuer: &str) -> Result<(), OAuthError> {
        if !self.has_host_credentials() {
            return Ok(());
        }
        let configured = self.cfg.registration.client_issuer.clone();
        let bound = {
            let mut h = self.creds.held();
            match configured.or_else(|| h.bound_issuer.clone()) {
                Some(b) => b,
                None => {
                    h.bound_issuer = Some(issuer.to_owned());
                    return Ok(());
                }
            }
        };
        if bound == issuer {
            return Ok(());
        }
        Err(OAuthError::IssuerNotBound {
            bound,
            found: issuer.to_owned(),
        })
    }

    /// Run the configured grant now and keep its tokens.
    async fn obtain_tokens(&self, info: &ChallengeInfo, step_up: bool) -> Result<(), OAuthError> {
        let (meta, resource) = self.meta_and_resource()?;
        let scopes = self.choose_scopes(info, step_up);
        *lock(&self.requested) = scopes.clone();
        let interactive = matches!(self.cfg.grant, Grant::AuthorizationCode | Grant::DeviceCode);
        if interactive && !self.cfg.interactive {
            return Err(OAuthError::InteractionRequired(
                "the server asks for a new authorization".into(),
            ));
        }
        self.events.emit(AuthEvent::SignInRequired {
            server: self.creds.key().to_owned(),
            issuer: meta.issuer.clone(),
            grant: self.cfg.grant.name().to_owned(),
            scopes: scopes.clone(),
        });
        let listener = match self.cfg.grant {
            Grant::AuthorizationCode => Some(RedirectListener::bind(self.cfg.redirect_port).await?),
            _ => None,
        };
        let redirect_uri = match &listener {
            Some(l) => l.redirect_uri().clone(),
            None => placeholder_redirect(),
        };
        let reg = self.ensure_registration(&redirect_uri).await?;
        let t = GrantTarget {
            meta: &meta,
            reg: &reg,
            scopes: &scopes,
            resource: &resource,
            dpop: self.creds.dpop_key(),
        };
        let g = &self.grants;
        let tokens = match (&self.cfg.grant, &listener) {
            (Grant::AuthorizationCode, Some(l)) => {
                g.authorization_code(&t, l, &self.events, self.creds.key())
                    .await?
            }
            (Grant::AuthorizationCode, None) => {
                return Err(OAuthError::Config("no redirect listener".into()))
            }
            (Grant::ClientCredentials, _) => g.client_credentials(&t).await?,
            (Grant::JwtBearer { assertion }, _) => g.jwt_bearer(&t, assertion).await?,
            (Grant::DeviceCode, _) => g.device_code(&t).await?,
            (Grant::EnterpriseManaged(e), _) => g.enterprise(&t, e).await?,
        };
        self.signed_in(tokens, self.cfg.grant.name())
    }

    /// Keep tokens a grant gave, and say so.
    pub(super) fn signed_in(&self, tokens: TokenSet, grant: &str) -> Result<(), OAuthError> {
        let event = AuthEvent::SignedIn {
            server: self.creds.key().to_owned(),
            issuer: self.creds.held().issuer().unwrap_or_default().to_owned(),
            grant: grant.to_owned(),
            scopes: tokens.scopes.clone(),
            expires_at: tokens.expires_at,
            token_type: tokens.token_type.clone(),
        };
        self.creds.set_tokens(tokens)?;
        self.events.emit(event);
        Ok(())
    }
}

impl AuthProvider for OAuthEngine {
    fn headers<'a>(&'a self, request: RequestInfo<'a>) -> BoxFuture<'a, Result<AuthHeaders>> {
        Box::pin(async move { Ok(self.token_headers(request).await?) })
    }

    fn on_challenge<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move { Ok(self.handle(challenge).await?) })
    }
}
