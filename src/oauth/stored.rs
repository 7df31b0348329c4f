//! What the OAuth engine keeps for one MCP server, as stored: the discovered metadata (with the
//! time it was fetched), the client registrations (one per issuer), the tokens (with their
//! issuer and absolute expiry) and the DPoP key bound to them.
//!
//! Entries are versioned JSON keyed by the server's URL. An entry this version cannot read
//! (older format, corrupt, truncated, another server's) is treated as absent, never as an error
//! that stops the client, and is left in place until a fresh authorization replaces it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::oauth::discovery::{AuthServerMetadata, ResourceMetadata};
use crate::oauth::registration::Registration;
use crate::oauth::token::TokenSet;

/// The entry format this version writes and reads.
pub const FORMAT: u32 = 1;

/// Everything kept for one MCP server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCredential {
    /// The entry format ([`FORMAT`]).
    pub format: u32,
    /// The MCP server URL this entry is for.
    pub server: String,
    /// Bumped on every save (lets a reader tell which of two entries is newer).
    #[serde(default)]
    pub generation: u64,
    /// When it was saved (seconds since the epoch).
    #[serde(default)]
    pub saved_at: u64,
    /// The resource identifier used in token requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The protected resource metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_metadata: Option<ResourceMetadata>,
    /// The authorization server metadata in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_server: Option<AuthServerMetadata>,
    /// When the metadata was fetched (seconds since the epoch).
    #[serde(default)]
    pub discovered_at: u64,
    /// Client registrations, by issuer.
    #[serde(default)]
    pub registrations: BTreeMap<String, Registration>,
    /// The issuer the host's own credentials (a pre-registered client, a signing key, an
    /// assertion) were first used with: they are never sent to another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_issuer: Option<String>,
    /// The tokens, and the issuer that granted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<StoredTokens>,
}

/// What `mcp-client auth status` shows of an entry: never a secret.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialSummary {
    /// The MCP server.
    pub server: String,
    /// The authorization server of the tokens (or of the metadata, without tokens).
    pub issuer: Option<String>,
    /// The client id used with it.
    pub client_id: Option<String>,
    /// How the client was registered.
    pub registration: Option<String>,
    /// `Bearer` or `DPoP`, when a token is held.
    pub token_type: Option<String>,
    /// Access token expiry (seconds since the epoch).
    pub expires_at: Option<u64>,
    /// Whether the access token has expired.
    pub expired: bool,
    /// Whether a refresh token is held.
    pub has_refresh_token: bool,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When the entry was saved.
    pub saved_at: u64,
}

impl StoredCredential {
    /// The entry without its secrets.
    pub fn summary(&self) -> CredentialSummary {
        let t = self.tokens.as_ref();
        let issuer = t
            .map(|t| t.issuer.clone())
            .or_else(|| self.auth_server.as_ref().map(|m| m.issuer.clone()));
        let reg = issuer.as_ref().and_then(|i| self.registrations.get(i));
        CredentialSummary {
            server: self.server.clone(),
            issuer,
            client_id: reg.map(|r| r.client_id.clone()),
            registration: reg.map(|r| r.kind.clone()),
            token_type: t.map(|t| t.tokens.token_type.clone()),
            expires_at: t.and_then(|t| t.tokens.expires_at),
            expired: t.is_some_and(|t| t.tokens.expires_within(0)),
            has_refresh_token: t.is_some_and(|t| t.tokens.refresh_token.is_some()),
            scopes: t.map(|t| t.tokens.scopes.clone()).unwrap_or_default(),
            saved_at: self.saved_at,
        }
    }
}

/// Tokens with the issuer that granted them and their DPoP key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    /// The issuer.
    pub issuer: String,
    /// The tokens.
    pub tokens: TokenSet,
    /// The DPoP key (PKCS#8, base64) the tokens are bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<crate::secret::Secret>,
}

/// The key of a server's entry: its resource identifier (no user name, password, query or
/// fragment), plus, when the URL has a query, `?` and a digest of it: servers that differ
/// only by their query get their own entries, and a secret in a query never lands in a key.
pub fn key_for(server: &url::Url) -> String {
    let mut key = crate::oauth::discovery::canonical_resource(server);
    if let Some(q) = server.query().filter(|q| !q.is_empty()) {
        let d = ring::digest::digest(&ring::digest::SHA256, q.as_bytes());
        key.push_str("?sha256=");
        for b in &d.as_ref()[..8] {
            key.push_str(&format!("{b:02x}"));
        }
    }
    key
}

/// Decode an entry; anything unreadable is `None` (with a log line saying why).
pub fn decode(key: &str, raw: &str) -> Option<StoredCredential> {
    match serde_json::from_str::<StoredCredential>(raw) {
        Ok(c) if c.format == FORMAT && c.server == key => Some(c),
        Ok(c) if c.server != key => {
            tracing::warn!(key, found = %c.server, "stored credential is for another server; ignoring it");
            None
        }
        Ok(c) => {
            tracing::info!(
                key,
                format = c.format,
                "stored credential has another format; a new sign-in will replace it"
            );
            None
        }
        Err(e) => {
            tracing::warn!(key, error = %e, "stored credential is unreadable (corrupt or truncated); a new sign-in will replace it");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_refuses_other_formats_servers_and_garbage() {
        let c = StoredCredential {
            format: FORMAT,
            server: "https://a/mcp".into(),
            ..Default::default()
        };
        let raw = serde_json::to_string(&c).unwrap();
        assert_eq!(decode("https://a/mcp", &raw), Some(c.clone()));
        assert_eq!(decode("https://b/mcp", &raw), None);
        assert_eq!(decode("https://a/mcp", &raw[..raw.len() / 2]), None);
        let old = raw.replace("\"format\":1", "\"format\":0");
        assert_eq!(decode("https://a/mcp", &old), None);
    }
}
