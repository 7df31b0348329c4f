//! The grants that obtain tokens (authorization code through the browser, client
//! credentials, jwt-bearer, device code, enterprise-managed), the refresh, and revocation: each
//! one request or one user interaction against an authorization server already discovered,
//! with a client already registered. Nothing here holds state between calls.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::error::OAuthError;
use crate::oauth::authorize::{self, PendingAuthorization};
use crate::oauth::discovery::AuthServerMetadata;
use crate::oauth::dpop::DpopKey;
use crate::oauth::events::{AuthEvent, Events};
use crate::oauth::http::{endpoint, OAuthHttp};
use crate::oauth::jwt::SigningKey;
use crate::oauth::presenter::{AuthorizationRequest, Presenter, RedirectListener};
use crate::oauth::registration::Registration;
use crate::oauth::token::{self, ClientAuth, TokenRequest, TokenSet};
use crate::oauth::EnterpriseGrant;
use crate::redact::redact_url;
use crate::secret::Secret;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// What every grant runs against.
pub(crate) struct GrantTarget<'a> {
    /// The authorization server.
    pub meta: &'a AuthServerMetadata,
    /// The client's registration there.
    pub reg: &'a Registration,
    /// The scopes to ask for.
    pub scopes: &'a [String],
    /// The resource indicator (RFC 8707).
    pub resource: &'a str,
    /// The DPoP key, when tokens are bound.
    pub dpop: Option<Arc<DpopKey>>,
}

/// Runs grants with one HTTP client, client key and presenter.
pub(crate) struct Grants {
    pub(crate) http: OAuthHttp,
    signing_key: Option<Arc<SigningKey>>,
    presenter: Presenter,
    /// Longest wait for the user (browser redirect, device approval).
    user_timeout: Duration,
}

impl Grants {
    pub(crate) fn new(
        http: OAuthHttp,
        signing_key: Option<Arc<SigningKey>>,
        presenter: Presenter,
        user_timeout: Duration,
    ) -> Self {
        Grants {
            http,
            signing_key,
            presenter,
            user_timeout,
        }
    }

    /// Whether `private_key_jwt` is possible (a key is configured).
    pub(crate) fn has_signing_key(&self) -> bool {
        self.signing_key.is_some()
    }

    /// How the client authenticates with `reg`.
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

    /// One request to the token endpoint.
    async fn token_call(
        &self,
        t: &GrantTarget<'_>,
        form: Vec<(&'static str, String)>,
        what: &str,
    ) -> Result<TokenSet, OAuthError> {
        let raw = t
            .meta
            .token_endpoint
            .as_deref()
            .ok_or_else(|| OAuthError::BadMetadata {
                what: "authorization server metadata".into(),
                reason: "no token_endpoint".into(),
            })?;
        let token_endpoint = endpoint(raw, "token_endpoint")?;
        let auth = self.client_auth(t.reg)?;
        token::request(
            &self.http,
            TokenRequest {
                endpoint: &token_endpoint,
                issuer: &t.meta.issuer,
                auth: &auth,
                form,
                dpop: t.dpop.as_deref(),
                requested_scopes: t.scopes,
                what,
                advertised: t.meta.token_endpoint_auth_methods_supported.as_deref(),
            },
        )
        .await
    }

    /// Authorization code with PKCE: send the user to the authorization URL (through the
    /// presenter), take the redirect (from the presenter or the loopback `listener`), and
    /// exchange the code.
    pub(crate) async fn authorization_code(
        &self,
        t: &GrantTarget<'_>,
        listener: &RedirectListener,
        events: &Events,
        server: &str,
    ) -> Result<TokenSet, OAuthError> {
        let pending = authorize::begin(
            t.meta,
            &t.reg.client_id,
            listener.redirect_uri(),
            t.scopes,
            t.resource,
        )?;
        let request = AuthorizationRequest {
            url: pending.url.clone(),
            redirect_uri: pending.redirect_uri.clone(),
        };
        // A presenter that hands the redirect back (the headless one, a host's own) waits on
        // the user or the authorization server: that wait is the redirect timeout's too.
        let handed_back = tokio::time::timeout(self.user_timeout, self.presenter.present(&request))
            .await
            .map_err(|_| OAuthError::RedirectTimeout {
                secs: self.user_timeout.as_secs(),
            })??;
        events.emit(AuthEvent::BrowserOpened {
            server: server.to_owned(),
            issuer: t.meta.issuer.clone(),
            redirect_uri: pending.redirect_uri.to_string(),
        });
        let redirect = match handed_back {
            Some(u) => u,
            None => {
                listener
                    .wait(pending.state.secret(), self.user_timeout)
                    .await?
            }
        };
        self.exchange_code(t, &pending, &redirect).await
    }

    /// Check the redirect of a pending authorization and exchange its code.
    pub(crate) async fn exchange_code(
        &self,
        t: &GrantTarget<'_>,
        pending: &PendingAuthorization,
        redirect: &Url,
    ) -> Result<TokenSet, OAuthError> {
        let code = authorize::finish(pending, redirect)?;
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", pending.redirect_uri.to_string()),
            ("code_verifier", pending.verifier.secret().to_owned()),
            ("resource", t.resource.to_owned()),
        ];
        let t = GrantTarget {
            scopes: &pending.scopes,
            dpop: t.dpop.clone(),
            ..*t
        };
        self.token_call(&t, form, "token request").await
    }

