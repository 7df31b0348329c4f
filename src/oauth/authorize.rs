//! The authorization request (PKCE S256, `state`, `resource`, `scope`) and the validation of
//! its response: `state`, then the RFC 9207 `iss` check exactly as the 2026-07-28 chapter
//! tabulates it, then `error`, then the code. Nothing from a response that fails a check is
//! acted on or shown.

use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use url::Url;

use crate::error::OAuthError;
use crate::oauth::discovery::AuthServerMetadata;

/// One pending authorization: what the response must be checked against.
pub struct PendingAuthorization {
    /// The URL to send the user to.
    pub url: Url,
    /// The redirect URI sent.
    pub redirect_uri: Url,
    /// The `state` sent.
    pub state: CsrfToken,
    /// The PKCE verifier.
    pub verifier: PkceCodeVerifier,
    /// The issuer recorded from validated metadata, for the `iss` check.
    pub issuer: String,
    /// Whether the server advertised `authorization_response_iss_parameter_supported`.
    pub iss_supported: bool,
    /// The scopes asked for.
    pub scopes: Vec<String>,
}

/// A begun two-step authorization with everything its completion needs: the code and the
/// PKCE verifier go to the token endpoint of the server that issued the code, with the
/// registration it was issued to, even if discovery has since moved on.
#[derive(Debug)]
pub(crate) struct TwoStep {
    pub(crate) auth: PendingAuthorization,
    pub(crate) meta: AuthServerMetadata,
    pub(crate) reg: crate::oauth::registration::Registration,
    pub(crate) resource: String,
}

impl std::fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("issuer", &self.issuer)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Check a redirect URI before it is registered or sent: HTTPS, or plain HTTP to a loopback
/// address (RFC 8252 §7.3), with no fragment.
pub fn check_redirect_uri(uri: &Url) -> Result<(), OAuthError> {
    let ok = match uri.scheme() {
        "https" => true,
        "http" => crate::oauth::http::is_loopback_host(uri),
        _ => false,
    };
    if !ok || uri.fragment().is_some() {
        return Err(OAuthError::Config(format!(
            "redirect URI `{}` must be https, or http to a loopback address, without a fragment",
            crate::redact::redact_url(uri)
        )));
    }
    Ok(())
}

/// Whether `redirect` arrived where `sent` points (scheme, host, port and path).
fn same_endpoint(sent: &Url, redirect: &Url) -> bool {
    sent.scheme() == redirect.scheme()
        && sent.host_str() == redirect.host_str()
        && sent.port_or_known_default() == redirect.port_or_known_default()
        && sent.path() == redirect.path()
}

/// Build the authorization request.
pub fn begin(
    meta: &AuthServerMetadata,
    client_id: &str,
    redirect_uri: &Url,
    scopes: &[String],
    resource: &str,
) -> Result<PendingAuthorization, OAuthError> {
    let endpoint =
        meta.authorization_endpoint
            .as_deref()
            .ok_or_else(|| OAuthError::BadMetadata {
                what: "authorization server metadata".into(),
                reason: "no authorization_endpoint".into(),
            })?;
    let mut url = crate::oauth::http::endpoint(endpoint, "authorization_endpoint")?;
    check_redirect_uri(redirect_uri)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = CsrfToken::new_random();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", state.secret());
        if !scopes.is_empty() {
            q.append_pair("scope", &scopes.join(" "));
        }
        q.append_pair("resource", resource);
    }
    Ok(PendingAuthorization {
        url,
        redirect_uri: redirect_uri.clone(),
        state,
        verifier,
        issuer: meta.issuer.clone(),
        iss_supported: meta.authorization_response_iss_parameter_supported,
        scopes: scopes.to_vec(),
    })
}

