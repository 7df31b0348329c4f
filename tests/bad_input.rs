//! Misbehaving servers: every fault must surface as a typed error, quickly, never a panic or
//! a hang.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mcp_client::{Client, Error, ErrorKind, RequestOptions, RpcError};
use mcp_test_server::TestServer;
use serde_json::{json, Value};

/// Connect to a faulty endpoint (the handshake itself is served normally there).
async fn faulty(server: &TestServer, mode: &str) -> Client {
    builder(&server.faulty_url(mode))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to faulty/{mode}: {e:?}"))
}

/// Call `echo` and return the error, checking it came back within `limit`.
async fn echo_error(client: &Client, limit: Duration) -> Error {
    let started = Instant::now();
    let e = client
        .call_tool("echo", json!({"text": "x"}))
        .await
        .expect_err("a faulty reply must be an error");
    assert!(
        started.elapsed() < limit,
        "took {:?}: {e:?}",
        started.elapsed()
    );
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_sse_is_malformed_message() {
    let server = default_server().await;
    let client = faulty(&server, "malformed-sse").await;
    let e = echo_error(&client, Duration::from_secs(1)).await;
    assert!(matches!(e, Error::MalformedMessage(_)), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Protocol);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_type_is_unexpected_content_type() {
    let server = default_server().await;
    let client = faulty(&server, "wrong-content-type").await;
    let e = echo_error(&client, Duration::from_secs(1)).await;
    match &e {
        Error::UnexpectedContentType { content_type, url } => {
            assert!(content_type.starts_with("text/html"), "{content_type}");
            assert!(url.contains("/faulty/wrong-content-type"), "{url}");
        }
        other => panic!("expected UnexpectedContentType, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_json_is_malformed_message() {
    let server = default_server().await;
    let client = faulty(&server, "not-json").await;
    let e = echo_error(&client, Duration::from_secs(1)).await;
    assert!(matches!(e, Error::MalformedMessage(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_is_body_too_large() {
    let server = default_server().await;
    let client = builder(&server.faulty_url("oversized"))
        .max_body_bytes(1 << 20)
        .connect()
        .await
        .expect("connect");
    let e = echo_error(&client, Duration::from_secs(1)).await;
    assert!(
        matches!(e, Error::BodyTooLarge { limit } if limit == 1 << 20),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_mid_stream_is_stream_closed() {
    let server = default_server().await;
    let (client, mut rx) = connect_collecting(&server.faulty_url("close-mid-stream")).await;
    let e = echo_error(&client, Duration::from_secs(1)).await;
    assert!(
        matches!(&e, Error::StreamClosed { method } if method == "tools/call"),
        "{e:?}"
    );
    // The event that did arrive before the break was still delivered.
    let n = wait_for(
        &mut rx,
        Duration::from_millis(500),
        "notifications/progress",
    )
    .await
    .expect("the progress event before the break");
    assert_eq!(n.params["progress"], json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_answering_is_timeout() {
    let server = default_server().await;
    // Pinned to a 2025 version: the handshake is `initialize` only (the `server/discover`
    // probe would itself hang on this endpoint).
    let client = builder(&server.faulty_url("never"))
        .protocol_version("2025-11-25")
        .request_timeout(Duration::from_millis(500))
        .connect()
        .await
        .expect("connect");
    let e = echo_error(&client, Duration::from_millis(1200)).await;
    assert!(
        matches!(&e, Error::Timeout { after, .. } if *after == Duration::from_millis(500)),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::Timeout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_answering_discover_fails_connect_with_timeout() {
    let server = default_server().await;
    let started = Instant::now();
    let e = builder(&server.faulty_url("never"))
        .request_timeout(Duration::from_millis(500))
        .connect()
        .await
        .expect_err("the probe never returns");
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_millis(1200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_is_bounded_and_cancelled_by_its_options() {
    let server = default_server().await;
    let config = builder(&server.faulty_url("never"))
        .request_timeout(Duration::from_secs(30))
        .build();
    // Its own timeout, far shorter than the requests'.
    let started = Instant::now();
    let e = Client::connect_with(
        config.clone(),
        &RequestOptions::timeout(Duration::from_millis(300)),
    )
    .await
    .expect_err("the server never answers");
    assert!(
        matches!(&e, Error::Timeout { method, .. } if method == "connect"),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // Its own token, fired from elsewhere.
    let token = mcp_client::CancellationToken::new();
    let fire = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        fire.cancel();
    });
    let opts = RequestOptions {
        cancel: Some(token),
        ..Default::default()
    };
    let started = Instant::now();
    let e = Client::connect_with(config, &opts)
        .await
        .expect_err("cancelled");
    assert!(
        matches!(&e, Error::Cancelled { method } if method == "connect"),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_id_is_unknown_response_id() {
    let server = default_server().await;
    let client = faulty(&server, "unknown-id").await;
    let e = echo_error(&client, Duration::from_secs(1)).await;
    assert!(
        matches!(&e, Error::UnknownResponseId { id } if id == "987654321"),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_500_is_http_status() {
    let server = default_server().await;
    let client = faulty(&server, "status-500").await;
    let e = echo_error(&client, Duration::from_secs(1)).await;
    match &e {
        Error::HttpStatus { status, body, .. } => {
            assert_eq!(*status, 500);
            assert!(body.contains("faulty/status-500"), "{body}");
        }
        other => panic!("expected HttpStatus, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_200_is_a_typed_error() {
    let server = default_server().await;
    let client = faulty(&server, "empty-200").await;
    let e = echo_error(&client, Duration::from_secs(1)).await;
    assert!(matches!(e, Error::MalformedMessage(_)), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Protocol);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_client_stays_usable_for_close() {
    let server = default_server().await;
    let client = faulty(&server, "not-json").await;
    let _ = echo_error(&client, Duration::from_secs(1)).await;
    client.close().await.expect("close after a protocol error");
    assert!(server
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.path == "/faulty/not-json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_rpc_errors_are_rpc_errors_with_code() {
    let server = default_server().await;
    let client = connect(&server).await;

    let e = client
        .read_resource("test://nope")
        .await
        .expect_err("unknown resource");
    let rpc = e.rpc().unwrap_or_else(|| panic!("expected Rpc, got {e:?}"));
    assert_eq!(rpc.code, -32002);
    assert!(rpc.message.contains("test://nope"));
    assert_eq!(rpc.data, Some(json!({"uri": "test://nope"})));
    assert_eq!(e.kind(), ErrorKind::Rpc);

    let e = client
        .request("no/such/method", None)
        .await
        .expect_err("unknown method");
    assert!(
        matches!(&e, Error::Rpc(r) if r.code == RpcError::METHOD_NOT_FOUND),
        "{e:?}"
    );

    let e = client
        .get_prompt("nope", json!({}))
        .await
        .expect_err("unknown prompt");
    assert_eq!(e.rpc().map(|r| r.code), Some(RpcError::INVALID_PARAMS));
    // The client still works.
    client.ping().await.expect("ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_refused_with_500_is_http_status() {
    let url = fake_http(|_, _| Canned {
        status: 500,
        content_type: "text/plain",
        body: "refused".into(),
    })
    .await;
    let started = Instant::now();
    let e = builder(&url).connect().await.expect_err("refused");
    assert!(
        matches!(&e, Error::HttpStatus { status: 500, body, .. } if body == "refused"),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_an_mcp_server_is_http_status_404() {
    // 404 everywhere: Streamable HTTP is refused, then the HTTP+SSE fallback fails too.
    let url = fake_http(|_, _| Canned {
        status: 404,
        content_type: "text/plain",
        body: "not here".into(),
    })
    .await;
    let e = builder(&url).connect().await.expect_err("nothing there");
    assert!(matches!(&e, Error::HttpStatus { status: 404, .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_json_rpc_error_is_rpc() {
    let url = fake_http(|_, body: Option<Value>| {
        let body = body.unwrap_or_default();
        let id = body.get("id").cloned().unwrap_or(Value::Null);
        Canned {
            status: 200,
            content_type: "application/json",
            body: json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32000, "message": "go away"}})
            .to_string(),
        }
    })
    .await;
    let e = builder(&url).connect().await.expect_err("refused");
    assert!(
        matches!(&e, Error::Rpc(r) if r.code == -32000 && r.message == "go away"),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_protocol_version_is_typed() {
    let url = fake_http(|_, body: Option<Value>| {
        let body = body.unwrap_or_default();
        let id = body.get("id").cloned().unwrap_or(Value::Null);
        let reply = if body["method"] == "initialize" {
            json!({"jsonrpc": "2.0", "id": id, "result": {"protocolVersion": "1999-01-01",
                "capabilities": {}, "serverInfo": {"name": "old", "version": "0"}}})
        } else {
            json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": "Method not found"}})
        };
        Canned {
            status: 200,
            content_type: "application/json",
            body: reply.to_string(),
        }
    })
    .await;
    let e = builder(&url)
        .connect()
        .await
        .expect_err("no common version");
    match &e {
        Error::UnsupportedProtocolVersion { offered, supported } => {
            assert_eq!(offered, "2025-11-25");
            assert_eq!(supported, "1999-01-01");
        }
        other => panic!("expected UnsupportedProtocolVersion, got {other:?}"),
    }
}
