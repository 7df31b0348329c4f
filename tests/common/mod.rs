//! Helpers shared by the client integration tests.
#![allow(dead_code)]

pub mod oauth;

use std::time::Duration;

use mcp_client::{Client, ClientBuilder, Notification};
use mcp_test_server::{ServerOptions, TestServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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

/// Wait up to `within` for a notification matching `pred`; others are skipped.
pub async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<Notification>,
    within: Duration,
    pred: impl Fn(&Notification) -> bool,
) -> Option<Notification> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(n)) if pred(&n) => return Some(n),
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

/// One canned HTTP answer of [`fake_http`].
pub struct Canned {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// A minimal HTTP/1.1 server on 127.0.0.1 that answers every request with `answer(method,
/// json body)`, one request per connection. Returns its `/mcp` URL.
pub async fn fake_http<F>(answer: F) -> String
where
    F: Fn(&str, Option<Value>) -> Canned + Send + Sync + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head.
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
                let method = head.split(' ').next().unwrap_or("").to_owned();
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
                let body = serde_json::from_slice::<Value>(&buf[head_end..head_end + len]).ok();
                let c = answer(&method, body);
                let resp = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    c.status,
                    c.content_type,
                    c.body.len(),
                    c.body
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/mcp")
}
