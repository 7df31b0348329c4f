//! The device authorization grant (RFC 8628), for hosts without a browser: the user approves
//! on another device while the client polls the token endpoint.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde::Deserialize;
use url::Url;

use crate::error::OAuthError;
use crate::oauth::discovery::AuthServerMetadata;
use crate::oauth::dpop::DpopKey;
use crate::oauth::http::{endpoint, OAuthHttp};
use crate::oauth::presenter::{AuthorizationPresenter, DeviceAuthorization};
use crate::oauth::token::{self, apply_client_auth, ClientAuth, TokenRequest, TokenSet};
use crate::redact::excerpt;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Deserialize)]
struct DeviceResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    interval: Option<u64>,
}

/// Whether the server offers the device grant.
pub fn supported(meta: &AuthServerMetadata) -> bool {
    meta.device_authorization_endpoint.is_some()
}

/// Everything one device-flow run needs.
pub struct DeviceFlow<'a> {
    /// The OAuth HTTP client.
    pub http: &'a OAuthHttp,
    /// The authorization server.
    pub meta: &'a AuthServerMetadata,
    /// Client authentication.
    pub auth: &'a ClientAuth,
    /// Scopes to ask for.
    pub scopes: &'a [String],
    /// The resource indicator.
    pub resource: &'a str,
    /// Shows the code to the user.
    pub presenter: &'a dyn AuthorizationPresenter,
    /// DPoP key, when tokens are bound.
    pub dpop: Option<&'a DpopKey>,
    /// Longest wait for the user.
    pub timeout: Duration,
}

/// Run the grant: get a code, show it, poll until approved.
pub async fn run(f: DeviceFlow<'_>) -> Result<TokenSet, OAuthError> {
    let Some(dev_endpoint) = &f.meta.device_authorization_endpoint else {
        return Err(OAuthError::Config(
            "the authorization server offers no device authorization endpoint".into(),
        ));
    };
    let dev_url = endpoint(dev_endpoint, "device_authorization_endpoint")?;
    let mut form: Vec<(&'static str, String)> = Vec::new();
    if !f.scopes.is_empty() {
        form.push(("scope", f.scopes.join(" ")));
    }
    form.push(("resource", f.resource.to_owned()));
    let mut headers = HeaderMap::new();
    apply_client_auth(f.auth, &mut form, &mut headers, &f.meta.issuer)?;
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = f
        .http
        .post_form(&dev_url, &pairs, headers, "device authorization")
        .await?;
    if !(200..300).contains(&reply.status) {
        return Err(crate::oauth::token::error_from_reply(
            "device authorization",
            reply.status,
            &reply.body,
        ));
    }
    let d: DeviceResponse =
        serde_json::from_slice(&reply.body).map_err(|e| OAuthError::BadResponse {
            what: "device authorization".into(),
            reason: format!("{e}: {}", excerpt(&reply.body)),
        })?;
    f.presenter
        .present_device(&DeviceAuthorization {
            verification_uri: d.verification_uri.clone(),
            verification_uri_complete: d.verification_uri_complete.clone(),
            user_code: d.user_code.clone(),
            expires_in: d.expires_in.unwrap_or(600),
        })
        .await?;
    let token_url: Url = endpoint(
        f.meta.token_endpoint.as_deref().unwrap_or_default(),
        "token_endpoint",
    )?;
    let mut interval = Duration::from_secs(d.interval.unwrap_or(5).max(1));
    let deadline = Instant::now()
        + f.timeout
            .min(Duration::from_secs(d.expires_in.unwrap_or(600)));
    loop {
        tokio::time::sleep(interval).await;
        if Instant::now() > deadline {
            return Err(OAuthError::RedirectTimeout {
                secs: f.timeout.as_secs(),
            });
        }
        let result = token::request(
            f.http,
            TokenRequest {
                endpoint: &token_url,
                issuer: &f.meta.issuer,
                auth: f.auth,
                form: vec![
                    ("grant_type", GRANT.to_owned()),
                    ("device_code", d.device_code.clone()),
                    ("resource", f.resource.to_owned()),
                ],
                dpop: f.dpop,
                requested_scopes: f.scopes,
                what: "device token request",
            },
        )
        .await;
        match result {
            Ok(t) => return Ok(t),
            Err(e) => match e.oauth_error() {
                Some("authorization_pending") => {}
                Some("slow_down") => interval += Duration::from_secs(5),
                _ => return Err(e),
            },
        }
    }
}
