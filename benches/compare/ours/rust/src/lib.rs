//! What every driver of benches/compare shares: the contract's arguments, the timing, the
//! percentiles, getrusage, and the RESULT line (see benches/compare/README.md).

use std::time::Duration;

/// The contract's arguments (benches/compare/README.md): scenarios 1 and 2 use `url`, `token`,
/// `calls`, `inflight`, `warmup`; the authorized ones `auth`, `store`, `expire_url`, `calls`;
/// the memory one `hold`.
pub struct Args {
    pub url: String,
    pub token: String,
    pub calls: usize,
    pub inflight: usize,
    pub warmup: usize,
    /// `cold`, `warm` or `storm` (scenarios 3 and 4).
    pub auth: Option<String>,
    /// Where the credential store keeps its files (`--auth`).
    pub store: Option<String>,
    /// The server's `POST /debug/expire-tokens` URL (`--auth storm`).
    pub expire_url: Option<String>,
    /// How many clients to hold (scenario 5).
    pub hold: Option<usize>,
}

pub fn args() -> Args {
    let mut a = Args {
        url: String::new(),
        token: String::new(),
        calls: 1000,
        inflight: 1,
        warmup: 100,
        auth: None,
        store: None,
        expire_url: None,
        hold: None,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let usage = || -> ! {
        eprintln!(
            "usage: DRIVER --url URL --token TOKEN --calls N --inflight K --warmup W\n\
             \x20      DRIVER --auth cold|warm|storm --url URL --store DIR [--calls N --expire-url E]\n\
             \x20      DRIVER --hold N --url URL --token TOKEN"
        );
        std::process::exit(2)
    };
    while i < v.len() {
        let Some(val) = v.get(i + 1).cloned() else {
            usage()
        };
        match v[i].as_str() {
            "--url" => a.url = val,
            "--token" => a.token = val,
            "--calls" => a.calls = val.parse().unwrap_or_else(|_| usage()),
            "--inflight" => a.inflight = val.parse().unwrap_or_else(|_| usage()),
            "--warmup" => a.warmup = val.parse().unwrap_or_else(|_| usage()),
            "--auth" if ["cold", "warm", "storm"].contains(&val.as_str()) => a.auth = Some(val),
            "--store" => a.store = Some(val),
            "--expire-url" => a.expire_url = Some(val),
            "--hold" => a.hold = Some(val.parse().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
        i += 2;
    }
    let auth_ok = match a.auth.as_deref() {
        None => true,
        Some("storm") => a.store.is_some() && a.expire_url.is_some(),
        Some(_) => a.store.is_some(),
    };
    if a.url.is_empty() || a.inflight == 0 || !auth_ok {
        usage()
    }
    a
}

/// `VmRSS` of this process in KiB (scenario 5), 0 when unreadable.
pub fn vm_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Prints scenario 5's RESULT line and exits (0 iff every client's call succeeded).
pub fn finish_hold(client: &str, version: &str, clients: usize, ok: usize, rss_kb: u64) -> ! {
    let (_, peak) = rusage();
    println!(
        "RESULT {}",
        serde_json::json!({
            "client": client, "version": version, "clients": clients, "ok": ok,
            "rss_kb": rss_kb, "peak_rss_kb": peak,
        })
    );
    std::process::exit(if ok == clients { 0 } else { 1 })
}

/// One plain `POST` with an empty body (the storm's expire URL); true on a 2xx status.
pub fn post_empty(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let Ok(mut s) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 2")
}

/// (user + system CPU time, ru_maxrss KiB) of this process.
pub fn rusage() -> (Duration, u64) {
    // SAFETY: getrusage writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(ru.ru_utime) + tv(ru.ru_stime), ru.ru_maxrss as u64)
}

/// Nearest-rank percentile of sorted latencies (µs).
pub fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.saturating_sub(1).min(sorted.len() - 1)]
}

/// Prints the RESULT line and exits (0 iff every call succeeded).
pub fn finish(
    client: &str,
    version: &str,
    calls: usize,
    ok: usize,
    wall: Duration,
    cpu: Duration,
    mut lat_us: Vec<u64>,
) -> ! {
    lat_us.sort_unstable();
    let (_, rss) = rusage();
    println!(
        "RESULT {}",
        serde_json::json!({
            "client": client, "version": version, "calls": calls, "ok": ok,
            "wall_us": wall.as_micros() as u64,
            "p50_us": percentile(&lat_us, 0.50), "p99_us": percentile(&lat_us, 0.99),
            "cpu_us": cpu.as_micros() as u64, "peak_rss_kb": rss,
        })
    );
    std::process::exit(if ok == calls { 0 } else { 1 })
}

/// The version of a package in Cargo.lock text.
pub fn locked_version(lock: &str, package: &str) -> String {
    let needle = format!("name = \"{package}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|i| lock[i + needle.len()..].split('"').next())
        .unwrap_or("?")
        .to_owned()
}

/// The mcp-client version: [workspace.package] version in the repository's Cargo.toml.
pub fn mcp_client_version() -> String {
    let toml = include_str!("../../../../../Cargo.toml");
    toml.split("[workspace.package]")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.trim_start().starts_with("version")))
        .and_then(|l| l.split('"').nth(1))
        .unwrap_or("?")
        .to_owned()
}

/// The JSON-RPC body of the call (the floors send it as is).
pub const CALL_BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}"#;
pub const INIT_BODY: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"floor","version":"0"}}}"#;
pub const INITIALIZED_BODY: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// The floors' check of a reply: the echoed text is in it (a byte search, no JSON parse).
pub fn reply_ok(body: &[u8]) -> bool {
    const NEEDLE: &[u8] = br#""text":"hello""#;
    body.windows(NEEDLE.len()).any(|w| w == NEEDLE)
}
