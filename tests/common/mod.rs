//! Helpers shared by the client integration tests.
#![allow(dead_code)]

pub mod oauth;
pub mod redis;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_client::{Client, ClientBuilder, Notification};
use mcp_test_server::{ServerOptions, TestServer};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// The nine tools of the test server.
pub const ALL_TOOLS: &[&str] = &[
    "echo",
    "add",
    "slow",
    "fail",
    "notify",
    "ask",
    "sample",
    "list_roots",
    "broadcast",
];

/// Start a test server with `opts`.
pub async fn server(opts: ServerOptions) -> TestServer {
    mcp_test_server::start(opts)
        .await
        .expect("start the test server")
}

/// Start a test server with every default (JSON replies, sessions on).
pub async fn default_server() -> TestServer {
    server(ServerOptions::default()).await
}

/// A builder for `url` with short timeouts suitable for tests.
pub fn builder(url: &str) -> ClientBuilder {
    ClientBuilder::http(url)
        .expect("valid url")
        .request_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(2))
}

/// Connect a plain client to `server`'s Streamable HTTP endpoint.
pub async fn connect(server: &TestServer) -> Client {
    builder(&server.url()).connect().await.expect("connect")
}

/// Connect a client to `url` whose notifications go to the returned channel ([`collector`]).
pub async fn connect_collecting(url: &str) -> (Client, mpsc::UnboundedReceiver<Notification>) {
    let (h, rx) = collector();
    let client = builder(url).on_notification(h).connect().await;
    let client = client.unwrap_or_else(|e| panic!("connect to {url}: {e:?}"));
    (client, rx)
}

/// A port on 127.0.0.1 that nothing listens on (bound once, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A notification handler that forwards every notification to a channel.
pub fn collector() -> (
    impl Fn(&Notification) + Send + Sync + 'static,
    mpsc::UnboundedReceiver<Notification>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = move |n: &Notification| {
        let _ = tx.send(n.clone());
    };
    (handler, rx)
}

/// Wait up to `within` for a notification of `method`; others are skipped.
pub async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<Notification>,
    within: Duration,
    method: &str,
) -> Option<Notification> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(n)) if n.method == method => return Some(n),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

/// The text of the first content item of a `CallToolResult`.
pub fn first_text(result: &Value) -> &str {
    result
        .pointer("/content/0/text")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no text content in {result}"))
}

/// Whether a `CallToolResult` is a tool error.
pub fn is_error(result: &Value) -> bool {
    result.get("isError").and_then(Value::as_bool) == Some(true)
}

// ------------------------------------------------------------------ a fake HTTP server

/// Reads one HTTP/1.1 request from `sock`: its head (through the blank line, as text) and its
/// `Content-Length` body. `buf` holds bytes already read; what follows the request stays in it
/// for the next call. `None` if the peer closes (or a read fails) first.
pub async fn read_request<R>(sock: &mut R, buf: &mut Vec<u8>) -> Option<(String, Vec<u8>)>
where
    R: AsyncRead + Unpin,
{
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        read_more(sock, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let end = head_end + content_length(&head);
    while buf.len() < end {
        read_more(sock, buf).await?;
    }
    let body = buf[head_end..end].to_vec();
    buf.drain(..end);
    Some((head, body))
}

/// Appends one read of `sock` to `buf`; `None` at the end of the stream or on an error.
async fn read_more<R: AsyncRead + Unpin>(sock: &mut R, buf: &mut Vec<u8>) -> Option<()> {
    buf.reserve(8192);
    matches!(sock.read_buf(buf).await, Ok(n) if n > 0).then_some(())
}

/// The `Content-Length` of an HTTP head (0 without one).
fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
}

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
                let Some((head, body)) = read_request(&mut sock, &mut Vec::new()).await else {
                    return;
                };
                let mut first = head.lines().next().unwrap_or("").split(' ');
                let method = first.next().unwrap_or("").to_owned();
                let target = first.next().unwrap_or("/");
                let req = FakeRequest {
                    method,
                    path: target.split('?').next().unwrap_or("/").to_owned(),
                    body,
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

/// One canned HTTP answer of [`fake_http`].
pub struct Canned {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// A [`fake_server`] that answers every request with `answer(method, json body)`. Returns its
/// `/mcp` URL.
pub async fn fake_http<F>(answer: F) -> String
where
    F: Fn(&str, Option<Value>) -> Canned + Send + Sync + 'static,
{
    let fake = fake_server(move |_, req| {
        let c = answer(&req.method, serde_json::from_slice(&req.body).ok());
        FakeReply {
            status: c.status,
            headers: vec![("Content-Type".into(), c.content_type.into())],
            body: FakeBody::Bytes(c.body.into_bytes()),
        }
    })
    .await;
    fake.mcp_url()
}
