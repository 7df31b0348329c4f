//! Client registration, in the spec's order: pre-registered credentials, a client ID metadata
//! document, RFC 7591 dynamic registration, else a clear error. A registration belongs to the
//! issuer that granted it and is never used with another.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

use crate::error::OAuthError;
use crate::oauth::discovery::AuthServerMetadata;
use crate::oauth::http::{endpoint, OAuthHttp, Reply};
use crate::redact::excerpt;
use crate::secret::Secret;

/// A client registration with one authorization server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The issuer it belongs to.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The client secret, for confidential clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    /// `token_endpoint_auth_method`.
    pub auth_method: String,
    /// The redirect URIs registered (with their ports).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// When the secret expires (seconds since the epoch; 0 or absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_expires_at: Option<u64>,
    /// How it was obtained: `pre-registered`, `client-metadata-document` or `dynamic`.
    pub kind: String,
}

/// What the host configured for registration.
#[derive(Debug, Clone, Default)]
pub struct RegistrationConfig {
    /// A pre-registered client id.
    pub client_id: Option<String>,
    /// Its secret.
    pub client_secret: Option<Secret>,
    /// Its token endpoint auth method (default: from the secret and the server's list).
    pub auth_method: Option<String>,
    /// The issuer the pre-registered client (and any key or assertion) belongs to (None:
    /// the issuer they are first used with).
    pub client_issuer: Option<String>,
    /// The URL of this client's metadata document (an HTTPS URL with a path).
    pub client_metadata_url: Option<String>,
    /// `client_name` for dynamic registration.
    pub client_name: String,
    /// Grants to register (`authorization_code`, `refresh_token`, …).
    pub grant_types: Vec<String>,
    /// Whether a private key is configured (enables `private_key_jwt`).
    pub has_private_key: bool,
}

impl Registration {
    /// Whether this registration is still the one the configuration describes: a stored
    /// pre-registered client must be the configured one with its configured secret and
    /// method (a rotated secret replaces the stored one); a client ID metadata document must
    /// still be the configured URL; a dynamic registration stands unless a client is now
    /// configured.
    pub fn fits(&self, cfg: &RegistrationConfig) -> bool {
        match self.kind.as_str() {
            "pre-registered" => {
                cfg.client_id.as_deref() == Some(self.client_id.as_str())
                    && cfg.client_secret.as_ref().map(Secret::expose)
                        == self.client_secret.as_ref().map(Secret::expose)
                    && cfg
                        .auth_method
                        .as_ref()
                        .is_none_or(|m| m == &self.auth_method)
            }
            "client-metadata-document" => {
                cfg.client_id.is_none()
                    && cfg.client_metadata_url.as_deref() == Some(self.client_id.as_str())
            }
            _ => cfg.client_id.is_none(),
        }
    }

    /// Whether the secret has expired.
    pub fn expired(&self) -> bool {
        self.secret_expires_at
            .is_some_and(|t| t != 0 && t <= crate::oauth::jwt::now_secs())
    }
}

