//! Discovery: the protected resource's metadata (RFC 9728) and its authorization server's
//! (RFC 8414 / OpenID Connect Discovery), in the order the MCP authorization spec requires,
//! with the validation it requires (the resource must be this server, the issuer must be the
//! one the document was fetched for).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::error::OAuthError;
use crate::oauth::http::{endpoint, Fetched, OAuthHttp};
use crate::redact::redact_url;

/// Protected resource metadata (RFC 9728), the fields the client uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceMetadata {
    /// The resource identifier.
    pub resource: String,
    /// Issuers of the authorization servers that protect it, in preference order.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// Scopes for basic use of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// DPoP signing algorithms the resource accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Whether the resource requires DPoP-bound tokens.
    #[serde(default)]
    pub dpop_bound_access_tokens_required: bool,
}

/// Authorization server metadata (RFC 8414 / OIDC), the fields the client uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AuthServerMetadata {
    /// The issuer identifier.
    #[serde(default)]
    pub issuer: String,
    /// Where the browser goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// Where codes become tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// RFC 7591 dynamic registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// RFC 8628 device authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    /// RFC 7009 revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// Scopes the server knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<String>>,
    /// Grant types supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<String>>,
    /// PKCE methods; absent means no PKCE support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Client authentication methods at the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// Client ID metadata documents supported.
    #[serde(default)]
    pub client_id_metadata_document_supported: bool,
    /// RFC 9207: the server puts `iss` in authorization responses.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9449 DPoP algorithms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl AuthServerMetadata {
    /// Whether `grant` is listed (an absent list means only the defaults: authorization_code
    /// and implicit, per RFC 8414).
    pub fn supports_grant(&self, grant: &str) -> bool {
        match &self.grant_types_supported {
            Some(g) => g.iter().any(|x| x == grant),
            None => matches!(grant, "authorization_code" | "implicit"),
        }
    }

    /// Whether PKCE S256 is advertised.
    pub fn supports_s256(&self) -> bool {
        self.code_challenge_methods_supported
            .as_ref()
            .is_some_and(|m| m.iter().any(|x| x == "S256"))
    }
}

/// The resource identifier of an MCP server URL (RFC 8707 §2): no user name or password, no
/// fragment, no query, scheme and host lower-cased, no trailing slash on the path unless it is
/// the root.
pub fn canonical_resource(server: &Url) -> String {
    let mut u = server.clone();
    u.set_fragment(None);
    u.set_query(None);
    // Credentials in the URL never travel as the resource, nor land in keys or logs.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    let mut s = u.to_string();
    if u.path() == "/" {
        s.pop(); // `https://host/` -> `https://host`
    } else if s.ends_with('/') {
        s.pop();
    }
    s
}

/// Whether the metadata's `resource` identifies the server at `server` (RFC 9728 §3.3: the
/// identical resource): the server's own URL (no query or fragment; a trailing slash aside),
/// or its origin, which names every resource there (a root-level document).
pub fn resource_matches(server: &Url, resource: &str) -> bool {
    let Ok(r) = Url::parse(resource) else {
        return false;
    };
    if r.scheme() != server.scheme()
        || r.host_str().map(str::to_ascii_lowercase)
            != server.host_str().map(str::to_ascii_lowercase)
        || r.port_or_known_default() != server.port_or_known_default()
        || r.query().is_some()
        || r.fragment().is_some()
        || !r.username().is_empty()
    {
        return false;
    }
    let rp = r.path().trim_end_matches('/');
    rp.is_empty() || rp == server.path().trim_end_matches('/')
}

/// The well-known protected resource metadata URLs for `server`, most specific first.
pub fn resource_metadata_urls(server: &Url) -> Vec<Url> {
    let mut out = Vec::new();
    let path = server.path().trim_end_matches('/');
    let mut origin = server.clone();
    origin.set_query(None);
    origin.set_fragment(None);
    if !path.is_empty() {
        let mut u = origin.clone();
        u.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
        out.push(u);
    }
    let mut u = origin;
    u.set_path("/.well-known/oauth-protected-resource");
    out.push(u);
    out
}

