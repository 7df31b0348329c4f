//! DPoP proofs (RFC 9449): ES256 only, verified with ring.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::Value;

use super::{now_secs, sha256_b64, AuthServer};

/// How far a proof's `iat` may be from now.
const IAT_WINDOW: u64 = 60;

/// Why a proof was refused.
#[derive(Debug)]
pub(crate) enum ProofError {
    /// Missing, malformed, wrongly signed or not matching the request.
    Invalid(String),
    /// Valid, but without the current nonce.
    Nonce,
}

/// What a proof must match.
pub(crate) struct Expect<'a> {
    /// The HTTP method.
    pub(crate) htm: &'a str,
    /// Acceptable `htu` values (without query or fragment).
    pub(crate) htus: &'a [String],
    /// The access token, whose hash must be the `ath` claim.
    pub(crate) access_token: Option<&'a str>,
    /// The nonce the proof must carry.
    pub(crate) nonce: Option<&'a str>,
}

/// A verified proof.
#[derive(Debug)]
pub(crate) struct Proof {
    /// The JWK SHA-256 thumbprint (RFC 7638) of its key.
    pub(crate) jkt: String,
    /// Its `jti`.
    jti: String,
}

/// The single `DPoP` header of a request: Ok(None) when absent.
pub(crate) fn header(headers: &HeaderMap) -> Result<Option<&str>, ProofError> {
    let mut values = headers.get_all("dpop").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ProofError::Invalid("more than one DPoP header".into()));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| ProofError::Invalid("DPoP header is not text".into()))
}

/// Verifies a proof against a request, then remembers its `jti` (a proof
/// seen before is refused).
pub(crate) fn check(
    auth: &AuthServer,
    jwt: &str,
    expect: &Expect<'_>,
) -> Result<Proof, ProofError> {
    let (claims, proof) = verify_jwt(jwt).map_err(ProofError::Invalid)?;
    let invalid = |m: &str| Err(ProofError::Invalid(m.to_owned()));
    if claims.get("htm").and_then(Value::as_str) != Some(expect.htm) {
        return invalid("htm does not match the request method");
    }
    let Some(htu) = claims.get("htu").and_then(Value::as_str) else {
        return invalid("missing htu");
    };
    if !expect.htus.iter().any(|e| same_htu(htu, e)) {
        return invalid("htu does not match the request URL");
    }
    let Some(iat) = claims.get("iat").and_then(Value::as_u64) else {
        return invalid("missing or non-integer iat");
    };
    if now_secs().abs_diff(iat) > IAT_WINDOW {
        return invalid("iat too far from now");
    }
    if let Some(token) = expect.access_token {
        let ath = claims.get("ath").and_then(Value::as_str);
        if ath != Some(sha256_b64(token.as_bytes()).as_str()) {
            return invalid("missing or wrong ath");
        }
    }
    if let Some(nonce) = expect.nonce {
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(ProofError::Nonce);
        }
    }
    let mut store = auth.store();
    if store.jtis.contains_key(&proof.jti) {
        return invalid("proof replayed (jti seen before)");
    }
    let keep = Instant::now() + Duration::from_secs(3 * IAT_WINDOW);
    store.jtis.insert(proof.jti.clone(), keep);
    Ok(proof)
}

/// Compares `htu` with an expected URL, ignoring query and fragment.
fn same_htu(htu: &str, expected: &str) -> bool {
    match (url::Url::parse(htu), url::Url::parse(expected)) {
        (Ok(mut a), Ok(mut b)) => {
            a.set_query(None);
            a.set_fragment(None);
            b.set_query(None);
            b.set_fragment(None);
            a == b
        }
        _ => false,
    }
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| format!("{what} is not base64url"))
}

/// Checks a proof's header and signature; returns its claims.
fn verify_jwt(jwt: &str) -> Result<(Value, Proof), String> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a compact JWS".into());
    };
    let header: Value =
        serde_json::from_slice(&b64(h, "header")?).map_err(|_| "header is not JSON".to_owned())?;
    let typ = header
        .get("typ")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !typ.eq_ignore_ascii_case("dpop+jwt") {
        return Err("typ must be dpop+jwt".into());
    }
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err("alg must be ES256".into());
    }
    let jwk = header.get("jwk").ok_or("missing jwk")?;
    if jwk.get("d").is_some() {
        return Err("jwk contains a private key".into());
    }
    if jwk.get("kty").and_then(Value::as_str) != Some("EC")
        || jwk.get("crv").and_then(Value::as_str) != Some("P-256")
    {
        return Err("jwk must be an EC P-256 key".into());
    }
    let coord = |name: &str| -> Result<Vec<u8>, String> {
        let v = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("jwk missing {name}"))?;
        let bytes = b64(v, name)?;
        if bytes.len() != 32 {
            return Err(format!("jwk {name} is not 32 bytes"));
        }
        Ok(bytes)
    };
    let (x, y) = (coord("x")?, coord("y")?);
    let mut point = Vec::with_capacity(65);
    point.push(4);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let sig = b64(s, "signature")?;
    let signing_input = &jwt[..h.len() + 1 + p.len()];
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(signing_input.as_bytes(), &sig)
        .map_err(|_| "bad signature".to_owned())?;
    let claims: Value = serde_json::from_slice(&b64(p, "payload")?)
        .map_err(|_| "payload is not JSON".to_owned())?;
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or("missing jti")?
        .to_owned();
    let jkt = thumbprint(&URL_SAFE_NO_PAD.encode(&x), &URL_SAFE_NO_PAD.encode(&y));
    Ok((claims, Proof { jkt, jti }))
}

/// The RFC 7638 thumbprint of an EC P-256 key.
pub(crate) fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    sha256_b64(canonical.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc_7638_shape() {
        // The canonical JSON has its members in lexicographic order, no spaces.
        let t = thumbprint("AAAA", "BBBB");
        assert_eq!(
            t,
            sha256_b64(br#"{"crv":"P-256","kty":"EC","x":"AAAA","y":"BBBB"}"#)
        );
        assert_eq!(t.len(), 43);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(verify_jwt("a.b").is_err());
        assert!(verify_jwt("a.b.c").is_err());
        assert!(same_htu("http://h/x?q=1", "http://h/x"));
        assert!(!same_htu("http://h/y", "http://h/x"));
    }
}
