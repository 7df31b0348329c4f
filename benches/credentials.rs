//! Credential benchmark: how many OAuth requests the engine makes where a naive client makes
//! many. Prints three figures (goals in brackets):
//! - token requests when 1000 concurrent calls in one process meet an expired token [1];
//! - token requests when 8 processes sharing a file store meet an expired token [1];
//! - OAuth requests of a warm restart with a valid stored token [0];
//! - token requests when 8 processes sharing a Redis store meet an expired token [1], and the
//!   time until all of them are served;
//! - OAuth requests of a warm start from Redis [0].
//!
//! The Redis rows need `redis-server` (Debian's package): the bench starts one on a loopback
//! port of its own, and leaves the rows out, saying so, when there is none.
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

// The tests' redis-server harness (self-contained: a free port, a private directory, killed on
// drop).
#[path = "../tests/common/redis.rs"]
mod redis;
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
    client_with(server, StoreChoice::File(Some(dir.to_path_buf()))).await
}

async fn client_with(server: &TestServer, store: StoreChoice) -> Client {
    let mut cfg = OAuthConfig::default().presenter(HeadlessPresenter::new().expect("presenter"));
    cfg.store = store;
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

/// Run `mcp-client call … echo` in 8 processes at once with `--store store`: how many
/// succeeded, and how long until the last one was done.
async fn eight_processes(server: &TestServer, store: &str) -> (usize, Duration) {
    let bin = cli_binary();
    let started = std::time::Instant::now();
    let mut procs = Vec::new();
    for i in 0..8 {
        procs.push(
            tokio::process::Command::new(&bin)
                .args([
                    "--store",
                    store,
                    "--no-browser",
                    "--timeout",
                    "20",
                    "call",
                    &server.url(),
                    "echo",
                    "--args",
                    &format!("{{\"text\":\"process {i}\"}}"),
                ])
                .env_remove("MCP_CLIENT_STORE")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn mcp-client"),
        );
    }
    let mut ok = 0;
    for mut p in procs {
        ok += usize::from(p.wait().await.map(|s| s.success()).unwrap_or(false));
    }
    (ok, started.elapsed())
}

/// What the Redis rows measure.
struct RedisRows {
    token_requests: u64,
    warm: usize,
    served: usize,
    took: Duration,
    replays: u64,
}

/// The Redis rows: 8 processes meeting an expired token, then a warm start. `None` without
/// a redis-server.
async fn redis_rows(server: &TestServer) -> Option<RedisRows> {
    if !redis::redis_available() {
        return None;
    }
    let redis = redis::RedisServer::start();
    let store = format!("{}?prefix=bench", redis.url());
    let choice = StoreChoice::parse(&store).expect("a store");
    let c = client_with(server, choice.clone()).await;
    c.call_tool("echo", json!({"text": "sign in"}))
        .await
        .expect("call");
    c.close().await.ok();
    tokio::time::sleep(Duration::from_millis(TTL * 1000 + 200)).await;
    let before = server.auth_stats();
    let (served, took) = eight_processes(server, &store).await;
    let after = server.auth_stats();
    let before_warm = oauth_requests(server);
    let c = client_with(server, choice).await;
    c.call_tool("echo", json!({"text": "warm"}))
        .await
        .expect("call");
    let warm = oauth_requests(server) - before_warm;
    c.close().await.ok();
    Some(RedisRows {
        token_requests: after.token_requests_total() - before.token_requests_total(),
        warm,
        served,
        took,
        replays: after.refresh_replays_detected - before.refresh_replays_detected,
    })
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
        let (procs_ok, _) = eight_processes(&server, &format!("file:{}", dir.display())).await;
        let eight_processes = server.auth_stats().token_requests_total() - before;
        let replays = server.auth_stats().refresh_replays_detected;

        // 3. A warm restart: a new client, a valid stored token.
        let before = oauth_requests(&server);
        let c = client(&server, &dir).await;
        c.call_tool("echo", json!({"text": "warm"})).await.expect("call");
        let warm = oauth_requests(&server) - before;
        c.close().await.ok();
        let _ = std::fs::remove_dir_all(&dir);
        let redis = redis_rows(&server).await;

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
        if let Some(r) = &redis {
            println!(
                "| 8 processes sharing a Redis store, expired token       | {:>8} |    1 |",
                r.token_requests
            );
            println!(
                "| warm start from Redis (another host signed in)         | {:>8} |    0 |",
                r.warm
            );
        }
        println!(
            "\n({ok}/1000 calls and {procs_ok}/8 processes succeeded; {replays} refresh-token replays seen by the server)"
        );
        match &redis {
            Some(r) => println!(
                "(Redis: {}/8 processes served, the last after {} ms; {} replays)",
                r.served,
                r.took.as_millis(),
                r.replays
            ),
            None => println!("(no redis-server: no Redis rows)"),
        }
        server.shutdown().await;
    });
}