/// Check the redirect and return the authorization code.
pub fn finish(pending: &PendingAuthorization, redirect: &Url) -> Result<String, OAuthError> {
    if !same_endpoint(&pending.redirect_uri, redirect) {
        return Err(OAuthError::Config(format!(
            "the redirect arrived at `{}`, not at the redirect URI sent (`{}`)",
            crate::redact::redact_url(redirect),
            crate::redact::redact_url(&pending.redirect_uri)
        )));
    }
    let mut state = None;
    let mut iss = None;
    let mut code = None;
    let mut error = None;
    let mut description = None;
    for (k, v) in redirect.query_pairs() {
        match k.as_ref() {
            "state" => state = Some(v.into_owned()),
            "iss" => iss = Some(v.into_owned()),
            "code" => code = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    if state.as_deref() != Some(pending.state.secret().as_str()) {
        return Err(OAuthError::StateMismatch);
    }
    // RFC 9207 §2.4 as the MCP 2026-07-28 chapter applies it: a present `iss` is compared by
    // simple string comparison (no normalisation); an absent one is refused only when the
    // server advertised that it sends it.
    match (&iss, pending.iss_supported) {
        (Some(i), _) if i != &pending.issuer => {
            return Err(OAuthError::IssuerCheck(format!(
                "iss `{i}` is not the expected issuer `{}`",
                pending.issuer
            )))
        }
        (None, true) => {
            return Err(OAuthError::IssuerCheck(
                "the server advertises iss but the response has none".into(),
            ))
        }
        _ => {}
    }
    if let Some(error) = error {
        return Err(OAuthError::Denied { error, description });
    }
    code.filter(|c| !c.is_empty()).ok_or(OAuthError::NoCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(iss_supported: bool) -> AuthServerMetadata {
        AuthServerMetadata {
            issuer: "https://as.example/t".into(),
            authorization_endpoint: Some("https://as.example/authorize".into()),
            authorization_response_iss_parameter_supported: iss_supported,
            ..Default::default()
        }
    }

    fn redirect(p: &PendingAuthorization, extra: &str) -> Url {
        Url::parse(&format!(
            "http://127.0.0.1:5/callback?state={}{extra}",
            p.state.secret()
        ))
        .unwrap()
    }

    #[test]
    fn request_carries_pkce_state_scope_and_resource() {
        let ru = Url::parse("http://127.0.0.1:5/callback").unwrap();
        let p = begin(
            &meta(false),
            "cid",
            &ru,
            &["a".into(), "b".into()],
            "https://mcp/x",
        )
        .unwrap();
        let q: std::collections::HashMap<_, _> = p.url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"].len(), 43);
        assert_eq!(q["scope"], "a b");
        assert_eq!(q["resource"], "https://mcp/x");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:5/callback");
        assert_eq!(&q["state"], p.state.secret());
    }

    #[test]
    fn response_checks() {
        let ru = Url::parse("http://127.0.0.1:5/callback").unwrap();
        let p = begin(&meta(true), "cid", &ru, &[], "https://mcp").unwrap();
        assert_eq!(
            finish(
                &p,
                &redirect(&p, "&code=c1&iss=https%3A%2F%2Fas.example%2Ft")
            )
            .unwrap(),
            "c1"
        );
        assert!(matches!(
            finish(&p, &redirect(&p, "&code=c1")),
            Err(OAuthError::IssuerCheck(_))
        ));
        // No normalisation: a trailing slash or case change is a mismatch.
        assert!(matches!(
            finish(
                &p,
                &redirect(&p, "&code=c1&iss=https%3A%2F%2Fas.example%2Ft%2F")
            ),
            Err(OAuthError::IssuerCheck(_))
        ));
        // A mismatched iss hides the error details.
        let e = finish(
            &p,
            &redirect(&p, "&error=access_denied&iss=https%3A%2F%2Fevil"),
        )
        .unwrap_err();
        assert!(matches!(e, OAuthError::IssuerCheck(_)));
        let bad_state = Url::parse("http://127.0.0.1:5/callback?state=x&code=c").unwrap();
        assert!(matches!(
            finish(&p, &bad_state),
            Err(OAuthError::StateMismatch)
        ));

        let p = begin(&meta(false), "cid", &ru, &[], "https://mcp").unwrap();
        assert_eq!(finish(&p, &redirect(&p, "&code=c2")).unwrap(), "c2");
        assert!(matches!(
            finish(&p, &redirect(&p, "&code=c2&iss=https%3A%2F%2Fother")),
            Err(OAuthError::IssuerCheck(_))
        ));
        assert!(matches!(
            finish(
                &p,
                &redirect(&p, "&error=access_denied&error_description=no")
            ),
            Err(OAuthError::Denied { .. })
        ));
    }
}
