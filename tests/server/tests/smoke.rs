//! End-to-end checks of the test server over plain HTTP/1.1 on a TcpStream.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{dechunk, header, send_request};
use mcp_test_server::{start, ReplyMode, ServerOptions, TestServer};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

const ACCEPT: (&str, &str) = ("accept", "application/json, text/event-stream");
const LIMIT: Duration = Duration::from_secs(10);

/// An HTTP response whose body is read as it arrives.
struct Conn {
    status: u16,
    headers: Vec<(String, String)>,
    stream: TcpStream,
    /// Raw body bytes read so far (still chunk-encoded if chunked).
    raw: Vec<u8>,
}

impl Conn {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding") == Some("chunked")
    }

    /// Reads until the raw body contains `needle`.
    async fn wait_for(&mut self, needle: &str) -> String {
        let found = timeout(LIMIT, async {
            let mut buf = [0u8; 8192];
            while !String::from_utf8_lossy(&self.raw).contains(needle) {
                let n = self.stream.read(&mut buf).await.expect("read");
                assert!(n > 0, "connection closed before {needle:?}");
                self.raw.extend_from_slice(&buf[..n]);
            }
        })
        .await;
        assert!(found.is_ok(), "timed out waiting for {needle:?}");
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// Reads the rest of the body (the server closes: we send Connection: close).
    async fn body(mut self) -> String {
        timeout(LIMIT, self.stream.read_to_end(&mut self.raw))
            .await
            .expect("timed out reading body")
            .expect("read body");
        let body = if self.chunked() {
            dechunk(&self.raw)
        } else {
            self.raw.clone()
        };
        String::from_utf8(body).expect("utf-8 body")
    }

    async fn json(self) -> Value {
        let body = self.body().await;
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
    }
}

async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Conn {
    let body = body.map(|b| ("application/json", b.to_string()));
    let stream = send_request(addr, method, path, headers, body).await;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await.expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await.expect("header line");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(':').expect("header");
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let raw = reader.buffer().to_vec();
    Conn {
        status,
        headers,
        stream: reader.into_inner(),
        raw,
    }
}

async fn post(server: &TestServer, session: Option<&str>, path: &str, body: &Value) -> Conn {
    let mut headers = vec![ACCEPT, ("mcp-protocol-version", "2025-11-25")];
    if let Some(s) = session {
        headers.push(("mcp-session-id", s));
    }
    http(server.addr(), "POST", path, &headers, Some(body)).await
}

fn rpc(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// Initializes at `/mcp` and returns the session id.
async fn initialize(server: &TestServer) -> Option<String> {
    let init = rpc(
        0,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}},
               "clientInfo": {"name": "smoke", "version": "0"}}),
    );
    let conn = post(server, None, "/mcp", &init).await;
    assert_eq!(conn.status, 200);
    let sid = conn.header("mcp-session-id").map(str::to_owned);
    let _ = conn.body().await;
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let conn = post(server, sid.as_deref(), "/mcp", &done).await;
    assert_eq!(conn.status, 202);
    assert_eq!(conn.body().await, "");
    sid
}

/// One parsed SSE event: (id, event, data, retry).
type Event = (Option<String>, Option<String>, String, Option<String>);

/// Parses the SSE events of a body.
fn events(body: &str) -> Vec<Event> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let (mut id, mut event, mut data, mut retry) = (None, None, String::new(), None);
            for line in block.lines() {
                let (field, value) = line.split_once(": ").unwrap_or((line, ""));
                match field {
                    "id" => id = Some(value.to_owned()),
                    "event" => event = Some(value.to_owned()),
                    "data" => data.push_str(value),
                    "retry" => retry = Some(value.to_owned()),
                    _ => {}
                }
            }
            (id, event, data, retry)
        })
        .collect()
}

