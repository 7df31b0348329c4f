//! The program run by a script (no terminal): `inspect` (text and `--json`), `completions`,
//! `--no-input`, progress and task status as plain lines.

use std::process::Output;

use mcp_test_server::{ServerOptions, TestServer};
use serde_json::Value;

async fn server(tasks: bool) -> TestServer {
    mcp_test_server::start(ServerOptions {
        tasks,
        ..Default::default()
    })
    .await
    .expect("server")
}

async fn run(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-client"))
        .args(["--no-oauth", "--timeout", "30"])
        .args(args)
        .env_remove("MCP_BEARER_TOKEN")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run mcp-client")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_shows_everything_on_one_page() {
    let server = server(false).await;
    let out = run(&["inspect", &server.url()]).await;
    let page = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for expected in [
        "Server        mcp-test-server",
        "Protocol      2025-11-25 over streamable-http",
        "Capabilities  ",
        "tools (listChanged)",
        "Instructions\n  A test server for mcp-client.",
        "  slow  Sleeps `ms` milliseconds",
        "      ms: integer (required) [min 0]",
        "      text: string (required)  Text to echo",
        "Resources (2)\n  test://hello  hello  text/plain",
        "Resource templates (1)\n  test://items/{id}  item",
        "Prompts (1)\n  greet",
    ] {
        assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_json_is_one_document() {
    let server = server(false).await;
    let out = run(&["--json", "inspect", &server.url()]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["protocolVersion"], "2025-11-25");
    assert_eq!(doc["transport"], "streamable-http");
    assert_eq!(doc["serverInfo"]["name"], "mcp-test-server");
    assert!(doc["instructions"]
        .as_str()
        .unwrap()
        .contains("test server"));
    assert!(doc["capabilities"]["tools"].is_object());
    let tools = doc["tools"].as_array().unwrap();
    let slow = tools.iter().find(|t| t["name"] == "slow").expect("slow");
    assert_eq!(slow["inputSchema"]["required"][0], "ms");
    assert_eq!(doc["resources"].as_array().unwrap().len(), 2);
    assert_eq!(
        doc["resourceTemplates"][0]["uriTemplate"],
        "test://items/{id}"
    );
    assert_eq!(doc["prompts"][0]["name"], "greet");
    server.shutdown().await;
}

#[tokio::test]
async fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _mcp__client"),
        ("zsh", "#compdef mcp-client"),
        ("fish", "complete -c mcp-client"),
    ] {
        let out = run(&["completions", shell]).await;
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("inspect"), "{shell} completes subcommands");
        assert!(script.contains("no-input"), "{shell} completes options");
    }
    let out = run(&["completions", "tcsh"]).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_declines_without_asking() {
    let server = server(false).await;
    let out = run(&[
        "--no-input",
        "call",
        &server.url(),
        "ask",
        "--args",
        r#"{"message": "Who are you?"}"#,
    ])
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), r#"{"action":"decline"}"#);
    let err = text(&out.stderr);
    assert!(
        err.contains("--no-input") && err.contains("Who are you?"),
        "{err}"
    );
    assert!(!err.contains("[y/N]"), "nothing is asked: {err}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_can_come_from_a_pipe() {
    let server = server(false).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-client"))
        .args(["--no-oauth", "call", &server.url(), "ask", "--args"])
        .arg(r#"{"message": "Who?"}"#)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    // Yes; name; age: empty (the default, 36); subscribe: no.
    stdin.write_all(b"y\nLin\n\nn\n").await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON");
    assert_eq!(
        answer,
        serde_json::json!({"action": "accept", "content": {"age": 36, "name": "Lin", "subscribe": false}})
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_and_task_status_are_plain_lines_off_a_terminal() {
    let server = server(true).await;
    let out = run(&["call", &server.url(), "slow", "--args", r#"{"ms": 200}"#]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "done");
    let err = text(&out.stderr);
    assert!(err.contains("progress: 50/200 (25%)"), "{err}");
    assert!(err.contains("progress: 200/200 (100%)"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "no terminal escapes off a terminal: {err:?}"
    );

    // `report` must run as a task: its progress (sent for the token of the request that created
    // the task) and its status show as they change (which statuses arrive before the result
    // depends on timing; at least one does, since the server announces each change).
    let out = run(&["call", &server.url(), "report", "--args", r#"{"ms": 200}"#]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("report ready"));
    let err = text(&out.stderr);
    assert!(err.contains("progress: 1/4  step 1 of 4 (25%)"), "{err}");
    assert!(err.contains("progress: 4/4  step 4 of 4 (100%)"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("task ")
                && (l.ends_with(": working") || l.ends_with(": completed"))),
        "{err}"
    );
    server.shutdown().await;
}
