#![cfg(feature = "redis")]
//! A fleet of real processes sharing one credential in one real Redis (`redis-server`, started
//! per test on a loopback port of its own), against the real test server: nothing mocked.
//!
//! The parent (the test) signs in once, headlessly, so the credential is in Redis; children
//! (this test binary again, at [`child_entry`], with a JSON job in [`CHILD_ENV`]) load it, can
//! only refresh or adopt (they are not interactive and their presenter refuses), fire
//! concurrent `echo` calls and print one [`REPORT_PREFIX`] line the parent reads.
//!
//! - [`eight_processes_meeting_an_expired_token_refresh_once`]: 8 processes × 200 calls meet
//!   an expired token at one instant: one refresh at the server, the others adopt it.
//! - [`the_lease_holder_killed_mid_refresh_is_taken_over`]: the process holding the refresh
//!   lease is killed while its refresh request waits at the server: another takes over once
//!   the lease runs out, the killed one's refresh token is still good, one refresh completes.
//! - [`calls_recover_when_redis_restarts_mid_run`]: calls on 2-second tokens while Redis
//!   stops and comes back: failures only during the outage, each naming the store.
//! - [`redis_down_at_start_is_a_clear_error`]: no Redis, no sign-in (a clear error), unless
//!   `fallback=memory`.
//! - [`encrypted_entries_leave_no_token_readable_in_redis`]: with `key_file`, nothing in Redis
//!   reads as a token or a secret; a process with the key uses the entry, one without cannot
//!   (and cannot clobber it).
//!
//! Skipped (with a line on stderr) where `redis-server` is missing, unless
//! `MCP_REDIS_TESTS=1`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::oauth::{auth_server, bearer_of, cfg, field, token_requests, AsyncPresenter, TempDir};
use common::redis::{redis_available, RedisServer};
use mcp_client::oauth::{AuthEvent, OAuthConfig, OAuthEngine, OAuthError};
use mcp_client::store::{StoreChoice, KEY_ENV, KEY_FILE_ENV, STORE_ENV};
use mcp_client::{Client, ClientBuilder, Error};
use mcp_test_server::{AuthOptions, PreRegistered, TestServer};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

/// The environment variable holding a child's job (JSON); without it [`child_entry`] returns.
const CHILD_ENV: &str = "MCP_FLEET_CHILD";
/// The line a child prints its report on.
const REPORT_PREFIX: &str = "FLEET-CHILD ";
/// The request timeout of every client here: generous, a loaded 2-core machine runs 8
/// processes and the server at once, and a call may wait for a refresh another process makes.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The timeout of each OAuth request (above the refresh delay of the takeover test).
const OAUTH_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

// ================================================================== helpers

/// Milliseconds since the Unix epoch.
fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The store choice for a Redis URL (checked now: a typo fails here, not in a child).
fn redis_store(url: &str) -> StoreChoice {
    match StoreChoice::parse_checked(url) {
        Ok(c @ StoreChoice::Redis(_)) => c,
        Ok(other) => panic!("{url} is not a Redis store: {other:?}"),
        Err(e) => panic!("{url}: {e}"),
    }
}

/// The parent's configuration: headless sign-in (a person is simulated), the Redis store.
fn parent_cfg(store: &str) -> OAuthConfig {
    let mut c = cfg();
    c.store = redis_store(store);
    c.http_timeout = OAUTH_HTTP_TIMEOUT;
    c.redirect_timeout = Duration::from_secs(20);
    c
}

/// A child's (or the load's) configuration: the stored credential only. It is not
/// interactive (a needed sign-in is `InteractionRequired`), and its presenter refuses anyway.
fn child_cfg(store: &str) -> OAuthConfig {
    OAuthConfig {
        store: redis_store(store),
        http_timeout: OAUTH_HTTP_TIMEOUT,
        redirect_timeout: Duration::from_secs(5),
        interactive: false,
        ..Default::default()
    }
    .presenter(AsyncPresenter::refusing("a fleet process never signs in"))
}

