//! Transport benchmark: `tools/call` round trips per second and client CPU per call, through
//! the `Client` and through a bare keep-alive reqwest POST loop sending the same bytes (the
//! floor), measured in the same run against the same test server process.
//!
//! Run with `benches/run.sh` (builds release binaries first) or
//! `cargo bench --bench transport -- [--seq N] [--conc N] [--inflight N] [--rounds N]`.
//! Prints a table; figures are ratios to the floor measured in the same run, since absolute
//! numbers on shared machines are noise. Not a test: nothing here passes or fails.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_client::{Client, ClientBuilder, RequestOptions};
use serde_json::json;
use serde_json::value::RawValue;

struct Opts {
    /// Run only one kind of sequential loop (`floor`, `call_tool` or `request_raw`), once:
    /// for instruction counts under `valgrind --tool=callgrind`.
    only: Option<String>,
    seq: usize,
    conc: usize,
    inflight: usize,
    rounds: usize,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        only: None,
        seq: 8000,
        conc: 60000,
        inflight: 64,
        rounds: 5,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        if args[i] == "--only" {
            o.only = args.get(i + 1).cloned();
            i += 2;
            continue;
        }
        let v = args.get(i + 1).and_then(|s| s.parse().ok());
        match (args[i].as_str(), v) {
            ("--seq", Some(n)) => o.seq = n,
            ("--conc", Some(n)) => o.conc = n,
            ("--inflight", Some(n)) => o.inflight = n,
            ("--rounds", Some(n)) => o.rounds = n,
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// The test server as a separate process, so the CPU we measure is the client's alone.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start() -> Server {
        let exe = std::env::current_exe().expect("current exe");
        // target/release/deps/transport-… -> target/release/mcp-test-server
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
            .arg("--no-record")
            .stdout(Stdio::piped())
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
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) this process has used.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct we pass; no other memory is touched.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[derive(Clone, Copy)]
struct Sample {
    calls_per_s: f64,
    cpu_us_per_call: f64,
}

async fn measure<F, Fut>(calls: usize, inflight: usize, one: F) -> Sample
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let one = Arc::new(one);
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let per_task = calls / inflight;
    let mut tasks = Vec::new();
    for _ in 0..inflight {
        let one = one.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_task {
                one().await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let wall = t0.elapsed();
    let cpu = cpu_time() - cpu0;
    let n = (per_task * inflight) as f64;
    Sample {
        calls_per_s: n / wall.as_secs_f64(),
        cpu_us_per_call: cpu.as_secs_f64() * 1e6 / n,
    }
}

const ARGS: &str = r#"{"name":"echo","arguments":{"text":"hello benchmark"}}"#;

/// The floor: a keep-alive reqwest client POSTing the exact bytes the Client sends.
async fn floor(
    url: &str,
    session: &str,
    version: &str,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync + 'static
{
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("reqwest client");
    let url = reqwest::Url::parse(url).expect("url");
    let session = session.to_owned();
    let version = version.to_owned();
    let body = bytes::Bytes::from(format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{ARGS}}}"#
    ));
    move || {
        let req = http
            .post(url.clone())
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", &version)
            .body(body.clone());
        Box::pin(async move {
            let resp = req.send().await.expect("floor POST");
            let b = resp.bytes().await.expect("floor body");
            assert!(b.len() > 10);
        })
    }
}

fn row(name: &str, s: Sample, floor: Sample, rust: Sample) {
    println!(
        "| {name:<34} | {:>9.0} | {:>6.2}x | {:>8.1} | {:>6.2}x | {:>6.2}x | {:>10.2}x |",
        s.calls_per_s,
        s.calls_per_s / floor.calls_per_s,
        s.cpu_us_per_call,
        s.cpu_us_per_call / floor.cpu_us_per_call,
        s.calls_per_s / rust.calls_per_s,
        s.cpu_us_per_call / rust.cpu_us_per_call
    );
}

fn median(mut v: Vec<Sample>) -> Sample {
    v.sort_by(|a, b| a.calls_per_s.total_cmp(&b.calls_per_s));
    v[v.len() / 2]
}

