//! The reqwest clients of the library: one for MCP traffic, one for OAuth, built from the same
//! TLS and proxy settings (system roots, `SSL_CERT_FILE`, extra CA files, `HTTPS_PROXY` /
//! `NO_PROXY` from the environment).
//!
//! A connection belongs to the runtime that opened it (its task lives there), so an
//! [`HttpClient`] keeps one reqwest client for the home runtime and, for threads that run
//! requests on their own runtime ([`crate::runtime::block_on_thread`]), one per such thread.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

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

/// Which of the library's two kinds of reqwest client.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// MCP requests: `TCP_NODELAY`, a few same-origin redirects followed.
    Mcp,
    /// OAuth requests: no redirects (an authorization server's redirect must never carry a
    /// code or a secret elsewhere) and a whole-request timeout.
    OAuth(Duration),
}

/// How many redirects one MCP request may follow.
const MAX_REDIRECTS: usize = 5;

/// The redirect policy of MCP requests: a few redirects within the server's origin (a moved
/// path); never to another origin, which would receive the request's custom headers (API
/// keys), its session id and its body. The redirect response itself is then the answer.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Everything needed to build one more reqwest client like the first (the TLS configuration is
/// shared: see [`crate::tls`]).
struct Recipe {
    kind: Kind,
    connect_timeout: Duration,
    tls: rustls::ClientConfig,
}

impl Recipe {
    fn build(&self) -> Result<reqwest::Client, HttpClientError> {
        let (b, what) = match self.kind {
            Kind::Mcp => (
                reqwest::Client::builder()
                    .tcp_nodelay(true)
                    .pool_idle_timeout(Duration::from_secs(90))
                    .redirect(same_origin_redirects())
                    .referer(false),
                "HTTP",
            ),
            Kind::OAuth(timeout) => (
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(timeout),
                "OAuth HTTP",
            ),
        };
        b.connect_timeout(self.connect_timeout)
            .user_agent(USER_AGENT)
            .tls_backend_preconfigured(self.tls.clone())
            .build()
            .map_err(|e| HttpClientError(format!("cannot build the {what} client: {e}")))
    }
}

struct Inner {
    home: reqwest::Client,
    /// How to build a thread's own client; `None` for a client given whole by the caller,
    /// which then serves every thread.
    recipe: Option<Recipe>,
}

/// A reqwest client for every runtime that sends requests: the home one, and one per thread
/// that runs requests on its own runtime. Cheap to clone (shared).
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

thread_local! {
    /// This thread's own clients, by the `HttpClient` they belong to (dead ones are dropped
    /// when a new one is added).
    static THREAD_CLIENTS: RefCell<Vec<(Weak<Inner>, reqwest::Client)>> =
        const { RefCell::new(Vec::new()) };
}

impl HttpClient {
    /// Wrap a client built elsewhere: it serves every runtime, so requests sent from a
    /// thread's own runtime may hop to the runtime that opened the connection.
    pub fn from_reqwest(client: reqwest::Client) -> Self {
        HttpClient {
            inner: Arc::new(Inner {
                home: client,
                recipe: None,
            }),
        }
    }

    fn with_recipe(recipe: Recipe) -> Result<Self, HttpClientError> {
        let home = recipe.build()?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                home,
                recipe: Some(recipe),
            }),
        })
    }

    /// The reqwest client for the code running now: the calling thread's own inside
    /// [`crate::runtime::block_on_thread`] (built on first use), else the home one.
    pub fn get(&self) -> Result<reqwest::Client, HttpClientError> {
        let Some(recipe) = &self.inner.recipe else {
            return Ok(self.inner.home.clone());
        };
        if !crate::runtime::on_thread_runtime() {
            return Ok(self.inner.home.clone());
        }
        let me = Arc::as_ptr(&self.inner);
        let found = THREAD_CLIENTS.try_with(|list| {
            let mut list = list.borrow_mut();
            // The clients of freed `HttpClient`s go (their idle connections close as this
            // thread's runtime runs next).
            list.retain(|(w, _)| w.strong_count() > 0);
            list.iter()
                .find(|(w, _)| std::ptr::eq(w.as_ptr(), me))
                .map(|(_, c)| c.clone())
        });
        match found {
            Ok(Some(c)) => Ok(c),
            Ok(None) => {
                let c = recipe.build()?;
                let _ = THREAD_CLIENTS.try_with(|list| {
                    list.borrow_mut()
                        .push((Arc::downgrade(&self.inner), c.clone()));
                });
                Ok(c)
            }
            // The thread is exiting: a client for this one request.
            Err(_) => recipe.build(),
        }
    }
}

impl HttpSettings {
    /// The client for MCP requests: one pool per runtime, `TCP_NODELAY`, a few same-origin
    /// redirects followed, no `Referer`.
    pub fn mcp_client(&self) -> Result<HttpClient, HttpClientError> {
        HttpClient::with_recipe(self.recipe(Kind::Mcp)?)
    }

    /// The client for OAuth requests: no redirects (an authorization server's redirect must
    /// never carry a code or a secret elsewhere) and a whole-request timeout.
    pub fn oauth_client(&self, timeout: Duration) -> Result<HttpClient, HttpClientError> {
        HttpClient::with_recipe(self.recipe(Kind::OAuth(timeout))?)
    }

    fn recipe(&self, kind: Kind) -> Result<Recipe, HttpClientError> {
        Ok(Recipe {
            kind,
            connect_timeout: self.connect_timeout,
            tls: crate::tls::client_config(self.extra_certs()?).map_err(HttpClientError)?,
        })
    }

    /// The extra CA certificates the settings name.
    fn extra_certs(&self) -> Result<Vec<CertificateDer<'static>>, HttpClientError> {
        let mut certs = Vec::new();
        for path in &self.extra_ca_files {
            let pem = std::fs::read(path).map_err(|e| {
                HttpClientError(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let found = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
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
