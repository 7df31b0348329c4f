//! Hostile servers: one test per misbehaviour of the test server's `/hostile/{case}` routes
//! (tests/server/src/hostile), each a complete MCP + OAuth server that is correct except for
//! that one behaviour. Every test asserts the typed error (or the recovery) the client must
//! come to, within a bound a little over the configured timeouts, with no panic anywhere and no
//! secret (client secret, tokens, codes, PKCE verifiers, Basic credentials: every one the
//! server saw or handed out) in any log line (TRACE), authorization event, or error
//! (`Display` and `Debug`). The cases with big bodies run the client in a child process (this
//! test binary again, `child_process_entry`) whose peak RSS is measured and bounded.

mod common;

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::oauth::*;
use common::*;
use mcp_client::oauth::{HeadlessPresenter, OAuthConfig, OAuthError};
use mcp_client::store::StoreChoice;
use mcp_client::{Client, Error, ErrorKind};
use mcp_test_server::TestServer;
use serde_json::{json, Value};

// ------------------------------------------------------------------ configuration

/// The client's request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// The timeout of each OAuth request.
const OAUTH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a sign-in may wait for the browser's redirect.
const REDIRECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Slack over a configured timeout before the test calls it a hang (the whole run is
/// measured: the sign-in before the timed request, the close after it, on 2 busy cores).
const SLACK: Duration = Duration::from_millis(2500);
/// The bound of a case that fails without waiting on any timeout.
const QUICK: Duration = Duration::from_secs(5);
/// The largest peak RSS a child process may reach in a big-body case.
const MAX_RSS_MIB: u64 = 200;
/// The canary client secret the hostile servers' pre-registered client has.
const CLIENT_ID: &str = "hostile-client";
const CLIENT_SECRET: &str = "hostile-canary-client-secret-5b1e9f";

/// How the client is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reg {
    /// The pre-registered confidential client (`client_secret_basic`): a secret in play.
    Confidential,
    /// Dynamic registration (a public client).
    Dynamic,
}

// ------------------------------------------------------------------ capture: logs and panics

#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where this process's TRACE log goes: memory, or (in a child) a file.
enum Logs {
    Memory(LogBuf),
    File(std::path::PathBuf),
}

/// Installs (once) the global subscriber at TRACE (hyper and h2 at DEBUG: their TRACE is
/// per read and write, and prints no header or body) and a panic hook that records panics on
/// threads other than the tests' own (runtime workers: background tasks).
fn capture() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().map(str::to_owned);
            let ours = name.as_deref().is_some_and(|n| {
                n.starts_with("hostile_") || n == "child_process_entry" || n == "main"
            });
            if !ours {
                background_panics()
                    .lock()
                    .unwrap()
                    .push(format!("{name:?}: {info}"));
            }
            prev(info);
        }));
        let filter =
            tracing_subscriber::EnvFilter::new("trace,hyper=debug,hyper_util=debug,h2=debug");
        match std::env::var_os("HOSTILE_CHILD_LOG") {
            Some(path) => {
                let path = std::path::PathBuf::from(path);
                let file = std::fs::File::create(&path).expect("the child's log file");
                let sub = tracing_subscriber::fmt()
                    .with_env_filter(filter)
                    .with_ansi(false)
                    .with_writer(Mutex::new(file))
                    .finish();
                tracing::subscriber::set_global_default(sub).expect("one global subscriber");
                Logs::File(path)
            }
            None => {
                let buf = LogBuf::default();
                let writer = buf.clone();
                let sub = tracing_subscriber::fmt()
                    .with_env_filter(filter)
                    .with_ansi(false)
                    .with_writer(move || writer.clone())
                    .finish();
                tracing::subscriber::set_global_default(sub).expect("one global subscriber");
                Logs::Memory(buf)
            }
        }
    })
}

fn background_panics() -> &'static Mutex<Vec<String>> {
    static P: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    P.get_or_init(Mutex::default)
}

/// The length of the in-memory log so far.
fn log_len() -> usize {
    match capture() {
        Logs::Memory(b) => b.0.lock().unwrap().len(),
        Logs::File(_) => 0,
    }
}

/// Panics when a secret occurs in the log written since `from`.
fn check_log(from: usize, secrets: &[String]) {
    match capture() {
        Logs::Memory(b) => {
            let text = String::from_utf8_lossy(&b.0.lock().unwrap()[from..]).into_owned();
            assert!(
                text.contains("mcp_client"),
                "the library's events were captured"
            );
            assert_absent(secrets, "the TRACE log", &text);
        }
        Logs::File(path) => {
            let f = std::fs::File::open(path).expect("the log file");
            let mut ours = false;
            for line in std::io::BufReader::new(f).split(b'\n') {
                let line = String::from_utf8_lossy(&line.expect("a log line")).into_owned();
                ours |= line.contains("mcp_client");
                assert_absent(secrets, "the TRACE log", &line);
            }
            assert!(ours, "the library's events were captured");
        }
    }
}