/// A client for `url` with `oauth` (no standalone GET stream).
async fn connect(url: &str, oauth: OAuthConfig) -> Result<Client, Error> {
    ClientBuilder::http(url)?
        .request_timeout(CALL_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .open_get_stream(false)
        .oauth(oauth)
        .connect()
        .await
}

/// Sign in once (headless) with the credential kept in `oauth`'s store, and make a first
/// call: the client and its engine (for the token's expiry).
async fn sign_in(server: &TestServer, oauth: OAuthConfig) -> (Client, Arc<OAuthEngine>) {
    let (builder, engine) = ClientBuilder::http(&server.url())
        .expect("the server URL")
        .request_timeout(CALL_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .open_get_stream(false)
        .oauth_with_engine(oauth)
        .expect("an OAuth engine");
    let client = builder
        .connect()
        .await
        .unwrap_or_else(|e| panic!("the parent's sign-in failed: {e}\n{e:?}"));
    let r = client
        .call_tool("echo", json!({"text": "signed in"}))
        .await
        .unwrap_or_else(|e| panic!("the parent's first call failed: {e}"));
    assert_eq!(text_of(&r), Some("signed in"), "{r}");
    (client, engine)
}

/// The text of the first content item of a `CallToolResult`.
fn text_of(r: &Value) -> Option<&str> {
    r.pointer("/content/0/text").and_then(Value::as_str)
}

/// Raise this process's soft limit of open files to `want` (or the hard limit): the fleet
/// test holds 8 × 200 connections to the in-process test server at once, more than a common
/// soft limit of 1024. Children inherit it.
fn raise_fd_limit(want: u64) {
    // SAFETY: plain POSIX calls with a valid out-parameter.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) == 0 && (rl.rlim_cur as u64) < want {
            rl.rlim_cur = (want as libc::rlim_t).min(rl.rlim_max);
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        }
    }
}

/// The refresh tokens in the test server's state file, each with whether it is still active
/// (not yet rotated away).
fn refresh_tokens_in(state_file: &Path) -> BTreeMap<String, bool> {
    let text = std::fs::read_to_string(state_file)
        .unwrap_or_else(|e| panic!("the state file {}: {e}", state_file.display()));
    let v: Value = serde_json::from_str(&text).expect("the state file is JSON");
    v["refresh_tokens"]
        .as_object()
        .expect("refresh_tokens in the state file")
        .iter()
        .map(|(t, r)| (t.clone(), r["active"].as_bool() == Some(true)))
        .collect()
}

/// Every key Redis holds, with its value: `TYPE key` then the value (`HGETALL` of a hash,
/// `GET` of a string; other types by name only).
fn dump_redis(redis: &RedisServer) -> String {
    let mut out = String::new();
    let keys = redis.cli(&["--scan"]);
    for key in keys.lines().filter(|k| !k.is_empty()) {
        let ty = redis.cli(&["TYPE", key]);
        let value = match ty.as_str() {
            "hash" => redis.cli(&["HGETALL", key]),
            "string" => redis.cli(&["GET", key]),
            other => format!("({other})"),
        };
        out.push_str(&format!("{key} [{ty}]\n{value}\n"));
    }
    out
}

// ================================================================== child processes

/// A job for [`child_entry`]: connect to `mcp` with the credential in `store`, make `calls`
/// concurrent `echo` calls, report.
fn job(tag: &str, mcp: &str, store: &str, calls: usize) -> Value {
    json!({"tag": tag, "mcp": mcp, "store": store, "calls": calls})
}

/// A running child.
struct Proc {
    tag: String,
    child: tokio::process::Child,
    stdout: tokio::task::JoinHandle<String>,
    stderr: tokio::task::JoinHandle<String>,
}

/// What a child came to.
struct Outcome {
    tag: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
    report: Option<Value>,
}

