//! Helpers for the OAuth integration tests: a protected test server, a client with a memory
//! store and the headless presenter, request-log queries, async presenters and temporary
//! directories (the fake HTTP server for hostile metadata is in the parent module).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mcp_client::oauth::{
    AuthorizationPresenter, AuthorizationRequest, DeviceAuthorization, HeadlessPresenter,
    OAuthConfig, OAuthError,
};
use mcp_client::store::{MemoryStore, Store, StoreChoice};
use mcp_client::BoxFuture;
use mcp_client::{Client, Error};
use mcp_test_server::{AuthOptions, RecordedRequest, ServerOptions, TestServer};
use serde_json::{json, Value};
use url::Url;

/// The longest any OAuth test may run before it is failed.
pub const TEST_LIMIT: Duration = Duration::from_secs(6);

/// Run a test body with a hard time limit, so a hang fails instead of blocking the suite.
pub async fn within<F: Future>(fut: F) -> F::Output {
    match tokio::time::timeout(TEST_LIMIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("the test did not finish within {TEST_LIMIT:?}"),
    }
}

/// Start a test server protecting `/mcp` with `auth`.
pub async fn auth_server(auth: AuthOptions) -> TestServer {
    super::server(ServerOptions {
        auth: Some(auth),
        ..Default::default()
    })
    .await
}

/// An OAuth configuration for tests: memory store, headless presenter, short timeouts.
pub fn cfg() -> OAuthConfig {
    let mut c = OAuthConfig {
        store: StoreChoice::Memory,
        http_timeout: Duration::from_secs(3),
        redirect_timeout: Duration::from_secs(3),
        ..Default::default()
    };
    c = c.presenter(HeadlessPresenter::new().expect("headless presenter"));
    c
}

/// `c` with its tokens kept in `store` (e.g. one [`shared_store`] for several engines).
pub fn with_store(mut c: OAuthConfig, store: &Store) -> OAuthConfig {
    c.store = StoreChoice::Custom(store.clone());
    c
}

/// A new memory store to share between engines.
pub fn shared_store() -> Store {
    Arc::new(MemoryStore::default())
}

/// Connect a client with `oauth` to `server` (no standalone GET stream, so the request log
/// holds only what the test caused).
pub async fn connect_oauth(server: &TestServer, oauth: OAuthConfig) -> Result<Client, Error> {
    connect_url(&server.url(), oauth).await
}

/// Connect a client with `oauth` to `url`.
pub async fn connect_url(url: &str, oauth: OAuthConfig) -> Result<Client, Error> {
    super::builder(url)
        .open_get_stream(false)
        .oauth(oauth)
        .connect()
        .await
}

/// Call `echo` with "hi" and check the answer.
pub async fn echo(client: &Client) -> mcp_client::Result<()> {
    let r = client.call_tool("echo", json!({"text": "hi"})).await?;
    assert_eq!(super::first_text(&r), "hi");
    Ok(())
}

/// The OAuth error inside `e`, or a panic naming what it was instead.
pub fn oauth_err(e: &Error) -> &OAuthError {
    match e {
        Error::OAuth(o) => o,
        other => panic!("expected Error::OAuth, got {other:?}"),
    }
}

/// The OAuth error of a failed result.
pub fn expect_oauth_err<T: std::fmt::Debug>(r: Result<T, Error>) -> OAuthError {
    match r {
        Ok(v) => panic!("expected an OAuth error, got Ok({v:?})"),
        Err(e) => oauth_err(&e).clone(),
    }
}

/// Requests to `path`.
pub fn at<'a>(reqs: &'a [RecordedRequest], path: &str) -> Vec<&'a RecordedRequest> {
    reqs.iter().filter(|r| r.path == path).collect()
}

/// Token requests of one grant type.
pub fn token_requests<'a>(reqs: &'a [RecordedRequest], grant: &str) -> Vec<&'a RecordedRequest> {
    reqs.iter()
        .filter(|r| r.path.ends_with("/token") && field(r, "grant_type") == Some(grant))
        .collect()
}

/// Every request to an authorization endpoint (`…/authorize`).
pub fn authorize_requests(reqs: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    reqs.iter()
        .filter(|r| r.path.ends_with("/authorize"))
        .collect()
}

/// Every request to `/mcp`.
pub fn mcp_requests(reqs: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    reqs.iter().filter(|r| r.path == "/mcp").collect()
}

/// Whether a request is part of OAuth (metadata, registration, authorization, tokens).
pub fn is_oauth_request(r: &RecordedRequest) -> bool {
    r.path.contains("/.well-known/")
        || r.path.ends_with("/authorize")
        || r.path.ends_with("/token")
        || r.path.ends_with("/register")
        || r.path.ends_with("/revoke")
        || r.path.ends_with("/device_authorization")
}