/// Panics when a secret, or the start or end of one (a secret cut short by an excerpt),
/// occurs in `text`.
fn assert_absent(secrets: &[String], what: &str, text: &str) {
    const PART: usize = 16;
    for s in secrets {
        let mut needles = vec![s.as_str()];
        if s.len() >= 2 * PART && s.is_char_boundary(PART) && s.is_char_boundary(s.len() - PART) {
            needles.push(&s[..PART]);
            needles.push(&s[s.len() - PART..]);
        }
        for needle in needles {
            assert_not_in(needle, what, text);
        }
    }
}

fn assert_not_in(s: &str, what: &str, text: &str) {
    if let Some(i) = text.find(s) {
        let start = text[..i]
            .char_indices()
            .rev()
            .nth(80)
            .map(|(j, _)| j)
            .unwrap_or(0);
        panic!("a secret appears in {what}: …{}[SECRET]…", &text[start..i]);
    }
}

// ------------------------------------------------------------------ one hostile server

/// A test server and one of its hostile cases, with the client's authorization events.
struct Hostile {
    /// The server (none in a child process: it runs in the parent).
    server: Option<TestServer>,
    base: String,
    case: String,
    events: Arc<Mutex<Vec<String>>>,
    log_from: usize,
}

/// What one run of the client came to.
struct Run {
    h: Hostile,
    outcome: Result<Value, Error>,
    elapsed: Duration,
}

impl Hostile {
    async fn start(case: &str) -> Self {
        let server = default_server().await;
        let base = server.base_url();
        Self::at(Some(server), base, case)
    }

    fn at(server: Option<TestServer>, base: String, case: &str) -> Self {
        capture();
        Hostile {
            server,
            base,
            case: case.to_owned(),
            events: Arc::default(),
            log_from: log_len(),
        }
    }

    fn url(&self) -> String {
        format!("{}/hostile/{}/mcp", self.base, self.case)
    }

    fn server(&self) -> &TestServer {
        self.server
            .as_ref()
            .expect("the server runs in this process")
    }

    /// OAuth as the tests use it: a memory store, the headless presenter, short timeouts,
    /// the events recorded.
    fn oauth(&self, reg: Reg) -> OAuthConfig {
        let sink = self.events.clone();
        let mut c = OAuthConfig {
            store: StoreChoice::Memory,
            http_timeout: OAUTH_TIMEOUT,
            redirect_timeout: REDIRECT_TIMEOUT,
            ..Default::default()
        }
        .presenter(HeadlessPresenter::new().expect("headless presenter"))
        .on_event(move |e| {
            let mut v = sink.lock().unwrap();
            v.push(e.to_json());
            v.push(e.to_string());
        });
        if reg == Reg::Confidential {
            c = c.client(CLIENT_ID, Some(CLIENT_SECRET));
        }
        c
    }

    async fn connect(&self, reg: Reg) -> Result<Client, Error> {
        mcp_client::ClientBuilder::http(&self.url())
            .expect("url")
            .request_timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .open_get_stream(false)
            .oauth(self.oauth(reg))
            .connect()
            .await
    }

    /// What the hostile routes report: every secret they saw, and the bytes of this case's
    /// generated bodies.
    async fn state(&self) -> Value {
        let resp = http_client(false)
            .get(format!("{}/hostile/_state", self.base))
            .send()
            .await
            .expect("GET /hostile/_state");
        let bytes = resp.bytes().await.expect("the state");
        serde_json::from_slice(&bytes).expect("the state as JSON")
    }

    async fn secrets(&self) -> Vec<String> {
        let state = self.state().await;
        let mut out: Vec<String> = state["secrets"]
            .as_array()
            .expect("secrets")
            .iter()
            .filter_map(|s| s["value"].as_str().map(str::to_owned))
            .collect();
        out.push(CLIENT_SECRET.to_owned());
        out
    }

    /// Bytes the case's generated bodies yielded.
    async fn streamed(&self) -> u64 {
        self.state().await["streamed"][&self.case]
            .as_u64()
            .unwrap_or(0)
    }

    /// No secret in the log since the start, in the events, or in `texts`; no background panic.
    async fn check(&self, texts: &[(&str, String)]) {
        let secrets = self.secrets().await;
        check_log(self.log_from, &secrets);
        for e in self.events.lock().unwrap().iter() {
            assert_absent(&secrets, "an authorization event", e);
        }
        for (what, t) in texts {
            assert_absent(&secrets, what, t);
        }
        let panics = background_panics().lock().unwrap().clone();
        assert!(panics.is_empty(), "panics in background tasks: {panics:?}");
    }
}

