//! The program in a pseudo-terminal, driven the way a person would: a progress bar while a
//! slow tool runs, a form filled in at the keyboard (and what the server received), Ctrl-C
//! cancelling a call or a form.

#![cfg(unix)]

use std::process::Command;

use mcp_test_server::{ServerOptions, TestServer};
use rexpect::process::wait::WaitStatus;
use rexpect::session::{spawn_command, PtySession};

/// A runtime hosting the test server (the pty session is driven from the test's thread).
fn server() -> (tokio::runtime::Runtime, TestServer) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt
        .block_on(mcp_test_server::start(ServerOptions::default()))
        .expect("server");
    (rt, server)
}

/// `mcp-client ARGS` in a pseudo-terminal.
fn spawn(args: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-client"));
    cmd.args(["--no-oauth", "--timeout", "30"])
        .args(args)
        .env("TERM", "xterm")
        .env_remove("MCP_BEARER_TOKEN")
        .env("MCP_LOG", "warn");
    spawn_command(cmd, Some(20_000)).expect("spawn in a pty")
}

fn exit_code(p: &PtySession) -> Option<i32> {
    match p.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => Some(code),
        _ => None,
    }
}

#[test]
fn a_slow_call_shows_a_progress_bar() {
    let (rt, server) = server();
    let url = server.url();
    let mut p = spawn(&["call", &url, "slow", "--args", r#"{"ms": 1500}"#]);
    // The bar: the tool's name, the bar itself, a percentage and the counts.
    p.exp_regex(r"slow \[[= >]+\]\s+\d+%\s+\d+/1500")
        .expect("a progress bar on the terminal");
    p.exp_string("done").expect("the result");
    p.exp_eof().expect("exit");
    assert_eq!(exit_code(&p), Some(0));
    rt.block_on(server.shutdown());
}

#[test]
fn a_form_is_filled_in_at_the_keyboard() {
    let (rt, server) = server();
    let url = server.url();
    let mut p = spawn(&[
        "call",
        &url,
        "ask",
        "--args",
        r#"{"message": "Who are you?"}"#,
    ]);
    p.exp_string("The server asks: Who are you?")
        .expect("the message");
    p.exp_string("[y/N]").expect("the first question");
    p.send_line("y").unwrap();
    // Fields come in the server's order: name, age, subscribe.
    p.exp_string("Name (name) [text, pattern ^[A-Za-z ]+$, default Ada]")
        .expect("name with its pattern and default");
    p.send_line("Gr4ce").unwrap();
    p.exp_string("`Gr4ce` does not match the pattern ^[A-Za-z ]+$.")
        .expect("the pattern is checked");
    p.send_line("Grace").unwrap();
    p.exp_string("Age (age) [integer, default 36]")
        .expect("age with its type and default");
    p.send_line("forty").unwrap();
    p.exp_string("`forty` is not an integer.")
        .expect("a bad answer is refused");
    p.send_line("41").unwrap();
    p.exp_string("Subscribe (subscribe) [y/n, default y]")
        .expect("subscribe");
    p.send_line("n").unwrap();
    // The `ask` tool returns what it received.
    p.exp_regex(r#"\{"action":"accept","content":\{"name":"Grace","age":41,"subscribe":false\}\}"#)
        .expect("the server received the answers");
    p.exp_eof().expect("exit");
    assert_eq!(exit_code(&p), Some(0));
    rt.block_on(server.shutdown());
}

#[test]
fn an_empty_answer_declines_and_ctrl_c_cancels_a_form() {
    let (rt, server) = server();
    let url = server.url();
    let mut p = spawn(&["call", &url, "ask", "--args", r#"{"message": "Again?"}"#]);
    p.exp_string("[y/N]").expect("the first question");
    p.send_line("").unwrap();
    p.exp_string(r#"{"action":"decline"}"#).expect("declined");
    p.exp_eof().expect("exit");

    let mut p = spawn(&["call", &url, "ask", "--args", r#"{"message": "Again?"}"#]);
    p.exp_string("[y/N]").expect("the first question");
    p.send_line("y").unwrap();
    p.exp_string("Name (name)").expect("the first field");
    p.send_control('c').unwrap();
    p.exp_string("Cancelled.").expect("the form is cancelled");
    p.exp_string(r#"{"action":"cancel"}"#)
        .expect("the server is told");
    p.exp_eof().expect("exit");
    assert_eq!(exit_code(&p), Some(0));
    rt.block_on(server.shutdown());
}

#[test]
fn ctrl_c_cancels_a_call() {
    let (rt, server) = server();
    let url = server.url();
    let mut p = spawn(&["call", &url, "slow", "--args", r#"{"ms": 20000}"#]);
    p.exp_regex(r"slow \[").expect("the call is running");
    p.send_control('c').unwrap();
    p.exp_string("Cancelling the call").expect("the notice");
    p.exp_regex("cancel").expect("the error");
    p.exp_eof().expect("exit");
    assert_eq!(exit_code(&p), Some(6), "6: timeout or cancellation");
    rt.block_on(server.shutdown());
}

#[test]
fn a_url_elicitation_opens_the_browser_and_shows_when_it_is_done() {
    let (rt, server) = server();
    let url = server.url();
    let dir = std::env::temp_dir().join(format!("mcp-client-url-elicit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let opened = dir.join("opened");
    let browser = dir.join("browser.sh");
    std::fs::write(
        &browser,
        "#!/bin/sh\nprintf '%s' \"$1\" > \"$(dirname \"$0\")/opened\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let page = "https://example.com/connect?step=1";
    let args = format!(r#"{{"message": "Link your account", "url": "{page}"}}"#);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-client"));
    cmd.args([
        "--no-oauth",
        "--timeout",
        "30",
        "call",
        &url,
        "ask",
        "--args",
        &args,
    ])
    .env("TERM", "xterm")
    .env("BROWSER", &browser)
    .env_remove("MCP_BEARER_TOKEN")
    .env("MCP_LOG", "warn");
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    p.exp_string("The server asks: Link your account")
        .expect("the message");
    p.exp_string(page).expect("the address is shown");
    p.exp_string("Open this page in your browser? [y/N]")
        .expect("asked first");
    p.send_line("y").unwrap();
    p.exp_string("The server says the page you opened is done")
        .expect("notifications/elicitation/complete is shown");
    p.exp_string(r#"{"action":"accept"}"#)
        .expect("the server got the acceptance");
    p.exp_eof().expect("exit");
    assert_eq!(exit_code(&p), Some(0));
    // The browser is started, not waited for: give it a moment to write.
    let mut seen = String::new();
    for _ in 0..100 {
        seen = std::fs::read_to_string(&opened).unwrap_or_default();
        if !seen.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(seen, page, "the browser was given the page");
    let _ = std::fs::remove_dir_all(&dir);
    rt.block_on(server.shutdown());
}
