//! Compact JWS signing (RFC 7515) for client assertions (RFC 7523, `private_key_jwt`) and DPoP
//! proofs (RFC 9449): ES256 and RS256 with ring, keys from PEM (PKCS#8, or PKCS#1 for RSA).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;
use serde_json::{json, Value};

use crate::error::OAuthError;

/// A private key that signs JWTs.
pub struct SigningKey {
    inner: Inner,
    /// Optional `kid` header value.
    pub kid: Option<String>,
}

enum Inner {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, [redacted])", self.alg())
    }
}

fn key_err(e: impl std::fmt::Display) -> OAuthError {
    OAuthError::Key(e.to_string())
}

impl SigningKey {
    /// Load a key from PEM. `alg` (`ES256` / `RS256`), when given, must match the key.
    pub fn from_pem(pem: &str, alg: Option<&str>) -> Result<Self, OAuthError> {
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| key_err(format!("cannot read the PEM private key: {e:?}")))?;
        let rng = SystemRandom::new();
        let inner = match der {
            PrivateKeyDer::Pkcs8(p8) => {
                let bytes = p8.secret_pkcs8_der();
                match EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    bytes,
                    &rng,
                ) {
                    Ok(k) => Inner::Es256(k),
                    Err(_) => Inner::Rs256(RsaKeyPair::from_pkcs8(bytes).map_err(|e| {
                        key_err(format!(
                            "the PKCS#8 key is neither EC P-256 nor RSA ({e}); only ES256 and RS256 are supported"
                        ))
                    })?),
                }
            }
            PrivateKeyDer::Pkcs1(p1) => Inner::Rs256(
                RsaKeyPair::from_der(p1.secret_pkcs1_der()).map_err(|e| key_err(format!("bad RSA key: {e}")))?,
            ),
            PrivateKeyDer::Sec1(_) => {
                return Err(key_err(
                    "SEC1 EC keys (BEGIN EC PRIVATE KEY) are not supported; convert to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt`",
                ))
            }
            _ => return Err(key_err("unsupported private key format")),
        };
        let key = SigningKey { inner, kid: None };
        if let Some(a) = alg {
            if !a.eq_ignore_ascii_case(key.alg()) {
                return Err(key_err(format!(
                    "the key is for {}, but {a} was asked for",
                    key.alg()
                )));
            }
        }
        Ok(key)
    }

    /// A fresh P-256 key (for DPoP). Returns it with its PKCS#8 form, for storage.
    pub fn generate_es256() -> Result<(Self, Vec<u8>), OAuthError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(key_err)?;
        let bytes = doc.as_ref().to_vec();
        Ok((Self::from_pkcs8_es256(&bytes)?, bytes))
    }

    /// A P-256 key from PKCS#8 bytes.
    pub fn from_pkcs8_es256(bytes: &[u8]) -> Result<Self, OAuthError> {
        let k = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            bytes,
            &SystemRandom::new(),
        )
        .map_err(key_err)?;
        Ok(SigningKey {
            inner: Inner::Es256(k),
            kid: None,
        })
    }

    /// The JWS algorithm.
    pub fn alg(&self) -> &'static str {
        match self.inner {
            Inner::Es256(_) => "ES256",
            Inner::Rs256(_) => "RS256",
        }
    }

    /// The public key as a JWK (for the DPoP `jwk` header).
    pub fn public_jwk(&self) -> Value {
        match &self.inner {
            Inner::Es256(k) => {
                let p = k.public_key().as_ref(); // 0x04 || X || Y
                json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": B64.encode(&p[1..33]),
                    "y": B64.encode(&p[33..65]),
                })
            }
            Inner::Rs256(k) => {
                let pk = k.public();
                let comps: signature::RsaPublicKeyComponents<Vec<u8>> = pk.into();
                json!({
                    "kty": "RSA",
                    "n": B64.encode(trim_zeros(&comps.n)),
                    "e": B64.encode(trim_zeros(&comps.e)),
                })
            }
        }
    }

    /// Sign `claims` with `header` (its `alg`, and `kid` when set, are filled in).
    pub fn sign(&self, mut header: Value, claims: &Value) -> Result<String, OAuthError> {
        header["alg"] = Value::from(self.alg());
        if let Some(kid) = &self.kid {
            header["kid"] = Value::from(kid.as_str());
        }
        let input = format!(
            "{}.{}",
            B64.encode(serde_json::to_vec(&header).map_err(key_err)?),
            B64.encode(serde_json::to_vec(claims).map_err(key_err)?)
        );
        let rng = SystemRandom::new();
        let sig = match &self.inner {
            Inner::Es256(k) => k
                .sign(&rng, input.as_bytes())
                .map_err(key_err)?
                .as_ref()
                .to_vec(),
            Inner::Rs256(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .map_err(key_err)?;
                sig
            }
        };
        Ok(format!("{input}.{}", B64.encode(sig)))
    }
}

fn trim_zeros(b: &[u8]) -> &[u8] {
    let i = b
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[i..]
}

/// A random identifier (for `jti`), 128 bits, base64url.
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    // SystemRandom only fails when the OS has no randomness; fall back to the clock so a
    // jti is still unique per call rather than panicking.
    if SystemRandom::new().fill(&mut b).is_err() {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        b = n.to_le_bytes();
    }
    B64.encode(b)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A client assertion for `private_key_jwt` / RFC 7523 client authentication: `iss` and `sub`
/// are the client id, `aud` the authorization server (its issuer and token endpoint).
pub fn client_assertion(
    key: &SigningKey,
    client_id: &str,
    audience: &str,
) -> Result<String, OAuthError> {
    let now = now_secs();
    key.sign(
        json!({"typ": "JWT"}),
        &json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "jti": random_id(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn es256_sign_and_verify() {
        let (key, pkcs8) = SigningKey::generate_es256().unwrap();
        assert_eq!(key.alg(), "ES256");
        let jwt = key
            .sign(
                json!({"typ": "dpop+jwt", "jwk": key.public_jwk()}),
                &json!({"a": 1}),
            )
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        // Verify with the public key from the JWK.
        let x = B64.decode(header["jwk"]["x"].as_str().unwrap()).unwrap();
        let y = B64.decode(header["jwk"]["y"].as_str().unwrap()).unwrap();
        let mut public = vec![4u8];
        public.extend(x);
        public.extend(y);
        let v = signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, public);
        let sig = B64.decode(parts[2]).unwrap();
        v.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
        assert!(SigningKey::from_pkcs8_es256(&pkcs8).is_ok());
        assert!(!format!("{key:?}").contains(&B64.encode(&pkcs8)));
    }

    #[test]
    fn bad_pem_is_a_key_error() {
        assert!(matches!(
            SigningKey::from_pem("not a key", None),
            Err(OAuthError::Key(_))
        ));
    }
}