/// The authorization server metadata URLs for `issuer`, in the spec's priority order.
pub fn auth_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut base = issuer.clone();
    base.set_query(None);
    base.set_fragment(None);
    let at = |p: String| {
        let mut u = base.clone();
        u.set_path(&p);
        u
    };
    if path.is_empty() {
        vec![
            at("/.well-known/oauth-authorization-server".into()),
            at("/.well-known/openid-configuration".into()),
        ]
    } else {
        vec![
            at(format!("/.well-known/oauth-authorization-server{path}")),
            at(format!("/.well-known/openid-configuration{path}")),
            at(format!("{path}/.well-known/openid-configuration")),
        ]
    }
}

/// What discovery found for one MCP server.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// The resource identifier for token requests.
    pub resource: String,
    /// The protected resource metadata (absent for 2025-03-26 servers).
    pub prm: Option<ResourceMetadata>,
    /// The first usable authorization server's metadata.
    pub meta: AuthServerMetadata,
}

/// Discover the server's resource metadata and its authorization server's: the first of the
/// listed authorization servers whose metadata is usable, or, without resource metadata, the
/// 2025-03-26 origin fallback.
pub async fn discover(
    http: &OAuthHttp,
    server: &Url,
    from_challenge: Option<&str>,
) -> Result<Discovered, OAuthError> {
    let Some((_, prm)) = fetch_resource_metadata(http, server, from_challenge).await? else {
        return Ok(Discovered {
            resource: canonical_resource(server),
            prm: None,
            meta: legacy_auth_server_metadata(http, server).await?,
        });
    };
    let mut last_err = None;
    for issuer in &prm.authorization_servers {
        match fetch_auth_server_metadata(http, issuer).await {
            Ok(meta) => {
                return Ok(Discovered {
                    resource: prm.resource.clone(),
                    prm: Some(prm),
                    meta,
                })
            }
            Err(e) => {
                tracing::info!(issuer = %issuer, error = %e, "authorization server unusable; trying the next");
                last_err = Some(e);
            }
        }
    }
    Err(last_err.unwrap_or_else(|| OAuthError::BadMetadata {
        what: "protected resource metadata".into(),
        reason: "no authorization_servers".into(),
    }))
}

/// Fetch the server's protected resource metadata: from the challenge's `resource_metadata`
/// when given, else (or when that fails) from the well-known URLs. `Ok(None)` only when every
/// URL answered 404: a server that has none (2025-03-26). Any other answer (a 401, a 403, a
/// 5xx) is not taken as "none", which would let a server push the client into the 2025-03-26
/// fallback; once every URL was tried, the first such answer is the error.
pub async fn fetch_resource_metadata(
    http: &OAuthHttp,
    server: &Url,
    from_challenge: Option<&str>,
) -> Result<Option<(Url, ResourceMetadata)>, OAuthError> {
    let mut urls = Vec::new();
    if let Some(u) = from_challenge {
        urls.push(endpoint(u, "resource_metadata URL")?);
    }
    for u in resource_metadata_urls(server) {
        if !urls.contains(&u) {
            urls.push(u);
        }
    }
    let mut refused = None;
    for url in urls {
        let doc = match http.get_json(&url, "protected resource metadata").await? {
            Fetched::Doc(doc) => doc,
            Fetched::Missing(404) => continue,
            Fetched::Missing(status) => {
                tracing::debug!(url = %redact_url(&url), status, "no protected resource metadata here");
                refused.get_or_insert((url, status));
                continue;
            }
        };
        let meta = read_resource_metadata(doc, server, &url)?;
        return Ok(Some((url, meta)));
    }
    match refused {
        None => Ok(None),
        Some((url, status)) => Err(OAuthError::HttpStatus {
            what: "protected resource metadata".into(),
            url: redact_url(&url),
            status,
        }),
    }
}

/// Read the protected resource metadata fetched from `url` for the server at `server`.
pub(crate) fn read_resource_metadata(
    doc: Value,
    server: &Url,
    url: &Url,
) -> Result<ResourceMetadata, OAuthError> {
    let meta: ResourceMetadata =
        serde_json::from_value(doc).map_err(|e| OAuthError::BadMetadata {
            what: format!("protected resource metadata at {}", redact_url(url)),
            reason: e.to_string(),
        })?;
    if !resource_matches(server, &meta.resource) {
        return Err(OAuthError::ResourceMismatch {
            server: redact_url(server),
            advertised: meta.resource,
        });
    }
    Ok(meta)
}

