//! The client against the test server's binary over stdio.
//!
//! The binary belongs to another package (`mcp-test-server`), so Cargo does not set
//! `CARGO_BIN_EXE_mcp-test-server` here. The tests look for it next to this test's own
//! directory (`target/debug/mcp-test-server`, this binary being `target/debug/deps/…`), or at
//! `$MCP_TEST_SERVER_BIN`. `cargo test --workspace` builds it; otherwise run
//! `cargo build -p mcp-test-server` first.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use mcp_client::{ClientBuilder, Error, ErrorKind, StdioCommand, SyncHandler};
use serde_json::{json, Value};

fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MCP_TEST_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let bin = dir.join(format!("mcp-test-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p mcp-test-server` first (or `cargo test --workspace`), \
         or set MCP_TEST_SERVER_BIN",
        bin.display()
    );
    bin
}

/// A command for the test server in stdio mode, tagged so its process can be found.
fn command(tag: &str) -> StdioCommand {
    StdioCommand {
        program: server_binary().to_string_lossy().into_owned(),
        args: vec!["--stdio".into()],
        env: vec![("MCP_CLIENT_TEST_TAG".into(), tag.into())],
        cwd: None,
    }
}

/// The pids of live (non-zombie) processes whose environment holds our tag.
fn tagged_pids(tag: &str) -> Vec<u32> {
    let needle = format!("MCP_CLIENT_TEST_TAG={tag}");
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if !env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
            continue;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().next());
        if state != Some("Z") {
            out.push(pid);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_tools_elicitation_and_close() {
    let tag = format!("stdio-main-{}", std::process::id());
    let (h, mut rx) = collector();
    let client = ClientBuilder::stdio(command(&tag))
        .request_timeout(Duration::from_secs(5))
        .on_notification(h)
        .on_elicitation(SyncHandler(|method: &str, params: Value| {
            assert_eq!(method, "elicitation/create");
            assert_eq!(params["message"], json!("Name?"));
            Ok(json!({"action": "accept", "content": {"name": "Grace"}}))
        }))
        .connect()
        .await
        .expect("connect over stdio");
    assert_eq!(client.transport_name(), "stdio");
    assert_eq!(client.protocol_version(), "2025-11-25");
    assert!(client.session_id().is_none());
    assert_eq!(
        client.server_info()["serverInfo"]["name"],
        json!("mcp-test-server")
    );

    let tools = client.list_tools().await.expect("list_tools");
    let mut names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    names.sort_unstable();
    let mut want = ALL_TOOLS.to_vec();
    want.sort_unstable();
    assert_eq!(names, want);

    let r = client
        .call_tool("echo", json!({"text": "over a pipe"}))
        .await
        .expect("echo");
    assert_eq!(first_text(&r), "over a pipe");

    let r = client
        .call_tool("ask", json!({"message": "Name?"}))
        .await
        .expect("ask");
    assert!(!is_error(&r), "{r}");
    let answer: Value = serde_json::from_str(first_text(&r)).unwrap();
    assert_eq!(
        answer["content"],
        json!({"name": "Grace", "age": 36, "subscribe": true})
    );

    client
        .call_tool("notify", json!({"text": "stdio-log"}))
        .await
        .expect("notify");
    let n = wait_for(&mut rx, Duration::from_secs(1), "notifications/message")
        .await
        .expect("log notification over stdio");
    assert_eq!(n.params["data"], json!("stdio-log"));

    let pids = tagged_pids(&tag);
    assert_eq!(pids.len(), 1, "expected one server process, found {pids:?}");

    let started = Instant::now();
    client.close().await.expect("close");
    // Closing stdin is enough: no SIGTERM after the 2 s grace period.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(
        tagged_pids(&tag).is_empty(),
        "the server process {pids:?} is still running after close()"
    );
    let e = client.ping().await.expect_err("closed");
    assert!(matches!(e, Error::Closed), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_concurrent_calls_and_progress() {
    let tag = format!("stdio-conc-{}", std::process::id());
    let (h, mut rx) = collector();
    let client = ClientBuilder::stdio(command(&tag))
        .request_timeout(Duration::from_secs(5))
        .on_notification(h)
        .connect()
        .await
        .expect("connect");
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let c = client.clone();
        set.spawn(async move {
            let text = format!("s-{i}");
            (
                text.clone(),
                c.call_tool("echo", json!({ "text": text })).await,
            )
        });
    }
    while let Some(done) = set.join_next().await {
        let (text, r) = done.unwrap();
        assert_eq!(first_text(&r.expect("echo")), text);
    }
    let r = client
        .request(
            "tools/call",
            Some(json!({"name": "slow", "arguments": {"ms": 100},
                "_meta": {"progressToken": 7}})),
        )
        .await
        .expect("slow");
    assert_eq!(first_text(&r), "done");
    let n = wait_for(&mut rx, Duration::from_secs(1), "notifications/progress")
        .await
        .expect("progress over stdio");
    assert_eq!(n.params["progressToken"], json!(7));
    client.close().await.expect("close");
    assert!(tagged_pids(&tag).is_empty());
}

/// The SIGCHLD handler tokio reaps children with runs on the alternate signal stack: Go hosts
/// abort on the next SIGCHLD otherwise ("non-Go code set up signal handler without
/// SA_ONSTACK flag"; bindings/go's TestChildSignalsAfterStdioServers). Installed before the
/// first child, and still so after one is dropped running (tokio's orphan reaping registers
/// SIGCHLD then).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_children_leave_sigchld_on_the_alternate_stack() {
    let flags = || {
        // SAFETY: reads the current SIGCHLD action into a local struct.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            assert_eq!(
                libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut act),
                0
            );
            act.sa_flags
        }
    };
    let tag = format!("stdio-sigchld-{}", std::process::id());
    let client = ClientBuilder::stdio(command(&tag))
        .connect()
        .await
        .expect("connect over stdio");
    assert_ne!(flags() & libc::SA_ONSTACK, 0, "after the first spawn");
    client.ping().await.expect("ping");
    // Dropped without close: the child is killed, left to tokio's orphan queue.
    drop(client);
    for _ in 0..50 {
        if tagged_pids(&tag).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = std::process::Command::new("true").status();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_ne!(flags() & libc::SA_ONSTACK, 0, "after an orphan was reaped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_missing_program_is_a_process_error() {
    let e = ClientBuilder::stdio(StdioCommand {
        program: "/nonexistent/mcp-server-that-is-not-there".into(),
        args: vec![],
        env: vec![],
        cwd: None,
    })
    .connect()
    .await
    .expect_err("cannot start");
    assert!(matches!(&e, Error::Process(_)), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Transport);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_server_that_exits_gives_a_typed_error() {
    // `true` exits at once without reading stdin: the handshake must fail, not hang.
    let started = Instant::now();
    let e = ClientBuilder::stdio(StdioCommand::parse("true").unwrap())
        .request_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect_err("no server");
    assert!(
        matches!(&e, Error::Process(_) | Error::StreamClosed { .. }),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}
