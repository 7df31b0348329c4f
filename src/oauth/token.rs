//! The token endpoint: every grant's request (authorization code, refresh, client
//! credentials, jwt-bearer, token exchange), client authentication, DPoP with server nonces,
//! and the token set with its absolute expiry.

use std::sync::Arc;

use base64::Engine;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::OAuthError;
use crate::oauth::dpop::{nonce_from, DpopKey, DPOP};
use crate::oauth::http::OAuthHttp;
use crate::oauth::jwt::{client_assertion, now_secs, SigningKey};
use crate::redact::excerpt;
use crate::secret::Secret;

/// Tokens from one grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The access token.
    pub access_token: Secret,
    /// `Bearer` or `DPoP`.
    pub token_type: String,
    /// The refresh token, if one was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// When the access token expires, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The scopes granted (as the server said, else as requested).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The access token's lifetime as issued (`expires_in`), in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_secs: Option<u64>,
}

impl TokenSet {
    /// Whether the access token expires within `margin_secs` (or has expired).
    pub fn expires_within(&self, margin_secs: u64) -> bool {
        self.expires_at
            .is_some_and(|at| now_secs().saturating_add(margin_secs) >= at)
    }

    /// Whether it is time to refresh: within `margin_secs` of expiry, the margin capped at a
    /// quarter of the token's lifetime (so short-lived tokens are not refreshed on every use).
    pub fn due_for_refresh(&self, margin_secs: u64) -> bool {
        let margin = match self.lifetime_secs {
            Some(l) => margin_secs.min(l / 4),
            None => margin_secs,
        };
        self.expires_within(margin)
    }

    /// Whether it is a DPoP-bound token.
    pub fn is_dpop(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("dpop")
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Clone)]
pub enum ClientAuth {
    /// A public client: `client_id` in the form.
    None {
        /// The client id.
        client_id: String,
    },
    /// `client_secret_basic`: HTTP Basic with the form-encoded id and secret.
    SecretBasic {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: Secret,
    },
    /// `client_secret_post`: id and secret in the form.
    SecretPost {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: Secret,
    },
    /// `private_key_jwt`: a signed client assertion.
    PrivateKeyJwt {
        /// The client id.
        client_id: String,
        /// The signing key.
        key: Arc<SigningKey>,
    },
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClientAuth({}, client_id={})",
            self.method(),
            self.client_id()
        )
    }
}

impl ClientAuth {
    /// The client id.
    pub fn client_id(&self) -> &str {
        match self {
            ClientAuth::None { client_id }
            | ClientAuth::SecretBasic { client_id, .. }
            | ClientAuth::SecretPost { client_id, .. }
            | ClientAuth::PrivateKeyJwt { client_id, .. } => client_id,
        }
    }

    /// The `token_endpoint_auth_method` name.
    pub fn method(&self) -> &'static str {
        match self {
            ClientAuth::None { .. } => "none",
            ClientAuth::SecretBasic { .. } => "client_secret_basic",
            ClientAuth::SecretPost { .. } => "client_secret_post",
            ClientAuth::PrivateKeyJwt { .. } => "private_key_jwt",
        }
    }

    /// Add this authentication to a token-endpoint request.
    /// The other way to present the same secret (Basic and the form body), for servers that
    /// advertise both but refuse one.
    fn other_secret_method(&self) -> Option<(ClientAuth, &'static str)> {
        match self {
            ClientAuth::SecretBasic { client_id, secret } => Some((
                ClientAuth::SecretPost {
                    client_id: client_id.clone(),
                    secret: secret.clone(),
                },
                "client_secret_post",
            )),
            ClientAuth::SecretPost { client_id, secret } => Some((
                ClientAuth::SecretBasic {
                    client_id: client_id.clone(),
                    secret: secret.clone(),
                },
                "client_secret_basic",
            )),
            _ => None,
        }
    }

    pub(crate) fn apply(
        &self,
        form: &mut Vec<(&'static str, String)>,
        headers: &mut HeaderMap,
        audience: &str,
    ) -> Result<(), OAuthError> {
        match self {
            ClientAuth::None { client_id } => form.push(("client_id", client_id.clone())),
            ClientAuth::SecretBasic { client_id, secret } => {
                // `client_id` in the body too: RFC 6749 allows it, and some widely deployed
                // servers refuse a Basic-authenticated request without it.
                form.push(("client_id", client_id.clone()));
                // RFC 6749 §2.3.1: both parts form-urlencoded before Base64.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let raw = format!("{}:{}", enc(client_id), enc(secret.expose()));
                let mut v = HeaderValue::from_str(&format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ))
                .map_err(|_| {
                    OAuthError::Config("the client credentials are not header-safe".into())
                })?;
                v.set_sensitive(true);
                headers.insert(AUTHORIZATION, v);
            }
            ClientAuth::SecretPost { client_id, secret } => {
                form.push(("client_id", client_id.clone()));
                form.push(("client_secret", secret.expose().to_owned()));
            }
            ClientAuth::PrivateKeyJwt { client_id, key } => {
                form.push(("client_id", client_id.clone()));
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push((
                    "client_assertion",
                    client_assertion(key, client_id, audience)?,
                ));
            }
        }
        Ok(())
    }
}

