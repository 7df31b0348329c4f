//! Entry points for the cargo-fuzz targets in `fuzz/` and for `tests/fuzz_regressions.rs`
//! (feature `fuzzing`, off by default; not a public API). Each is the parser the client runs on
//! what the network sends, reached the way the client reaches it, but without the I/O around it.

use url::Url;

use crate::error::OAuthError;
use crate::oauth::discovery::{AuthServerMetadata, ResourceMetadata};
use crate::oauth::http::Reply;
use crate::oauth::registration::Registration;
use crate::oauth::token::TokenSet;

pub use crate::jsonrpc::{parse as jsonrpc, Incoming};
pub use crate::oauth::challenge::{parse as www_authenticate, AuthChallenge, ChallengeInfo};
pub use crate::oauth::stored::{decode as stored_credential, StoredCredential};
pub use crate::transport::sse::{SseEvent, SseParser};

/// A reply read whole, as the OAuth HTTP layer hands it to the parsers.
fn reply(status: u16, body: &[u8]) -> Reply {
    Reply {
        status,
        headers: reqwest::header::HeaderMap::new(),
        body: bytes::Bytes::copy_from_slice(body),
    }
}

/// The legacy HTTP+SSE transport's `endpoint` event: its data resolved against the server URL.
pub fn legacy_endpoint(server: &Url, data: &str) -> crate::Result<Url> {
    crate::transport::legacy::endpoint_url(server, data)
}

/// A protected resource metadata document (RFC 9728) fetched from `url` for the MCP server at
/// `server`: the body as JSON, the fields, the resource check.
pub fn resource_metadata(
    body: &[u8],
    server: &Url,
    url: &Url,
) -> Result<ResourceMetadata, OAuthError> {
    let doc = reply(200, body).json("protected resource metadata")?;
    crate::oauth::discovery::read_resource_metadata(doc, server, url)
}

/// An authorization server metadata document (RFC 8414 / OIDC) fetched from `url` for
/// `issuer`: the body as JSON, the fields, the endpoints' security, the issuer check.
pub fn auth_server_metadata(
    body: &[u8],
    issuer: &str,
    url: &Url,
) -> Result<AuthServerMetadata, OAuthError> {
    let doc = reply(200, body).json("authorization server metadata")?;
    crate::oauth::discovery::validate_auth_server_metadata(doc, issuer, url)
}

/// A token endpoint's reply: a token set (2xx) or the error it stands for.
pub fn token_response(
    status: u16,
    body: &[u8],
    requested: &[String],
) -> Result<TokenSet, OAuthError> {
    if (200..300).contains(&status) {
        crate::oauth::token::read_token_response(body, requested, "token request")
    } else {
        Err(crate::oauth::token::error_from_reply(
            "token request",
            status,
            body,
        ))
    }
}

/// A device authorization endpoint's successful reply (RFC 8628), checked as before it is
/// shown.
pub fn device_response(body: &[u8]) -> Result<(), OAuthError> {
    crate::oauth::device::read_device_response(body).map(drop)
}

/// A registration endpoint's reply (RFC 7591) to a request that asked for `method`.
pub fn registration_response(
    status: u16,
    body: &[u8],
    method: &str,
    redirect_uri: &Url,
) -> Result<Registration, OAuthError> {
    crate::oauth::registration::read_registration(
        &reply(status, body),
        "https://as.example",
        method,
        redirect_uri,
    )
}

/// What the loopback redirect listener at `redirect_uri` makes of a request head while it
/// waits for `state`: the redirect URL when it is the awaited one, and the response it sends.
/// The head is read as the listener reads it: at most 8 KiB, lossily as UTF-8.
pub fn loopback_request(redirect_uri: &Url, head: &[u8], state: &str) -> (Option<Url>, String) {
    let head = String::from_utf8_lossy(&head[..head.len().min(8192)]);
    crate::oauth::presenter::answer(redirect_uri, &head, state)
}

/// The authorization response: the URL the browser was redirected to, as a host passes it to
/// `complete_authorization` (parsed as the C ABI and Python bindings parse it), checked
/// against a pending authorization that sent `redirect_uri` and `state` to `issuer`. The code.
pub fn redirect_url(
    redirect: &str,
    redirect_uri: &Url,
    state: &str,
    issuer: &str,
    iss_supported: bool,
) -> Result<String, OAuthError> {
    let redirect = Url::parse(redirect)
        .map_err(|e| OAuthError::Config(format!("the redirect URL does not parse: {e}")))?;
    let pending = crate::oauth::authorize::PendingAuthorization {
        url: redirect_uri.clone(),
        redirect_uri: redirect_uri.clone(),
        state: oauth2::CsrfToken::new(state.to_owned()),
        verifier: oauth2::PkceCodeVerifier::new("v".repeat(43)),
        issuer: issuer.to_owned(),
        iss_supported,
        scopes: Vec::new(),
    };
    crate::oauth::authorize::finish(&pending, &redirect)
}
