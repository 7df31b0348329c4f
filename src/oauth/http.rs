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
    /// Whether OAuth requests may go to loopback addresses: only when the MCP server is on
    /// one itself (else a remote server could make the client POST to local services).
    loopback_ok: bool,
}

/// What a metadata GET found.
#[derive(Debug)]
pub enum Fetched {
    /// A JSON document (a 2xx answer).
    Doc(Value),
    /// No document: the HTTP status answered instead.
    Missing(u16),
}

/// A response read whole. Its `Debug` shows the status and the body's size only: a token
/// response's body holds tokens.
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: bytes::Bytes,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
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
    /// A client for the OAuth requests of the MCP server at `server`, sharing the MCP
    /// client's TLS and proxy settings.
    pub fn new(client: HttpClient, max_body: usize, server: &Url) -> Self {
        OAuthHttp {
            client,
            max_body,
            loopback_ok: is_loopback_host(server),
        }
    }

    /// Refuse a URL OAuth traffic may not go to: not HTTPS (loopback aside), or on loopback
    /// when the MCP server is not.
    fn check(&self, url: &Url) -> Result<(), OAuthError> {
        if !is_secure_or_loopback(url) || (is_loopback_host(url) && !self.loopback_ok) {
            return Err(OAuthError::InsecureEndpoint {
                url: redact_url(url),
            });
        }
        Ok(())
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
        self.check(url)?;
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
        self.check(url)?;
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
        self.check(url)?;
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
            reason: crate::body::reqwest_reason(e),
        })?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        // A reply too large is the server's fault; one that could not be read (the connection
        // cut mid-body, the timeout running out while it trickles) is the network's.
        let body = crate::body::read_limited(resp, self.max_body)
            .await
            .map_err(|e| match e {
                crate::body::BodyError::TooLarge { .. } => OAuthError::BadResponse {
                    what: what.to_owned(),
                    reason: e.to_string(),
                },
                crate::body::BodyError::Read { .. } => OAuthError::Network {
                    what: what.to_owned(),
                    url: redact_url(url),
                    reason: e.to_string(),
                },
            })?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_for(server: &str) -> OAuthHttp {
        let settings = crate::http_client::HttpSettings {
            connect_timeout: std::time::Duration::from_secs(1),
            ..Default::default()
        };
        let client = settings
            .oauth_client(std::time::Duration::from_secs(1))
            .unwrap();
        OAuthHttp::new(client, 1 << 20, &Url::parse(server).unwrap())
    }

    #[tokio::test]
    async fn sec_loopback_oauth_endpoints_only_for_a_loopback_server() {
        let remote = http_for("https://mcp.example.com/mcp");
        for local in [
            "http://127.0.0.1:9/token",
            "https://localhost:9/token",
            "http://[::1]:9/token",
        ] {
            let url = Url::parse(local).unwrap();
            let e = remote
                .post_form(&url, &[], HeaderMap::new(), "token request")
                .await
                .expect_err(local);
            assert!(
                matches!(e, OAuthError::InsecureEndpoint { .. }),
                "{local}: {e:?}"
            );
            let e = remote.get_json(&url, "metadata").await.expect_err(local);
            assert!(
                matches!(e, OAuthError::InsecureEndpoint { .. }),
                "{local}: {e:?}"
            );
        }
        // A server on loopback may use an authorization server there (nothing listens on
        // port 9: the request is made, and fails to connect).
        let local = http_for("http://127.0.0.1:8000/mcp");
        let e = local
            .get_json(&Url::parse("http://127.0.0.1:9/m").unwrap(), "metadata")
            .await
            .expect_err("nothing listens");
        assert!(matches!(e, OAuthError::Network { .. }), "{e:?}");
    }

    #[test]
    fn sec_reply_debug_shows_no_body() {
        let r = Reply {
            status: 200,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from_static(br#"{"access_token":"SECRETTOK","refresh_token":"R"}"#),
        };
        let d = format!("{r:?}");
        assert!(!d.contains("SECRETTOK"), "{d}");
        assert!(d.contains("200"), "{d}");
    }
}
