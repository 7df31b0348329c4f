//! Helpers for the OAuth integration tests: a protected test server, a client with a memory
//! store and the headless presenter, request-log queries, async presenters, and a small
//! path-aware fake HTTP server for hostile metadata.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_client::oauth::{
    AuthorizationPresenter, AuthorizationRequest, DeviceAuthorization, HeadlessPresenter,
    OAuthConfig, OAuthError,
};
use mcp_client::store::StoreChoice;
use mcp_client::BoxFuture;
use mcp_client::{Client, Error};
use mcp_test_server::{AuthOptions, RecordedRequest, ServerOptions, TestServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

// ------------------------------------------------------------------ a fake HTTP server

/// One request the fake server received.
#[derive(Debug, Clone)]
pub struct FakeRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// The body.
    pub body: Vec<u8>,
}

/// The fake server's answer.
pub struct FakeReply {
    /// The status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: FakeBody,
}

/// What the fake server sends as the body.
pub enum FakeBody {
    /// These bytes, with their Content-Length.
    Bytes(Vec<u8>),
    /// `Content-Length: declared`, then `send` bytes, then the connection is held open.
    Lying { declared: u64, send: usize },
    /// No Content-Length; bytes for ever (until the peer goes away).
    Endless,
}

impl FakeReply {
    /// A JSON 200.
    pub fn json(v: &Value) -> Self {
        FakeReply {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: FakeBody::Bytes(v.to_string().into_bytes()),
        }
    }

    /// A 404.
    pub fn not_found() -> Self {
        FakeReply {
            status: 404,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: FakeBody::Bytes(b"{\"error\":\"not_found\"}".to_vec()),
        }
    }

    /// A 401 with this `WWW-Authenticate`.
    pub fn unauthorized(www_authenticate: &str) -> Self {
        FakeReply {
            status: 401,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("WWW-Authenticate".into(), www_authenticate.into()),
            ],
            body: FakeBody::Bytes(b"{}".to_vec()),
        }
    }
}

/// A fake server's base URL and its request log.
pub struct Fake {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Every request received.
    pub log: Arc<Mutex<Vec<FakeRequest>>>,
}

impl Fake {
    /// Its `/mcp` URL.
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// The paths requested so far.
    pub fn paths(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.path.clone())
            .collect()
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 answering each request with `answer(base, request)`
/// (one request per connection).
pub async fn fake_server<F>(answer: F) -> Fake
where
    F: Fn(&str, &FakeRequest) -> FakeReply + Send + Sync + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let log: Arc<Mutex<Vec<FakeRequest>>> = Arc::default();
    let answer = Arc::new(answer);
    let (log2, base2) = (log.clone(), base.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (answer, log, base) = (answer.clone(), log2.clone(), base2.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut first = head.lines().next().unwrap_or("").split(' ');
                let method = first.next().unwrap_or("").to_owned();
                let target = first.next().unwrap_or("/").to_owned();
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + len {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let req = FakeRequest {
                    method,
                    path: target.split('?').next().unwrap_or("/").to_owned(),
                    body: buf[head_end..head_end + len].to_vec(),
                };
                log.lock().unwrap().push(req.clone());
                let reply = answer(&base, &req);
                let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
                for (k, v) in &reply.headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                match reply.body {
                    FakeBody::Bytes(b) => {
                        head.push_str(&format!(
                            "Content-Length: {}\r\nConnection: close\r\n\r\n",
                            b.len()
                        ));
                        let _ = sock.write_all(head.as_bytes()).await;
                        let _ = sock.write_all(&b).await;
                        let _ = sock.shutdown().await;
                    }
                    FakeBody::Lying { declared, send } => {
                        head.push_str(&format!("Content-Length: {declared}\r\n\r\n"));
                        let _ = sock.write_all(head.as_bytes()).await;
                        let _ = sock.write_all(&vec![b' '; send]).await;
                        // Hold the connection open (a server that never finishes).
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                    FakeBody::Endless => {
                        head.push_str("Connection: close\r\n\r\n");
                        let _ = sock.write_all(head.as_bytes()).await;
                        let block = vec![b' '; 64 * 1024];
                        for _ in 0..100_000 {
                            if sock.write_all(&block).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Fake { base, log }
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
