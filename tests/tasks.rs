//! Tasks (protocol 2025-11-25) against the test server with tasks on: tools that need a task,
//! may take one or must not, a task that needs input, one that fails, one that expires,
//! cancellation and timeouts, and the explicit task API.

mod common;

use std::time::{Duration, Instant};

use common::{builder, first_text, is_error, server, wait_for};
use mcp_client::{
    CancellationToken, Error, ErrorKind, RequestOptions, SyncHandler, TaskStatus, TaskSupport,
};
use mcp_test_server::{ReplyMode, ServerOptions, TestServer};
use serde_json::{json, Value};

const RELATED: &str = "io.modelcontextprotocol/related-task";

async fn tasks_server() -> TestServer {
    server(ServerOptions {
        tasks: true,
        ..Default::default()
    })
    .await
}

/// The JSON-RPC bodies of the recorded requests of `method`.
fn sent(server: &TestServer, method: &str) -> Vec<Value> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.rpc_method() == Some(method))
        .filter_map(|r| r.body)
        .collect()
}

fn rpc_code(e: &Error) -> i64 {
    e.rpc()
        .map(|r| r.code)
        .unwrap_or_else(|| panic!("not an RPC error: {e:?}"))
}

/// Wait until the server has seen a request of `method`.
async fn until_sent(server: &TestServer, method: &str) -> Vec<Value> {
    for _ in 0..100 {
        let s = sent(server, method);
        if !s.is_empty() {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server never saw `{method}`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_tool_runs_as_a_task_and_status_reaches_the_hook() {
    let server = tasks_server().await;
    let (client, mut rx) = common::connect_collecting(&server.url()).await;
    assert!(client.supports_tool_tasks());
    let tools = client.tools().await.expect("tools");
    let support = |n: &str| tools.iter().find(|t| t.name == n).map(|t| t.task_support());
    assert_eq!(support("report"), Some(TaskSupport::Required));
    assert_eq!(support("convert"), Some(TaskSupport::Optional));
    assert_eq!(support("quick"), Some(TaskSupport::Forbidden));
    assert_eq!(support("echo"), Some(TaskSupport::Forbidden));
    assert_eq!(
        client.tool_task_support("report"),
        Some(TaskSupport::Required)
    );

    let started = Instant::now();
    let r = client
        .call_tool("report", json!({"ms": 300}))
        .await
        .expect("report");
    assert_eq!(first_text(&r), "report ready after 300 ms");
    assert!(r["_meta"][RELATED]["taskId"].is_string(), "{r}");
    assert!(started.elapsed() >= Duration::from_millis(300));

    let calls = sent(&server, "tools/call");
    assert_eq!(calls.len(), 1, "straight to a task");
    assert_eq!(calls[0]["params"]["task"], json!({}));
    // Polled at the server's pollInterval (50 ms) over 300 ms: a few polls, not a busy loop.
    let polls = sent(&server, "tasks/get").len();
    assert!((2..=10).contains(&polls), "{polls} polls");
    assert_eq!(sent(&server, "tasks/result").len(), 1);
    let task_id = r["_meta"][RELATED]["taskId"].as_str().unwrap();
    assert!(sent(&server, "tasks/get")
        .iter()
        .all(|g| g["params"]["taskId"] == task_id));

    let n = loop {
        let n = wait_for(
            &mut rx,
            Duration::from_secs(3),
            "notifications/tasks/status",
        )
        .await
        .expect("a status notification");
        if n.params["status"] == "completed" {
            break n;
        }
    };
    assert_eq!(n.params["taskId"], task_id);

    // The raw path takes the same road.
    let args = serde_json::value::RawValue::from_string(r#"{"ms":10}"#.into()).unwrap();
    let raw = client
        .call_tool_raw("report", &args, RequestOptions::default())
        .await
        .expect("raw");
    assert!(raw.get().contains("report ready after 10 ms"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlisted_required_tool_is_retried_as_a_task() {
    let server = tasks_server().await;
    let client = common::connect(&server).await;
    assert_eq!(client.tool_task_support("report"), None);
    let r = client
        .call_tool("report", json!({"ms": 20}))
        .await
        .expect("report");
    assert_eq!(first_text(&r), "report ready after 20 ms");
    let calls = sent(&server, "tools/call");
    assert_eq!(calls.len(), 2);
    assert!(calls[0]["params"].get("task").is_none(), "first plainly");
    assert!(calls[1]["params"].get("task").is_some(), "then as a task");
    assert_eq!(
        client.tool_task_support("report"),
        Some(TaskSupport::Required)
    );

    // Learnt: the next call is a task at once.
    client
        .call_tool("report", json!({"ms": 0}))
        .await
        .expect("again");
    let calls = sent(&server, "tools/call");
    assert_eq!(calls.len(), 3);
    assert!(calls[2]["params"].get("task").is_some());

    // A tool that merely does not exist is not retried as a task.
    let e = client.call_tool("nope", json!({})).await.unwrap_err();
    assert_eq!(rpc_code(&e), -32602);
    assert_eq!(sent(&server, "tools/call").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_tools_are_called_plainly_and_forbidden_ones_never_as_tasks() {
    let server = tasks_server().await;
    let client = common::connect(&server).await;
    client.list_tools().await.expect("list");
    let r = client
        .call_tool("convert", json!({"text": "hi"}))
        .await
        .expect("convert");
    assert_eq!(first_text(&r), "HI");
    let r = client.call_tool("quick", json!({})).await.expect("quick");
    assert_eq!(first_text(&r), "quick ok");
    assert!(sent(&server, "tools/call")
        .iter()
        .all(|c| c["params"].get("task").is_none()));
    assert!(sent(&server, "tasks/get").is_empty());

    let e = client
        .start_tool_task("quick", json!({}), None, RequestOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

    // An optional tool as a task, on request.
    let created = client
        .start_tool_task(
            "convert",
            json!({"text": "task"}),
            Some(Duration::from_secs(30)),
            RequestOptions::default(),
        )
        .await
        .expect("start");
    assert_eq!(created.task.ttl, Some(30_000));
    let last = sent(&server, "tools/call").pop().unwrap();
    assert_eq!(last["params"]["task"], json!({"ttl": 30000}));
    let r = client
        .wait_task(&created.task.task_id, RequestOptions::default())
        .await
        .expect("wait");
    assert_eq!(first_text(&r), "TASK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_required_task_asks_the_hosts_elicitation_handler() {
    for reply in [ReplyMode::Json, ReplyMode::Sse] {
        let server = server(ServerOptions {
            tasks: true,
            reply,
            ..Default::default()
        })
        .await;
        confirm_through_elicitation(&server).await;
    }
}

async fn confirm_through_elicitation(server: &TestServer) {
    let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let client = builder(&server.url())
        .on_elicitation(SyncHandler(move |_: &str, params: Value| {
            let _ = tx.send(params);
            Ok(json!({"action": "accept", "content": {"ok": true}}))
        }))
        .connect()
        .await
        .expect("connect");
    client.list_tools().await.expect("list");

    let r = client
        .call_tool("confirm", json!({"message": "Go ahead?"}))
        .await
        .expect("confirm");
    assert!(!is_error(&r), "{r}");
    // The server checks that the answer carried the task's related-task metadata.
    let text = first_text(&r);
    assert!(text.starts_with("confirmed: "), "{text}");
    let answer: Value = serde_json::from_str(&text["confirmed: ".len()..]).unwrap();
    assert_eq!(answer["content"]["ok"], json!(true));
    let task_id = r["_meta"][RELATED]["taskId"].as_str().unwrap();
    assert_eq!(answer["_meta"][RELATED]["taskId"], task_id);

    let params = seen.recv().await.expect("the handler was asked");
    assert_eq!(params["message"], "Go ahead?");
    assert_eq!(params["_meta"][RELATED]["taskId"], task_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_task_returns_what_the_call_would_have() {
    let server = tasks_server().await;
    let client = common::connect(&server).await;
    client.list_tools().await.expect("list");

    let r = client.call_tool("crash", json!({})).await.expect("crash");
    assert!(is_error(&r), "{r}");
    assert_eq!(first_text(&r), "the job failed");

    let e = client
        .call_tool("crash", json!({"rpc": true}))
        .await
        .unwrap_err();
    assert_eq!(rpc_code(&e), -32603);
    assert!(e.to_string().contains("the job crashed"), "{e}");

    let created = client
        .start_tool_task("crash", json!({}), None, RequestOptions::default())
        .await
        .expect("start");
    let mut task = created.task;
    for _ in 0..100 {
        if task.status.is_terminal() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        task = client.task_status(&task.task_id).await.expect("status");
    }
    assert_eq!(task.status, TaskStatus::Failed);
    assert!(task
        .status_message
        .as_deref()
        .unwrap_or_default()
        .contains("failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_task_is_gone() {
    let server = tasks_server().await;
    let client = common::connect(&server).await;
    let created = client
        .start_tool_task(
            "report",
            json!({"ms": 5000}),
            Some(Duration::from_millis(150)),
            RequestOptions::default(),
        )
        .await
        .expect("start");
    assert_eq!(created.task.ttl, Some(150));
    assert_eq!(created.task.status, TaskStatus::Working);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let e = client.task_status(&created.task.task_id).await.unwrap_err();
    assert_eq!(rpc_code(&e), -32602);
    assert!(e.to_string().contains("expired"), "{e}");
    let e = client
        .wait_task(&created.task.task_id, RequestOptions::default())
        .await
        .unwrap_err();
    assert_eq!(rpc_code(&e), -32602);
    let all = client.list_tasks().await.expect("list");
    assert!(all.iter().all(|t| t.task_id != created.task.task_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_or_timing_out_a_task_call_cancels_the_task() {
    let server = tasks_server().await;
    let client = common::connect(&server).await;
    client.list_tools().await.expect("list");

    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        t.cancel();
    });
    let opts = RequestOptions {
        cancel: Some(token),
        ..Default::default()
    };
    let started = Instant::now();
    let e = client
        .call_tool_with("report", json!({"ms": 10_000}), opts)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Cancelled { method } if method == "tools/call"),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let cancels = until_sent(&server, "tasks/cancel").await;
    let task_id = cancels[0]["params"]["taskId"].as_str().unwrap().to_owned();
    let mut status = None;
    for _ in 0..50 {
        let all = client.list_tasks().await.expect("list");
        status = all.iter().find(|t| t.task_id == task_id).map(|t| t.status);
        if status == Some(TaskStatus::Cancelled) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, Some(TaskStatus::Cancelled));

    // The timeout bounds the whole wait, polls included.
    server.clear_requests();
    let started = Instant::now();
    let e = client
        .call_tool_with(
            "report",
            json!({"ms": 10_000}),
            RequestOptions::timeout(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Timeout { method, after } if method == "tools/call" && *after == Duration::from_millis(300)),
        "{e:?}"
    );
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert!(!sent(&server, "tasks/get").is_empty());
    until_sent(&server, "tasks/cancel").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explicit_task_api() {
    let server = tasks_server().await;
    let client = common::connect(&server).await;

    let created = client
        .start_tool_task(
            "report",
            json!({"ms": 5000}),
            Some(Duration::from_secs(60)),
            RequestOptions::default(),
        )
        .await
        .expect("start");
    let id = created.task.task_id.clone();
    assert_eq!(created.task.status, TaskStatus::Working);
    assert_eq!(created.task.poll_interval, Some(50));
    assert_eq!(created.task.ttl, Some(60_000));
    assert!(created.task.created_at.ends_with('Z'));
    assert!(created
        .model_immediate_response()
        .unwrap_or_default()
        .contains(&id));

    let task = client.task_status(&id).await.expect("get");
    assert_eq!(task.status, TaskStatus::Working);

    // Four more tasks: tasks/list pages by three, and the client follows the cursor.
    let mut ids = vec![id.clone()];
    for ms in [0, 0, 0, 0] {
        let c = client
            .start_tool_task("report", json!({"ms": ms}), None, RequestOptions::default())
            .await
            .expect("start");
        ids.push(c.task.task_id);
    }
    let all = client.list_tasks().await.expect("list");
    assert_eq!(all.len(), 5);
    assert!(sent(&server, "tasks/list").len() >= 2);
    for i in &ids {
        assert!(all.iter().any(|t| &t.task_id == i));
    }

    // tasks/result waits for the end.
    let r = client.task_result(&ids[1]).await.expect("result");
    assert_eq!(first_text(&r), "report ready after 0 ms");
    assert_eq!(r["_meta"][RELATED]["taskId"], ids[1]);

    let cancelled = client.cancel_task(&id).await.expect("cancel");
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert!(cancelled.status_message.is_some());
    let e = client.cancel_task(&id).await.unwrap_err();
    assert_eq!(rpc_code(&e), -32602, "a terminal task cannot be cancelled");
    let e = client.cancel_task(&ids[1]).await.unwrap_err();
    assert_eq!(rpc_code(&e), -32602);
    let e = client.task_result(&id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Rpc);
    let e = client.task_status("no-such-task").await.unwrap_err();
    assert_eq!(rpc_code(&e), -32602);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_servers_tasks_capability_nothing_is_a_task() {
    let server = common::default_server().await;
    let client = common::connect(&server).await;
    assert!(!client.supports_tool_tasks());
    let e = client
        .start_tool_task("echo", json!({}), None, RequestOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let r = client
        .call_tool("echo", json!({"text": "x"}))
        .await
        .expect("echo");
    assert_eq!(first_text(&r), "x");
    assert!(sent(&server, "tools/call")
        .iter()
        .all(|c| c["params"].get("task").is_none()));
    // The client runs no tasks itself, so it declares no `tasks` capability.
    let init = sent(&server, "initialize").pop().unwrap();
    assert!(init["params"]["capabilities"].get("tasks").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_progress_token_follows_the_task_until_it_ends() {
    let server = tasks_server().await;
    let (client, mut rx) = common::connect_collecting(&server.url()).await;
    client.list_tools().await.expect("list");
    let opts = RequestOptions::default().with_progress_token("report-1");
    let r = client
        .call_tool_with("report", json!({"ms": 200}), opts)
        .await
        .expect("report");
    assert_eq!(first_text(&r), "report ready after 200 ms");
    let calls = sent(&server, "tools/call");
    assert_eq!(calls[0]["params"]["_meta"]["progressToken"], "report-1");
    assert!(calls[0]["params"]["task"].is_object(), "still a task");
    // Polls and the result request carry no token: it belongs to the original request.
    for m in ["tasks/get", "tasks/result"] {
        assert!(sent(&server, m)
            .iter()
            .all(|g| g["params"].pointer("/_meta/progressToken").is_none()));
    }
    let mut steps = Vec::new();
    while steps.len() < 4 {
        let n = wait_for(&mut rx, Duration::from_secs(3), "notifications/progress")
            .await
            .expect("progress for each step");
        assert_eq!(n.params["progressToken"], "report-1");
        assert_eq!(n.params["total"], 4);
        steps.push(n.params["progress"].as_u64().unwrap());
    }
    assert_eq!(steps, [1, 2, 3, 4]);

    // An integer token, on a plain (not task) call.
    let opts = RequestOptions::default().with_progress_token(7);
    client
        .call_tool_with("notify", json!({"text": "hi"}), opts)
        .await
        .expect("notify");
    let n = wait_for(&mut rx, Duration::from_secs(3), "notifications/progress")
        .await
        .expect("progress");
    assert_eq!(n.params["progressToken"], 7);
    let notify = sent(&server, "tools/call").pop().unwrap();
    assert_eq!(notify["params"]["_meta"]["progressToken"], 7);

    // `_meta` the caller set is kept beside the token; a `_meta` that is not an object is
    // refused before anything is sent.
    let opts = RequestOptions::default().with_progress_token("p");
    let params = json!({"name": "echo", "arguments": {"text": "x"}, "_meta": {"trace": "t1"}});
    client
        .request_with("tools/call", Some(params), opts.clone())
        .await
        .expect("echo");
    let echo = sent(&server, "tools/call").pop().unwrap();
    assert_eq!(
        echo["params"]["_meta"],
        json!({"trace": "t1", "progressToken": "p"})
    );
    let bad = json!({"name": "echo", "arguments": {}, "_meta": 3});
    let e = client
        .request_with("tools/call", Some(bad), opts)
        .await
        .expect_err("bad _meta");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_required_task_asks_the_hosts_sampling_handler() {
    let server = tasks_server().await;
    let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let client = builder(&server.url())
        .on_sampling(SyncHandler(move |_: &str, params: Value| {
            let _ = tx.send(params);
            Ok(json!({"role": "assistant", "model": "test-model",
                "content": {"type": "text", "text": "a short poem"}}))
        }))
        .connect()
        .await
        .expect("connect");
    client.list_tools().await.expect("list");
    let r = client
        .call_tool("draft", json!({"topic": "rivers"}))
        .await
        .expect("draft");
    assert_eq!(first_text(&r), "draft: a short poem");
    let task_id = r["_meta"][RELATED]["taskId"].as_str().unwrap();
    let params = seen.recv().await.expect("the sampling handler was asked");
    assert_eq!(
        params["messages"][0]["content"]["text"],
        "Write about rivers"
    );
    assert_eq!(params["_meta"][RELATED]["taskId"], task_id);
}