#[tokio::test]
async fn initialize_mints_a_session_and_requires_it() {
    let server = start(ServerOptions::default()).await.expect("start");
    let init = rpc(
        1,
        "initialize",
        json!({"protocolVersion": "2025-03-26", "capabilities": {},
               "clientInfo": {"name": "smoke", "version": "0"}}),
    );
    let conn = post(&server, None, "/mcp", &init).await;
    assert_eq!(conn.status, 200);
    assert_eq!(conn.header("content-type"), Some("application/json"));
    let sid = conn
        .header("mcp-session-id")
        .expect("session id")
        .to_owned();
    let reply = conn.json().await;
    assert_eq!(reply["result"]["protocolVersion"], "2025-03-26");
    assert_eq!(reply["result"]["serverInfo"]["name"], "mcp-test-server");
    assert_eq!(
        reply["result"]["capabilities"]["resources"]["subscribe"],
        true
    );

    let ping = rpc(2, "ping", json!({}));
    assert_eq!(post(&server, None, "/mcp", &ping).await.status, 400);
    assert_eq!(post(&server, Some("nope"), "/mcp", &ping).await.status, 404);
    let ok = post(&server, Some(&sid), "/mcp", &ping).await.json().await;
    assert_eq!(ok, json!({"jsonrpc": "2.0", "id": 2, "result": {}}));

    // Unknown method, bad version header, bad Accept.
    let r = post(&server, Some(&sid), "/mcp", &rpc(3, "nope/nope", json!({})))
        .await
        .json()
        .await;
    assert_eq!(r["error"]["code"], -32601);
    let headers = [
        ACCEPT,
        ("mcp-session-id", &sid),
        ("mcp-protocol-version", "1999-01-01"),
    ];
    let conn = http(server.addr(), "POST", "/mcp", &headers, Some(&ping)).await;
    assert_eq!(conn.status, 400);
    let headers = [("accept", "application/json"), ("mcp-session-id", &sid)];
    let conn = http(server.addr(), "POST", "/mcp", &headers, Some(&ping)).await;
    assert_eq!(conn.status, 406);

    let recorded = server.requests();
    assert_eq!(recorded[0].rpc_method(), Some("initialize"));
    assert_eq!(recorded[0].path, "/mcp");
    server.shutdown().await;
}

