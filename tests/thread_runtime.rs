//! Requests run on a calling thread's own runtime (`mcp_client::runtime::block_on_thread`, the
//! path of the blocking bindings) while the client lives on its home runtime: the calls work
//! from many threads at once, and whatever outlives a call (the notice of a cancelled request,
//! the GET stream of a new session) keeps running at home when the calling thread goes idle.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mcp_client::runtime::block_on_thread;
use mcp_client::{Client, Error, RequestOptions};
use serde_json::json;

/// Run `f` on a new plain thread (outside every runtime) and wait for it without blocking the
/// test's runtime.
async fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let t = std::thread::spawn(f);
    tokio::task::spawn_blocking(move || t.join().expect("the thread panicked"))
        .await
        .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_calls_from_many_threads_share_the_session() {
    let server = default_server().await;
    let client = connect(&server).await;
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let c = client.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let text = format!("{t}-{i}");
                    let r = block_on_thread(c.call_tool("echo", json!({ "text": text })))
                        .expect("this thread's runtime")
                        .expect("echo");
                    assert_eq!(first_text(&r), text);
                }
            })
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        for t in threads {
            t.join().expect("a calling thread panicked");
        }
    })
    .await
    .expect("join");
    let sid = client.session_id().expect("a session");
    let calls: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.rpc_method() == Some("tools/call"))
        .collect();
    assert_eq!(calls.len(), 200);
    assert!(calls
        .iter()
        .all(|r| r.header("mcp-session-id") == Some(sid.as_str())));
    // The client still works from its home runtime too.
    client.ping().await.expect("ping at home");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_call_timeout_tells_the_server_while_the_thread_is_idle() {
    let server = default_server().await;
    let client = connect(&server).await;
    let c = client.clone();
    let (outcome, cancelled) = on_thread(move || {
        let outcome = block_on_thread(c.call_tool_with(
            "slow",
            json!({"ms": 5000}),
            RequestOptions::timeout(Duration::from_millis(300)),
        ))
        .expect("this thread's runtime");
        // The thread now drives no runtime: the notice must go out from home.
        let deadline = Instant::now() + Duration::from_secs(2);
        while server.cancelled().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        (outcome, server.cancelled())
    })
    .await;
    assert!(
        matches!(outcome, Err(Error::Timeout { .. })),
        "expected a timeout, got {outcome:?}"
    );
    assert_eq!(
        cancelled.len(),
        1,
        "no notifications/cancelled reached the server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_call_after_a_lost_session_opens_the_new_get_stream_at_home() {
    let server = default_server().await;
    let (client, mut rx) = connect_collecting(&server.url()).await;
    let first = client.session_id().expect("a session");
    server.expire_sessions();
    let c: Client = client.clone();
    on_thread(move || {
        let r = block_on_thread(c.call_tool("echo", json!({"text": "after loss"})))
            .expect("this thread's runtime")
            .expect("the call survives a lost session");
        assert_eq!(first_text(&r), "after loss");
    })
    .await;
    assert_ne!(client.session_id().as_deref(), Some(first.as_str()));
    // The thread has returned; the new session's GET stream must still be read.
    client
        .call_tool("broadcast", json!({"text": "still-listening"}))
        .await
        .expect("broadcast");
    let n = wait_for(&mut rx, Duration::from_secs(2), "notifications/message")
        .await
        .expect("the broadcast on the new session's GET stream");
    assert_eq!(n.params["data"], json!("still-listening"));
}

/// A sign-in that runs on one calling thread's runtime leaves no pooled connection behind for
/// a later sign-in on another thread: that connection would belong to the first thread's
/// runtime, which nobody drives while the thread is idle, and the second sign-in would hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_on_two_threads_share_no_connection() {
    use common::oauth::{auth_server, cfg, connect_oauth};
    let server = auth_server(Default::default()).await;
    let client = connect_oauth(&server, cfg()).await.expect("connect");
    let engine = client.oauth().expect("engine").clone();
    // Thread A signs in again on its own runtime, then stays alive and idle.
    let (idle_tx, idle_rx) = std::sync::mpsc::channel::<()>();
    let (a_done_tx, a_done_rx) = std::sync::mpsc::channel();
    let (c, e) = (client.clone(), engine.clone());
    let a = std::thread::spawn(move || {
        e.forget_tokens();
        let r = block_on_thread(c.call_tool("echo", json!({"text": "a"}))).expect("runtime");
        let _ = a_done_tx.send(r.map(|_| ()));
        let _ = idle_rx.recv();
    });
    let first = tokio::task::spawn_blocking(move || a_done_rx.recv_timeout(Duration::from_secs(5)))
        .await
        .expect("join");
    first.expect("thread A's call").expect("thread A's sign-in");
    // Thread B signs in while A is idle.
    let (c, e) = (client.clone(), engine.clone());
    let second = on_thread(move || {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            e.forget_tokens();
            let _ = tx.send(block_on_thread(c.call_tool("echo", json!({"text": "b"}))));
        });
        rx.recv_timeout(Duration::from_secs(5))
    })
    .await;
    let _ = idle_tx.send(());
    a.join().expect("thread A");
    second
        .expect("thread B's sign-in did not hang")
        .expect("runtime")
        .expect("thread B's call");
    assert_eq!(server.auth_stats().authorize_requests, 3);
}
