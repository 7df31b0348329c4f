//! What both rmcp drivers share: the driver contract's arguments, the timed loop with K
//! concurrent tasks on one client, percentiles, getrusage and the RESULT line.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rmcp::model::CallToolRequestParams;
use rmcp::service::{Peer, RoleClient};

pub struct Args {
    pub url: String,
    pub token: String,
    pub calls: usize,
    pub inflight: usize,
    pub warmup: usize,
}

pub fn parse_args() -> Args {
    let mut url = None;
    let mut token = None;
    let (mut calls, mut inflight, mut warmup) = (1000usize, 1usize, 0usize);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .unwrap_or_else(|| die(&format!("missing value for {flag}")));
        let num = || {
            value
                .parse::<usize>()
                .unwrap_or_else(|_| die(&format!("bad {flag}")))
        };
        match flag.as_str() {
            "--url" => url = Some(value.clone()),
            "--token" => token = Some(value.clone()),
            "--calls" => calls = num(),
            "--inflight" => inflight = num().max(1),
            "--warmup" => warmup = num(),
            _ => die(&format!("unknown option {flag}")),
        }
    }
    Args {
        url: url.unwrap_or_else(|| die("--url is required")),
        token: token.unwrap_or_default(),
        calls,
        inflight,
        warmup,
    }
}

fn die(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(2)
}

/// One `tools/call echo {"text":"hello"}`; Err describes a failed or wrong result.
pub async fn echo_call(peer: &Peer<RoleClient>) -> Result<(), String> {
    let mut args = serde_json::Map::new();
    args.insert("text".into(), serde_json::Value::String("hello".into()));
    let result = peer
        .call_tool(CallToolRequestParams::new("echo").with_arguments(args))
        .await
        .map_err(|e| format!("call failed: {e}"))?;
    if result.is_error == Some(true) {
        return Err(format!("isError result: {:?}", result.content));
    }
    match result.content.first().and_then(|c| c.as_text()) {
        Some(t) if t.text == "hello" => Ok(()),
        _ => Err(format!("unexpected result: {:?}", result.content)),
    }
}

/// Runs `n` calls with `k` concurrent tasks sharing `peer`; returns (ok, latencies in µs).
pub async fn run_calls<F, Fut>(
    peer: &Peer<RoleClient>,
    n: usize,
    k: usize,
    call: F,
) -> (usize, Vec<f64>)
where
    F: Fn(Peer<RoleClient>) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..k.min(n.max(1)) {
        let peer = peer.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(n / k + 1);
            let mut ok = 0usize;
            let mut first_err: Option<String> = None;
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let t0 = Instant::now();
                let r = call(peer.clone()).await;
                lat.push(t0.elapsed().as_nanos() as f64 / 1000.0);
                match r {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        if first_err.is_none() {
                            first_err = Some(e);
                        }
                    }
                }
            }
            (ok, lat, first_err)
        }));
    }
    let mut ok = 0;
    let mut lat = Vec::with_capacity(n);
    let mut printed = false;
    for t in tasks {
        let (o, l, e) = t.await.expect("task panicked");
        ok += o;
        lat.extend(l);
        if let (Some(e), false) = (e, printed) {
            eprintln!("first error: {e}");
            printed = true;
        }
    }
    (ok, lat)
}

pub struct Usage {
    pub cpu_us: u64,
    pub maxrss_kb: u64,
}

pub fn usage() -> Usage {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Usage {
        cpu_us: tv(ru.ru_utime) + tv(ru.ru_stime),
        maxrss_kb: ru.ru_maxrss as u64,
    }
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let n = sorted.len();
    let idx = ((q * n as f64).ceil() as usize)
        .saturating_sub(1)
        .min(n - 1);
    sorted[idx]
}

pub fn print_result(
    client: &str,
    calls: usize,
    ok: usize,
    wall_us: u64,
    mut lat: Vec<f64>,
    cpu_us: u64,
) {
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    // Written by hand so the keys come out in the contract's order.
    let line = format!(
        "{{\"client\":{},\"version\":{},\"calls\":{calls},\"ok\":{ok},\"wall_us\":{wall_us},\
         \"p50_us\":{:.1},\"p99_us\":{:.1},\"cpu_us\":{cpu_us},\"peak_rss_kb\":{}}}",
        serde_json::Value::from(client),
        serde_json::Value::from(env!("RMCP_VERSION")),
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        usage().maxrss_kb,
    );
    println!("RESULT {line}");
}

/// The whole driver after the client is connected: warm-up, timed section, close, RESULT.
pub async fn drive(
    name: &str,
    args: &Args,
    client: rmcp::service::RunningService<RoleClient, ()>,
) -> std::process::ExitCode {
    let peer = client.peer().clone();
    if args.warmup > 0 {
        let (ok, _) = run_calls(&peer, args.warmup, args.inflight, |p| async move {
            echo_call(&p).await
        })
        .await;
        if ok != args.warmup {
            eprintln!("warm-up: {ok}/{} ok", args.warmup);
        }
    }
    let u0 = usage();
    let t0 = Instant::now();
    let (ok, lat) = run_calls(&peer, args.calls, args.inflight, |p| async move {
        echo_call(&p).await
    })
    .await;
    let wall_us = t0.elapsed().as_micros() as u64;
    let u1 = usage();
    drop(peer);
    if let Err(e) = client.cancel().await {
        eprintln!("close: {e}");
    }
    print_result(name, args.calls, ok, wall_us, lat, u1.cpu_us - u0.cpu_us);
    if ok == args.calls {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
