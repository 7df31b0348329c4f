//! Credential benchmark: how many OAuth requests the engine makes where a naive client makes
//! many. Prints three figures (goals in brackets):
//! - token requests when 1000 concurrent calls in one process meet an expired token [1];
//! - token requests when 8 processes sharing a file store meet an expired token [1];
//! - OAuth requests of a warm restart with a valid stored token [0].
//!
//! Run with `benches/run.sh` (it builds the release `mcp-client` binary the second figure
//! spawns) or `cargo bench --bench credentials`. Counts, not timings: nothing here is noisy.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use mcp_client::oauth::{HeadlessPresenter, OAuthConfig};
use mcp_client::store::StoreChoice;
use mcp_client::{Client, ClientBuilder};
use mcp_test_server::{AuthOptions, ServerOptions, TestServer};
use serde_json::json;

const TTL: u64 = 2;

fn oauth_requests(server: &TestServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| {
            r.path.starts_with("/.well-known/")
                || r.path.ends_with("/token")
                || r.path.ends_with("/authorize")
                || r.path.ends_with("/register")
        })
        .count()
}

async fn client(server: &TestServer, dir: &std::path::Path) -> Client {
    let mut cfg = OAuthConfig::default().presenter(HeadlessPresenter::new().expect("presenter"));
    cfg.store = StoreChoice::File(Some(dir.to_path_buf()));
    ClientBuilder::http(&server.url())
        .expect("url")
        .oauth(cfg)
        .open_get_stream(false)
        .connect()
        .await
        .expect("connect")
}

fn cli_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("mcp-client"))
        .expect("target dir");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release --bins` (benches/run.sh does)",
        bin.display()
    );
    bin
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = mcp_test_server::start(ServerOptions {
            auth: Some(AuthOptions {
                access_token_ttl_secs: TTL,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("server");
        let dir = std::env::temp_dir().join(format!("mcp-client-bench-{}", std::process::id()));

        // 1. One process, 1000 concurrent calls on an expired token.
        let c = client(&server, &dir).await;
        c.call_tool("echo", json!({"text": "sign in"})).await.expect("call");
        tokio::time::sleep(Duration::from_millis(TTL * 1000 + 200)).await;
        let before = server.auth_stats().token_requests_total();
        let mut tasks = Vec::new();
        for i in 0..1000 {
            let c = c.clone();
            tasks.push(tokio::spawn(async move {
                c.call_tool("echo", json!({"text": format!("call {i}")}))
                    .await
                    .is_ok()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += usize::from(t.await.unwrap_or(false));
        }
        let one_process = server.auth_stats().token_requests_total() - before;
        c.close().await.ok();

        // 2. Eight processes sharing the file store, token expired.
        tokio::time::sleep(Duration::from_millis(TTL * 1000 + 200)).await;
        let before = server.auth_stats().token_requests_total();
        let bin = cli_binary();
        let mut procs = Vec::new();
        for i in 0..8 {
            procs.push(
                tokio::process::Command::new(&bin)
                    .args([
                        "--store",
                        &format!("file:{}", dir.display()),
                        "--no-browser",
                        "--timeout",
                        "20",
                        "call",
                        &server.url(),
                        "echo",
                        "--args",
                        &format!("{{\"text\":\"process {i}\"}}"),
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn mcp-client"),
            );
        }
        let mut procs_ok = 0;
        for mut p in procs {
            procs_ok += usize::from(p.wait().await.map(|s| s.success()).unwrap_or(false));
        }
        let eight_processes = server.auth_stats().token_requests_total() - before;
        let replays = server.auth_stats().refresh_replays_detected;

        // 3. A warm restart: a new client, a valid stored token.
        let before = oauth_requests(&server);
        let c = client(&server, &dir).await;
        c.call_tool("echo", json!({"text": "warm"})).await.expect("call");
        let warm = oauth_requests(&server) - before;
        c.close().await.ok();
        let _ = std::fs::remove_dir_all(&dir);

        println!("\nOAuth requests where a naive client makes many (goal in brackets)");
        println!("| situation                                              | requests | goal |");
        println!("|--------------------------------------------------------|----------|------|");
        println!(
            "| 1000 concurrent calls, one process, expired token      | {one_process:>8} |    1 |"
        );
        println!(
            "| 8 processes sharing a file store, expired token        | {eight_processes:>8} |    1 |"
        );
        println!("| warm restart with a valid stored token                 | {warm:>8} |    0 |");
        println!(
            "\n({ok}/1000 calls and {procs_ok}/8 processes succeeded; {replays} refresh-token replays seen by the server)"
        );
        server.shutdown().await;
    });
}
