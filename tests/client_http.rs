//! The client against the in-repo test server over Streamable HTTP (and the legacy
//! HTTP+SSE fallback).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use mcp_client::{
    CancellationToken, Client, Error, ErrorKind, RequestOptions, RpcError, SyncHandler,
};
use mcp_test_server::{ReplyMode, ServerOptions};
use serde_json::{json, Value};

const VERSION: &str = "2025-11-25";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_probes_discover_then_initializes_with_session() {
    let server = default_server().await;
    let client = connect(&server).await;
    assert_eq!(client.protocol_version(), VERSION);
    assert_eq!(client.transport_name(), "streamable-http");
    let sid = client.session_id().expect("a session id");
    assert!(!sid.is_empty());
    assert_eq!(
        client.server_info()["serverInfo"]["name"],
        json!("mcp-test-server")
    );
    client.ping().await.expect("ping");

    let reqs = server.requests();
    let posts: Vec<_> = reqs.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts[0].rpc_method(), Some("server/discover"), "{reqs:#?}");
    assert!(posts[0].header("mcp-session-id").is_none());
    assert_eq!(posts[1].rpc_method(), Some("initialize"), "{reqs:#?}");
    let init = reqs
        .iter()
        .position(|r| r.rpc_method() == Some("initialize"))
        .expect("initialize recorded");
    assert!(
        reqs[init].header("mcp-session-id").is_none(),
        "initialize must not carry a session id: {:?}",
        reqs[init].headers
    );
    assert_eq!(
        reqs[init].body.as_ref().unwrap()["params"]["protocolVersion"],
        VERSION
    );
    let later = &reqs[init + 1..];
    assert!(later
        .iter()
        .any(|r| r.rpc_method() == Some("notifications/initialized")));
    assert!(later.iter().any(|r| r.rpc_method() == Some("ping")));
    for r in later {
        assert_eq!(r.header("mcp-session-id"), Some(sid.as_str()), "{r:?}");
        assert_eq!(r.header("mcp-protocol-version"), Some(VERSION), "{r:?}");
    }
    client.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tools_follows_next_cursor() {
    let server = default_server().await;
    let client = connect(&server).await;

    let first = client.list_tools_page(None).await.expect("page");
    assert_eq!(first["tools"].as_array().map(Vec::len), Some(3));
    assert!(first["nextCursor"].is_string());

    server.clear_requests();
    let tools = client.list_tools().await.expect("list_tools");
    let names: BTreeSet<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ALL_TOOLS.iter().copied().collect::<BTreeSet<_>>());
    assert_eq!(tools.len(), ALL_TOOLS.len());

    let pages: Vec<Value> = server
        .requests()
        .iter()
        .filter(|r| r.rpc_method() == Some("tools/list"))
        .map(|r| r.body.as_ref().unwrap()["params"]["cursor"].clone())
        .collect();
    assert!(pages.len() >= 2, "{pages:?}");
    assert_eq!(pages, vec![Value::Null, json!("3"), json!("6")]);
}

