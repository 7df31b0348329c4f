//! Churn benchmark: tool-call latency while the access token expires every 2 seconds (each
//! refresh rotates the refresh token; the server revokes the grant of a replayed one), next to
//! the same load on a token that outlives the run (the baseline, measured in the same run,
//! against its own server process with the same OAuth setup). Prints one table (goals in
//! brackets): calls, calls/s, p50 and p99 latency and their ratios to the baseline, failed
//! calls [0], refresh requests, expiries in the run and refreshes per expiry [1], for
//! - the baseline: one client, `--inflight` calls in flight (default 100);
//! - churn: the same client load, the token expiring every 2 s;
//! - churn across processes: 4 processes sharing one file store, the calls in flight split
//!   between them (this binary run again as workers).
//!
//! Each row runs for `--secs` seconds (default 10: five expiries), the rows taking turns for
//! `--rounds` rounds (default 3); rates and latencies are medians, counts totals. Run with
//! `benches/run.sh` (it builds the release `mcp-test-server` this spawns) or
//! `cargo bench --bench churn -- [--secs N] [--inflight N] [--rounds N]`. Not a test: nothing
//! here passes or fails (tests/churn.rs asserts the counts, never the timings).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_client::oauth::{HeadlessPresenter, OAuthConfig};
use mcp_client::store::StoreChoice;
use mcp_client::{Client, ClientBuilder};
use serde_json::{json, Value};

/// The access token lifetime of the churn rows.
const TTL: u64 = 2;
/// Processes of the last row.
const PROCESSES: usize = 4;
/// Set (to a JSON job) in a worker process of the last row.
const WORKER_ENV: &str = "MCP_BENCH_CHURN_WORKER";

struct Opts {
    secs: u64,
    inflight: usize,
    rounds: usize,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        secs: 10,
        inflight: 100,
        rounds: 3,
    };
    let args: Vec<String> = std::env::args().collect();
    for w in args.windows(2) {
        match (w[0].as_str(), w[1].parse::<u64>().ok()) {
            ("--secs", Some(n)) => o.secs = n.max(1),
            ("--inflight", Some(n)) => o.inflight = (n as usize).max(PROCESSES),
            ("--rounds", Some(n)) => o.rounds = (n as usize).max(1),
            _ => {}
        }
    }
    o
}

