//! The reqwest clients of the library: one for MCP traffic, one for OAuth, built from the same
//! TLS and proxy settings (system roots, `SSL_CERT_FILE`, extra CA files, `HTTPS_PROXY` /
//! `NO_PROXY` from the environment).

use std::path::PathBuf;
use std::time::Duration;

const USER_AGENT: &str = concat!("mcp-client/", env!("CARGO_PKG_VERSION"));

/// The connection settings every HTTP client of one MCP client shares.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// Timeout to establish a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// PEM files of extra CA certificates to trust (besides the system's and `SSL_CERT_FILE`).
    pub extra_ca_files: Vec<PathBuf>,
}

/// A client could not be built (an unreadable CA file, a TLS setup failure).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HttpClientError(pub String);

impl HttpSettings {
    /// The client for MCP requests: one pool, `TCP_NODELAY`, a few redirects followed.
    pub(crate) fn mcp_client(&self) -> Result<reqwest::Client, HttpClientError> {
        let b = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(reqwest::redirect::Policy::limited(5));
        self.finish(b, "HTTP")
    }

    /// The client for OAuth requests: no redirects (an authorization server's redirect must
    /// never carry a code or a secret elsewhere) and a whole-request timeout.
    pub(crate) fn oauth_client(
        &self,
        timeout: Duration,
    ) -> Result<reqwest::Client, HttpClientError> {
        let b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout);
        self.finish(b, "OAuth HTTP")
    }

    fn finish(
        &self,
        b: reqwest::ClientBuilder,
        what: &str,
    ) -> Result<reqwest::Client, HttpClientError> {
        crate::runtime::install_crypto_provider();
        let mut b = b
            .connect_timeout(self.connect_timeout)
            .user_agent(USER_AGENT);
        let certs = self.extra_certs()?;
        if !certs.is_empty() {
            b = b.tls_certs_merge(certs);
        }
        b.build()
            .map_err(|e| HttpClientError(format!("cannot build the {what} client: {e}")))
    }

    /// The extra CA certificates the settings name.
    fn extra_certs(&self) -> Result<Vec<reqwest::Certificate>, HttpClientError> {
        let mut certs = Vec::new();
        for path in &self.extra_ca_files {
            let pem = std::fs::read(path).map_err(|e| {
                HttpClientError(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let found = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| HttpClientError(format!("bad CA file {}: {e}", path.display())))?;
            if found.is_empty() {
                return Err(HttpClientError(format!(
                    "CA file {} holds no PEM certificate",
                    path.display()
                )));
            }
            certs.extend(found);
        }
        Ok(certs)
    }
}