fn describe(e: &Error) -> String {
    format!("{e}\n{e:?}")
}

/// Connect (signing in) and call `echo`, within `limit`.
async fn run_client(h: Hostile, reg: Reg, limit: Duration) -> Run {
    let started = Instant::now();
    let fut = async {
        let client = h.connect(reg).await?;
        let r = client.call_tool("echo", json!({"text": "hostile"})).await;
        let _ = client.close().await;
        r
    };
    let outcome = match tokio::time::timeout(limit + Duration::from_secs(5), fut).await {
        Ok(r) => r,
        Err(_) => panic!("{}: the client hung (over {limit:?})", h.case),
    };
    let elapsed = started.elapsed();
    assert!(
        elapsed < limit,
        "{}: took {elapsed:?}, over {limit:?} ({:?})",
        h.case,
        outcome.as_ref().err()
    );
    Run {
        h,
        outcome,
        elapsed,
    }
}

/// The case must end in an error within `limit`; returns it (secrets checked).
async fn fails_within(case: &str, reg: Reg, limit: Duration) -> (Error, Hostile) {
    let h = Hostile::start(case).await;
    let run = run_client(h, reg, limit).await;
    let e = match run.outcome {
        Ok(v) => panic!("{case}: expected an error, got {v}"),
        Err(e) => e,
    };
    run.h.check(&[("the error", describe(&e))]).await;
    eprintln!("{case}: {e} ({:?})", run.elapsed);
    (e, run.h)
}

async fn fails(case: &str) -> Error {
    fails_within(case, Reg::Confidential, QUICK).await.0
}

async fn fails_dynamic(case: &str) -> Error {
    fails_within(case, Reg::Dynamic, QUICK).await.0
}

/// The case must still work: sign in and call a tool (secrets checked).
async fn recovers(case: &str, reg: Reg) -> Hostile {
    let h = Hostile::start(case).await;
    let run = run_client(h, reg, QUICK).await;
    match &run.outcome {
        Ok(v) => assert_eq!(first_text(v), "hostile", "{case}"),
        Err(e) => panic!("{case}: expected a recovery, got {e:?}"),
    }
    run.h.check(&[]).await;
    eprintln!("{case}: recovered ({:?})", run.elapsed);
    run.h
}

/// The OAuth error inside `e`.
fn oauth(e: &Error) -> &OAuthError {
    match e {
        Error::OAuth(o) => o,
        other => panic!("expected Error::OAuth, got {other:?}"),
    }
}

fn assert_insecure(e: &Error) {
    assert!(
        matches!(oauth(e), OAuthError::InsecureEndpoint { .. }),
        "{e:?}"
    );
}

/// Requests the server recorded whose path ends with `suffix`.
fn count(h: &Hostile, suffix: &str) -> usize {
    h.server()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(suffix))
        .count()
}

// ------------------------------------------------------------------ child processes

/// What a run in a child process came to.
#[derive(Debug)]
struct Child {
    /// The error's `Debug` (or `Ok`).
    debug: String,
    display: String,
    kind: String,
    /// Peak resident set size, KiB.
    max_rss_kib: u64,
}