/// The release test server in a process of its own, with OAuth and `ttl`-second tokens.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(ttl: u64) -> Server {
        let exe = std::env::current_exe().expect("current exe");
        // target/release/deps/churn-… -> target/release/mcp-test-server
        let bin = exe
            .parent()
            .and_then(|d| d.parent())
            .map(|d| d.join("mcp-test-server"))
            .expect("target dir");
        assert!(
            bin.exists(),
            "{} is missing: run `cargo build --release -p mcp-test-server` (benches/run.sh does)",
            bin.display()
        );
        let mut child = Command::new(&bin)
            .args(["--no-record", "--oauth", "--token-ttl", &ttl.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mcp-test-server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read URL");
        Server {
            child,
            url: line.trim().to_owned(),
        }
    }

    /// The server's OAuth counters (`GET /debug/auth-stats`).
    async fn stats(&self) -> Value {
        let url = self.url.replace("/mcp", "/debug/auth-stats");
        let text = reqwest::get(&url)
            .await
            .expect("GET /debug/auth-stats")
            .text()
            .await
            .expect("stats");
        serde_json::from_str(&text).expect("JSON stats")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn oauth(dir: &Path, interactive: bool) -> OAuthConfig {
    let mut cfg = OAuthConfig::default().presenter(HeadlessPresenter::new().expect("presenter"));
    cfg.store = StoreChoice::File(Some(dir.to_path_buf()));
    cfg.interactive = interactive;
    cfg
}

async fn connect(url: &str, cfg: OAuthConfig) -> Client {
    ClientBuilder::http(url)
        .expect("url")
        .open_get_stream(false)
        .request_timeout(Duration::from_secs(30))
        .oauth(cfg)
        .connect()
        .await
        .expect("connect")
}

/// Calls for `secs` seconds with `inflight` in flight.
#[derive(Default)]
struct Load {
    ok: usize,
    failed: usize,
    /// Latency of each successful call, in µs.
    latencies: Vec<u32>,
    elapsed: Duration,
}

async fn load(client: &Client, secs: u64, inflight: usize) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..inflight {
        let (c, stop) = (client.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Load::default();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match c
                    .call_tool("echo", json!({"text": "hello benchmark"}))
                    .await
                {
                    Ok(_) => {
                        mine.ok += 1;
                        mine.latencies.push(t.elapsed().as_micros() as u32);
                    }
                    Err(_) => mine.failed += 1,
                }
            }
            mine
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Load::default();
    for t in tasks {
        let mine = t.await.expect("load task");
        all.ok += mine.ok;
        all.failed += mine.failed;
        all.latencies.extend(mine.latencies);
    }
    all.elapsed = t0.elapsed();
    all
}

/// One run of a row: the load's figures and the server's refresh requests (and replays,
/// `invalid_grant`s) during it.
#[derive(Clone, Copy, Default)]
struct Sample {
    ok: usize,
    failed: usize,
    calls_per_s: f64,
    /// Latency percentiles, ms.
    p50: f64,
    p99: f64,
    refreshes: u64,
    /// Token lifetimes that ended in the run (0 for the baseline).
    expiries: f64,
    replays: u64,
    invalid_grants: u64,
}

fn refreshes(stats: &Value) -> u64 {
    stats["token_requests"]["refresh_token"]
        .as_u64()
        .unwrap_or(0)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// A row with one client in this process.
async fn client_row(ttl: u64, o: &Opts, dir: &Path) -> Sample {
    let server = Server::start(ttl);
    // Sign in (headless) into the store, then load with a client that may not sign in again.
    let c = connect(&server.url, oauth(dir, true)).await;
    c.call_tool("echo", json!({"text": "sign in"}))
        .await
        .expect("call");
    c.close().await.ok();
    let c = connect(&server.url, oauth(dir, false)).await;
    // Warm up connections.
    for _ in 0..200 {
        c.call_tool("echo", json!({"text": "warm"})).await.ok();
    }
    let before = server.stats().await;
    let l = load(&c, o.secs, o.inflight).await;
    let after = server.stats().await;
    c.close().await.ok();
    sample(ttl, l, &before, &after)
}

fn sample(ttl: u64, mut load: Load, before: &Value, after: &Value) -> Sample {
    let counter =
        |name: &str| after[name].as_u64().unwrap_or(0) - before[name].as_u64().unwrap_or(0);
    load.latencies.sort_unstable();
    Sample {
        ok: load.ok,
        failed: load.failed,
        calls_per_s: load.ok as f64 / load.elapsed.as_secs_f64(),
        p50: percentile(&load.latencies, 0.5),
        p99: percentile(&load.latencies, 0.99),
        expiries: if ttl == TTL {
            load.elapsed.as_secs_f64() / TTL as f64
        } else {
            0.0
        },
        refreshes: refreshes(after) - refreshes(before),
        replays: counter("refresh_replays_detected"),
        invalid_grants: counter("invalid_grants"),
    }
}

/// The last row: `PROCESSES` workers sharing one file store.
async fn processes_row(o: &Opts, dir: &Path) -> Sample {
    let server = Server::start(TTL);
    let c = connect(&server.url, oauth(dir, true)).await;
    c.call_tool("echo", json!({"text": "sign in"}))
        .await
        .expect("call");
    c.close().await.ok();
    let exe = std::env::current_exe().expect("current exe");
    let before = server.stats().await;
    let t0 = Instant::now();
    let mut procs = Vec::new();
    for i in 0..PROCESSES {
        let inflight = o.inflight / PROCESSES + usize::from(i < o.inflight % PROCESSES);
        let job = json!({"url": server.url, "dir": dir, "secs": o.secs, "inflight": inflight});
        procs.push(
            tokio::process::Command::new(&exe)
                .env(WORKER_ENV, job.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn a worker"),
        );
    }
    let mut all = Load::default();
    for p in procs {
        let out = p.wait_with_output().await.expect("worker");
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            let mut f = line.split_whitespace();
            match f.next() {
                Some("result") => {
                    all.ok += f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                    all.failed += f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                }
                Some("latencies") => all
                    .latencies
                    .extend(f.filter_map(|v| v.parse::<u32>().ok())),
                _ => {}
            }
        }
    }
    all.elapsed = t0.elapsed();
    let after = server.stats().await;
    sample(TTL, all, &before, &after)
}

/// A worker of the last row: its share of the load, then `result OK FAILED` and
/// `latencies µs…` on stdout.
async fn worker(job: &str) {
    let job: Value = serde_json::from_str(job).expect("job");
    let dir = PathBuf::from(job["dir"].as_str().expect("dir"));
    let c = connect(job["url"].as_str().expect("url"), oauth(&dir, false)).await;
    let l = load(
        &c,
        job["secs"].as_u64().expect("secs"),
        job["inflight"].as_u64().expect("inflight") as usize,
    )
    .await;
    c.close().await.ok();
    println!("result {} {}", l.ok, l.failed);
    let lat: Vec<String> = l.latencies.iter().map(u32::to_string).collect();
    println!("latencies {}", lat.join(" "));
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Ok(job) = std::env::var(WORKER_ENV) {
        rt.block_on(worker(&job));
        return;
    }
    let o = parse_opts();
    rt.block_on(async {
        let base_dir = std::env::temp_dir().join(format!("mcp-bench-churn-{}", std::process::id()));
        let dir = |name: String| {
            let d = base_dir.join(name);
            std::fs::create_dir_all(&d).expect("temp dir");
            d
        };
        let names = [
            "baseline: token valid all run".to_owned(),
            format!("churn: token expires every {TTL} s"),
            format!("churn: {PROCESSES} processes, one file store"),
        ];
        // The rows take turns, round after round, so that a busy moment of the machine does
        // not fall on one row only.
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); names.len()];
        for round in 0..o.rounds {
            samples[0].push(client_row(3600, &o, &dir(format!("base{round}"))).await);
            samples[1].push(client_row(TTL, &o, &dir(format!("churn{round}"))).await);
            samples[2].push(processes_row(&o, &dir(format!("procs{round}"))).await);
        }
        let _ = std::fs::remove_dir_all(&base_dir);
        print_table(&names, &samples, &o);
    });
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One row: medians of the rates and latencies, sums of the counts.
fn aggregate(samples: &[Sample]) -> Sample {
    let med = |f: fn(&Sample) -> f64| median(samples.iter().map(f).collect());
    Sample {
        ok: samples.iter().map(|s| s.ok).sum(),
        failed: samples.iter().map(|s| s.failed).sum(),
        calls_per_s: med(|s| s.calls_per_s),
        p50: med(|s| s.p50),
        p99: med(|s| s.p99),
        refreshes: samples.iter().map(|s| s.refreshes).sum(),
        expiries: samples.iter().map(|s| s.expiries).sum(),
        replays: samples.iter().map(|s| s.replays).sum(),
        invalid_grants: samples.iter().map(|s| s.invalid_grants).sum(),
    }
}

fn print_table(names: &[String], samples: &[Vec<Sample>], o: &Opts) {
    let rows: Vec<Sample> = samples.iter().map(|s| aggregate(s)).collect();
    println!(
        "\nTool calls while the access token expires every {TTL} s (rotating refresh tokens, \
         replay detection on): {} in flight, {} s per run, medians of {} rounds (calls, failures, \
         refreshes and expiries: totals); goals in brackets",
        o.inflight, o.secs, o.rounds
    );
    let line = |c: [&str; 11]| {
        println!(
            "| {:<34} | {:>7} | {:>7} | {:>6} | {:>7} | {:>6} | {:>7} | {:>6} | {:>9} | {:>8} | {:>10} |",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10]
        )
    };
    line([
        "load",
        "calls",
        "calls/s",
        "p50 ms",
        "p50 vs",
        "p99 ms",
        "p99 vs",
        "failed",
        "refreshes",
        "expiries",
        "per expiry",
    ]);
    line(["", "", "", "", "base", "", "base", "[0]", "", "", "[1]"]);
    println!(
        "|{:-<36}|{:-<9}|{:-<9}|{:-<8}|{:-<9}|{:-<8}|{:-<9}|{:-<8}|{:-<11}|{:-<10}|{:-<12}|",
        "", "", "", "", "", "", "", "", "", "", ""
    );
    let base = rows[0];
    for (name, r) in names.iter().zip(&rows) {
        let per_expiry = if r.expiries > 0.0 {
            format!("{:.2}", r.refreshes as f64 / r.expiries)
        } else {
            "-".to_owned()
        };
        line([
            name,
            &r.ok.to_string(),
            &format!("{:.0}", r.calls_per_s),
            &format!("{:.2}", r.p50),
            &format!("{:.2}x", r.p50 / base.p50),
            &format!("{:.2}", r.p99),
            &format!("{:.2}x", r.p99 / base.p99),
            &r.failed.to_string(),
            &r.refreshes.to_string(),
            &format!("{:.1}", r.expiries),
            &per_expiry,
        ]);
    }
    let replays: u64 = rows.iter().map(|r| r.replays).sum();
    let invalid: u64 = rows.iter().map(|r| r.invalid_grants).sum();
    println!(
        "\n({replays} refresh-token replays and {invalid} invalid_grant answers seen by the \
         servers [0]; the baseline's token outlives the run; the processes row is compared with \
         the one-client baseline: the same calls in flight in total)"
    );
}