/// Run this test binary's [`child_entry`] with `job`.
fn spawn_child(job: Value) -> Proc {
    let tag = job["tag"].as_str().unwrap_or("child").to_owned();
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = tokio::process::Command::new(exe)
        .args([
            "child_entry",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, job.to_string())
        // The store is the job's: nothing from the environment overrides it.
        .env_remove(STORE_ENV)
        .env_remove(KEY_ENV)
        .env_remove(KEY_FILE_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn child {tag}: {e}"));
    let read = |mut r: Box<dyn tokio::io::AsyncRead + Send + Unpin>| {
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf).await;
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    Proc {
        tag,
        child,
        stdout,
        stderr,
    }
}

impl Proc {
    /// Its process id.
    fn pid(&self) -> libc::pid_t {
        self.child.id().expect("the child is running") as libc::pid_t
    }

    /// Wait for it to exit (killed after `limit`, and then a panic with its output).
    async fn finish(mut self, limit: Duration) -> Outcome {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(s) => s.expect("wait for the child"),
            Err(_) => {
                let o = self.kill().await;
                panic!(
                    "child {} did not finish within {limit:?} (killed)\n{}",
                    o.tag,
                    o.show()
                );
            }
        };
        self.collect(status).await
    }

    /// Kill it now (SIGKILL) and collect what it said.
    async fn kill(mut self) -> Outcome {
        let _ = self.child.start_kill();
        let status = self.child.wait().await.expect("wait for the killed child");
        self.collect(status).await
    }

    async fn collect(self, status: ExitStatus) -> Outcome {
        let stdout = self.stdout.await.unwrap_or_default();
        let stderr = self.stderr.await.unwrap_or_default();
        let report = stdout
            .lines()
            .find_map(|l| l.strip_prefix(REPORT_PREFIX))
            .and_then(|l| serde_json::from_str(l).ok());
        Outcome {
            tag: self.tag,
            status,
            stdout,
            stderr,
            report,
        }
    }
}

impl Outcome {
    /// Everything it said, for failure messages (stderr's end only: its log can be long).
    fn show(&self) -> String {
        const TAIL: usize = 12 * 1024;
        let err = &self.stderr;
        let mut cut = err.len().saturating_sub(TAIL);
        while !err.is_char_boundary(cut) {
            cut += 1;
        }
        format!(
            "--- child {} ({}) stdout ---\n{}\n--- its stderr{} ---\n{}",
            self.tag,
            self.status,
            self.stdout.trim_end(),
            if cut > 0 { " (the end)" } else { "" },
            &err[cut..]
        )
    }

    /// Its report (a panic with its output when it printed none).
    fn report(&self) -> &Value {
        self.report.as_ref().unwrap_or_else(|| {
            panic!(
                "child {} printed no {REPORT_PREFIX}line\n{}",
                self.tag,
                self.show()
            )
        })
    }

    /// How many auth events of this kind it saw (`token_refreshed`, `token_adopted`, …).
    fn events(&self, kind: &str) -> u64 {
        self.report()["events"][kind].as_u64().unwrap_or(0)
    }

    /// It exited cleanly, connected, and made `calls` calls that all succeeded.
    fn assert_all_ok(&self, calls: usize) {
        let r = self.report();
        assert!(
            self.status.success()
                && r["connect_error"].is_null()
                && r["ok"].as_u64() == Some(calls as u64)
                && r["failed"].as_u64() == Some(0),
            "child {}: expected {calls} successful calls, got {r}\n{}",
            self.tag,
            self.show()
        );
    }

    /// One line for summaries.
    fn line(&self) -> String {
        match &self.report {
            Some(r) => format!(
                "{}: ok {} failed {} connect {} ms, calls {} ms, before go {}, events {}, \
                 connect error {}, first errors {}",
                self.tag,
                r["ok"],
                r["failed"],
                r["connect_ms"],
                r["calls_ms"],
                r["connected_before_go"],
                r["events"],
                r["connect_error"],
                r["errors"]
            ),
            None => format!("{}: {} without a report", self.tag, self.status),
        }
    }
}

/// Every child's line, then the full output of each that did not succeed.
fn summary(outcomes: &[Outcome]) -> String {
    let mut s: String = outcomes.iter().map(|o| o.line() + "\n").collect();
    for o in outcomes.iter().filter(|o| {
        !o.status.success() || o.report.as_ref().is_none_or(|r| r["failed"] != json!(0))
    }) {
        s.push_str(&o.show());
        s.push('\n');
    }
    s
}

/// A child's side: run the job in [`CHILD_ENV`] and print the report. Returns at once when
/// run without one (as in `cargo test -- --ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the fleet tests run it in child processes"]
async fn child_entry() {
    let Ok(raw) = std::env::var(CHILD_ENV) else {
        return;
    };
    let job: Value = serde_json::from_str(&raw).expect("the child's job");
    // The engine's and the store's log on stderr: the parent shows it when the child fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "warn,mcp_client::oauth=debug,mcp_client::store=debug",
        ))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let report = run_child(&job).await;
    println!("\n{REPORT_PREFIX}{report}");
}