/// The bearer token a recorded request carried.
pub fn bearer_of(r: &RecordedRequest) -> Option<&str> {
    r.header("authorization")?.strip_prefix("Bearer ")
}

/// A form field (or JSON string field) of a recorded request's body.
pub fn field<'a>(r: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    r.body.as_ref()?.get(name)?.as_str()
}

/// The query parameters of a recorded request.
pub fn query(r: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(r.query.as_deref().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The space-separated scopes of a value.
pub fn scopes_of(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The claims of a compact JWT (not verified).
pub fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("a JWT payload");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .expect("base64url payload");
    serde_json::from_slice(&raw).expect("JSON claims")
}

/// A reqwest client for the test's own browser-like requests.
pub fn http_client(follow_redirects: bool) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(if follow_redirects {
            reqwest::redirect::Policy::limited(5)
        } else {
            reqwest::redirect::Policy::none()
        })
        .timeout(Duration::from_secs(3))
        .build()
        .expect("reqwest client")
}

/// GET `url` without following redirects and return the absolute `Location`.
pub async fn location_of(url: &Url) -> Url {
    let resp = http_client(false)
        .get(url.clone())
        .send()
        .await
        .expect("GET the authorization URL");
    assert_eq!(
        resp.status().as_u16(),
        302,
        "expected a redirect from {url}"
    );
    let loc = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location");
    url.join(loc).expect("absolute Location")
}

type PresentFn = dyn Fn(AuthorizationRequest) -> BoxFuture<'static, Result<Option<Url>, OAuthError>>
    + Send
    + Sync;
type DeviceFn =
    dyn Fn(DeviceAuthorization) -> BoxFuture<'static, Result<(), OAuthError>> + Send + Sync;

/// A presenter from async closures (the library's closure presenter is synchronous).
pub struct AsyncPresenter {
    present: Arc<PresentFn>,
    device: Option<Arc<DeviceFn>>,
}

impl AsyncPresenter {
    /// A presenter whose `present` runs `f`.
    pub fn new<F, Fut>(f: F) -> Self
    where
        F: Fn(AuthorizationRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<Url>, OAuthError>> + Send + 'static,
    {
        AsyncPresenter {
            present: Arc::new(move |r| Box::pin(f(r))),
            device: None,
        }
    }

    /// Also run `f` for device-flow codes.
    pub fn on_device<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(DeviceAuthorization) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), OAuthError>> + Send + 'static,
    {
        self.device = Some(Arc::new(move |d| Box::pin(f(d))));
        self
    }

    /// A presenter that refuses every browser sign-in with `why` (for flows without one).
    pub fn refusing(why: &'static str) -> Self {
        AsyncPresenter::new(move |_req| async move { Err(OAuthError::Presenter(why.into())) })
    }

    /// A headless-like presenter that first rewrites the authorization URL with `edit`
    /// (e.g. to play a user who unticks a scope on the consent page).
    pub fn rewriting(edit: impl Fn(&mut Url) + Send + Sync + 'static) -> Self {
        let edit = Arc::new(edit);
        AsyncPresenter::new(move |req: AuthorizationRequest| {
            let edit = edit.clone();
            async move {
                let mut url = req.url.clone();
                edit(&mut url);
                Ok(Some(location_of(&url).await))
            }
        })
    }
}

impl AuthorizationPresenter for AsyncPresenter {
    fn present<'a>(
        &'a self,
        request: &'a AuthorizationRequest,
    ) -> BoxFuture<'a, Result<Option<Url>, OAuthError>> {
        (self.present)(request.clone())
    }

    fn present_device<'a>(
        &'a self,
        device: &'a DeviceAuthorization,
    ) -> BoxFuture<'a, Result<(), OAuthError>> {
        match &self.device {
            Some(f) => f(device.clone()),
            None => Box::pin(async { Ok(()) }),
        }
    }
}

/// Replace (or add) one query parameter of `url`.
pub fn set_query_param(url: &mut Url, name: &str, value: &str) {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
}

// ------------------------------------------------------------------ temporary directories

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// A new empty directory whose name carries `tag`.
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "mcp-client-test-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create the temp dir");
        TempDir(dir)
    }

    /// The path.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// The `*.json` entries in it.
    pub fn json_files(&self) -> Vec<std::path::PathBuf> {
        let mut out: Vec<_> = std::fs::read_dir(&self.0)
            .expect("read the store dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
            .collect();
        out.sort();
        out
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
