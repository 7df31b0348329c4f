//! DPoP (RFC 9449): a per-client key pair, proofs for token requests and resource requests,
//! and the server-provided nonces each proof must echo.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use url::Url;

use crate::error::OAuthError;
use crate::oauth::jwt::{now_secs, random_id, SigningKey};

/// The `DPoP` request header, which carries a proof.
pub const DPOP: HeaderName = HeaderName::from_static("dpop");

/// The nonce a server demands in a response's `DPoP-Nonce` header (RFC 9449 §8, §9): the one
/// place it is read, for token endpoints and resource servers alike.
pub fn nonce_from(headers: &HeaderMap) -> Option<&str> {
    headers.get("dpop-nonce").and_then(|v| v.to_str().ok())
}

/// A DPoP key and the nonces servers asked it to use.
pub struct DpopKey {
    key: SigningKey,
    pkcs8: Vec<u8>,
    /// Latest `DPoP-Nonce` per origin.
    nonces: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopKey([redacted])")
    }
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl DpopKey {
    /// A new P-256 key.
    pub fn generate() -> Result<Self, OAuthError> {
        let (key, pkcs8) = SigningKey::generate_es256()?;
        Ok(DpopKey {
            key,
            pkcs8,
            nonces: Mutex::new(HashMap::new()),
        })
    }

    /// A stored key (PKCS#8).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, OAuthError> {
        Ok(DpopKey {
            key: SigningKey::from_pkcs8_es256(pkcs8)?,
            pkcs8: pkcs8.to_vec(),
            nonces: Mutex::new(HashMap::new()),
        })
    }

    /// The key in PKCS#8, for storage beside the token it is bound to.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Remember the nonce a server sent (`DPoP-Nonce` header).
    pub fn set_nonce(&self, url: &Url, nonce: &str) {
        self.nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(origin_of(url), nonce.to_owned());
    }

    /// A proof as the value of the [`DPOP`] header.
    pub fn proof_header(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&str>,
    ) -> Result<HeaderValue, OAuthError> {
        let proof = self.proof(method, url, access_token)?;
        HeaderValue::from_str(&proof).map_err(|_| OAuthError::Key("bad DPoP proof".into()))
    }

    /// A proof for `method url`, bound to `access_token` (the `ath` claim) for resource
    /// requests.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&str>,
    ) -> Result<String, OAuthError> {
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let mut claims = json!({
            "jti": random_id(),
            "htm": method,
            "htu": htu.as_str(),
            "iat": now_secs(),
        });
        if let Some(t) = access_token {
            let digest = ring::digest::digest(&ring::digest::SHA256, t.as_bytes());
            claims["ath"] = B64.encode(digest.as_ref()).into();
        }
        if let Some(n) = self
            .nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&origin_of(url))
        {
            claims["nonce"] = n.clone().into();
        }
        self.key.sign(
            json!({"typ": "dpop+jwt", "jwk": self.key.public_jwk()}),
            &claims,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_carry_method_url_ath_and_nonce() {
        let k = DpopKey::generate().unwrap();
        let url = Url::parse("https://rs.example/mcp?x=1").unwrap();
        k.set_nonce(&url, "n-1");
        let p = k.proof("POST", &url, Some("tok")).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&B64.decode(p.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://rs.example/mcp");
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(
            claims["ath"],
            B64.encode(ring::digest::digest(&ring::digest::SHA256, b"tok").as_ref())
        );
        let again = DpopKey::from_pkcs8(k.pkcs8()).unwrap();
        assert!(again.proof("GET", &url, None).is_ok());
    }
}