#[tokio::test]
async fn tools_list_is_paginated() {
    let server = start(ServerOptions::default()).await.expect("start");
    let sid = initialize(&server).await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => json!({}),
        };
        let page = post(
            &server,
            sid.as_deref(),
            "/mcp",
            &rpc(1, "tools/list", params),
        )
        .await
        .json()
        .await;
        pages += 1;
        for tool in page["result"]["tools"].as_array().expect("tools") {
            assert_eq!(tool["inputSchema"]["type"], "object");
            names.push(tool["name"].as_str().expect("name").to_owned());
        }
        match page["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(pages >= 2);
    for name in [
        "echo",
        "add",
        "slow",
        "fail",
        "notify",
        "ask",
        "sample",
        "list_roots",
        "broadcast",
    ] {
        assert!(names.iter().any(|n| n == name), "missing {name}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn json_tool_calls() {
    let server = start(ServerOptions::default()).await.expect("start");
    let sid = initialize(&server).await;
    let call = rpc(
        7,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "hi"}}),
    );
    let conn = post(&server, sid.as_deref(), "/mcp", &call).await;
    assert_eq!(conn.status, 200);
    assert_eq!(conn.header("content-type"), Some("application/json"));
    let reply = conn.json().await;
    assert_eq!(
        reply,
        json!({"jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "text", "text": "hi"}]}})
    );

    let call = rpc(
        8,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
    );
    let reply = post(&server, sid.as_deref(), "/mcp", &call)
        .await
        .json()
        .await;
    assert_eq!(reply["result"]["content"][0]["text"], "5");
    assert_eq!(reply["result"]["structuredContent"]["sum"], 5);

    let call = rpc(9, "tools/call", json!({"name": "echo", "arguments": {}}));
    let reply = post(&server, sid.as_deref(), "/mcp", &call)
        .await
        .json()
        .await;
    assert_eq!(reply["error"]["code"], -32602);

    let read = rpc(10, "resources/read", json!({"uri": "test://items/42"}));
    let reply = post(&server, sid.as_deref(), "/mcp", &read)
        .await
        .json()
        .await;
    assert_eq!(reply["result"]["contents"][0]["text"], "item 42");
    let read = rpc(11, "resources/read", json!({"uri": "test://missing"}));
    let reply = post(&server, sid.as_deref(), "/mcp", &read)
        .await
        .json()
        .await;
    assert_eq!(reply["error"]["code"], -32002);
    server.shutdown().await;
}

#[tokio::test]
async fn sse_mode_frames_events_with_ids() {
    let opts = ServerOptions {
        reply: ReplyMode::Sse,
        sse_retry_ms: Some(1500),
        ..Default::default()
    };
    let server = start(opts).await.expect("start");
    let sid = initialize(&server).await;
    let call = rpc(
        3,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "sse"}}),
    );
    let conn = post(&server, sid.as_deref(), "/mcp", &call).await;
    assert_eq!(conn.status, 200);
    assert_eq!(conn.header("content-type"), Some("text/event-stream"));
    let body = conn.body().await;
    assert!(body.starts_with("retry: 1500\n"), "{body:?}");
    let evs = events(&body);
    assert_eq!(evs.len(), 1, "{body:?}");
    let (id, _, data, retry) = &evs[0];
    assert_eq!(retry.as_deref(), Some("1500"));
    let id = id.as_deref().expect("event id");
    assert!(id.ends_with("-1"), "{id}");
    let reply: Value = serde_json::from_str(data).expect("json data");
    assert_eq!(reply["result"]["content"][0]["text"], "sse");

    // Progress notifications precede the response, each with a distinct id.
    let call = rpc(
        4,
        "tools/call",
        json!({"name": "slow", "arguments": {"ms": 120}, "_meta": {"progressToken": "p"}}),
    );
    let body = post(&server, sid.as_deref(), "/mcp", &call)
        .await
        .body()
        .await;
    let evs = events(&body);
    assert!(evs.len() >= 3, "{body:?}");
    let ids: std::collections::HashSet<_> = evs.iter().filter_map(|e| e.0.clone()).collect();
    assert_eq!(ids.len(), evs.len());
    assert!(evs[0].2.contains("notifications/progress"));
    assert!(evs.last().expect("last").2.contains("\"done\""));
    server.shutdown().await;
}

#[tokio::test]
async fn get_resumes_a_dropped_stream() {
    let opts = ServerOptions {
        reply: ReplyMode::Sse,
        sse_retry_ms: Some(10),
        drop_sse_after_first_event: true,
        ..Default::default()
    };
    let server = start(opts).await.expect("start");
    let sid = initialize(&server).await.expect("session");
    let call = rpc(
        5,
        "tools/call",
        json!({"name": "slow", "arguments": {"ms": 100}, "_meta": {"progressToken": 9}}),
    );
    let body = post(&server, Some(&sid), "/mcp", &call).await.body().await;
    let evs = events(&body);
    assert_eq!(evs.len(), 1, "{body:?}");
    assert_eq!(evs[0].3.as_deref(), Some("10"));
    assert_eq!(evs[0].2, "", "a priming event");
    let last = evs[0].0.clone().expect("id");

    let headers = [
        ("accept", "text/event-stream"),
        ("mcp-session-id", &sid),
        ("last-event-id", &last),
    ];
    let conn = http(server.addr(), "GET", "/mcp", &headers, None).await;
    assert_eq!(conn.status, 200);
    let body = conn.body().await;
    let evs = events(&body);
    assert!(
        evs.iter().all(|e| e.0.as_deref() != Some(&last)),
        "{body:?}"
    );
    assert!(evs.iter().any(|e| e.2.contains("notifications/progress")));
    let reply: Value = serde_json::from_str(&evs.last().expect("response").2).expect("json");
    assert_eq!(reply["id"], 5);
    assert_eq!(reply["result"]["content"][0]["text"], "done");

    // Resuming after an event in the middle replays only what followed it.
    let middle = evs[0].0.clone().expect("id");
    let headers = [
        ("accept", "text/event-stream"),
        ("mcp-session-id", &sid),
        ("last-event-id", &middle),
    ];
    let body = http(server.addr(), "GET", "/mcp", &headers, None)
        .await
        .body()
        .await;
    assert_eq!(events(&body).len(), evs.len() - 1);
    server.shutdown().await;
}

