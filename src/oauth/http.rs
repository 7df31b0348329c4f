//! The HTTP side of OAuth: metadata GETs and token-endpoint POSTs, with the rules every OAuth
//! request obeys here: HTTPS except on loopback, no redirects followed, a timeout and a
//! response size limit, and errors that carry the server's `error` / `error_description` but
//! never a secret.

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use url::Url;

use crate::error::OAuthError;
use crate::http_client::HttpClient;
use crate::redact::redact_url;

/// Limits of OAuth requests.
#[derive(Debug, Clone)]
pub struct OAuthHttp {
    client: HttpClient,
    /// Largest accepted response body.
    pub max_body: usize,
}

/// What a metadata GET found.
#[derive(Debug)]
pub enum Fetched {
    /// A JSON document (a 2xx answer).
    Doc(Value),
    /// No document: the HTTP status answered instead.
    Missing(u16),
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: bytes::Bytes,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self, what: &str) -> Result<Value, OAuthError> {
        serde_json::from_slice(&self.body).map_err(|e| OAuthError::BadResponse {
            what: what.to_owned(),
            reason: format!("not JSON: {e}"),
        })
    }
}

/// Whether `url` may carry OAuth traffic: HTTPS, or HTTP to a loopback host.
pub fn is_secure_or_loopback(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback_host(url),
        _ => false,
    }
}

/// Whether the URL's host is a loopback name or address.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Parse and check an endpoint URL taken from metadata or configuration.
pub fn endpoint(raw: &str, what: &str) -> Result<Url, OAuthError> {
    let url = Url::parse(raw).map_err(|e| OAuthError::BadMetadata {
        what: what.to_owned(),
        reason: format!("`{raw}` is not a URL: {e}"),
    })?;
    if !is_secure_or_loopback(&url) {
        return Err(OAuthError::InsecureEndpoint {
            url: redact_url(&url),
        });
    }
    Ok(url)
}

impl OAuthHttp {
    /// A client for OAuth requests sharing the MCP client's TLS and proxy settings.
    pub fn new(client: HttpClient, max_body: usize) -> Self {
        OAuthHttp { client, max_body }
    }

    /// The reqwest client for requests sent now (built without redirects).
    pub fn client(&self, what: &str, url: &Url) -> Result<reqwest::Client, OAuthError> {
        self.client.get().map_err(|e| OAuthError::Network {
            what: what.to_owned(),
            url: redact_url(url),
            reason: e.0,
        })
    }

    /// GET a JSON document: the document (2xx), or the status answered instead (the caller
    /// decides what a 404 or a 503 means where it asks).
    pub async fn get_json(&self, url: &Url, what: &str) -> Result<Fetched, OAuthError> {
        if !is_secure_or_loopback(url) {
            return Err(OAuthError::InsecureEndpoint {
                url: redact_url(url),
            });
        }
        let mut h = HeaderMap::new();
        h.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let reply = self
            .send(
                self.client(what, url)?.get(url.clone()).headers(h),
                url,
                what,
            )
            .await?;
        match reply.status {
            200..=299 => Ok(Fetched::Doc(reply.json(what)?)),
            s => Ok(Fetched::Missing(s)),
        }
    }

    /// POST a form, with extra headers; the reply whatever its status.
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        headers: HeaderMap,
        what: &str,
    ) -> Result<Reply, OAuthError> {
        if !is_secure_or_loopback(url) {
            return Err(OAuthError::InsecureEndpoint {
                url: redact_url(url),
            });
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().copied())
            .finish();
        let req = self
            .client(what, url)?
            .post(url.clone())
            .headers(headers)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body);
        self.send(req, url, what).await
    }

    /// POST JSON (dynamic client registration); the reply whatever its status.
    pub async fn post_json(
        &self,
        url: &Url,
        body: &Value,
        what: &str,
    ) -> Result<Reply, OAuthError> {
        if !is_secure_or_loopback(url) {
            return Err(OAuthError::InsecureEndpoint {
                url: redact_url(url),
            });
        }
        let req = self
            .client(what, url)?
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(serde_json::to_vec(body).unwrap_or_default());
        self.send(req, url, what).await
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: &Url,
        what: &str,
    ) -> Result<Reply, OAuthError> {
        let resp = req.send().await.map_err(|e| OAuthError::Network {
            what: what.to_owned(),
            url: redact_url(url),
            reason: e.without_url().to_string(),
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = crate::body::read_limited(resp, self.max_body)
            .await
            .map_err(|e| OAuthError::BadResponse {
                what: what.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}