/// A client in a process of its own, printing `seq CALLS_PER_S CPU_US_PER_CALL` and
/// `conc CALLS_PER_S CPU_US_PER_CALL` (its CPU: that process's): `program` run with `args`, then
/// the server URL, `seq` sequential calls, `conc` calls from `threads` threads or tasks, and
/// `tail`.
fn subprocess_client(
    what: &str,
    program: &std::ffi::OsStr,
    args: &[&std::ffi::OsStr],
    url: &str,
    (seq, conc, threads): (usize, usize, usize),
    tail: &[&str],
) -> Option<(Sample, Sample)> {
    let out = Command::new(program)
        .args(args)
        .args([
            url.to_owned(),
            seq.to_string(),
            conc.to_string(),
            threads.to_string(),
        ])
        .args(tail)
        .output()
        .unwrap_or_else(|e| panic!("run the {what} bench client: {e}"));
    assert!(
        out.status.success(),
        "the {what} bench client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let sample = |tag: &str| {
        let line = text.lines().find(|l| l.starts_with(tag))?;
        let mut f = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse::<f64>().ok());
        Some(Sample {
            calls_per_s: f.next()??,
            cpu_us_per_call: f.next()??,
        })
    };
    Some((sample("seq ")?, sample("conc ")?))
}

/// The C client (benches/c/bench_client.c, built by benches/run.sh; its path in
/// `MCP_BENCH_C_CLIENT`): one run of `seq` sequential calls and `conc` calls from `threads` C
/// threads on one client, in its own process.
fn c_client(url: &str, seq: usize, conc: usize, threads: usize) -> Option<(Sample, Sample)> {
    let bin = std::env::var_os("MCP_BENCH_C_CLIENT")?;
    subprocess_client("C", &bin, &[], url, (seq, conc, threads), &[])
}

/// The Go package (benches/go, built by benches/run.sh into the path in `MCP_BENCH_GO`):
/// one run of `seq` sequential `CallTool`s from one goroutine and `conc` from `goroutines`
/// goroutines on one client, in its own process.
fn go_client(url: &str, seq: usize, conc: usize, goroutines: usize) -> Option<(Sample, Sample)> {
    let bin = std::env::var_os("MCP_BENCH_GO")?;
    subprocess_client("Go", &bin, &[], url, (seq, conc, goroutines), &[])
}

/// The Python package (benches/python/bench_client.py, run by the interpreter in
/// `MCP_BENCH_PY`, a venv where benches/run.sh installed a release wheel): one run of `seq`
/// sequential calls and `conc` calls from `threads` threads sharing one `Client` (`mode`
/// `sync`) or `threads` tasks on one `AsyncClient` (`async`), in its own process.
fn py_client(
    url: &str,
    seq: usize,
    conc: usize,
    threads: usize,
    mode: &str,
) -> Option<(Sample, Sample)> {
    let python = std::env::var_os("MCP_BENCH_PY")?;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/python/bench_client.py");
    subprocess_client(
        &format!("Python ({mode})"),
        &python,
        &[script.as_os_str()],
        url,
        (seq, conc, threads),
        &[mode],
    )
}

