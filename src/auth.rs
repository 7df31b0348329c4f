//! The per-request authorization seam of the HTTP transports.
//!
//! Every HTTP request asks the auth layer for its headers; every 401 or 403 goes back to it
//! with the server's challenge, and the layer decides whether the request is retried. The
//! modes without OAuth (none, a static bearer token) are built in; the OAuth engine plugs in as
//! an [`AuthProvider`].

use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use url::Url;

use crate::error::{Error, Result};
use crate::secret::Secret;
use futures_util::future::BoxFuture;

/// What the server said when it refused a request.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// 401 or 403.
    pub status: u16,
    /// Every `WWW-Authenticate` header value, in order.
    pub www_authenticate: Vec<String>,
    /// The URL that was refused.
    pub url: Url,
    /// The HTTP method of the refused request.
    pub method: String,
    /// The `Authorization` header the refused request carried, if any (so a provider can
    /// tell whether its current token is the one refused).
    pub sent_authorization: Option<HeaderValue>,
    /// The response's headers (a provider reads what its scheme needs, e.g. `DPoP-Nonce`).
    pub headers: reqwest::header::HeaderMap,
}

impl Challenge {
    /// The challenges joined for an error message.
    pub fn joined(&self) -> Option<String> {
        if self.www_authenticate.is_empty() {
            None
        } else {
            Some(self.www_authenticate.join(", "))
        }
    }

    /// The typed error for a challenge nobody could answer.
    pub fn into_error(self) -> Error {
        let www_authenticate = self.joined();
        if self.status == 403 {
            Error::Forbidden { www_authenticate }
        } else {
            Error::Unauthorized { www_authenticate }
        }
    }
}

/// The request an [`AuthProvider`] is asked to authorize.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    /// The HTTP method (`POST`, `GET`, `DELETE`).
    pub method: &'a str,
    /// The URL.
    pub url: &'a Url,
}

/// Headers an [`AuthProvider`] adds to one request.
pub type AuthHeaders = Vec<(HeaderName, HeaderValue)>;

/// A source of credentials for HTTP requests: the OAuth engine, or a host's own.
pub trait AuthProvider: Send + Sync + 'static {
    /// The headers to add to this request (usually `Authorization: Bearer …`).
    fn headers<'a>(&'a self, request: RequestInfo<'a>) -> BoxFuture<'a, Result<AuthHeaders>>;

    /// The server refused a request with 401 or 403. Return `Ok(true)` to retry it with fresh
    /// headers, `Ok(false)` to give up (the request then fails with the challenge's error).
    fn on_challenge<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, Result<bool>>;
}

/// The auth layer a transport holds.
#[derive(Clone)]
pub(crate) enum AuthLayer {
    /// No credentials.
    None,
    /// A fixed `Authorization` header value.
    Static(HeaderValue),
    /// A provider (OAuth or the host's).
    Provider(Arc<dyn AuthProvider>),
}

impl AuthLayer {
    /// A static bearer token.
    pub(crate) fn bearer(token: &Secret) -> Result<Self> {
        let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
            Error::InvalidArgument("the bearer token is not a valid header value".into())
        })?;
        v.set_sensitive(true);
        Ok(AuthLayer::Static(v))
    }

    /// Add this layer's headers to `headers`.
    pub(crate) async fn apply(
        &self,
        headers: &mut reqwest::header::HeaderMap,
        request: RequestInfo<'_>,
    ) -> Result<()> {
        match self {
            AuthLayer::None => {}
            AuthLayer::Static(v) => {
                headers.insert(AUTHORIZATION, v.clone());
            }
            AuthLayer::Provider(p) => {
                // A refresh may wait on another's; that time is the provider's to bound.
                let _paused = crate::deadline::suspend_current();
                for (k, v) in p.headers(request).await? {
                    headers.insert(k, v);
                }
            }
        }
        Ok(())
    }

    /// Handle a refusal: `Ok(())` means retry, an error ends the request.
    pub(crate) async fn on_challenge(&self, challenge: Challenge) -> Result<()> {
        match self {
            AuthLayer::Provider(p) => {
                // Signing in can take minutes in a browser: the request's timeout restarts
                // after it (authorization has timeouts of its own).
                let _paused = crate::deadline::suspend_current();
                if p.on_challenge(&challenge).await? {
                    Ok(())
                } else {
                    Err(challenge.into_error())
                }
            }
            _ => Err(challenge.into_error()),
        }
    }
}
