//! A refresh is single-flight across processes: real `mcp-client` processes share one file
//! store (or one Redis, as hosts on many machines would), meet an expired token together, and
//! the server sees one refresh and no replayed refresh token.

mod common;
#[path = "../../tests/common/redis.rs"]
mod redis;

use std::path::PathBuf;
use std::time::Duration;

use common::{auth_server, sign_in, sign_in_to};
use mcp_test_server::AuthOptions;

fn cli() -> PathBuf {
    // Cargo builds the package's binaries for its integration tests.
    PathBuf::from(env!("CARGO_BIN_EXE_mcp-client"))
}

/// Run `mcp-client call URL echo` in six processes at once with `--store store` (and `extra`
/// options), and check that each one was served.
async fn six_processes_call(bin: &PathBuf, store: &str, server_url: &str, extra: &[&str]) {
    let mut procs = Vec::new();
    for i in 0..6 {
        let text = format!("{{\"text\":\"process {i}\"}}");
        let mut args = vec!["--store", store, "--no-browser", "--json"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["call", server_url, "echo", "--args", &text]);
        procs.push(
            tokio::process::Command::new(bin)
                .args(&args)
                .env_remove("MCP_CLIENT_STORE")
                .output(),
        );
    }
    for (i, p) in procs.into_iter().enumerate() {
        let out = p.await.expect("run mcp-client");
        assert!(
            out.status.success(),
            "process {i} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("process {i}")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_a_file_store_refresh_once() {
    let bin = cli();
    // Expiry is in whole seconds: a 1-second token can look expired a moment after it is
    // issued, and a process starting late under load would then rightly refresh again. Three
    // seconds leave the refreshed token valid while the other processes start.
    let server = auth_server(AuthOptions {
        access_token_ttl_secs: 3,
        ..Default::default()
    })
    .await;
    let dir = std::env::temp_dir().join(format!("mcp-client-xproc-{}", std::process::id()));

    // Sign in once (headless) into the shared store.
    sign_in(&server, &dir).await;
    assert_eq!(server.auth_stats().authorize_requests, 1);

    tokio::time::sleep(Duration::from_millis(3300)).await;
    let refreshes_before = server.auth_stats().token_requests_for("refresh_token");
    let store = format!("file:{}", dir.display());
    six_processes_call(&bin, &store, &server.url(), &["--timeout", "10"]).await;
    let stats = server.auth_stats();
    assert_eq!(
        stats.token_requests_for("refresh_token") - refreshes_before,
        1,
        "exactly one process refreshes; the others adopt its token"
    );
    assert_eq!(stats.refresh_replays_detected, 0);
    assert_eq!(stats.authorize_requests, 1, "nobody signed in again");
    let _ = std::fs::remove_dir_all(&dir);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_a_redis_store_refresh_once() {
    if !redis::redis_available() {
        return;
    }
    let redis = redis::RedisServer::start();
    let store = format!("{}?prefix=cli-test", redis.url());
    let bin = cli();
    // As in the file-store test above: three seconds of life, then expired for everyone.
    let server = auth_server(AuthOptions {
        access_token_ttl_secs: 3,
        ..Default::default()
    })
    .await;
    sign_in_to(
        &server,
        mcp_client::store::StoreChoice::parse(&store).expect("a store"),
    )
    .await;
    assert_eq!(server.auth_stats().authorize_requests, 1);
    tokio::time::sleep(Duration::from_millis(3300)).await;
    let refreshes_before = server.auth_stats().token_requests_for("refresh_token");
    let extra = ["--sign-in-timeout", "1", "--timeout", "20"];
    six_processes_call(&bin, &store, &server.url(), &extra).await;
    let stats = server.auth_stats();
    assert_eq!(
        stats.token_requests_for("refresh_token") - refreshes_before,
        1,
        "exactly one process refreshes; the others adopt its token from Redis"
    );
    assert_eq!(stats.refresh_replays_detected, 0);
    assert_eq!(stats.authorize_requests, 1, "nobody signed in again");
    // `auth status` reads the same entry from Redis; Redis down is a clear error, exit 7.
    let status = std::process::Command::new(&bin)
        .args(["--store", &store, "auth", "status", &server.url()])
        .env_remove("MCP_CLIENT_STORE")
        .output()
        .expect("auth status");
    assert!(status.status.success(), "{status:?}");
    drop(redis);
    let down = std::process::Command::new(&bin)
        .args([
            "--store",
            &format!("{store}&timeout_ms=300"),
            "--no-browser",
            "--sign-in-timeout",
            "1",
            "call",
            &server.url(),
            "echo",
        ])
        .env_remove("MCP_CLIENT_STORE")
        .output()
        .expect("run mcp-client");
    let stderr = String::from_utf8_lossy(&down.stderr);
    assert!(!down.status.success());
    assert!(
        stderr.contains("redis://127.0.0.1") && stderr.contains("unavailable"),
        "{stderr}"
    );
    assert_eq!(
        server.auth_stats().authorize_requests,
        1,
        "no sign-in without the store"
    );
    server.shutdown().await;
}