/// Runs the client against `case` in a child process (this test binary, at
/// `child_process_entry`), and measures its peak RSS with `wait4`.
async fn in_child(case: &str, reg: Reg, limit: Duration) -> (Child, Hostile) {
    let h = Hostile::start(case).await;
    let log = std::env::temp_dir().join(format!(
        "mcp-client-hostile-{case}-{}.log",
        std::process::id()
    ));
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("the test binary"));
    cmd.args([
        "child_process_entry",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("HOSTILE_CHILD_BASE", &h.base)
    .env("HOSTILE_CHILD_CASE", case)
    .env("HOSTILE_CHILD_REG", format!("{reg:?}"))
    .env("HOSTILE_CHILD_LIMIT_MS", limit.as_millis().to_string())
    .env("HOSTILE_CHILD_LOG", &log)
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn the child");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let read_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let read_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let deadline = Instant::now() + limit + Duration::from_secs(20);
    let (status, rusage) = tokio::task::spawn_blocking(move || loop {
        let mut status = 0;
        // SAFETY: plain POSIX call on our own child; `ru` is a valid out-parameter.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            return (status, ru);
        }
        if Instant::now() > deadline {
            // SAFETY: our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
            panic!("the child process hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    })
    .await
    .expect("wait for the child");
    drop(child);
    let stdout = read_out.join().unwrap_or_default();
    let stderr = read_err.join().unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{case}: the child failed (status {status}):\n{stdout}\n{stderr}"
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("HOSTILE-CHILD ").map(|(_, v)| v))
        .unwrap_or_else(|| panic!("{case}: no outcome from the child:\n{stdout}\n{stderr}"));
    let v: Value = serde_json::from_str(line).expect("the child's outcome");
    let secrets = h.secrets().await;
    assert_absent(&secrets, "the child's output", &stdout);
    assert_absent(&secrets, "the child's stderr", &stderr);
    let child = Child {
        debug: v["debug"].as_str().unwrap_or_default().to_owned(),
        display: v["display"].as_str().unwrap_or_default().to_owned(),
        kind: v["kind"].as_str().unwrap_or_default().to_owned(),
        max_rss_kib: rusage.ru_maxrss as u64,
    };
    let mib = child.max_rss_kib / 1024;
    eprintln!(
        "{case}: peak RSS of the child {mib} MiB; {} ({} ms)",
        child.display, v["elapsed_ms"]
    );
    println!("PEAK-RSS {case} {mib} MiB");
    assert!(
        mib < MAX_RSS_MIB,
        "{case}: the child's peak RSS is {mib} MiB, over {MAX_RSS_MIB} MiB"
    );
    (child, h)
}

/// The child's side of [`in_child`]: run the client, check the secrets, print the outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the big-body tests run it in a child process"]
async fn child_process_entry() {
    let (Ok(base), Ok(case)) = (
        std::env::var("HOSTILE_CHILD_BASE"),
        std::env::var("HOSTILE_CHILD_CASE"),
    ) else {
        return;
    };
    let reg = match std::env::var("HOSTILE_CHILD_REG").as_deref() {
        Ok("Dynamic") => Reg::Dynamic,
        _ => Reg::Confidential,
    };
    let limit = Duration::from_millis(
        std::env::var("HOSTILE_CHILD_LIMIT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000),
    );
    let h = Hostile::at(None, base, &case);
    let run = run_client(h, reg, limit).await;
    let (debug, display, kind) = match &run.outcome {
        Ok(v) => ("Ok".to_owned(), v.to_string(), "Ok".to_owned()),
        Err(e) => (format!("{e:?}"), e.to_string(), format!("{:?}", e.kind())),
    };
    run.h
        .check(&[("the error", format!("{display}\n{debug}"))])
        .await;
    let out = json!({
        "debug": debug,
        "display": display,
        "kind": kind,
        "elapsed_ms": run.elapsed.as_millis() as u64,
    });
    println!("\nHOSTILE-CHILD {out}");
}

// ================================================================== discovery and metadata

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_prm_auth_server_plain_http() {
    assert_insecure(&fails("prm_auth_server_plain_http").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_as_endpoint_plain_http() {
    assert_insecure(&fails("as_endpoint_plain_http").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_resource_metadata_url_plain_http() {
    assert_insecure(&fails("resource_metadata_url_plain_http").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_metadata_other_origin() {
    // Endpoints on another origin (the same server as `localhost`) are the authorization
    // server's to choose: the flow goes there; the access token never does.
    let h = recovers("metadata_other_origin", Reg::Dynamic).await;
    let reqs = h.server().requests();
    let elsewhere: Vec<_> = reqs
        .iter()
        .filter(|r| r.header("host").is_some_and(|v| v.starts_with("localhost")))
        .collect();
    assert!(
        elsewhere.iter().any(|r| r.path.ends_with("/token")),
        "the token request went to the other origin: {elsewhere:?}"
    );
    for r in elsewhere {
        let auth = r.header("authorization").unwrap_or_default();
        assert!(!auth.starts_with("Bearer"), "a token went to {}", r.path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_issuer_mismatch() {
    let e = fails("issuer_mismatch").await;
    match oauth(&e) {
        OAuthError::IssuerMismatch { found, .. } => assert_eq!(found, "https://honest.example"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_issuer_mixup_other_origin() {
    let e = fails("issuer_mixup_other_origin").await;
    match oauth(&e) {
        OAuthError::IssuerMismatch { expected, found } => {
            assert!(expected.starts_with("http://localhost:"), "{expected}");
            assert!(found.starts_with("http://127.0.0.1:"), "{found}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_resource_for_another_server() {
    let (e, h) = fails_within("resource_for_another_server", Reg::Confidential, QUICK).await;
    match oauth(&e) {
        OAuthError::ResourceMismatch { advertised, .. } => {
            assert_eq!(advertised, "http://127.0.0.1:1/mcp")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        count(&h, "/token"),
        0,
        "no token request after the mismatch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_resource_parent_path() {
    let e = fails("resource_parent_path").await;
    assert!(
        matches!(oauth(&e), OAuthError::ResourceMismatch { .. }),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_javascript_authorization_endpoint() {
    let e = fails("javascript_authorization_endpoint").await;
    assert_insecure(&e);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_file_token_endpoint() {
    assert_insecure(&fails("file_token_endpoint").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_data_registration_endpoint() {
    assert_insecure(&fails_dynamic("data_registration_endpoint").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_javascript_resource_metadata_url() {
    assert_insecure(&fails("javascript_resource_metadata_url").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_file_authorization_server() {
    assert_insecure(&fails("file_authorization_server").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_prm_without_authorization_servers() {
    let e = fails("prm_without_authorization_servers").await;
    assert!(matches!(oauth(&e), OAuthError::BadMetadata { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_pkce_not_advertised() {
    let e = fails("pkce_not_advertised").await;
    assert!(
        matches!(oauth(&e), OAuthError::PkceNotSupported { .. }),
        "{e:?}"
    );
}

// ================================================================== redirect loops

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_metadata_redirect_loop() {
    let (e, h) = fails_within("metadata_redirect_loop", Reg::Confidential, QUICK).await;
    assert!(
        matches!(oauth(&e), OAuthError::HttpStatus { status: 302, .. }),
        "{e:?}"
    );
    // No redirect was followed: each metadata URL was asked once.
    assert!(count(&h, "/hostile/metadata_redirect_loop/mcp") <= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_as_metadata_redirect_loop() {
    let e = fails("as_metadata_redirect_loop").await;
    assert!(
        matches!(oauth(&e), OAuthError::NoAuthServerMetadata { .. }),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_mcp_redirect_loop() {
    let (e, h) = fails_within("mcp_redirect_loop", Reg::Confidential, QUICK).await;
    assert!(matches!(e, Error::HttpStatus { status: 307, .. }), "{e:?}");
    // Each request followed at most a handful of redirects.
    assert!(count(&h, "/mcp") <= 40, "{}", count(&h, "/mcp"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_authorize_redirect_loop() {
    let (e, h) = fails_within("authorize_redirect_loop", Reg::Confidential, QUICK).await;
    assert!(matches!(oauth(&e), OAuthError::Config(_)), "{e:?}");
    assert_eq!(count(&h, "/token"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_token_redirect_loop() {
    let (e, h) = fails_within("token_redirect_loop", Reg::Confidential, QUICK).await;
    assert!(matches!(oauth(&e), OAuthError::BadResponse { .. }), "{e:?}");
    assert!(count(&h, "/token") <= 2);
}

// ================================================================== refusals without end

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_endless_401() {
    let (e, h) = fails_within("endless_401", Reg::Confidential, QUICK).await;
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    let (authorize, token) = (count(&h, "/authorize"), count(&h, "/token"));
    eprintln!("endless_401: {authorize} sign-ins, {token} token requests");
    assert!(
        authorize <= 2 && token <= 12,
        "{authorize} sign-ins, {token} token requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_endless_403_insufficient_scope() {
    let (e, h) = fails_within("endless_403_insufficient_scope", Reg::Confidential, QUICK).await;
    assert!(matches!(oauth(&e), OAuthError::StepUpLimit { .. }), "{e:?}");
    assert!(count(&h, "/authorize") <= 3, "{}", count(&h, "/authorize"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_endless_403() {
    let (e, h) = fails_within("endless_403", Reg::Confidential, QUICK).await;
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    assert_eq!(
        count(&h, "/authorize"),
        1,
        "a plain 403 calls for no new sign-in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_endless_invalid_client() {
    let (e, h) = fails_within("endless_invalid_client", Reg::Confidential, QUICK).await;
    assert_eq!(oauth(&e).oauth_error(), Some("invalid_client"), "{e:?}");
    assert!(count(&h, "/token") <= 2, "{}", count(&h, "/token"));
}

// ================================================================== WWW-Authenticate

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_www_authenticate_thousands_of_params() {
    recovers("www_authenticate_thousands_of_params", Reg::Confidential).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_www_authenticate_one_mebibyte() {
    let (c, _) = in_child("www_authenticate_one_mebibyte", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("Connect"), "{c:?}");
    assert_eq!(c.kind, "Transport");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_www_authenticate_invalid_utf8() {
    // The unreadable challenge is ignored: discovery goes through the well-known URLs.
    recovers("www_authenticate_invalid_utf8", Reg::Confidential).await;
}

// ================================================================== big bodies (child processes)

/// The bytes a case's generated body yielded: far less than it would have been.
async fn assert_stopped(h: &Hostile, max: u64) {
    // The server notices the hang-up at its next write.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = h.streamed().await;
    assert!(sent < max, "{}: the server sent {sent} bytes", h.case);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gigabyte_body() {
    let (c, h) = in_child("gigabyte_body", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("BodyTooLarge"), "{c:?}");
    assert_stopped(&h, 64 << 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gigabyte_body_declared() {
    let (c, h) = in_child("gigabyte_body_declared", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("BodyTooLarge"), "{c:?}");
    assert_stopped(&h, 64 << 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gigabyte_token_response() {
    let (c, h) = in_child("gigabyte_token_response", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("OAuth(BadResponse"), "{c:?}");
    assert_stopped(&h, 16 << 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gigabyte_metadata() {
    let (c, h) = in_child("gigabyte_metadata", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("OAuth(BadResponse"), "{c:?}");
    assert_stopped(&h, 16 << 20).await;
}

/// The client neither asks for compression nor inflates what it did not ask for.
fn assert_no_accept_encoding(h: &Hostile) {
    for r in h.server().requests() {
        assert!(
            r.header("accept-encoding").is_none(),
            "{} asked for {:?}",
            r.path,
            r.header("accept-encoding")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gzip_bomb() {
    let (c, h) = in_child("gzip_bomb", Reg::Confidential, QUICK).await;
    // Read as the 6.5 MB it is (not inflated), and not JSON.
    assert!(c.debug.starts_with("MalformedMessage"), "{c:?}");
    assert_no_accept_encoding(&h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_brotli_bomb() {
    let (c, h) = in_child("brotli_bomb", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("MalformedMessage"), "{c:?}");
    assert_no_accept_encoding(&h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gzip_bomb_token_response() {
    let (c, h) = in_child("gzip_bomb_token_response", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("OAuth(BadResponse"), "{c:?}");
    assert_no_accept_encoding(&h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_deep_json_result() {
    let (c, _) = in_child("deep_json_result", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("MalformedMessage"), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_deep_json_metadata() {
    let (c, _) = in_child("deep_json_metadata", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("OAuth(BadResponse"), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_deep_json_token_response() {
    // An unknown member, however deep, is skipped (without recursion): the token is good.
    let (c, _) = in_child("deep_json_token_response", Reg::Confidential, QUICK).await;
    assert_eq!(c.debug, "Ok", "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_endless_sse_line() {
    let (c, h) = in_child("endless_sse_line", Reg::Confidential, QUICK).await;
    assert!(c.debug.starts_with("BodyTooLarge"), "{c:?}");
    assert_stopped(&h, 64 << 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_notification_flood() {
    // The server and the client both run flat out for the whole timeout here, so on two
    // cores shared with the rest of the suite the timer's wake-up waits for CPU: CI once saw
    // 6.1 s. Twice the timeout still tells a bounded call from one the flood keeps alive.
    let (c, _) = in_child(
        "notification_flood",
        Reg::Confidential,
        REQUEST_TIMEOUT * 2 + SLACK,
    )
    .await;
    assert!(c.debug.starts_with("Timeout"), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_sse_comments_forever() {
    let (e, _) = fails_within(
        "sse_comments_forever",
        Reg::Confidential,
        REQUEST_TIMEOUT + SLACK,
    )
    .await;
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
}

// ================================================================== slow servers

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_trickle_mcp_response() {
    let (e, _) = fails_within(
        "trickle_mcp_response",
        Reg::Confidential,
        REQUEST_TIMEOUT + SLACK,
    )
    .await;
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_trickle_sse() {
    let (e, _) = fails_within("trickle_sse", Reg::Confidential, REQUEST_TIMEOUT + SLACK).await;
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_trickle_token_response() {
    let (e, _) = fails_within(
        "trickle_token_response",
        Reg::Confidential,
        OAUTH_TIMEOUT + SLACK,
    )
    .await;
    assert!(matches!(oauth(&e), OAuthError::Network { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_trickle_metadata() {
    let (e, _) = fails_within("trickle_metadata", Reg::Confidential, OAUTH_TIMEOUT + SLACK).await;
    assert!(matches!(oauth(&e), OAuthError::Network { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_never_answer_token() {
    let (e, _) = fails_within(
        "never_answer_token",
        Reg::Confidential,
        OAUTH_TIMEOUT + SLACK,
    )
    .await;
    assert!(matches!(oauth(&e), OAuthError::Network { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_never_answer_authorize() {
    // The browser (here the headless presenter) never gets an answer: the sign-in ends when
    // the redirect timeout does.
    let (e, _) = fails_within(
        "never_answer_authorize",
        Reg::Confidential,
        REDIRECT_TIMEOUT + SLACK,
    )
    .await;
    assert!(
        matches!(oauth(&e), OAuthError::RedirectTimeout { .. }),
        "{e:?}"
    );
}

// ================================================================== token responses

/// The case works, and keeps working for a few more calls with a bounded number of token
/// requests (a token that expires at once is refreshed, not re-fetched in a loop).
async fn recovers_for_a_while(case: &str) {
    let h = recovers(case, Reg::Confidential).await;
    let client = h.connect(Reg::Confidential).await.expect("connect again");
    for _ in 0..3 {
        let r = client
            .call_tool("echo", json!({"text": "again"}))
            .await
            .expect("a later call");
        assert_eq!(first_text(&r), "again");
    }
    let tokens = count(&h, "/token");
    assert!(tokens <= 16, "{case}: {tokens} token requests");
    h.check(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_expires_in_negative() {
    recovers_for_a_while("expires_in_negative").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_expires_in_zero() {
    recovers_for_a_while("expires_in_zero").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_expires_in_huge() {
    recovers_for_a_while("expires_in_huge").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_expires_in_fractional() {
    recovers_for_a_while("expires_in_fractional").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_expires_in_missing() {
    recovers_for_a_while("expires_in_missing").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_expires_in_garbage() {
    recovers_for_a_while("expires_in_garbage").await;
}

fn assert_bad_response(e: &Error) {
    assert!(matches!(oauth(e), OAuthError::BadResponse { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_token_type_wrong() {
    let e = fails("token_type_wrong").await;
    assert_bad_response(&e);
    assert!(e.to_string().contains("MAC"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_token_without_access_token() {
    assert_bad_response(&fails("token_without_access_token").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_token_empty_access_token() {
    assert_bad_response(&fails("token_empty_access_token").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_token_access_token_number() {
    assert_bad_response(&fails("token_access_token_number").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_token_html_error_page() {
    // The page quotes the code, the verifier and the Basic credentials: the error must not.
    let e = fails("token_html_error_page").await;
    assert_bad_response(&e);
    assert!(e.to_string().contains("HTTP 500"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_token_html_200() {
    assert_bad_response(&fails("token_html_200").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_token_200_error_body() {
    let e = fails("token_200_error_body").await;
    assert!(
        matches!(
            oauth(&e),
            OAuthError::BadResponse { .. } | OAuthError::Server { .. }
        ),
        "{e:?}"
    );
}

// ================================================================== authorization responses

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_replayed_code() {
    // The first sign-in works; the next one is handed the same (spent) code again.
    let h = recovers("replayed_code", Reg::Confidential).await;
    let started = Instant::now();
    // A new client (its own memory store) signs in again.
    let outcome = async {
        let client = h.connect(Reg::Confidential).await?;
        client.call_tool("echo", json!({"text": "x"})).await
    }
    .await;
    let e = outcome.expect_err("a replayed code");
    assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
    assert_eq!(oauth(&e).oauth_error(), Some("invalid_grant"), "{e:?}");
    h.check(&[("the error", describe(&e))]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_wrong_state() {
    let (e, h) = fails_within("wrong_state", Reg::Confidential, QUICK).await;
    assert!(matches!(oauth(&e), OAuthError::StateMismatch), "{e:?}");
    assert_eq!(count(&h, "/token"), 0, "the code was not used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_wrong_iss() {
    let (e, h) = fails_within("wrong_iss", Reg::Confidential, QUICK).await;
    assert!(matches!(oauth(&e), OAuthError::IssuerCheck(_)), "{e:?}");
    assert_eq!(count(&h, "/token"), 0, "the code was not used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_missing_iss() {
    let e = fails("missing_iss").await;
    assert!(matches!(oauth(&e), OAuthError::IssuerCheck(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_authorize_html_page() {
    let e = fails("authorize_html_page").await;
    assert!(matches!(oauth(&e), OAuthError::Presenter(_)), "{e:?}");
}

// ================================================================== registration

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_registration_200_error_body() {
    // The server's own error, not just "no client_id".
    let e = fails_dynamic("registration_200_error_body").await;
    assert_eq!(
        oauth(&e).oauth_error(),
        Some("invalid_client_metadata"),
        "{e:?}"
    );
    assert_eq!(
        oauth(&e).oauth_error_description(),
        Some("redirect_uris rejected")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_registration_html_page() {
    assert_bad_response(&fails_dynamic("registration_html_page").await);
}

// ================================================================== connections cut mid-response

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_closed_mid_metadata() {
    let e = fails("closed_mid_metadata").await;
    assert!(matches!(oauth(&e), OAuthError::Network { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_closed_mid_as_metadata() {
    let e = fails("closed_mid_as_metadata").await;
    assert!(matches!(oauth(&e), OAuthError::Network { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_closed_mid_registration() {
    let e = fails_dynamic("closed_mid_registration").await;
    assert!(matches!(oauth(&e), OAuthError::Network { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_closed_mid_authorize() {
    // The redirect is in the head, which arrived whole: the sign-in goes on.
    recovers("closed_mid_authorize", Reg::Confidential).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_closed_mid_token() {
    let e = fails("closed_mid_token").await;
    assert!(matches!(oauth(&e), OAuthError::Network { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_closed_mid_initialize() {
    let e = fails("closed_mid_initialize").await;
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_closed_mid_tool_call() {
    let e = fails("closed_mid_tool_call").await;
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_closed_mid_sse() {
    let e = fails("closed_mid_sse").await;
    assert!(
        matches!(&e, Error::StreamClosed { method } if method == "tools/call"),
        "{e:?}"
    );
}

// ================================================================== JSON-RPC and sessions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_wrong_jsonrpc_id() {
    let e = fails("wrong_jsonrpc_id").await;
    assert!(matches!(e, Error::UnknownResponseId { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_wrong_jsonrpc_id_sse() {
    let e = fails("wrong_jsonrpc_id_sse").await;
    assert!(matches!(e, Error::UnknownResponseId { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_session_expires_mid_stream() {
    // The stream breaks after an event with an id; its resumption finds the session gone.
    // The call fails (the server may or may not have run it: it is not sent again), and the
    // same client's next call starts a new session.
    let h = Hostile::start("session_expires_mid_stream").await;
    let client = h.connect(Reg::Confidential).await.expect("connect");
    let started = Instant::now();
    let e = client
        .call_tool("echo", json!({"text": "lost"}))
        .await
        .expect_err("the stream's session is gone");
    assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
    assert!(
        matches!(
            e,
            Error::SessionLost(_) | Error::HttpStatus { status: 404, .. }
        ),
        "{e:?}"
    );
    let r = client
        .call_tool("echo", json!({"text": "after"}))
        .await
        .expect("a new session");
    assert_eq!(first_text(&r), "after");
    let sent = |text: &str| {
        h.server()
            .requests()
            .iter()
            .filter(|r| r.rpc_method() == Some("tools/call"))
            .filter(|r| {
                r.body
                    .as_ref()
                    .and_then(|b| b.pointer("/params/arguments/text"))
                    == Some(&json!(text))
            })
            .count()
    };
    assert_eq!(sent("lost"), 1, "the broken call was not sent again");
    assert!(sent("after") >= 1);
    h.check(&[("the error", describe(&e))]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_session_expires_between_calls() {
    let h = recovers("session_expires_between_calls", Reg::Confidential).await;
    let inits = h
        .server()
        .requests()
        .iter()
        .filter(|r| r.rpc_method() == Some("initialize"))
        .count();
    assert_eq!(inits, 2, "a new session was started");
}

// ================================================================== invalid UTF-8, field by field

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_metadata() {
    assert_bad_response(&fails("invalid_utf8_metadata").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_as_metadata() {
    assert_bad_response(&fails("invalid_utf8_as_metadata").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_registration() {
    assert_bad_response(&fails_dynamic("invalid_utf8_registration").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_location() {
    let e = fails("invalid_utf8_location").await;
    assert!(matches!(oauth(&e), OAuthError::Presenter(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_code() {
    let e = fails("invalid_utf8_code").await;
    assert_eq!(oauth(&e).oauth_error(), Some("invalid_grant"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_state() {
    let e = fails("invalid_utf8_state").await;
    assert!(matches!(oauth(&e), OAuthError::StateMismatch), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_iss() {
    let e = fails("invalid_utf8_iss").await;
    assert!(matches!(oauth(&e), OAuthError::IssuerCheck(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_token_response() {
    assert_bad_response(&fails("invalid_utf8_token_response").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_oauth_error() {
    assert_bad_response(&fails("invalid_utf8_oauth_error").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_session_id() {
    let e = fails("invalid_utf8_session_id").await;
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e:?}");
    assert!(matches!(e, Error::HttpStatus { status: 400, .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_result() {
    let e = fails("invalid_utf8_result").await;
    assert!(matches!(e, Error::MalformedMessage(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_sse() {
    let e = fails("invalid_utf8_sse").await;
    assert!(matches!(e, Error::MalformedSse(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_content_type() {
    let e = fails("invalid_utf8_content_type").await;
    assert!(matches!(e, Error::UnexpectedContentType { .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_invalid_utf8_rpc_error() {
    let e = fails("invalid_utf8_rpc_error").await;
    assert!(matches!(e, Error::MalformedMessage(_)), "{e:?}");
}

// ================================================================== secrets sent back

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_error_page_reflects_credentials() {
    // A 500 page quoting the request's Authorization header: the error keeps the status and
    // the page, not the token.
    let e = fails("error_page_reflects_credentials").await;
    assert!(matches!(e, Error::HttpStatus { status: 500, .. }), "{e:?}");
}