/// Connect, wait for the job's start time if any, make the calls concurrently, and say what
/// happened: calls that succeeded and failed (with the first errors), the auth events seen,
/// and the times.
async fn run_child(job: &Value) -> Value {
    let tag = job["tag"].as_str().unwrap_or("child").to_owned();
    let mcp = job["mcp"].as_str().expect("the job's mcp URL");
    let store = job["store"].as_str().expect("the job's store");
    let calls = job["calls"].as_u64().unwrap_or(1) as usize;
    let go_at_ms = job["go_at_ms"].as_u64();

    let mut oauth = child_cfg(store);
    if let Some(id) = job["client_id"].as_str() {
        oauth = oauth.client(id, job["client_secret"].as_str());
    }
    let events: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let seen = events.clone();
    oauth = oauth.on_event(move |e: &AuthEvent| {
        let v: Value = serde_json::from_str(&e.to_json()).unwrap_or_default();
        let kind = v["event"].as_str().unwrap_or("?").to_owned();
        *seen.lock().unwrap().entry(kind).or_default() += 1;
    });

    let t0 = Instant::now();
    let connected = connect(mcp, oauth).await;
    let connect_ms = t0.elapsed().as_millis() as u64;
    let (mut ok, mut errors, mut connect_error) = (0usize, Vec::<String>::new(), None);
    let mut connected_before_go = true;
    let mut calls_ms = 0u64;
    match connected {
        Err(e) => connect_error = Some(format!("{e} ({e:?})")),
        Ok(client) => {
            if let Some(go) = go_at_ms {
                let now = unix_ms();
                connected_before_go = now < go;
                tokio::time::sleep(Duration::from_millis(go.saturating_sub(now))).await;
            }
            let t1 = Instant::now();
            let tasks: Vec<_> = (0..calls)
                .map(|i| {
                    let client = client.clone();
                    let text = format!("{tag} call {i}");
                    tokio::spawn(async move {
                        match client.call_tool("echo", json!({ "text": text })).await {
                            Ok(r) if text_of(&r) == Some(text.as_str()) => Ok(()),
                            Ok(r) => Err(format!("wrong answer: {r}")),
                            Err(e) => Err(format!("{e} ({e:?})")),
                        }
                    })
                })
                .collect();
            for t in tasks {
                match t.await {
                    Ok(Ok(())) => ok += 1,
                    Ok(Err(e)) => errors.push(e),
                    Err(e) => errors.push(format!("the call's task failed: {e}")),
                }
            }
            calls_ms = t1.elapsed().as_millis() as u64;
            let _ = client.close().await;
        }
    }
    let failed = calls - ok;
    errors.dedup();
    errors.truncate(10);
    let events = events.lock().unwrap().clone();
    json!({
        "tag": tag,
        "ok": ok,
        "failed": failed,
        "errors": errors,
        "connect_error": connect_error,
        "connect_ms": connect_ms,
        "calls_ms": calls_ms,
        "connected_before_go": connected_before_go,
        "events": events,
    })
}

// ================================================================== 1. the fleet

/// Processes in the fleet.
const FLEET: usize = 8;
/// Concurrent calls per process.
const CALLS_PER_PROCESS: usize = 200;
/// The access token lifetime of the fleet test.
///
/// The client's expiry is in whole seconds (`expires_at`, floored), and it refreshes a
/// quarter of the lifetime ahead (the 60 s margin capped at `lifetime / 4`): a token issued
/// at second `t + 0.999` counts as due at `t + TTL - TTL/4`, as little as `TTL - TTL/4 - 1`
/// seconds after it arrived. With a 3-second token (TTL/4 = 0) that is 2 s: a process that
/// starts (or is still calling) that long after the one refresh would rightly refresh again,
/// and "exactly one refresh" would fail for no fault of the engine on a loaded machine.
/// So the token lives 16 s (the refreshed one counts as good for at least 11 s, while the
/// whole fleet needs a few seconds at most), and the first expiry is forced by waiting for
/// it: the children are started at once, connect while the signed-in token is still good,
/// and then all fire their calls at one instant, half a second past that token's expiry as
/// the client counts it (`expires_at`; the server's exact expiry is within a second of it,
/// which does not matter: the client refreshes on its own count). Process start-up is off
/// the critical path, and every call of every process meets the expired token at once.
const FLEET_TTL_SECS: u64 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_meeting_an_expired_token_refresh_once() {
    if !redis_available() {
        return;
    }
    raise_fd_limit(8192);
    let redis = RedisServer::start();
    let server = auth_server(AuthOptions {
        access_token_ttl_secs: FLEET_TTL_SECS,
        rotate_refresh_tokens: true,
        ..Default::default()
    })
    .await;
    let store = format!("{}?prefix=fleet-eight", redis.url());

    let (client, engine) = sign_in(&server, parent_cfg(&store)).await;
    let expires_at = engine
        .status()
        .expires_at
        .expect("the signed-in token expires");
    client.close().await.expect("close the parent's client");
    let before = server.auth_stats();
    assert_eq!(before.authorize_requests, 1, "{before:?}");

    let go_at_ms = expires_at * 1000 + 500;
    let procs: Vec<Proc> = (0..FLEET)
        .map(|i| {
            let mut j = job(&format!("p{i}"), &server.url(), &store, CALLS_PER_PROCESS);
            j["go_at_ms"] = json!(go_at_ms);
            spawn_child(j)
        })
        .collect();
    let limit =
        Duration::from_millis(go_at_ms.saturating_sub(unix_ms())) + Duration::from_secs(120);
    let outcomes = futures_util::future::join_all(procs.into_iter().map(|p| p.finish(limit))).await;
    let after = server.auth_stats();
    let all = summary(&outcomes);
    eprintln!("fleet of {FLEET}:\n{all}");

    for o in &outcomes {
        o.assert_all_ok(CALLS_PER_PROCESS);
    }
    let refreshes =
        after.token_requests_for("refresh_token") - before.token_requests_for("refresh_token");
    assert_eq!(
        refreshes, 1,
        "exactly one refresh across {FLEET} processes (the others adopt it):\n{all}"
    );
    assert_eq!(after.refresh_replays_detected, 0, "{after:?}\n{all}");
    assert_eq!(
        after.invalid_grants, before.invalid_grants,
        "{after:?}\n{all}"
    );
    assert_eq!(
        after.authorize_requests, 1,
        "nobody signed in again: {after:?}"
    );
    assert_eq!(
        after.token_requests_for("authorization_code"),
        before.token_requests_for("authorization_code"),
        "{after:?}"
    );
    let refreshed: u64 = outcomes.iter().map(|o| o.events("token_refreshed")).sum();
    let adopted: u64 = outcomes.iter().map(|o| o.events("token_adopted")).sum();
    assert_eq!(refreshed, 1, "one process refreshed:\n{all}");
    // A process that connected only after the refresh loaded the new token (no adoption).
    let early = outcomes
        .iter()
        .all(|o| o.report()["connected_before_go"] == json!(true));
    if early {
        assert_eq!(
            adopted,
            FLEET as u64 - 1,
            "every other process adopted the refreshed token:\n{all}"
        );
    }
    server.shutdown().await;
    drop(redis);
}

