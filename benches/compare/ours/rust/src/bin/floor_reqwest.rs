//! Floor 1: a bare keep-alive reqwest client POSTing the JSON-RPC bytes of the call (after an
//! `initialize` for the session), K tokio tasks for K in flight; the reply is checked by a byte
//! search for the echoed text (no JSON parse).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use compare_ours::{
    args, finish, locked_version, reply_ok, rusage, CALL_BODY, INITIALIZED_BODY, INIT_BODY,
};

#[tokio::main]
async fn main() {
    let a = args();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("client");
    let url = reqwest::Url::parse(&a.url).expect("url");
    let auth = format!("Bearer {}", a.token);
    let init = http
        .post(url.clone())
        .header("authorization", &auth)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(INIT_BODY)
        .send()
        .await
        .expect("initialize");
    assert!(init.status().is_success(), "initialize: {}", init.status());
    let session = init
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let _ = init.bytes().await;
    let one = {
        let http = http.clone();
        let url = url.clone();
        let auth = auth.clone();
        let session = session.clone();
        move |body: &'static str| {
            http.post(url.clone())
                .header("authorization", &auth)
                .header("accept", "application/json, text/event-stream")
                .header("content-type", "application/json")
                .header("mcp-session-id", &session)
                .header("mcp-protocol-version", "2025-06-18")
                .body(body)
        }
    };
    let _ = one(INITIALIZED_BODY).send().await.expect("initialized");
    for _ in 0..a.warmup {
        let r = one(CALL_BODY).send().await.expect("warm-up");
        let _ = r.bytes().await;
    }
    let next = Arc::new(AtomicUsize::new(0));
    let (cpu0, _) = rusage();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.inflight {
        let one = one.clone();
        let next = next.clone();
        let n = a.calls;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(n);
            let mut ok = 0usize;
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let t = Instant::now();
                let good = match one(CALL_BODY).send().await {
                    Ok(r) => matches!(r.bytes().await, Ok(b) if reply_ok(&b)),
                    Err(e) => {
                        eprintln!("call failed: {e}");
                        false
                    }
                };
                lat.push(t.elapsed().as_micros() as u64);
                ok += good as usize;
            }
            (lat, ok)
        }));
    }
    let mut lat = Vec::with_capacity(a.calls);
    let mut ok = 0;
    for t in tasks {
        let (l, o) = t.await.expect("task");
        lat.extend(l);
        ok += o;
    }
    let wall = t0.elapsed();
    let (cpu1, _) = rusage();
    let _ = http
        .delete(url)
        .header("authorization", &auth)
        .header("mcp-session-id", &session)
        .send()
        .await;
    let version = format!(
        "reqwest {}",
        locked_version(include_str!("../../Cargo.lock"), "reqwest")
    );
    finish(
        "floor: reqwest loop",
        &version,
        a.calls,
        ok,
        wall,
        cpu1 - cpu0,
        lat,
    );
}
