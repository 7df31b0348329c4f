//! The two-step authorization for hosts that handle the browser redirect themselves: begin
//! (discover, register with the host's redirect URI, return the URL to send the user to), then
//! complete (check the redirect, exchange the code).

use url::Url;

use crate::error::OAuthError;
use crate::oauth::authorize::{self, TwoStep};
use crate::oauth::challenge::ChallengeInfo;
use crate::oauth::engine::{lock, OAuthEngine};
use crate::oauth::grants::GrantTarget;

impl OAuthEngine {
    /// Step one of the two-step flow for hosts with their own redirect handling: discover,
    /// register with `redirect_uri`, and return the URL to send the user to.
    pub async fn begin_authorization(&self, redirect_uri: &Url) -> Result<Url, OAuthError> {
        authorize::check_redirect_uri(redirect_uri)?;
        self.creds.ensure_loaded()?;
        let _flight = self.flight.lock().await;
        let info = ChallengeInfo::default();
        self.discover(&info).await?;
        let reg = self.ensure_registration(redirect_uri).await?;
        let scopes = self.choose_scopes(&info, false);
        let (meta, resource) = self.meta_and_resource()?;
        let auth = authorize::begin(&meta, &reg.client_id, redirect_uri, &scopes, &resource)?;
        let url = auth.url.clone();
        *lock(&self.requested) = scopes;
        *lock(&self.pending) = Some(TwoStep {
            auth,
            meta,
            reg,
            resource,
        });
        Ok(url)
    }

    /// Step two: the URL the browser was redirected to; checks it and gets the tokens.
    pub async fn complete_authorization(&self, redirect: &Url) -> Result<(), OAuthError> {
        let _flight = self.flight.lock().await;
        let Some(p) = lock(&self.pending).take() else {
            return Err(OAuthError::Config(
                "no authorization is pending (call begin first)".into(),
            ));
        };
        let target = GrantTarget {
            meta: &p.meta,
            reg: &p.reg,
            scopes: &p.auth.scopes,
            resource: &p.resource,
            dpop: self.creds.dpop_key(),
        };
        let tokens = self
            .grants
            .exchange_code(&target, &p.auth, redirect)
            .await?;
        self.signed_in(tokens, "authorization_code")
    }
}