    /// `client_credentials`: the client on its own behalf.
    pub(crate) async fn client_credentials(
        &self,
        t: &GrantTarget<'_>,
    ) -> Result<TokenSet, OAuthError> {
        let mut form = vec![("grant_type", "client_credentials".to_owned())];
        push_scopes_and_resource(&mut form, t);
        self.token_call(t, form, "client credentials grant").await
    }

    /// RFC 7523 §2.1: redeem an assertion at the token endpoint.
    pub(crate) async fn jwt_bearer(
        &self,
        t: &GrantTarget<'_>,
        assertion: &Secret,
    ) -> Result<TokenSet, OAuthError> {
        let mut form = vec![
            ("grant_type", JWT_BEARER.to_owned()),
            ("assertion", assertion.expose().to_owned()),
        ];
        push_scopes_and_resource(&mut form, t);
        self.token_call(t, form, "jwt-bearer grant").await
    }

    /// The device authorization grant (RFC 8628): show a code, poll until approved.
    pub(crate) async fn device_code(&self, t: &GrantTarget<'_>) -> Result<TokenSet, OAuthError> {
        let auth = self.client_auth(t.reg)?;
        crate::oauth::device::run(crate::oauth::device::DeviceFlow {
            http: &self.http,
            meta: t.meta,
            auth: &auth,
            scopes: t.scopes,
            resource: t.resource,
            presenter: self.presenter.as_ref(),
            dpop: t.dpop.as_deref(),
            timeout: self.user_timeout,
        })
        .await
    }

    /// Enterprise-managed authorization: an ID-JAG from the identity provider (RFC 8693),
    /// redeemed here with jwt-bearer.
    pub(crate) async fn enterprise(
        &self,
        t: &GrantTarget<'_>,
        e: &EnterpriseGrant,
    ) -> Result<TokenSet, OAuthError> {
        let id_jag = self.exchange_at_idp(t, e).await?;
        self.jwt_bearer(t, &id_jag).await
    }

    /// RFC 8693 at the identity provider: the subject token for an ID-JAG whose audience is
    /// this authorization server and whose resource is this MCP server.
    async fn exchange_at_idp(
        &self,
        t: &GrantTarget<'_>,
        e: &EnterpriseGrant,
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
            ("audience", t.meta.issuer.clone()),
            ("resource", t.resource.to_owned()),
        ];
        if !t.scopes.is_empty() {
            form.push(("scope", t.scopes.join(" ")));
        }
        let issued = token::request(
            &self.http,
            TokenRequest {
                endpoint: &idp,
                issuer: &e.idp_token_endpoint,
                auth: &auth,
                form,
                dpop: None,
                requested_scopes: t.scopes,
                what: "token exchange at the identity provider",
                advertised: None,
            },
        )
        .await?;
        Ok(issued.access_token)
    }

    /// Use a refresh token. A reply without a refresh token keeps the old one.
    pub(crate) async fn refresh(
        &self,
        t: &GrantTarget<'_>,
        refresh_token: &Secret,
    ) -> Result<TokenSet, OAuthError> {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.expose().to_owned()),
        ];
        if !t.resource.is_empty() {
            form.push(("resource", t.resource.to_owned()));
        }
        let mut fresh = self.token_call(t, form, "token refresh").await?;
        if fresh.refresh_token.is_none() {
            fresh.refresh_token = Some(refresh_token.clone());
        }
        Ok(fresh)
    }

    /// RFC 7009: revoke the refresh token (first) and the access token. `Ok(false)` when the
    /// server has no revocation endpoint.
    pub(crate) async fn revoke(
        &self,
        meta: &AuthServerMetadata,
        reg: &Registration,
        tokens: &TokenSet,
    ) -> Result<bool, OAuthError> {
        let Some(rev) = &meta.revocation_endpoint else {
            return Ok(false);
        };
        let url = endpoint(rev, "revocation_endpoint")?;
        let auth = self.client_auth(reg)?;
        let refresh = tokens.refresh_token.iter().map(|r| (r, "refresh_token"));
        let access = std::iter::once((&tokens.access_token, "access_token"));
        for (token, hint) in refresh.chain(access) {
            self.revoke_one(&url, &meta.issuer, &auth, token, hint)
                .await?;
        }
        Ok(true)
    }

    async fn revoke_one(
        &self,
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
        let reply = self
            .http
            .post_form(url, &pairs, headers, "token revocation")
            .await?;
        if (200..300).contains(&reply.status) {
            Ok(())
        } else {
            Err(OAuthError::HttpStatus {
                what: "token revocation".into(),
                url: redact_url(url),
                status: reply.status,
            })
        }
    }
}

fn push_scopes_and_resource(form: &mut Vec<(&'static str, String)>, t: &GrantTarget<'_>) {
    if !t.scopes.is_empty() {
        form.push(("scope", t.scopes.join(" ")));
    }
    form.push(("resource", t.resource.to_owned()));
}

/// The redirect URI registered by clients of grants without a browser (never used).
pub(crate) fn placeholder_redirect() -> Url {
    Url::parse("http://127.0.0.1/callback").unwrap_or_else(|_| unreachable_url())
}

#[cold]
fn unreachable_url() -> Url {
    // The literal above always parses; this keeps the library free of unwrap().
    Url::parse("http://localhost/").unwrap_or_else(|_| std::process::abort())
}
