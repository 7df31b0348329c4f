//! A refresh is single-flight across processes: real `mcp-client` processes share one file
//! store, meet an expired token together, and the server sees one refresh and no replayed
//! refresh token.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{auth_server, sign_in};
use mcp_test_server::AuthOptions;

fn cli() -> PathBuf {
    // Cargo builds the package's binaries for its integration tests.
    PathBuf::from(env!("CARGO_BIN_EXE_mcp-client"))
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
    let mut procs = Vec::new();
    for i in 0..6 {
        procs.push(
            tokio::process::Command::new(&bin)
                .args([
                    "--store",
                    &format!("file:{}", dir.display()),
                    "--no-browser",
                    "--timeout",
                    "10",
                    "--json",
                    "call",
                    &server.url(),
                    "echo",
                    "--args",
                    &format!("{{\"text\":\"process {i}\"}}"),
                ])
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
