//! This project's Rust client (`mcp_client::Client`, defaults plus a static bearer token; with
//! `--auth`, its OAuth engine with the headless presenter and the file store in `--store`)
//! under the benches/compare driver contract.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use compare_ours::{
    args, finish, finish_hold, mcp_client_version, post_empty, rusage, vm_rss_kb, Args,
};
use mcp_client::oauth::{HeadlessPresenter, OAuthConfig};
use mcp_client::store::StoreChoice;
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

const NAME: &str = "mcp-client (Rust)";

#[tokio::main]
async fn main() {
    let a = args();
    match (a.hold, a.auth.as_deref()) {
        (Some(n), _) => hold(&a, n).await,
        (None, Some("storm")) => storm(&a).await,
        (None, Some(_)) => first_call(&a).await,
        (None, None) => throughput(&a).await,
    }
}

/// Scenario 3: from nothing (cold) or from the stored credential (warm) to the first call.
async fn first_call(a: &Args) -> ! {
    let (cpu0, _) = rusage();
    let t0 = Instant::now();
    let r = match oauth_client(a).await {
        Ok(c) => {
            let r = check(&c.call_tool("echo", json!({"text": "hello"})).await);
            let _ = c.close().await;
            r
        }
        Err(e) => Err(e),
    };
    let wall = t0.elapsed();
    let (cpu1, _) = rusage();
    if let Err(e) = &r {
        eprintln!("{e}");
    }
    let lat = vec![wall.as_micros() as u64];
    finish(
        NAME,
        &mcp_client_version(),
        1,
        r.is_ok() as usize,
        wall,
        cpu1 - cpu0,
        lat,
    );
}

/// Scenario 4: one call, every access token expired server-side, then `calls` calls at once.
async fn storm(a: &Args) -> ! {
    let client = oauth_client(a).await.unwrap_or_else(|e| die(&e));
    check(&client.call_tool("echo", json!({"text": "hello"})).await).unwrap_or_else(|e| die(&e));
    if !post_empty(a.expire_url.as_deref().unwrap_or_default()) {
        die("the expire URL did not answer 2xx");
    }
    let (cpu0, _) = rusage();
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..a.calls)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                let t = Instant::now();
                let r = check(&c.call_tool("echo", json!({"text": "hello"})).await);
                (t.elapsed().as_micros() as u64, r)
            })
        })
        .collect();
    let (mut lat, mut ok, mut err) = (Vec::with_capacity(a.calls), 0, None);
    for t in tasks {
        let (l, r) = t.await.expect("task");
        lat.push(l);
        match r {
            Ok(()) => ok += 1,
            Err(e) => {
                err.get_or_insert(e);
            }
        }
    }
    let wall = t0.elapsed();
    let (cpu1, _) = rusage();
    if let Some(e) = err {
        eprintln!("{e}");
    }
    let _ = client.close().await;
    finish(
        NAME,
        &mcp_client_version(),
        a.calls,
        ok,
        wall,
        cpu1 - cpu0,
        lat,
    );
}

/// Scenario 5: `n` connected clients, one call on each, then the resident set.
async fn hold(a: &Args, n: usize) -> ! {
    let mut clients = Vec::with_capacity(n);
    let mut ok = 0;
    for _ in 0..n {
        match bearer_client(a).await {
            Ok(c) => {
                match check(&c.call_tool("echo", json!({"text": "hello"})).await) {
                    Ok(()) => ok += 1,
                    Err(e) => eprintln!("{e}"),
                }
                clients.push(c);
            }
            Err(e) => eprintln!("connect: {e}"),
        }
    }
    let rss = vm_rss_kb();
    for c in clients {
        let _ = c.close().await;
    }
    finish_hold(NAME, &mcp_client_version(), n, ok, rss);
}

/// The client of scenarios 3 and 4: OAuth with the headless presenter, the file store in `--store`.
async fn oauth_client(a: &Args) -> Result<Client, String> {
    let mut cfg = OAuthConfig {
        store: StoreChoice::File(a.store.as_ref().map(Into::into)),
        ..Default::default()
    };
    cfg = cfg.presenter(HeadlessPresenter::new().map_err(|e| e.to_string())?);
    ClientBuilder::http(&a.url)
        .map_err(|e| e.to_string())?
        .oauth(cfg)
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))
}

async fn bearer_client(a: &Args) -> mcp_client::Result<Client> {
    ClientBuilder::http(&a.url)?
        .bearer(&a.token)
        .connect()
        .await
}

fn die(e: &str) -> ! {
    eprintln!("{e}");
    std::process::exit(1)
}

/// Scenarios 1 and 2: `calls` calls, `inflight` at a time, on one bearer-token client.
async fn throughput(a: &Args) -> ! {
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
    finish(
        NAME,
        &mcp_client_version(),
        a.calls,
        ok,
        wall,
        cpu1 - cpu0,
        lat,
    );
}