/// Fetch and validate an authorization server's metadata, trying each well-known URL in the
/// spec's order whatever the others answered.
pub async fn fetch_auth_server_metadata(
    http: &OAuthHttp,
    issuer: &str,
) -> Result<AuthServerMetadata, OAuthError> {
    let issuer_url = endpoint(issuer, "authorization server issuer")?;
    let urls = auth_server_metadata_urls(&issuer_url);
    let mut tried = Vec::new();
    for url in &urls {
        match http.get_json(url, "authorization server metadata").await? {
            Fetched::Doc(doc) => return validate_auth_server_metadata(doc, issuer, url),
            Fetched::Missing(status) => tried.push(format!("{} ({status})", redact_url(url))),
        }
    }
    Err(OAuthError::NoAuthServerMetadata {
        issuer: issuer.to_owned(),
        tried: tried.join(", "),
    })
}

pub(crate) fn validate_auth_server_metadata(
    doc: Value,
    issuer: &str,
    url: &Url,
) -> Result<AuthServerMetadata, OAuthError> {
    let meta = parse_auth_server_metadata(doc, url)?;
    if meta.issuer != issuer {
        return Err(OAuthError::IssuerMismatch {
            expected: issuer.to_owned(),
            found: meta.issuer,
        });
    }
    Ok(meta)
}

/// Parse a metadata document and check that every endpoint it names is secure.
pub(crate) fn parse_auth_server_metadata(
    doc: Value,
    url: &Url,
) -> Result<AuthServerMetadata, OAuthError> {
    let meta: AuthServerMetadata =
        serde_json::from_value(doc).map_err(|e| OAuthError::BadMetadata {
            what: format!("authorization server metadata at {}", redact_url(url)),
            reason: e.to_string(),
        })?;
    for (what, e) in [
        ("authorization_endpoint", &meta.authorization_endpoint),
        ("token_endpoint", &meta.token_endpoint),
        ("registration_endpoint", &meta.registration_endpoint),
        (
            "device_authorization_endpoint",
            &meta.device_authorization_endpoint,
        ),
        ("revocation_endpoint", &meta.revocation_endpoint),
    ] {
        if let Some(e) = e {
            endpoint(e, what)?;
        }
    }
    Ok(meta)
}

/// Metadata for a 2025-03-26 server without resource metadata: the MCP server's origin is the
/// authorization server; its RFC 8414 document if it has one, else the default endpoints
/// `/authorize`, `/token` and `/register` at that origin.
pub async fn legacy_auth_server_metadata(
    http: &OAuthHttp,
    server: &Url,
) -> Result<AuthServerMetadata, OAuthError> {
    let mut origin = server.clone();
    origin.set_path("");
    origin.set_query(None);
    origin.set_fragment(None);
    let issuer = canonical_resource(&origin);
    let mut url = origin.clone();
    url.set_path("/.well-known/oauth-authorization-server");
    if let Fetched::Doc(doc) = http.get_json(&url, "authorization server metadata").await? {
        // In this mode the authorization server lives at the MCP server's origin: a document
        // that names an issuer elsewhere (say, the real one, with this server's token
        // endpoint swapped in) is refused. Its endpoints must be secure too.
        let mut meta = parse_auth_server_metadata(doc, &url)?;
        if meta.issuer.is_empty() {
            meta.issuer = issuer.clone();
        }
        let same_origin = Url::parse(&meta.issuer).is_ok_and(|i| i.origin() == origin.origin());
        if !same_origin {
            return Err(OAuthError::IssuerMismatch {
                expected: issuer,
                found: meta.issuer,
            });
        }
        if meta.authorization_endpoint.is_some() || meta.token_endpoint.is_some() {
            return Ok(meta);
        }
    }
    Ok(default_endpoints(&issuer))
}