async fn basic_calls(client: &Client) {
    let r = client
        .call_tool("echo", json!({"text": "hello there"}))
        .await
        .expect("echo");
    assert_eq!(first_text(&r), "hello there");
    assert!(!is_error(&r));

    let r = client
        .call_tool("add", json!({"a": 2, "b": 40}))
        .await
        .expect("add");
    assert_eq!(r["structuredContent"]["sum"], json!(42));
    assert_eq!(first_text(&r), "42");

    let r = client
        .call_tool("fail", json!({"message": "boom"}))
        .await
        .expect("a tool error is an Ok result");
    assert!(is_error(&r), "{r}");
    assert_eq!(first_text(&r), "boom");

    // Bad arguments are a JSON-RPC error.
    let e = client
        .call_tool("echo", json!({}))
        .await
        .expect_err("missing argument");
    assert_eq!(
        e.rpc().map(|r| r.code),
        Some(RpcError::INVALID_PARAMS),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_tools_json_replies() {
    let server = default_server().await;
    let client = connect(&server).await;
    basic_calls(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_tools_sse_replies() {
    let server = server(ServerOptions {
        reply: ReplyMode::Sse,
        ..Default::default()
    })
    .await;
    let client = connect(&server).await;
    assert_eq!(client.protocol_version(), VERSION);
    assert!(client.session_id().is_some());
    basic_calls(&client).await;
    let tools = client.list_tools().await.expect("list_tools");
    assert_eq!(tools.len(), ALL_TOOLS.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_and_progress_notifications_reach_the_handler() {
    let server = default_server().await;
    let (client, mut rx) = connect_collecting(&server.url()).await;

    let r = client
        .call_tool("notify", json!({"text": "log-line-1"}))
        .await
        .expect("notify");
    assert_eq!(first_text(&r), "notified");
    let n = wait_for(&mut rx, Duration::from_secs(1), "notifications/message")
        .await
        .expect("notifications/message");
    assert_eq!(n.params["data"], json!("log-line-1"));
    assert_eq!(n.params["level"], json!("info"));

    let r = client
        .request_with(
            "tools/call",
            Some(json!({"name": "slow", "arguments": {"ms": 200},
                "_meta": {"progressToken": "p1"}})),
            RequestOptions::default(),
        )
        .await
        .expect("slow");
    assert_eq!(first_text(&r), "done");
    let mut progress = Vec::new();
    while let Some(n) = wait_for(
        &mut rx,
        Duration::from_millis(300),
        "notifications/progress",
    )
    .await
    {
        assert_eq!(n.params["progressToken"], json!("p1"));
        progress.push(n.params["progress"].as_u64().unwrap());
        if progress.last() == Some(&200) {
            break;
        }
    }
    assert!(progress.len() >= 2, "{progress:?}");
    assert_eq!(progress.last(), Some(&200), "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_stream_delivers_server_initiated_messages() {
    let server = default_server().await;
    let (client, mut rx) = connect_collecting(&server.url()).await;
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path == "/mcp"),
        "the standalone GET stream was not opened"
    );
    let r = client
        .call_tool("broadcast", json!({"text": "to-everyone"}))
        .await
        .expect("broadcast");
    assert_eq!(first_text(&r), "sent");
    let n = wait_for(&mut rx, Duration::from_secs(1), "notifications/message")
        .await
        .expect("broadcast message on the GET stream");
    assert_eq!(n.params["data"], json!("to-everyone"));
    wait_for(
        &mut rx,
        Duration::from_secs(1),
        "notifications/tools/list_changed",
    )
    .await
    .expect("tools/list_changed on the GET stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elicitation_is_answered_with_defaults_applied() {
    let server = default_server().await;
    let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel::<(String, Value)>();
    let client = builder(&server.url())
        .on_elicitation(SyncHandler(move |method: &str, params: Value| {
            let _ = tx.send((method.to_owned(), params));
            Ok(json!({"action": "accept", "content": {"name": "Grace"}}))
        }))
        .connect()
        .await
        .expect("connect");

    let r = client
        .call_tool("ask", json!({"message": "Who are you?"}))
        .await
        .expect("ask");
    assert!(!is_error(&r), "{r}");
    let answer: Value = serde_json::from_str(first_text(&r)).expect("JSON text");
    assert_eq!(answer["action"], json!("accept"));
    assert_eq!(
        answer["content"],
        json!({"name": "Grace", "age": 36, "subscribe": true})
    );

    let (method, params) = seen.try_recv().expect("the handler ran");
    assert_eq!(method, "elicitation/create");
    assert_eq!(params["message"], json!("Who are you?"));

    // The capability was declared at initialize.
    let init = server
        .requests()
        .into_iter()
        .find(|r| r.rpc_method() == Some("initialize"))
        .unwrap();
    assert_eq!(
        init.body.unwrap()["params"]["capabilities"]["elicitation"]["form"]["applyDefaults"],
        json!(true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elicitation_without_handler_is_refused() {
    let server = default_server().await;
    let client = connect(&server).await;
    let r = client
        .call_tool("ask", json!({"message": "anyone?"}))
        .await
        .expect("the tool still answers");
    assert!(is_error(&r), "{r}");
    assert!(
        first_text(&r).contains("no handler"),
        "unexpected message: {r}"
    );
    // The client's JSON-RPC error went back as a POST.
    let answered = server.requests().into_iter().any(|r| {
        r.body
            .as_ref()
            .and_then(|b| b.pointer("/error/code"))
            .and_then(Value::as_i64)
            == Some(RpcError::METHOD_NOT_FOUND)
    });
    assert!(answered, "no JSON-RPC error response was posted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_and_roots_are_answered() {
    let server = default_server().await;
    let client = builder(&server.url())
        .on_sampling(SyncHandler(|method: &str, params: Value| {
            assert_eq!(method, "sampling/createMessage");
            let prompt = params["messages"][0]["content"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            Ok(
                json!({"role": "assistant", "model": "test-model", "stopReason": "endTurn",
                "content": {"type": "text", "text": format!("sampled: {prompt}")}}),
            )
        }))
        .on_roots(SyncHandler(|_: &str, _: Value| {
            Ok(json!({"roots": [{"uri": "file:///tmp/project", "name": "project"}]}))
        }))
        .connect()
        .await
        .expect("connect");

    let r = client
        .call_tool("sample", json!({"prompt": "2+2?"}))
        .await
        .expect("sample");
    assert!(!is_error(&r), "{r}");
    let v: Value = serde_json::from_str(first_text(&r)).unwrap();
    assert_eq!(v["content"]["text"], json!("sampled: 2+2?"));
    assert_eq!(v["model"], json!("test-model"));

    let r = client
        .call_tool("list_roots", json!({}))
        .await
        .expect("list_roots");
    assert!(!is_error(&r), "{r}");
    let v: Value = serde_json::from_str(first_text(&r)).unwrap();
    assert_eq!(v["roots"][0]["uri"], json!("file:///tmp/project"));

    let init = server
        .requests()
        .into_iter()
        .find(|r| r.rpc_method() == Some("initialize"))
        .unwrap();
    let caps = &init.body.unwrap()["params"]["capabilities"];
    assert!(caps.get("sampling").is_some(), "{caps}");
    assert!(caps.get("roots").is_some(), "{caps}");
    assert!(caps.get("elicitation").is_none(), "{caps}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_prompts_completion_and_logging() {
    let server = default_server().await;
    let (client, mut rx) = connect_collecting(&server.url()).await;
    client.ping().await.expect("ping");

    let res = client.list_resources().await.expect("resources");
    let uris: Vec<&str> = res.iter().filter_map(|r| r["uri"].as_str()).collect();
    assert_eq!(uris, vec!["test://hello", "test://data.json"]);
    let templates = client.list_resource_templates().await.expect("templates");
    assert_eq!(templates[0]["uriTemplate"], json!("test://items/{id}"));

    let r = client.read_resource("test://hello").await.expect("read");
    assert_eq!(r["contents"][0]["text"], json!("Hello, world!"));
    let r = client.read_resource("test://items/42").await.expect("read");
    assert_eq!(r["contents"][0]["text"], json!("item 42"));

    client.subscribe("test://hello").await.expect("subscribe");
    let n = wait_for(
        &mut rx,
        Duration::from_secs(1),
        "notifications/resources/updated",
    )
    .await
    .expect("resources/updated");
    assert_eq!(n.params["uri"], json!("test://hello"));
    client
        .unsubscribe("test://hello")
        .await
        .expect("unsubscribe");

    let prompts = client.list_prompts().await.expect("prompts");
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0]["name"], json!("greet"));
    let p = client
        .get_prompt("greet", json!({"name": "Ada"}))
        .await
        .expect("get_prompt");
    assert_eq!(p["messages"][0]["content"]["text"], json!("Hello, Ada!"));

    let c = client
        .complete(
            json!({"type": "ref/prompt", "name": "greet"}),
            json!({"name": "name", "value": "a"}),
        )
        .await
        .expect("complete");
    assert_eq!(c["completion"]["values"], json!(["Ada", "Alan"]));

    // Raising the level silences the `notify` tool's info message.
    client.set_logging_level("error").await.expect("setLevel");
    while rx.try_recv().is_ok() {}
    let r = client
        .call_tool("notify", json!({"text": "quiet"}))
        .await
        .expect("notify");
    assert_eq!(first_text(&r), "notified");
    assert!(
        wait_for(&mut rx, Duration::from_millis(200), "notifications/message")
            .await
            .is_none(),
        "a log message arrived above the level"
    );
    let e = client
        .set_logging_level("loud")
        .await
        .expect_err("bad level");
    assert_eq!(e.rpc().map(|r| r.code), Some(RpcError::INVALID_PARAMS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_session_is_reinitialized_once() {
    let server = default_server().await;
    let client = connect(&server).await;
    let first = client.session_id().unwrap();
    client
        .call_tool("echo", json!({"text": "a"}))
        .await
        .expect("echo");

    server.expire_sessions();
    let r = client
        .call_tool("echo", json!({"text": "after loss"}))
        .await
        .expect("the call survives a lost session");
    assert_eq!(first_text(&r), "after loss");
    let second = client.session_id().expect("a new session");
    assert_ne!(first, second);

    let reqs = server.requests();
    let inits: Vec<_> = reqs
        .iter()
        .filter(|r| r.rpc_method() == Some("initialize"))
        .collect();
    assert_eq!(inits.len(), 2, "expected exactly one re-initialize");
    assert!(inits[1].header("mcp-session-id").is_none());
    let echoes: Vec<_> = reqs
        .iter()
        .filter(|r| r.rpc_method() == Some("tools/call"))
        .collect();
    // a, the rejected "after loss" with the old session, its retry with the new one.
    assert_eq!(echoes.len(), 3);
    assert_eq!(echoes[1].header("mcp-session-id"), Some(first.as_str()));
    assert_eq!(echoes[2].header("mcp-session-id"), Some(second.as_str()));
    // The new session gets its own standalone GET stream right away.
    assert!(
        reqs.iter().any(|r| r.method == "GET"
            && r.header("mcp-session-id") == Some(second.as_str())
            && r.header("last-event-id").is_none()),
        "no GET stream was opened for the new session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_sse_stream_is_resumed_with_last_event_id() {
    let server = server(ServerOptions {
        reply: ReplyMode::Sse,
        drop_sse_after_first_event: true,
        sse_retry_ms: Some(50),
        ..Default::default()
    })
    .await;
    let client = connect(&server).await;
    let started = Instant::now();
    let r = client
        .call_tool("echo", json!({"text": "resumed"}))
        .await
        .expect("echo over a resumed stream");
    assert_eq!(first_text(&r), "resumed");
    assert!(started.elapsed() < Duration::from_millis(900));
    let resumed = server
        .requests()
        .into_iter()
        .find(|r| r.method == "GET" && r.header("last-event-id").is_some())
        .expect("a GET with Last-Event-ID");
    assert_eq!(
        resumed.header("mcp-session-id"),
        client.session_id().as_deref()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_fails_fast_and_tells_the_server() {
    let server = default_server().await;
    let client = connect(&server).await;
    let started = Instant::now();
    let e = client
        .call_tool_with(
            "slow",
            json!({"ms": 5000}),
            RequestOptions::timeout(Duration::from_millis(300)),
        )
        .await
        .expect_err("must time out");
    let took = started.elapsed();
    match &e {
        Error::Timeout { method, after } => {
            assert_eq!(method, "tools/call");
            assert_eq!(*after, Duration::from_millis(300));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        took >= Duration::from_millis(280) && took < Duration::from_millis(900),
        "{took:?}"
    );

    let id = server
        .requests()
        .into_iter()
        .find(|r| r.rpc_method() == Some("tools/call"))
        .and_then(|r| r.body.map(|b| b["id"].clone()))
        .expect("the call was recorded");
    let deadline = Instant::now() + Duration::from_secs(1);
    while !server.cancelled().contains(&id) {
        assert!(
            Instant::now() < deadline,
            "no notifications/cancelled for {id}: {:?}",
            server.cancelled()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The client still works.
    client.ping().await.expect("ping after timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_token_cancels_a_request() {
    let server = default_server().await;
    let client = connect(&server).await;
    let token = CancellationToken::new();
    let t2 = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        t2.cancel();
    });
    let started = Instant::now();
    let e = client
        .call_tool_with(
            "slow",
            json!({"ms": 5000}),
            RequestOptions {
                cancel: Some(token),
                ..Default::default()
            },
        )
        .await
        .expect_err("must be cancelled");
    assert!(
        matches!(&e, Error::Cancelled { method } if method == "tools/call"),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(90) && took < Duration::from_millis(800),
        "{took:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(1);
    while server.cancelled().is_empty() {
        assert!(Instant::now() < deadline, "server was not told");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_on_one_client() {
    let server = default_server().await;
    let client = connect(&server).await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..50 {
        let c = client.clone();
        set.spawn(async move {
            let text = format!("msg-{i}");
            let r = c.call_tool("echo", json!({ "text": text })).await;
            (text, r)
        });
    }
    let mut n = 0;
    while let Some(done) = set.join_next().await {
        let (text, r) = done.expect("task");
        let r = r.unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(first_text(&r), text);
        n += 1;
    }
    assert_eq!(n, 50);
    let ids: BTreeSet<u64> = server
        .requests()
        .iter()
        .filter(|r| r.rpc_method() == Some("tools/call"))
        .filter_map(|r| r.body.as_ref()?["id"].as_u64())
        .collect();
    assert_eq!(ids.len(), 50, "request ids must be unique");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_deletes_the_session_and_later_calls_fail() {
    let server = default_server().await;
    let client = connect(&server).await;
    let sid = client.session_id().unwrap();
    client.close().await.expect("close");

    let delete = server
        .requests()
        .into_iter()
        .find(|r| r.method == "DELETE")
        .expect("a DELETE");
    assert_eq!(delete.path, "/mcp");
    assert_eq!(delete.header("mcp-session-id"), Some(sid.as_str()));

    let e = client
        .call_tool("echo", json!({"text": "x"}))
        .await
        .expect_err("closed");
    assert!(matches!(e, Error::Closed), "{e:?}");
    assert!(matches!(client.ping().await, Err(Error::Closed)));
    assert!(matches!(
        client.notify("notifications/x", None).await,
        Err(Error::Closed)
    ));
    client.close().await.expect("closing twice is fine");
    let deletes = server
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_and_extra_headers_are_sent_but_never_printed() {
    let server = default_server().await;
    let b = builder(&server.url())
        .bearer("tok-7f3a-secret")
        .header("X-Api-Key", "key-91c2-secret");
    let dbg = format!("{:?}", b.config());
    assert!(!dbg.contains("tok-7f3a-secret"), "{dbg}");
    assert!(!dbg.contains("key-91c2-secret"), "{dbg}");
    let dbg = format!("{b:?}");
    assert!(!dbg.contains("tok-7f3a-secret"), "{dbg}");

    let client = b.connect().await.expect("connect");
    client.ping().await.expect("ping");
    assert!(!format!("{client:?}").contains("tok-7f3a-secret"));

    let reqs = server.requests();
    assert!(reqs.len() >= 4);
    for r in &reqs {
        assert_eq!(
            r.header("authorization"),
            Some("Bearer tok-7f3a-secret"),
            "{} {:?}",
            r.method,
            r.rpc_method()
        );
        assert_eq!(r.header("x-api-key"), Some("key-91c2-secret"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_http_sse_fallback() {
    let server = default_server().await;
    let (client, mut rx) = connect_collecting(&server.legacy_url()).await;
    assert_eq!(client.transport_name(), "http+sse");
    assert!(!client.protocol_version().is_empty());
    assert!(client.session_id().is_none());

    let r = client
        .call_tool("echo", json!({"text": "old school"}))
        .await
        .expect("echo");
    assert_eq!(first_text(&r), "old school");
    let r = client
        .call_tool("add", json!({"a": 1, "b": 2}))
        .await
        .expect("add");
    assert_eq!(r["structuredContent"]["sum"], json!(3));
    assert_eq!(
        client.list_tools().await.expect("tools").len(),
        ALL_TOOLS.len()
    );

    client
        .call_tool("notify", json!({"text": "legacy-log"}))
        .await
        .expect("notify");
    let n = wait_for(&mut rx, Duration::from_secs(1), "notifications/message")
        .await
        .expect("log over HTTP+SSE");
    assert_eq!(n.params["data"], json!("legacy-log"));

    let reqs = server.requests();
    assert!(reqs.iter().any(|r| r.method == "GET" && r.path == "/sse"));
    assert!(reqs
        .iter()
        .any(|r| r.path == "/messages" && r.rpc_method() == Some("tools/call")));
    client.close().await.expect("close");
    assert!(matches!(client.ping().await, Err(Error::Closed)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_gives_connect_error() {
    let port = free_port();
    let started = Instant::now();
    let e = builder(&format!("http://127.0.0.1:{port}/mcp"))
        .connect()
        .await
        .expect_err("nothing listens there");
    assert!(matches!(&e, Error::Connect { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Transport);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_tool_raw_passes_json_text_both_ways() {
    let server = default_server().await;
    let client = connect(&server).await;
    let args = serde_json::value::RawValue::from_string(r#"{"text":"raw ✓"}"#.into()).unwrap();
    let out = client
        .call_tool_raw("echo", &args, Default::default())
        .await
        .expect("raw call");
    let v: Value = serde_json::from_str(out.get()).unwrap();
    assert_eq!(first_text(&v), "raw ✓");
    let not_object = serde_json::value::RawValue::from_string("[1]".into()).unwrap();
    assert!(matches!(
        client
            .call_tool_raw("echo", &not_object, Default::default())
            .await,
        Err(mcp_client::Error::InvalidArgument(_))
    ));
}
