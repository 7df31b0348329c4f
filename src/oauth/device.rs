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

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Deserialize)]
pub(crate) struct DeviceResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    interval: Option<serde_json::Value>,
}

/// The polling interval's bounds: RFC 8628's default is 5 s; a server asking for more than a
/// minute (or an overflowing `slow_down` series) is held to a minute.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
const MAX_INTERVAL: Duration = Duration::from_secs(60);
/// How long a code lives when the server does not say.
const DEFAULT_EXPIRES_IN: u64 = 600;

/// Whether `s` can be shown on a terminal as it is: no control characters (escape sequences
/// could rewrite what the user sees), and not absurdly long.
fn displayable(s: &str) -> bool {
    !s.is_empty() && s.len() <= 2048 && !s.chars().any(char::is_control)
}

/// Check what will be shown to the user: the URIs must be https (or loopback http) URLs and
/// every field displayable.
fn check_display(d: &DeviceResponse) -> Result<(), OAuthError> {
    let bad = |field: &str| OAuthError::BadResponse {
        what: "device authorization".into(),
        reason: format!("`{field}` is not safe to show"),
    };
    for (field, v) in [
        ("verification_uri", Some(&d.verification_uri)),
        (
            "verification_uri_complete",
            d.verification_uri_complete.as_ref(),
        ),
    ] {
        let Some(v) = v else { continue };
        if !displayable(v) {
            return Err(bad(field));
        }
        endpoint(v, field)?;
    }
    if !displayable(&d.user_code) {
        return Err(bad("user_code"));
    }
    Ok(())
}

/// Read a successful device authorization response and check what will be shown of it.
pub(crate) fn read_device_response(body: &[u8]) -> Result<DeviceResponse, OAuthError> {
    // The body holds the device code: neither it nor serde's message (which can quote a
    // value) goes into the error.
    let d: DeviceResponse = serde_json::from_slice(body).map_err(|e| OAuthError::BadResponse {
        what: "device authorization".into(),
        reason: format!(
            "not a device authorization response (a field is missing or malformed near line {}, column {})",
            e.line(),
            e.column()
        ),
    })?;
    check_display(&d)?;
    Ok(d)
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
    let d = read_device_response(&reply.body)?;
    let expires_in = d
        .expires_in
        .as_ref()
        .and_then(token::lifetime_secs)
        .unwrap_or(DEFAULT_EXPIRES_IN);
    f.presenter
        .present_device(&DeviceAuthorization {
            verification_uri: d.verification_uri.clone(),
            verification_uri_complete: d.verification_uri_complete.clone(),
            user_code: d.user_code.clone(),
            expires_in,
        })
        .await?;
    let token_url: Url = endpoint(
        f.meta.token_endpoint.as_deref().unwrap_or_default(),
        "token_endpoint",
    )?;
    let asked = d
        .interval
        .as_ref()
        .and_then(token::lifetime_secs)
        .unwrap_or(5);
    let mut interval = Duration::from_secs(asked).clamp(MIN_INTERVAL, MAX_INTERVAL);
    let wait = f.timeout.min(Duration::from_secs(expires_in));
    let deadline = Instant::now() + wait;
    loop {
        // Never sleep past the deadline: the last poll happens at it.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(OAuthError::RedirectTimeout {
                secs: wait.as_secs(),
            });
        }
        tokio::time::sleep(interval.min(left)).await;
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
                advertised: f.meta.token_endpoint_auth_methods_supported.as_deref(),
            },
        )
        .await;
        match result {
            Ok(t) => return Ok(t),
            Err(e) => match e.oauth_error() {
                Some("authorization_pending") => {}
                Some("slow_down") => {
                    interval = (interval + Duration::from_secs(5)).min(MAX_INTERVAL);
                }
                _ => return Err(e),
            },
        }
    }
}