fn main() {
    let o = parse_opts();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let server = Server::start();
        let client: Client = ClientBuilder::http(&server.url)
            .expect("url")
            .open_get_stream(false)
            .connect()
            .await
            .expect("connect");
        let session = client.session_id().expect("session id");
        let version = client.protocol_version();
        let raw_args: Arc<Box<RawValue>> =
            Arc::new(RawValue::from_string(ARGS.to_owned()).expect("raw"));

        // Warm up connections and caches.
        for _ in 0..200 {
            client
                .call_tool("echo", json!({"text": "hello benchmark"}))
                .await
                .expect("warm-up call");
        }

        if let Some(kind) = &o.only {
            let t0 = Instant::now();
            match kind.as_str() {
                "floor" => {
                    let f = floor(&server.url, &session, &version).await;
                    for _ in 0..o.seq {
                        f().await;
                    }
                }
                "call_tool" => {
                    for _ in 0..o.seq {
                        client
                            .call_tool("echo", json!({"text": "hello benchmark"}))
                            .await
                            .expect("call");
                    }
                }
                "request_raw" => {
                    for _ in 0..o.seq {
                        client
                            .request_raw("tools/call", Some(&raw_args), RequestOptions::default())
                            .await
                            .expect("call");
                    }
                }
                other => panic!("--only takes floor, call_tool or request_raw, not {other}"),
            }
            println!("{kind}: {} calls in {:?}", o.seq, t0.elapsed());
            client.close().await.ok();
            return;
        }

        let mut results: Vec<(String, Vec<Sample>)> = vec![
            ("floor: reqwest, sequential".into(), vec![]),
            ("Client::call_tool, sequential".into(), vec![]),
            ("Client::request_raw, sequential".into(), vec![]),
            ("C mcp_call_tool, 1 thread".into(), vec![]),
            ("Go CallTool, 1 goroutine".into(), vec![]),
            ("Python Client, 1 thread".into(), vec![]),
            ("Python AsyncClient, sequential".into(), vec![]),
            (format!("floor: reqwest, {} in flight", o.inflight), vec![]),
            (
                format!("Client::call_tool, {} in flight", o.inflight),
                vec![],
            ),
            (
                format!("Client::request_raw, {} in flight", o.inflight),
                vec![],
            ),
            (format!("C mcp_call_tool, {} threads", o.inflight), vec![]),
            (format!("Go CallTool, {} goroutines", o.inflight), vec![]),
            (format!("Python Client, {} threads", o.inflight), vec![]),
            (
                format!("Python AsyncClient, {} in flight", o.inflight),
                vec![],
            ),
        ];
        // Where each half of the table (sequential, in flight) starts.
        let half = results.len() / 2;
        for _ in 0..o.rounds {
            if let Some((seq, conc)) = c_client(&server.url, o.seq, o.conc, o.inflight) {
                results[3].1.push(seq);
                results[half + 3].1.push(conc);
            }
            if let Some((seq, conc)) = go_client(&server.url, o.seq, o.conc, o.inflight) {
                results[4].1.push(seq);
                results[half + 4].1.push(conc);
            }
            for (i, mode) in [(5, "sync"), (6, "async")] {
                if let Some((seq, conc)) = py_client(&server.url, o.seq, o.conc, o.inflight, mode) {
                    results[i].1.push(seq);
                    results[half + i].1.push(conc);
                }
            }
            for (i, inflight, calls) in [(0usize, 1usize, o.seq), (half, o.inflight, o.conc)] {
                let f = floor(&server.url, &session, &version).await;
                results[i].1.push(measure(calls, inflight, f).await);
                let c = client.clone();
                results[i + 1].1.push(
                    measure(calls, inflight, move || {
                        let c = c.clone();
                        async move {
                            let r = c
                                .call_tool("echo", json!({"text": "hello benchmark"}))
                                .await
                                .expect("call");
                            assert!(r.get("content").is_some());
                        }
                    })
                    .await,
                );
                let c = client.clone();
                let a = raw_args.clone();
                results[i + 2].1.push(
                    measure(calls, inflight, move || {
                        let c = c.clone();
                        let a = a.clone();
                        async move {
                            let r = c
                                .request_raw("tools/call", Some(&a), RequestOptions::default())
                                .await
                                .expect("call");
                            assert!(r.get().len() > 10);
                        }
                    })
                    .await,
                );
            }
        }
        let meds: Vec<(String, Sample)> = results
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| (n, median(v)))
            .collect();
        println!(
            "\ntools/call round trips against mcp-test-server ({}), median of {} rounds",
            version, o.rounds
        );
        println!(
            "| {:<34} | {:>9} | {:>7} | {:>8} | {:>7} | {:>7} | {:>7} |",
            "client", "calls/s", "vs floor", "CPU µs", "vs floor", "vs Rust", "CPU vs Rust"
        );
        println!(
            "|{:-<36}|{:-<11}|{:-<10}|{:-<10}|{:-<9}|{:-<9}|{:-<13}|",
            "", "", "", "", "", "", ""
        );
        // Each half of the table (sequential, in flight) against its own floor and its own
        // Rust `Client::call_tool` row.
        let half = meds.len() / 2;
        for (i, (n, s)) in meds.iter().enumerate() {
            let start = if i < half { 0 } else { half };
            row(n, *s, meds[start].1, meds[start + 1].1);
        }
        client.close().await.ok();
        drop(server);
    });
}