#[tokio::test]
async fn standalone_stream_and_elicitation_round_trip() {
    let server = start(ServerOptions::default()).await.expect("start");
    let sid = initialize(&server).await.expect("session");
    let headers = [
        ("accept", "text/event-stream"),
        ("mcp-session-id", sid.as_str()),
    ];
    let mut standalone = http(server.addr(), "GET", "/mcp", &headers, None).await;
    assert_eq!(standalone.status, 200);

    let call = rpc(
        6,
        "tools/call",
        json!({"name": "broadcast", "arguments": {"text": "all"}}),
    );
    let reply = post(&server, Some(&sid), "/mcp", &call).await.json().await;
    assert_eq!(reply["result"]["content"][0]["text"], "sent");
    standalone
        .wait_for("notifications/tools/list_changed")
        .await;

    let call = rpc(
        7,
        "tools/call",
        json!({"name": "ask", "arguments": {"message": "Who?"}}),
    );
    let mut stream = post(&server, Some(&sid), "/mcp", &call).await;
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    let seen = stream.wait_for("elicitation/create").await;
    assert!(seen.contains("\"requestedSchema\""));
    let answer = json!({"jsonrpc": "2.0", "id": 1,
        "result": {"action": "accept", "content": {"name": "Ada", "age": 36, "subscribe": true}}});
    assert_eq!(post(&server, Some(&sid), "/mcp", &answer).await.status, 202);
    let body = stream.body().await;
    let reply: Value = serde_json::from_str(&events(&body).last().expect("reply").2).expect("json");
    assert_eq!(reply["id"], 7);
    let text = reply["result"]["content"][0]["text"]
        .as_str()
        .expect("text");
    assert_eq!(
        serde_json::from_str::<Value>(text).expect("json")["action"],
        "accept"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn cancelled_slow_call_ends_without_response() {
    let server = start(ServerOptions::default()).await.expect("start");
    let sid = initialize(&server).await.expect("session");
    let call = rpc(
        42,
        "tools/call",
        json!({"name": "slow", "arguments": {"ms": 10000}, "_meta": {"progressToken": "t"}}),
    );
    let mut stream = post(&server, Some(&sid), "/mcp", &call).await;
    stream.wait_for("notifications/progress").await;
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": 42, "reason": "test"}});
    assert_eq!(post(&server, Some(&sid), "/mcp", &cancel).await.status, 202);
    let body = stream.body().await;
    assert!(!body.contains("\"result\""), "{body:?}");
    assert_eq!(server.cancelled(), vec![json!(42)]);
    server.shutdown().await;
}

#[tokio::test]
async fn delete_ends_the_session() {
    let server = start(ServerOptions::default()).await.expect("start");
    let sid = initialize(&server).await.expect("session");
    let headers = [("mcp-session-id", sid.as_str())];
    let conn = http(server.addr(), "DELETE", "/mcp", &headers, None).await;
    assert_eq!(conn.status, 200);
    let ping = rpc(1, "ping", json!({}));
    assert_eq!(post(&server, Some(&sid), "/mcp", &ping).await.status, 404);

    let sid = initialize(&server).await.expect("session");
    server.expire_sessions();
    assert_eq!(post(&server, Some(&sid), "/mcp", &ping).await.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn legacy_endpoint_event_and_replies() {
    let server = start(ServerOptions::default()).await.expect("start");
    let mut sse = http(
        server.addr(),
        "GET",
        "/sse",
        &[("accept", "text/event-stream")],
        None,
    )
    .await;
    assert_eq!(sse.status, 200);
    assert_eq!(sse.header("content-type"), Some("text/event-stream"));
    let seen = sse.wait_for("sessionId=").await;
    let endpoint = seen
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("endpoint data")
        .to_owned();
    assert!(seen.contains("event: endpoint"));
    assert!(endpoint.starts_with("/messages?sessionId="), "{endpoint}");
    // The id is hex: wait until the whole line has arrived.
    let seen = sse.wait_for(&format!("{endpoint}\n\n")).await;
    assert!(seen.contains(&endpoint));

    let init = rpc(
        1,
        "initialize",
        json!({"protocolVersion": "2024-11-05", "capabilities": {},
               "clientInfo": {"name": "legacy", "version": "0"}}),
    );
    let conn = http(server.addr(), "POST", &endpoint, &[], Some(&init)).await;
    assert_eq!(conn.status, 202);
    let seen = sse.wait_for("\"protocolVersion\":\"2024-11-05\"").await;
    assert!(seen.contains("event: message"));

    let conn = http(server.addr(), "POST", "/sse", &[ACCEPT], Some(&init)).await;
    assert_eq!(conn.status, 405);
    server.shutdown().await;
}

#[tokio::test]
async fn faulty_modes_misbehave_after_initialize() {
    let server = start(ServerOptions::default()).await.expect("start");
    let init = rpc(
        1,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "f", "version": "0"}}),
    );
    let ping = rpc(2, "ping", json!({}));
    for (mode, status, content_type) in [
        ("not-json", 200, Some("application/json")),
        ("status-500", 500, Some("text/plain")),
        ("wrong-content-type", 200, Some("text/html")),
        ("unknown-id", 200, Some("application/json")),
    ] {
        let path = format!("/faulty/{mode}");
        let conn = post(&server, None, &path, &init).await;
        assert_eq!(conn.status, 200, "{mode}");
        assert!(conn.header("mcp-session-id").is_some());
        let sid = conn.header("mcp-session-id").map(str::to_owned);
        assert_eq!(
            conn.json().await["result"]["serverInfo"]["name"],
            "mcp-test-server"
        );
        let conn = post(&server, sid.as_deref(), &path, &ping).await;
        assert_eq!(conn.status, status, "{mode}");
        assert_eq!(conn.header("content-type"), content_type, "{mode}");
        let body = conn.body().await;
        if mode == "unknown-id" {
            let v: Value = serde_json::from_str(&body).expect("json");
            assert_eq!(v["id"], 987_654_321);
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn stdio_round_trip() {
    let (client, server_io) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_io);
    let task = tokio::spawn(mcp_test_server::serve_stdio(server_read, server_write));
    let (read, mut write) = tokio::io::split(client);
    let mut lines = BufReader::new(read).lines();
    let init = rpc(
        1,
        "initialize",
        json!({"protocolVersion": "2024-11-05", "capabilities": {},
               "clientInfo": {"name": "stdio", "version": "0"}}),
    );
    let call = rpc(
        2,
        "tools/call",
        json!({"name": "list_roots", "arguments": {}}),
    );
    write
        .write_all(format!("{init}\n{call}\n").as_bytes())
        .await
        .expect("write");
    let first: Value =
        serde_json::from_str(&lines.next_line().await.expect("line").expect("eof")).expect("json");
    assert_eq!(first["result"]["protocolVersion"], "2024-11-05");
    let request: Value =
        serde_json::from_str(&lines.next_line().await.expect("line").expect("eof")).expect("json");
    assert_eq!(request["method"], "roots/list");
    let answer = json!({"jsonrpc": "2.0", "id": request["id"],
                        "result": {"roots": [{"uri": "file:///tmp", "name": "tmp"}]}});
    write
        .write_all(format!("{answer}\n").as_bytes())
        .await
        .expect("write");
    let reply: Value =
        serde_json::from_str(&lines.next_line().await.expect("line").expect("eof")).expect("json");
    assert_eq!(reply["id"], 2);
    assert!(reply["result"]["content"][0]["text"]
        .as_str()
        .expect("text")
        .contains("file:///tmp"));
    // EOF for the server needs both halves of the client end gone.
    drop(write);
    drop(lines);
    timeout(LIMIT, task)
        .await
        .expect("exits on EOF")
        .expect("join")
        .expect("clean exit");
}