// ================================================================== 2. the holder killed

/// How long the server holds a refresh request before using its refresh token.
const REFRESH_DELAY: Duration = Duration::from_secs(4);
/// The lease of the refresh lock in the takeover test.
const LEASE_MS: u64 = 1500;
/// How long after the killed process's refresh request reached the server it is killed
/// (well inside [`REFRESH_DELAY`]: the request must still be waiting).
const KILL_AFTER: Duration = Duration::from_secs(1);
/// Calls of each process taking over.
const TAKEOVER_CALLS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_holder_killed_mid_refresh_is_taken_over() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let dir = TempDir::new("fleet-takeover");
    let state_file = dir.path().join("as-state.json");
    // Long-lived tokens, made expired at the server below: every process then meets a 401
    // for its stored token and refreshes. (Not a short lifetime: the refreshed token could
    // then come due again during B's and C's calls, and another refresh, delayed 4 s at the
    // server, would blur "exactly one completed refresh".)
    let server = auth_server(AuthOptions {
        refresh_delay_ms: REFRESH_DELAY.as_millis() as u64,
        state_file: Some(state_file.clone()),
        ..Default::default()
    })
    .await;
    let store = format!("{}?prefix=fleet-takeover&lease_ms={LEASE_MS}", redis.url());

    let (client, _engine) = sign_in(&server, parent_cfg(&store)).await;
    client.close().await.expect("close the parent's client");
    let original: Vec<String> = refresh_tokens_in(&state_file).into_keys().collect();
    assert_eq!(original.len(), 1, "one refresh token after the sign-in");
    let original = original.into_iter().next().unwrap();
    server.expire_access_tokens();
    let before = server.auth_stats();

    // A: meets the expired token, takes the lease, sends its refresh (held by the server).
    let mut a = spawn_child(job("A", &server.url(), &store, 1));
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.auth_stats().token_requests_for("refresh_token")
        == before.token_requests_for("refresh_token")
    {
        if let Ok(Some(status)) = a.child.try_wait() {
            let o = a.collect(status).await;
            panic!(
                "A exited before its refresh reached the server\n{}",
                o.show()
            );
        }
        if Instant::now() > deadline {
            let o = a.kill().await;
            panic!("A's refresh never reached the server\n{}", o.show());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let arrived = Instant::now();
    // B and C start now: they meet the same expired token and wait for A's lease (and,
    // once A is dead, for the lease to run out: a dead holder publishes no release).
    let b = spawn_child(job("B", &server.url(), &store, TAKEOVER_CALLS));
    let c = spawn_child(job("C", &server.url(), &store, TAKEOVER_CALLS));
    tokio::time::sleep(KILL_AFTER).await;
    let waited = arrived.elapsed();
    assert!(
        waited < REFRESH_DELAY - Duration::from_millis(500),
        "the machine is too slow for this test: A was to be killed {KILL_AFTER:?} into its \
         refresh's {REFRESH_DELAY:?} wait at the server, and {waited:?} went by"
    );
    // SAFETY: our own child, not yet reaped (reaped by `finish` below).
    let killed = unsafe { libc::kill(a.pid(), libc::SIGKILL) };
    assert_eq!(killed, 0, "kill A: {}", std::io::Error::last_os_error());
    let a = a.finish(Duration::from_secs(10)).await;
    assert!(
        !a.status.success() && a.report.is_none(),
        "A was to die by SIGKILL mid-refresh\n{}",
        a.show()
    );

    let limit = Duration::from_secs(60);
    let (b, c) = tokio::join!(b.finish(limit), c.finish(limit));
    let bc_wall = arrived.elapsed();
    let after = server.auth_stats();
    let outcomes = [b, c];
    let all = summary(&outcomes);
    eprintln!("takeover (B and C done {bc_wall:?} after they started):\n{all}");

    for o in &outcomes {
        o.assert_all_ok(TAKEOVER_CALLS);
        let r = o.report();
        let served = Duration::from_millis(
            r["connect_ms"].as_u64().unwrap_or(0) + r["calls_ms"].as_u64().unwrap_or(0),
        );
        // A's lease runs out at most LEASE_MS after the kill (KILL_AFTER in); the refresh
        // then waits REFRESH_DELAY at the server: about 6.5 s. Waiters that did not take
        // over would wait out the lock wait (45 s) instead.
        assert!(
            served < Duration::from_secs(15),
            "{} was served after {served:?} (lease {LEASE_MS} ms + refresh delay \
             {REFRESH_DELAY:?} + slack expected)\n{all}",
            o.tag
        );
    }
    let refresh_reqs = token_requests(&server.requests(), "refresh_token")
        .into_iter()
        .map(|r| field(r, "refresh_token").unwrap_or("(none)").to_owned())
        .collect::<Vec<_>>();
    assert_eq!(
        refresh_reqs.len(),
        2,
        "two refresh requests: the killed one's and the one that took over\n{all}"
    );
    assert!(
        refresh_reqs.iter().all(|rt| *rt == original),
        "both presented the signed-in refresh token (the killed one never used it)\n{all}"
    );
    assert_eq!(after.refresh_replays_detected, 0, "{after:?}\n{all}");
    assert_eq!(
        after.invalid_grants, before.invalid_grants,
        "{after:?}\n{all}"
    );
    assert_eq!(
        after.authorize_requests, 1,
        "nobody signed in again: {after:?}"
    );
    // Exactly one refresh completed: the original token rotated to exactly one new one.
    let tokens = refresh_tokens_in(&state_file);
    assert_eq!(
        tokens.get(&original),
        Some(&false),
        "the original was used once"
    );
    let active: Vec<_> = tokens
        .iter()
        .filter(|(t, a)| **a && **t != original)
        .collect();
    assert_eq!(
        (tokens.len(), active.len()),
        (2, 1),
        "the original and the one refresh's token, nothing more: {tokens:?}\n{all}"
    );
    let refreshed: u64 = outcomes.iter().map(|o| o.events("token_refreshed")).sum();
    let adopted: u64 = outcomes.iter().map(|o| o.events("token_adopted")).sum();
    assert_eq!(
        (refreshed, adopted),
        (1, 1),
        "one of B and C refreshed, the other adopted:\n{all}"
    );
    server.shutdown().await;
    drop(redis);
}

// ================================================================== 3. Redis restarts

/// How long Redis stays down in the restart test.
const OUTAGE: Duration = Duration::from_secs(6);

/// One call of the restart test.
struct Call {
    started: Duration,
    ended: Duration,
    error: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_recover_when_redis_restarts_mid_run() {
    if !redis_available() {
        return;
    }
    let mut redis = RedisServer::start();
    let port = redis.port();
    let server = auth_server(AuthOptions {
        access_token_ttl_secs: 2,
        ..Default::default()
    })
    .await;
    // A short lock wait, so a refresh meeting the outage fails (naming the store) rather
    // than outwaiting it; a short lease, so one taken just before the stop cannot outlast it.
    let store = format!(
        "{}?prefix=fleet-restart&lease_ms=1000&lock_wait_ms=1500&timeout_ms=500",
        redis.url()
    );
    let (signer, _) = sign_in(&server, parent_cfg(&store)).await;
    signer.close().await.expect("close the signing client");
    let client = connect(&server.url(), child_cfg(&store))
        .await
        .expect("connect with the stored credential");

    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let log: Arc<Mutex<Vec<Call>>> = Arc::default();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (client, stop, log) = (client.clone(), stop.clone(), log.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let text = format!("worker {w} call {i}");
                    i += 1;
                    let started = start.elapsed();
                    let error = match client.call_tool("echo", json!({ "text": text })).await {
                        Ok(r) if text_of(&r) == Some(text.as_str()) => None,
                        Ok(r) => Some(format!("wrong answer: {r}")),
                        Err(e) => Some(format!("{e} ({e:?})")),
                    };
                    let ended = start.elapsed();
                    log.lock().unwrap().push(Call {
                        started,
                        ended,
                        error,
                    });
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let t_down = start.elapsed();
    redis = tokio::task::spawn_blocking(move || {
        redis.stop();
        redis
    })
    .await
    .expect("stop Redis");
    // The outage must see a refresh fail: the token (2 s, whole-second expiry, no margin)
    // comes due at most 2 s into it, and a refresh then gives up after the lock wait (1.5 s)
    // plus at most one connection timeout (0.5 s): by 4.1 s. Six seconds leave slack.
    tokio::time::sleep(OUTAGE).await;
    redis = tokio::task::spawn_blocking(move || {
        redis.restart();
        redis
    })
    .await
    .expect("restart Redis");
    let t_up = start.elapsed();
    let at_up = server.auth_stats();
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("a worker panicked");
    }
    let end = server.auth_stats();
    client.close().await.ok();

    let calls = std::mem::take(&mut *log.lock().unwrap());
    let failures: Vec<&Call> = calls.iter().filter(|c| c.error.is_some()).collect();
    let show = |cs: &[&Call]| {
        cs.iter()
            .take(10)
            .map(|c| {
                format!(
                    "  {:?}..{:?}: {}\n",
                    c.started,
                    c.ended,
                    c.error.as_deref().unwrap_or("ok")
                )
            })
            .collect::<String>()
    };
    let story = format!(
        "{} calls, {} failed; Redis down at {t_down:?}, back at {t_up:?}; refreshes {} \
         ({} after the restart); first failures:\n{}",
        calls.len(),
        failures.len(),
        end.token_requests_for("refresh_token"),
        end.token_requests_for("refresh_token") - at_up.token_requests_for("refresh_token"),
        show(&failures)
    );
    eprintln!("redis restart: {story}");

    let before_outage: Vec<&Call> = failures
        .iter()
        .copied()
        .filter(|c| c.ended < t_down)
        .collect();
    assert!(
        before_outage.is_empty(),
        "failures before Redis stopped:\n{story}"
    );
    let store_named = format!("redis://127.0.0.1:{port}");
    let unclear: Vec<&Call> = failures
        .iter()
        .copied()
        .filter(|c| {
            let e = c.error.as_deref().unwrap_or_default();
            !(e.contains(&store_named) && e.contains("unavailable"))
        })
        .collect();
    assert!(
        unclear.is_empty(),
        "failures that do not name the store ({store_named}) as unavailable:\n{}\n{story}",
        show(&unclear)
    );
    assert!(
        !failures.is_empty(),
        "no call noticed the outage (a 2 s token must have been refreshed in it):\n{story}"
    );
    let after_restart: Vec<&Call> = calls.iter().filter(|c| c.started >= t_up).collect();
    assert!(
        after_restart.len() >= 8,
        "too few calls after the restart:\n{story}"
    );
    let failed_after: Vec<&Call> = after_restart
        .iter()
        .copied()
        .filter(|c| c.error.is_some())
        .collect();
    assert!(
        failed_after.is_empty(),
        "calls failed after Redis was back:\n{}\n{story}",
        show(&failed_after)
    );
    assert!(
        end.token_requests_for("refresh_token") > at_up.token_requests_for("refresh_token"),
        "refreshes went on after the restart:\n{story}"
    );
    assert_eq!(end.refresh_replays_detected, 0, "{end:?}\n{story}");
    assert_eq!(end.authorize_requests, 1, "nobody signed in again: {end:?}");
    server.shutdown().await;
    drop(redis);
}

// ================================================================== 4. Redis down at start

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_at_start_is_a_clear_error() {
    // Needs no redis-server: nothing listens on the port, as when Redis is down.
    let port = common::free_port();
    let server = auth_server(AuthOptions::default()).await;
    let url = format!("redis://127.0.0.1:{port}/0?timeout_ms=500");

    let t = Instant::now();
    let Err(e) = connect(&server.url(), parent_cfg(&url)).await else {
        panic!("a client connected (and signed in?) without its store");
    };
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("redis://127.0.0.1:{port}")) && msg.contains("unavailable"),
        "the error names the store and says it is unavailable: {msg}"
    );
    assert!(
        matches!(e, Error::OAuth(OAuthError::StoreUnavailable { .. })),
        "{e:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    let stats = server.auth_stats();
    assert_eq!(
        stats.authorize_requests, 0,
        "no sign-in without the store: {stats:?}"
    );
    assert_eq!(stats.token_requests_total(), 0, "{stats:?}");
    assert_eq!(stats.registrations, 0, "{stats:?}");

    // With a local fallback: one warning (the store-selected event says why), and it works.
    let events: Arc<Mutex<Vec<AuthEvent>>> = Arc::default();
    let seen = events.clone();
    let oauth = parent_cfg(&format!("{url}&fallback=memory"))
        .on_event(move |e: &AuthEvent| seen.lock().unwrap().push(e.clone()));
    let client = connect(&server.url(), oauth)
        .await
        .unwrap_or_else(|e| panic!("with fallback=memory the client signs in: {e}"));
    common::oauth::echo(&client).await.expect("a call");
    client.close().await.ok();
    assert_eq!(server.auth_stats().authorize_requests, 1);
    let events = events.lock().unwrap().clone();
    let fallback = events.iter().find_map(|e| match e {
        AuthEvent::StoreSelected {
            store,
            fallback: Some(why),
            ..
        } => Some((store.clone(), why.clone())),
        _ => None,
    });
    let (store, why) = fallback.unwrap_or_else(|| panic!("no fallback announced: {events:?}"));
    assert_eq!(store, "memory");
    assert!(
        why.contains(&format!("redis://127.0.0.1:{port}")) && why.contains("unavailable"),
        "{why}"
    );
    server.shutdown().await;
}

// ================================================================== 5. encryption

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_entries_leave_no_token_readable_in_redis() {
    if !redis_available() {
        return;
    }
    const CLIENT_ID: &str = "opaque-client-7";
    let client_secret = format!("fleet-client-secret-{}", unix_ms());
    let redis = RedisServer::start();
    let dir = TempDir::new("fleet-sealed");
    let key_file = dir.path().join("store.key");
    // The key as an operator would write it: 64 hex digits (a URL parameter, not
    // MCP_CLIENT_STORE_KEY: the environment is this whole test binary's).
    std::fs::write(&key_file, "5a".repeat(32)).expect("write the key file");
    let state_file = dir.path().join("as-state.json");
    let server = auth_server(AuthOptions {
        pre_registered: vec![PreRegistered::confidential(
            CLIENT_ID,
            client_secret.clone(),
            "client_secret_basic",
        )],
        state_file: Some(state_file.clone()),
        ..Default::default()
    })
    .await;
    let key_param: String =
        url::form_urlencoded::byte_serialize(key_file.to_string_lossy().as_bytes()).collect();
    let plain = format!("{}?prefix=fleet-sealed", redis.url());
    let sealed = format!("{plain}&key_file={key_param}");

    let (client, _) = sign_in(
        &server,
        parent_cfg(&sealed).client(CLIENT_ID, Some(&client_secret)),
    )
    .await;
    client.close().await.expect("close the parent's client");
    let before = server.auth_stats();

    // Every secret the server handed out: access tokens (as presented), refresh tokens (its
    // state), the client secret.
    let mut secrets: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.path == "/mcp")
        .filter_map(|r| bearer_of(r).map(str::to_owned))
        .collect();
    assert!(!secrets.is_empty(), "no access token was presented");
    let refresh = refresh_tokens_in(&state_file);
    assert!(!refresh.is_empty(), "no refresh token was issued");
    secrets.extend(refresh.into_keys());
    secrets.push(client_secret.clone());
    secrets.sort();
    secrets.dedup();

    let check = |when: &str| {
        let dump = dump_redis(&redis);
        assert!(
            dump.contains(":cred:") && dump.contains("mcp-sealed-v1:"),
            "{when}: no sealed entry in Redis:\n{dump}"
        );
        for s in &secrets {
            assert!(
                !dump.contains(s.as_str()),
                "{when}: a token or secret is readable in Redis:\n{dump}"
            );
        }
        for word in ["access_token", "refresh_token", "client_secret", CLIENT_ID] {
            assert!(
                !dump.contains(word),
                "{when}: `{word}` readable in Redis:\n{dump}"
            );
        }
    };
    check("after the sign-in");

    // Without the key the entry is an error naming the store and the missing key (not an
    // absence: that process would sign in and replace the fleet's sealed entry).
    // The same client as the others, so nothing but the key differs.
    let with_client = |mut j: Value| {
        j["client_id"] = json!(CLIENT_ID);
        j["client_secret"] = json!(client_secret);
        j
    };
    let keyless = spawn_child(with_client(job("keyless", &server.url(), &plain, 1)))
        .finish(Duration::from_secs(60))
        .await;
    let r = keyless.report();
    let why = r["connect_error"].as_str().unwrap_or_default();
    assert!(
        keyless.status.success() && why.contains("unavailable") && why.contains("has no key"),
        "a process without the key cannot use the entry, and says why:\n{}",
        keyless.show()
    );
    assert_eq!(
        server.auth_stats().authorize_requests,
        1,
        "nobody signed in"
    );
    check("after a process without the key");

    // With the key: the stored token serves it, no sign-in, no refresh.
    let keyed = spawn_child(with_client(job("keyed", &server.url(), &sealed, 3)))
        .finish(Duration::from_secs(60))
        .await;
    eprintln!("{}\n{}", keyless.line(), keyed.line());
    keyed.assert_all_ok(3);
    let after = server.auth_stats();
    assert_eq!(after.authorize_requests, 1, "no new sign-in: {after:?}");
    assert_eq!(
        after.token_requests_total(),
        before.token_requests_total(),
        "{after:?}"
    );
    assert_eq!(keyed.events("signed_in"), 0, "{}", keyed.show());
    check("after a process with the key");
    server.shutdown().await;
}
