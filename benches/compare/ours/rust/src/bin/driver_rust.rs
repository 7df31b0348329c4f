//! This project's Rust client (`mcp_client::Client`, defaults plus a static bearer token) under
//! the benches/compare driver contract.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use compare_ours::{args, finish, mcp_client_version, rusage};
use mcp_client::{Client, ClientBuilder};
use serde_json::{json, Value};

fn check(r: &mcp_client::Result<Value>) -> Result<(), String> {
    match r {
        Ok(v) => {
            let c = &v["content"][0];
            if c["type"] == "text" && c["text"] == "hello" && v["isError"] != true {
                Ok(())
            } else {
                Err(format!("unexpected result: {v}"))
            }
        }
        Err(e) => Err(format!("call failed: {e}")),
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let client: Client = ClientBuilder::http(&a.url)
        .expect("url")
        .bearer(&a.token)
        .connect()
        .await
        .unwrap_or_else(|e| {
            eprintln!("connect: {e}");
            std::process::exit(1)
        });
    eprintln!("protocol version {}", client.protocol_version());
    for _ in 0..a.warmup {
        if let Err(e) = check(&client.call_tool("echo", json!({"text": "hello"})).await) {
            eprintln!("warm-up: {e}");
        }
    }
    let next = Arc::new(AtomicUsize::new(0));
    let (cpu0, _) = rusage();
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(a.inflight);
    for _ in 0..a.inflight {
        let c = client.clone();
        let next = next.clone();
        let n = a.calls;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(n);
            let mut ok = 0usize;
            let mut first_err = None;
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let t = Instant::now();
                let r = c.call_tool("echo", json!({"text": "hello"})).await;
                let res = check(&r);
                lat.push(t.elapsed().as_micros() as u64);
                match res {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            (lat, ok, first_err)
        }));
    }
    let mut lat = Vec::with_capacity(a.calls);
    let mut ok = 0;
    let mut err = None;
    for t in tasks {
        let (l, o, e) = t.await.expect("task");
        lat.extend(l);
        ok += o;
        if err.is_none() {
            err = e;
        }
    }
    let wall = t0.elapsed();
    let (cpu1, _) = rusage();
    if let Some(e) = err {
        eprintln!("{e}");
    }
    if let Err(e) = client.close().await {
        eprintln!("close: {e}");
    }
    finish("mcp-client (Rust)", &mcp_client_version(), a.calls, ok, wall, cpu1 - cpu0, lat);
}