/// Add client authentication to a request to any endpoint of the authorization server
/// (token, revocation).
pub fn apply_client_auth(
    auth: &ClientAuth,
    form: &mut Vec<(&'static str, String)>,
    headers: &mut HeaderMap,
    audience: &str,
) -> Result<(), OAuthError> {
    auth.apply(form, headers, audience)
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// One token-endpoint call.
pub struct TokenRequest<'a> {
    /// The token endpoint.
    pub endpoint: &'a Url,
    /// The audience of a client assertion (the authorization server's issuer).
    pub issuer: &'a str,
    /// Client authentication.
    pub auth: &'a ClientAuth,
    /// The grant's parameters (`grant_type`, `code`, `resource`, …).
    pub form: Vec<(&'static str, String)>,
    /// The DPoP key, when tokens are DPoP-bound.
    pub dpop: Option<&'a DpopKey>,
    /// The scopes asked for (the token set's scopes when the server does not say).
    pub requested_scopes: &'a [String],
    /// Names the step in errors (`token request`, `refresh`, …).
    pub what: &'a str,
    /// The server's `token_endpoint_auth_methods_supported` (absent: RFC 8414's default,
    /// `client_secret_basic` alone). When the server answers `invalid_client` to a secret
    /// sent one advertised way, the other advertised way is tried once.
    pub advertised: Option<&'a [String]>,
}

/// Send a token request (retrying once with the server's DPoP nonce when it asks for one)
/// and read the token set.
pub async fn request(http: &OAuthHttp, req: TokenRequest<'_>) -> Result<TokenSet, OAuthError> {
    let mut nonce_retry = false;
    let mut switched: Option<ClientAuth> = None;
    loop {
        let auth = switched.as_ref().unwrap_or(req.auth);
        let mut form = req.form.clone();
        let mut headers = HeaderMap::new();
        auth.apply(&mut form, &mut headers, req.issuer)?;
        if let Some(k) = req.dpop {
            headers.insert(DPOP, k.proof_header("POST", req.endpoint, None)?);
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let sent_authorization = headers.get(AUTHORIZATION).cloned();
        let reply = http
            .post_form(req.endpoint, &pairs, headers, req.what)
            .await?;
        if let (Some(k), Some(n)) = (req.dpop, nonce_from(&reply.headers)) {
            k.set_nonce(req.endpoint, n);
        }
        if (200..300).contains(&reply.status) {
            return read_token_response(&reply.body, req.requested_scopes, req.what);
        }
        // Cut out before the reply is read, so that no excerpt keeps part of a secret.
        let secrets = sent_secrets(&form, sent_authorization.as_ref(), auth);
        let err = error_from_reply(req.what, reply.status, &without(&reply.body, &secrets));
        if err.oauth_error() == Some("use_dpop_nonce") && req.dpop.is_some() && !nonce_retry {
            nonce_retry = true;
            continue;
        }
        if err.oauth_error() == Some("invalid_client") && switched.is_none() {
            let advertised = req.advertised.unwrap_or_default();
            if let Some((other, name)) = req.auth.other_secret_method() {
                if advertised.iter().any(|m| m == name) {
                    tracing::info!(
                        method = name,
                        "invalid_client: trying the other advertised client authentication"
                    );
                    switched = Some(other);
                    continue;
                }
            }
        }
        return Err(err);
    }
}

/// The longest lifetime taken from an `expires_in`: a larger one is capped (a year), so a
/// hostile or broken value can neither overflow the expiry time nor keep a token for ever.
pub const MAX_EXPIRES_IN: u64 = 365 * 24 * 3600;

/// An `expires_in` (or any lifetime in seconds) as servers really send it: a number, possibly
/// fractional (rounded down), or a string holding one; negative means already expired (0);
/// capped at [`MAX_EXPIRES_IN`]. `None` when absent or unreadable.
pub fn lifetime_secs(v: &serde_json::Value) -> Option<u64> {
    let secs = match v {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !secs.is_finite() {
        return None;
    }
    Some((secs.max(0.0) as u64).min(MAX_EXPIRES_IN))
}

/// Form fields whose values are secrets.
const SECRET_FIELDS: &[&str] = &[
    "code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "refresh_token",
    "assertion",
    "subject_token",
    "actor_token",
    "device_code",
];

/// Every secret a token request sent (secret form fields, the client's credentials), as
/// sent and form-encoded, for [`without`].
fn sent_secrets(
    form: &[(&'static str, String)],
    authorization: Option<&HeaderValue>,
    auth: &ClientAuth,
) -> Vec<Vec<u8>> {
    let mut raw: Vec<&str> = form
        .iter()
        .filter(|(k, _)| SECRET_FIELDS.contains(k))
        .map(|(_, v)| v.as_str())
        .collect();
    if let Some((_, cred)) = authorization
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
    {
        raw.push(cred.trim());
    }
    if let ClientAuth::SecretBasic { secret, .. } | ClientAuth::SecretPost { secret, .. } = auth {
        raw.push(secret.expose());
    }
    let mut out = Vec::new();
    for s in raw.into_iter().filter(|s| s.len() >= 6) {
        let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
        if encoded != s {
            out.push(encoded.into_bytes());
        }
        out.push(s.as_bytes().to_vec());
    }
    out
}

/// `body` with every one of `secrets` replaced by `[redacted]`: error pages and descriptions
/// that quote the request (a debugging proxy, a framework's error page) must not carry them
/// into the error.
fn without(body: &[u8], secrets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = body.to_vec();
    for s in secrets {
        let mut i = 0;
        while let Some(at) = out[i..].windows(s.len()).position(|w| w == s.as_slice()) {
            let at = i + at;
            out.splice(at..at + s.len(), b"[redacted]".iter().copied());
            i = at + b"[redacted]".len();
        }
    }
    out
}

/// The error an OAuth endpoint's failure reply stands for.
pub fn error_from_reply(what: &str, status: u16, body: &[u8]) -> OAuthError {
    match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(e) => OAuthError::Server {
            what: what.to_owned(),
            error: e.error,
            description: e.error_description,
        },
        Err(_) => OAuthError::BadResponse {
            what: what.to_owned(),
            reason: format!("HTTP {status}: {}", excerpt(body)),
        },
    }
}

/// Read a successful token response's body (`requested`: the scopes asked for, the token
/// set's when the server does not say).
pub(crate) fn read_token_response(
    body: &[u8],
    requested: &[String],
    what: &str,
) -> Result<TokenSet, OAuthError> {
    let t: TokenResponse = serde_json::from_slice(body).map_err(|e| OAuthError::BadResponse {
        what: what.to_owned(),
        reason: format!("not a token response: {e}"),
    })?;
    token_set(t, requested, what)
}

fn token_set(t: TokenResponse, requested: &[String], what: &str) -> Result<TokenSet, OAuthError> {
    let token_type = t.token_type.unwrap_or_else(|| "Bearer".into());
    // `N_A`: an RFC 8693 exchange that issued something other than an access token.
    if !["bearer", "dpop", "n_a"]
        .iter()
        .any(|k| token_type.eq_ignore_ascii_case(k))
    {
        return Err(OAuthError::BadResponse {
            what: what.to_owned(),
            reason: format!("unsupported token_type `{token_type}`"),
        });
    }
    if t.access_token.is_empty() {
        return Err(OAuthError::BadResponse {
            what: what.to_owned(),
            reason: "empty access_token".into(),
        });
    }
    let expires_in = t.expires_in.as_ref().and_then(lifetime_secs);
    Ok(TokenSet {
        access_token: Secret::new(t.access_token),
        token_type,
        refresh_token: t.refresh_token.filter(|r| !r.is_empty()).map(Secret::new),
        expires_at: expires_in.map(|s| now_secs().saturating_add(s)),
        lifetime_secs: expires_in,
        scopes: match t.scope {
            Some(s) => s.split_ascii_whitespace().map(str::to_owned).collect(),
            None => requested.to_vec(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec_expires_in_saturates_and_is_capped() {
        use serde_json::json;
        assert_eq!(lifetime_secs(&json!(3600)), Some(3600));
        assert_eq!(lifetime_secs(&json!("3600")), Some(3600));
        assert_eq!(lifetime_secs(&json!(3600.9)), Some(3600));
        assert_eq!(lifetime_secs(&json!(-5)), Some(0));
        assert_eq!(lifetime_secs(&json!(u64::MAX)), Some(MAX_EXPIRES_IN));
        assert_eq!(lifetime_secs(&json!(1e300)), Some(MAX_EXPIRES_IN));
        assert_eq!(lifetime_secs(&json!("soon")), None);
        assert_eq!(lifetime_secs(&json!(null)), None);
        let t = token_set(
            TokenResponse {
                access_token: "a".into(),
                token_type: Some("bearer".into()),
                expires_in: Some(json!(u64::MAX)),
                refresh_token: None,
                scope: None,
            },
            &[],
            "token request",
        )
        .expect("a token set");
        let at = t.expires_at.expect("an expiry");
        assert!(at <= now_secs() + MAX_EXPIRES_IN && at > now_secs(), "{at}");
    }

    #[test]
    fn token_sets_track_absolute_expiry_and_hide_secrets() {
        let t = token_set(
            TokenResponse {
                access_token: "canary-access".into(),
                token_type: Some("bearer".into()),
                expires_in: Some(serde_json::json!(3600)),
                refresh_token: Some("canary-refresh".into()),
                scope: None,
            },
            &["a".into()],
            "t",
        )
        .unwrap();
        assert!(!t.expires_within(60));
        assert!(t.expires_within(4000));
        assert_eq!(t.scopes, vec!["a"]);
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("canary"), "{dbg}");
        let bad = token_set(
            TokenResponse {
                access_token: "x".into(),
                token_type: Some("mac".into()),
                expires_in: None,
                refresh_token: None,
                scope: None,
            },
            &[],
            "t",
        );
        assert!(bad.is_err());
    }

    #[test]
    fn basic_auth_encodes_both_parts() {
        let a = ClientAuth::SecretBasic {
            client_id: "id:1".into(),
            secret: Secret::new("s e/c"),
        };
        let mut form = Vec::new();
        let mut h = HeaderMap::new();
        a.apply(&mut form, &mut h, "https://as").unwrap();
        let v = h[AUTHORIZATION].to_str().unwrap();
        let dec = base64::engine::general_purpose::STANDARD
            .decode(v.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(String::from_utf8(dec).unwrap(), "id%3A1:s+e%2Fc");
        // The id also in the body (never the secret): some servers require it.
        assert_eq!(form, vec![("client_id", "id:1".to_owned())]);
        assert!(!format!("{a:?}").contains("s e/c"));
    }

    #[test]
    fn sec_error_pages_quoting_the_request_are_redacted() {
        let auth = ClientAuth::SecretPost {
            client_id: "c".into(),
            secret: Secret::new("s3cret/value+1"),
        };
        let verifier = "v".repeat(60);
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", "the-code-123".to_owned()),
            ("code_verifier", verifier.clone()),
        ];
        let secrets = sent_secrets(&form, None, &auth);
        // Long enough that the excerpt (200 bytes) would cut the verifier in the middle.
        let page = format!(
            "<pre>{}code=the-code-123&code_verifier={verifier}&client_secret=s3cret%2Fvalue%2B1</pre>",
            " ".repeat(150)
        );
        let text =
            error_from_reply("token request", 500, &without(page.as_bytes(), &secrets)).to_string();
        for leak in ["the-code-123", "vvvvvvvv", "s3cret"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
        let json = br#"{"error":"invalid_grant","error_description":"code the-code-123 expired"}"#;
        let e = error_from_reply("token request", 400, &without(json, &secrets));
        assert_eq!(e.oauth_error(), Some("invalid_grant"));
        assert_eq!(e.oauth_error_description(), Some("code [redacted] expired"));
    }
}