/// Pick a token endpoint auth method for a pre-registered or dynamically registered client.
fn choose_method(meta: &AuthServerMetadata, has_secret: bool, has_key: bool) -> String {
    let supported = meta
        .token_endpoint_auth_methods_supported
        .clone()
        .unwrap_or_else(|| vec!["client_secret_basic".into()]);
    let prefs: &[&str] = match (has_key, has_secret) {
        (true, _) => &[
            "private_key_jwt",
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        (false, true) => &["client_secret_basic", "client_secret_post", "none"],
        (false, false) => &["none"],
    };
    prefs
        .iter()
        .find(|p| supported.iter().any(|s| s == *p))
        .map(|s| (*s).to_owned())
        .unwrap_or_else(|| prefs[0].to_owned())
}

/// Obtain a registration with the authorization server described by `meta`: the
/// pre-registered client, else a client ID metadata document the server accepts, else RFC 7591
/// dynamic registration.
pub async fn register(
    http: &OAuthHttp,
    meta: &AuthServerMetadata,
    cfg: &RegistrationConfig,
    redirect_uri: &Url,
) -> Result<Registration, OAuthError> {
    if let Some(id) = &cfg.client_id {
        return pre_registered(meta, cfg, id, redirect_uri);
    }
    if let Some(doc) = &cfg.client_metadata_url {
        if meta.client_id_metadata_document_supported {
            return Ok(Registration {
                issuer: meta.issuer.clone(),
                client_id: doc.clone(),
                client_secret: None,
                auth_method: if cfg.has_private_key {
                    "private_key_jwt".into()
                } else {
                    "none".into()
                },
                redirect_uris: vec![redirect_uri.to_string()],
                secret_expires_at: None,
                kind: "client-metadata-document".into(),
            });
        }
    }
    register_dynamically(http, meta, cfg, redirect_uri).await
}

/// The configured client, checked against the issuer it was registered with.
pub(crate) fn pre_registered(
    meta: &AuthServerMetadata,
    cfg: &RegistrationConfig,
    client_id: &str,
    redirect_uri: &Url,
) -> Result<Registration, OAuthError> {
    if let Some(iss) = &cfg.client_issuer {
        if iss != &meta.issuer {
            return Err(OAuthError::Config(format!(
                "the pre-registered client is for `{iss}`, but this server uses `{}`",
                meta.issuer
            )));
        }
    }
    let method = cfg
        .auth_method
        .clone()
        .unwrap_or_else(|| choose_method(meta, cfg.client_secret.is_some(), cfg.has_private_key));
    Ok(Registration {
        issuer: meta.issuer.clone(),
        client_id: client_id.to_owned(),
        client_secret: cfg.client_secret.clone(),
        auth_method: method,
        redirect_uris: vec![redirect_uri.to_string()],
        secret_expires_at: None,
        kind: "pre-registered".into(),
    })
}

/// RFC 7591 dynamic client registration as a native application.
async fn register_dynamically(
    http: &OAuthHttp,
    meta: &AuthServerMetadata,
    cfg: &RegistrationConfig,
    redirect_uri: &Url,
) -> Result<Registration, OAuthError> {
    let Some(reg_endpoint) = &meta.registration_endpoint else {
        return Err(OAuthError::NoRegistration {
            issuer: meta.issuer.clone(),
        });
    };
    let url = endpoint(reg_endpoint, "registration_endpoint")?;
    // A native client prefers to be public; when the server takes no public clients (an
    // absent list means `client_secret_basic` only, RFC 8414 §2), it asks for a secret.
    let public_ok = meta
        .token_endpoint_auth_methods_supported
        .as_ref()
        .is_some_and(|m| m.iter().any(|x| x == "none"));
    let method = if public_ok {
        "none".to_owned()
    } else {
        choose_method(meta, true, false)
    };
    let body = json!({
        "client_name": cfg.client_name,
        "redirect_uris": [redirect_uri.as_str()],
        "grant_types": cfg.grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
        "application_type": "native",
    });
    let reply = http.post_json(&url, &body, "client registration").await?;
    read_registration(&reply, &meta.issuer, &method, redirect_uri)
}

/// Read the registration endpoint's reply to a request that asked for `method`.
pub(crate) fn read_registration(
    reply: &Reply,
    issuer: &str,
    method: &str,
    redirect_uri: &Url,
) -> Result<Registration, OAuthError> {
    if !(200..300).contains(&reply.status) {
        return Err(registration_error(reply.status, &reply.body));
    }
    let v = reply.json("client registration")?;
    // A refusal sent with a success status (RFC 7591 says 400): the server's `error` says why.
    if v.get("client_id").is_none() && v.get("error").is_some_and(Value::is_string) {
        return Err(registration_error(reply.status, &reply.body));
    }
    let client_id = v
        .get("client_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OAuthError::BadResponse {
            what: "client registration".into(),
            reason: "no client_id".into(),
        })?
        .to_owned();
    let secret = v
        .get("client_secret")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    let auth_method = v
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            if secret.is_some() && method == "none" {
                "client_secret_basic".into()
            } else {
                method.to_owned()
            }
        });
    Ok(Registration {
        issuer: issuer.to_owned(),
        client_id,
        client_secret: secret,
        auth_method,
        redirect_uris: vec![redirect_uri.to_string()],
        secret_expires_at: v.get("client_secret_expires_at").and_then(Value::as_u64),
        kind: "dynamic".into(),
    })
}

/// The error a refused registration stands for: the server's OAuth error, else the status.
fn registration_error(status: u16, body: &[u8]) -> OAuthError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match v.get("error").and_then(Value::as_str) {
        Some(e) => OAuthError::Server {
            what: "client registration".into(),
            error: e.to_owned(),
            description: v
                .get("error_description")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        None => OAuthError::BadResponse {
            what: "client registration".into(),
            reason: format!("HTTP {status}: {}", excerpt(body)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_choice_follows_the_server() {
        let mut m = AuthServerMetadata {
            token_endpoint_auth_methods_supported: Some(vec!["client_secret_post".into()]),
            ..Default::default()
        };
        assert_eq!(choose_method(&m, true, false), "client_secret_post");
        m.token_endpoint_auth_methods_supported = None;
        assert_eq!(choose_method(&m, true, false), "client_secret_basic");
        assert_eq!(choose_method(&m, false, false), "none");
        m.token_endpoint_auth_methods_supported =
            Some(vec!["private_key_jwt".into(), "client_secret_basic".into()]);
        assert_eq!(choose_method(&m, false, true), "private_key_jwt");
    }

    #[test]
    fn registrations_hide_secrets() {
        let r = Registration {
            issuer: "https://a".into(),
            client_id: "c".into(),
            client_secret: Some(Secret::new("canary-secret")),
            auth_method: "client_secret_basic".into(),
            redirect_uris: vec![],
            secret_expires_at: None,
            kind: "dynamic".into(),
        };
        assert!(!format!("{r:?}").contains("canary"));
    }
}
