//! Client-side encryption of stored entries (AES-256-GCM, `ring`), so a store many hosts share
//! (Redis) never holds a plaintext refresh token: whoever reads the store without the key reads
//! nothing usable, and an entry altered or moved to another key fails to open.
//!
//! The key is 32 bytes, given as base64 (standard or URL-safe) or 64 hex digits, in the
//! environment ([`KEY_ENV`]) or in a file ([`KEY_FILE_ENV`], or the store's own setting).
//! A sealed entry is `mcp-sealed-v1:` + base64(nonce ‖ ciphertext ‖ tag); the entry's key in
//! the store is the additional authenticated data.

use std::path::Path;

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use super::StoreError;

/// The environment variable holding the encryption key itself.
pub const KEY_ENV: &str = "MCP_CLIENT_STORE_KEY";
/// The environment variable naming a file that holds the encryption key.
pub const KEY_FILE_ENV: &str = "MCP_CLIENT_STORE_KEY_FILE";

const PREFIX: &str = "mcp-sealed-v1:";

/// An entry encryption key (AES-256-GCM). Its `Debug` shows no key material.
pub struct SealKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

fn key_error(reason: impl Into<String>) -> StoreError {
    StoreError::Encryption(reason.into())
}

impl SealKey {
    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| {
            key_error(format!(
                "the key must be 32 bytes (AES-256), not {}",
                bytes.len()
            ))
        })?;
        Ok(SealKey {
            key: LessSafeKey::new(unbound),
        })
    }

    /// A key written as 64 hex digits or as base64 (standard or URL-safe, padded or not).
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let t = text.trim();
        if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            let bytes: Vec<u8> = (0..32)
                .filter_map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).ok())
                .collect();
            return Self::from_bytes(&bytes);
        }
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let bytes = engines
            .iter()
            .find_map(|e| e.decode(t).ok())
            .ok_or_else(|| key_error("the key is neither 64 hex digits nor base64"))?;
        Self::from_bytes(&bytes)
    }

    /// The key in the file at `path` (its text, as [`SealKey::parse`] reads it).
    pub fn from_file(path: &Path) -> Result<Self, StoreError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| key_error(format!("key file {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| key_error(format!("key file {}: {e}", path.display())))
    }

    /// The key from [`KEY_ENV`], else from the file [`KEY_FILE_ENV`] names; `None` when
    /// neither is set (or both are empty).
    pub fn from_env() -> Result<Option<Self>, StoreError> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = var(KEY_ENV) {
            return Self::parse(&v)
                .map(Some)
                .map_err(|e| key_error(format!("{KEY_ENV}: {e}")));
        }
        match var(KEY_FILE_ENV) {
            Some(p) => Self::from_file(Path::new(&p)).map(Some),
            None => Ok(None),
        }
    }

    /// Encrypt `plain` for the store key `aad`.
    pub fn seal(&self, aad: &str, plain: &str) -> Result<String, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| key_error("no randomness for a nonce"))?;
        let mut buf = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| key_error("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        ))
    }

    /// Decrypt an entry [`SealKey::seal`] made for the store key `aad`. Fails on a plaintext
    /// entry, another key, or an entry altered or copied from another store key.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<String, StoreError> {
        let body = sealed
            .strip_prefix(PREFIX)
            .ok_or_else(|| key_error("the entry is not encrypted"))?;
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| key_error("the encrypted entry is not valid base64"))?;
        if bytes.len() < NONCE_LEN {
            return Err(key_error("the encrypted entry is truncated"));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[..NONCE_LEN]);
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut bytes[NONCE_LEN..],
            )
            .map_err(|_| {
                key_error("the entry does not decrypt with this key (another key, or altered)")
            })?;
        String::from_utf8(plain.to_vec()).map_err(|_| key_error("the entry is not UTF-8"))
    }

    /// Whether `raw` looks like a sealed entry.
    pub fn is_sealed(raw: &str) -> bool {
        raw.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn round_trip_and_binding_to_the_store_key() {
        let k = SealKey::parse(HEX).unwrap();
        let sealed = k.seal("a", r#"{"refresh_token":"rt-1"}"#).unwrap();
        assert!(SealKey::is_sealed(&sealed));
        assert!(!sealed.contains("rt-1"));
        assert_eq!(k.open("a", &sealed).unwrap(), r#"{"refresh_token":"rt-1"}"#);
        // Moved to another key, or altered: refused.
        assert!(k.open("b", &sealed).is_err());
        let mut altered = sealed.clone().into_bytes();
        let n = altered.len() - 3;
        altered[n] = if altered[n] == b'A' { b'B' } else { b'A' };
        assert!(k.open("a", &String::from_utf8(altered).unwrap()).is_err());
        // Another key, or a plaintext entry: refused.
        let other = SealKey::from_bytes(&[7u8; 32]).unwrap();
        assert!(other.open("a", &sealed).is_err());
        assert!(k.open("a", "{}").is_err());
        // Two seals of one text differ (fresh nonces).
        assert_ne!(sealed, k.seal("a", r#"{"refresh_token":"rt-1"}"#).unwrap());
    }

    #[test]
    fn key_forms() {
        let b64 = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        assert!(SealKey::parse(&b64).is_ok());
        assert!(SealKey::parse(b64.trim_end_matches('=')).is_ok());
        let err = SealKey::parse("c2hvcnQ=").unwrap_err().to_string();
        assert!(err.contains("32 bytes"), "{err}");
        assert!(SealKey::parse("not a key!").is_err());
        assert_eq!(format!("{:?}", SealKey::parse(HEX).unwrap()), "SealKey(..)");
    }
}
