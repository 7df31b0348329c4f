//! `mcp-client auth status|logout` against a real sign-in kept in a file store.

mod common;

use std::path::Path;
use std::process::Output;

use common::{auth_server, sign_in};
use mcp_test_server::AuthOptions;

async fn cli(dir: &Path, args: &[&str]) -> Output {
    let store = format!("file:{}", dir.display());
    let mut all = vec!["--store", store.as_str()];
    all.extend_from_slice(args);
    tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-client"))
        .args(&all)
        .output()
        .await
        .expect("run mcp-client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_no_secrets_and_logout_revokes_and_deletes() {
    let server = auth_server(AuthOptions::default()).await;
    let dir = std::env::temp_dir().join(format!("mcp-client-cli-auth-{}", std::process::id()));
    sign_in(&server, &dir).await;

    // The secrets the server handed out, to make sure status never prints them.
    let secrets: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .filter_map(|h| h.strip_prefix("Bearer ").map(str::to_owned))
        .collect();
    assert!(!secrets.is_empty());

    let out = cli(&dir, &["auth", "status"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&server.url()), "{text}");
    assert!(text.contains(&server.issuer()), "{text}");
    assert!(text.contains("refresh token: yes"), "{text}");
    let out = cli(&dir, &["--json", "auth", "status", &server.url()]).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json[0]["server"], server.url());
    for s in &secrets {
        assert!(!text.contains(s.as_str()));
        assert!(!String::from_utf8_lossy(&out.stdout).contains(s.as_str()));
    }

    let before = server.auth_stats().revocations;
    let out = cli(&dir, &["auth", "logout", &server.url()]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        server.auth_stats().revocations > before,
        "tokens revoked at the server"
    );
    let out = cli(&dir, &["auth", "status"]).await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No stored credentials"),
        "the entry was deleted"
    );
    let _ = std::fs::remove_dir_all(&dir);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_shows_each_authorization_step() {
    let server = auth_server(AuthOptions {
        access_token_ttl_secs: 1,
        ..Default::default()
    })
    .await;
    let dir = std::env::temp_dir().join(format!("mcp-client-cli-events-{}", std::process::id()));
    sign_in(&server, &dir).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let url = server.url();
    let args = ["call", url.as_str(), "echo", "--args", r#"{"text":"x"}"#];

    // Quiet by default.
    let out = cli(&dir, &args).await;
    assert!(out.status.success(), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("auth:"));

    // With -v: the store the token came from, and the refresh of the expired token.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let verbose: Vec<&str> = std::iter::once("-v").chain(args).collect();
    let out = cli(&dir, &verbose).await;
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("auth: credentials stored in file ("), "{err}");
    assert!(
        err.contains(&format!("auth: token refreshed for {url}")),
        "{err}"
    );

    let out = cli(&dir, &["-v", "auth", "logout", &url]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("auth: logged out of {url} (tokens revoked)")),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_store_variable_does_not_override_the_flag() {
    let server = auth_server(AuthOptions::default()).await;
    let dir = std::env::temp_dir().join(format!("mcp-client-cli-empty-env-{}", std::process::id()));
    sign_in(&server, &dir).await;
    let store = format!("file:{}", dir.display());
    for value in ["", "  "] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-client"))
            .args(["--store", &store, "auth", "status"])
            .env("MCP_CLIENT_STORE", value)
            .output()
            .await
            .expect("run mcp-client");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&server.url()),
            "MCP_CLIENT_STORE={value:?} must not replace --store: {text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    server.shutdown().await;
}