fn default_endpoints(origin: &str) -> AuthServerMetadata {
    AuthServerMetadata {
        issuer: origin.to_owned(),
        authorization_endpoint: Some(format!("{origin}/authorize")),
        token_endpoint: Some(format!("{origin}/token")),
        registration_endpoint: Some(format!("{origin}/register")),
        // 2025-03-26 made PKCE mandatory for clients; servers of that era often did not
        // advertise it.
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn well_known_orders() {
        let prm: Vec<String> = resource_metadata_urls(&u("https://ex.com/public/mcp"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            prm,
            vec![
                "https://ex.com/.well-known/oauth-protected-resource/public/mcp",
                "https://ex.com/.well-known/oauth-protected-resource"
            ]
        );
        let asm: Vec<String> = auth_server_metadata_urls(&u("https://auth.ex.com/tenant1"))
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            asm,
            vec![
                "https://auth.ex.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.ex.com/.well-known/openid-configuration/tenant1",
                "https://auth.ex.com/tenant1/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            auth_server_metadata_urls(&u("https://auth.ex.com")).len(),
            2
        );
    }

    #[test]
    fn canonical_and_matching() {
        assert_eq!(
            canonical_resource(&u("HTTPS://Ex.COM/mcp/")),
            "https://ex.com/mcp"
        );
        assert_eq!(canonical_resource(&u("https://ex.com/")), "https://ex.com");
        assert_eq!(
            canonical_resource(&u("https://ex.com:8443/mcp?x=1#f")),
            "https://ex.com:8443/mcp"
        );
        let s = u("https://ex.com/mcp");
        assert!(resource_matches(&s, "https://ex.com/mcp"));
        assert!(resource_matches(&s, "https://ex.com"));
        assert!(resource_matches(&s, "https://EX.com/"));
        assert!(!resource_matches(&s, "https://ex.com/mc"));
        assert!(!resource_matches(&s, "https://other.com/mcp"));
        assert!(!resource_matches(&s, "http://ex.com/mcp"));
        assert!(!resource_matches(&s, "https://ex.com/mcp/other"));
    }

    #[test]
    fn sec_resource_must_be_identical_not_a_prefix() {
        let s = u("https://ex.com/api/mcp");
        assert!(resource_matches(&s, "https://ex.com/api/mcp"));
        assert!(resource_matches(&s, "https://ex.com/api/mcp/"));
        assert!(resource_matches(&s, "https://ex.com"));
        // A resource naming a parent path protects more than this server: refused.
        assert!(!resource_matches(&s, "https://ex.com/api"));
        assert!(!resource_matches(&s, "https://ex.com/api/mcp?tenant=x"));
        assert!(!resource_matches(&s, "https://user@ex.com/api/mcp"));
    }

    #[test]
    fn sec_userinfo_never_reaches_the_resource_or_the_key() {
        let s = u("https://alice:pa55@ex.com/mcp?api_key=SECRET1");
        assert_eq!(canonical_resource(&s), "https://ex.com/mcp");
        let key = crate::oauth::stored::key_for(&s);
        assert!(key.starts_with("https://ex.com/mcp?sha256="), "{key}");
        assert!(!key.contains("alice") && !key.contains("pa55") && !key.contains("SECRET1"));
        // Servers that differ by their query get their own entries.
        let other = crate::oauth::stored::key_for(&u("https://ex.com/mcp?api_key=SECRET2"));
        assert_ne!(key, other);
        assert_eq!(
            crate::oauth::stored::key_for(&u("https://ex.com/mcp")),
            "https://ex.com/mcp"
        );
    }

    #[test]
    fn issuer_must_match() {
        let url = u("https://a/.well-known/oauth-authorization-server");
        let ok = serde_json::json!({"issuer": "https://a", "token_endpoint": "https://a/token"});
        assert!(validate_auth_server_metadata(ok, "https://a", &url).is_ok());
        let bad = serde_json::json!({"issuer": "https://honest.example"});
        assert!(matches!(
            validate_auth_server_metadata(bad, "https://a", &url),
            Err(OAuthError::IssuerMismatch { .. })
        ));
        let insecure =
            serde_json::json!({"issuer": "https://a", "token_endpoint": "http://evil/token"});
        assert!(matches!(
            validate_auth_server_metadata(insecure, "https://a", &url),
            Err(OAuthError::InsecureEndpoint { .. })
        ));
    }
}
