//! What both rmcp drivers share: the driver contract's arguments, the timed loop with K
//! concurrent tasks on one client, percentiles, getrusage and the RESULT line; and the
//! authorized scenarios (`--auth cold|warm|storm`, rmcp's own OAuth client) and the memory
//! scenario (`--hold N`), parameterized by the driver's [`Flavor`].

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
    /// `--auth cold|warm|storm` (scenarios 3 and 4).
    pub auth: Option<String>,
    /// `--store DIR` (with `--auth`).
    pub store: Option<String>,
    /// `--expire-url E` (with `--auth storm`).
    pub expire_url: Option<String>,
    /// `--hold N` (scenario 5).
    pub hold: Option<usize>,
}

pub fn parse_args() -> Args {
    let mut url = None;
    let mut token = None;
    let (mut calls, mut inflight, mut warmup) = (1000usize, 1usize, 0usize);
    let (mut auth, mut store, mut expire_url, mut hold) = (None, None, None, None);
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
            "--auth" => auth = Some(value.clone()),
            "--store" => store = Some(value.clone()),
            "--expire-url" => expire_url = Some(value.clone()),
            "--hold" => hold = Some(num()),
            _ => die(&format!("unknown option {flag}")),
        }
    }
    Args {
        url: url.unwrap_or_else(|| die("--url is required")),
        token: token.unwrap_or_default(),
        calls,
        inflight,
        warmup,
        auth,
        store,
        expire_url,
        hold,
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

// ---------------------------------------------------------------------------------------
// Scenarios 3-5: `--auth cold|warm|storm` and `--hold N`.
// ---------------------------------------------------------------------------------------

use std::path::PathBuf;
use std::sync::Mutex;

use rmcp::service::RunningService;
use rmcp::transport::auth::{
    AuthClient, AuthError, AuthorizationManager, AuthorizationRequest, CredentialStore, OAuthState,
    StoredCredentials,
};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;

/// What distinguishes the two drivers in the new modes: only the HTTP client and the
/// transport configuration.
pub struct Flavor {
    pub name: &'static str,
    /// Builds the driver's reqwest client for K requests in flight; `None`: rmcp's defaults
    /// (its own default client for a bearer-token transport, `reqwest::Client::default()`
    /// under `AuthClient` as rmcp's OAuth example does, and rmcp's own OAuth HTTP client).
    pub make_http: Option<fn(usize) -> reqwest::Client>,
    /// Adjusts the transport configuration for K requests in flight.
    pub configure:
        fn(StreamableHttpClientTransportConfig, usize) -> StreamableHttpClientTransportConfig,
}

/// Runs `--auth MODE` or `--hold N`; prints `RESULT` (or `UNSUPPORTED`) and returns the
/// exit status.
pub async fn run_mode(fl: &Flavor, args: &Args) -> std::process::ExitCode {
    if let Some(n) = args.hold {
        return hold(fl, args, n).await;
    }
    let Some(store) = args.store.as_deref() else {
        die("--store is required with --auth")
    };
    let store = JsonFileStore::new(store);
    match args.auth.as_deref() {
        Some("cold") | Some("warm") => auth_start(fl, args, store).await,
        Some("storm") => storm(fl, args, store).await,
        Some(m) => {
            println!("UNSUPPORTED unknown --auth mode {m}");
            std::process::ExitCode::from(3)
        }
        None => die("no mode"),
    }
}

fn exit(ok: usize, calls: usize) -> std::process::ExitCode {
    if ok == calls {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

/// rmcp's `CredentialStore` over one JSON file (`DIR/rmcp-credentials.json`): the
/// `StoredCredentials` rmcp hands it (client id from the registration, token response,
/// granted scopes, time received, issuer), serialized as rmcp defines them. The file is
/// read once and kept in memory (rmcp calls `load` before every request); every `save`
/// writes it through (to a temporary file, then renamed).
#[derive(Clone)]
pub struct JsonFileStore {
    path: PathBuf,
    /// `None`: not read yet; `Some(x)`: the file's content (x = None: no credentials).
    cache: Arc<Mutex<Option<Option<StoredCredentials>>>>,
}

impl JsonFileStore {
    pub fn new(dir: &str) -> Self {
        Self {
            path: PathBuf::from(dir).join("rmcp-credentials.json"),
            cache: Arc::new(Mutex::new(None)),
        }
    }

    fn store_err(e: impl std::fmt::Display) -> AuthError {
        AuthError::InternalError(format!("credential store: {e}"))
    }
}

#[async_trait::async_trait]
impl CredentialStore for JsonFileStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        let mut cache = self.cache.lock().unwrap();
        if cache.is_none() {
            let creds = match std::fs::read(&self.path) {
                Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(Self::store_err)?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Self::store_err(e)),
            };
            *cache = Some(creds);
        }
        Ok(cache.as_ref().unwrap().clone())
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let bytes = serde_json::to_vec_pretty(&credentials).map_err(Self::store_err)?;
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes).map_err(Self::store_err)?;
        std::fs::rename(&tmp, &self.path).map_err(Self::store_err)?;
        *self.cache.lock().unwrap() = Some(Some(credentials));
        Ok(())
    }

    async fn clear(&self) -> Result<(), AuthError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Self::store_err(e)),
        }
        *self.cache.lock().unwrap() = Some(None);
        Ok(())
    }
}

/// The HTTP client for the MCP transport (and, tuned, for OAuth too) for K in flight.
fn http_client(fl: &Flavor, k: usize) -> reqwest::Client {
    match fl.make_http {
        Some(make) => make(k),
        // What rmcp's OAuth example puts under AuthClient.
        None => reqwest::Client::default(),
    }
}

fn transport_config(fl: &Flavor, url: &str, k: usize) -> StreamableHttpClientTransportConfig {
    (fl.configure)(StreamableHttpClientTransportConfig::with_uri(url), k)
}

/// The headless "browser": ONE GET of the authorization URL, redirects not followed;
/// returns the `Location` (the redirect URI with `code`, `state`, `iss`).
async fn headless_sign_in(auth_url: &str) -> Result<String, String> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let resp = browser
        .get(auth_url)
        .send()
        .await
        .map_err(|e| format!("GET authorization URL: {e}"))?;
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "authorization endpoint answered {} without Location",
                resp.status()
            )
        })?;
    Ok(location)
}

/// A redirect URI on a free loopback port (nothing listens there: the driver hands the
/// code back through rmcp's callback API).
fn redirect_uri() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(53682);
    format!("http://127.0.0.1:{port}/callback")
}

/// The authorization-code flow as rmcp's OAuth client example does it: `OAuthState` (with
/// our credential store), `start_authorization` seeded with the 401's `WWW-Authenticate`
/// challenge (discovery + dynamic client registration + PKCE authorization URL), the
/// headless sign-in, `handle_callback_url` (code exchange; the tokens are saved into the
/// store), `into_authorization_manager`.
async fn sign_in(
    fl: &Flavor,
    url: &str,
    http: &reqwest::Client,
    store: JsonFileStore,
    challenge: Option<String>,
) -> Result<AuthorizationManager, String> {
    let oauth_http = fl.make_http.map(|_| http.clone());
    let mut state = OAuthState::new(url, oauth_http)
        .await
        .map_err(|e| format!("OAuthState::new: {e}"))?;
    if let OAuthState::Unauthorized(manager) = &mut state {
        manager.set_credential_store(store);
    }
    let mut request =
        AuthorizationRequest::new(redirect_uri()).with_client_name("rmcp benchmark driver");
    if let Some(challenge) = challenge {
        request = request.with_challenge(challenge);
    }
    state
        .start_authorization(request)
        .await
        .map_err(|e| format!("start_authorization: {e}"))?;
    let auth_url = state
        .get_authorization_url()
        .await
        .map_err(|e| format!("get_authorization_url: {e}"))?;
    let location = headless_sign_in(&auth_url).await?;
    state
        .handle_callback_url(&location)
        .await
        .map_err(|e| format!("handle_callback_url: {e}"))?;
    state
        .into_authorization_manager()
        .ok_or_else(|| "no authorization manager after the callback".to_string())
}

/// The MCP client on rmcp's `AuthClient` (adds the bearer token to every request, refreshes
/// on expiry or on a 401), initialized.
async fn connect_authorized(
    fl: &Flavor,
    url: &str,
    http: reqwest::Client,
    manager: AuthorizationManager,
    k: usize,
) -> Result<RunningService<RoleClient, ()>, String> {
    let transport = StreamableHttpClientTransport::with_client(
        AuthClient::new(http, manager),
        transport_config(fl, url, k),
    );
    ().serve(transport)
        .await
        .map_err(|e| format!("initialize (authorized): {e}"))
}

/// Cold start (empty store): the reactive flow of rmcp's example (an unauthenticated
/// connect whose 401 challenge starts the authorization), sign-in, authorized connect.
/// Warm start (store holds credentials): `AuthorizationManager` + our store +
/// `initialize_from_store` (rmcp's documented way back from stored credentials), then the
/// authorized connect; when rmcp reports the stored credentials unusable, the cold path.
async fn connect(
    fl: &Flavor,
    url: &str,
    store: JsonFileStore,
    k: usize,
) -> Result<RunningService<RoleClient, ()>, String> {
    let http = http_client(fl, k);
    let has_stored = store
        .load()
        .await
        .map_err(|e| e.to_string())?
        .is_some_and(|c| c.token_response.is_some());
    if has_stored {
        let mut manager = AuthorizationManager::new(url)
            .await
            .map_err(|e| format!("AuthorizationManager::new: {e}"))?;
        if fl.make_http.is_some() {
            manager
                .with_client(http.clone())
                .map_err(|e| format!("with_client: {e}"))?;
        }
        manager.set_credential_store(store.clone());
        match manager.initialize_from_store().await {
            Ok(true) => return connect_authorized(fl, url, http, manager, k).await,
            Ok(false) => eprintln!("stored credentials not usable; signing in again"),
            Err(e) => eprintln!("initialize_from_store: {e}; signing in again"),
        }
    }
    // Cold: connect without credentials; the server's 401 challenge drives authorization.
    let probe =
        StreamableHttpClientTransport::with_client(http.clone(), transport_config(fl, url, k));
    let challenge = match ().serve(probe).await {
        Ok(client) => return Ok(client), // the server did not ask for authorization
        Err(e) => match e.auth_challenge() {
            Some(c) => c.to_string(),
            None => return Err(format!("initialize (unauthenticated): {e}")),
        },
    };
    let manager = sign_in(fl, url, &http, store, Some(challenge)).await?;
    connect_authorized(fl, url, http, manager, k).await
}

/// `--auth cold|warm`: timed from before the client objects are created until the first
/// echo call's result is decoded.
async fn auth_start(fl: &Flavor, args: &Args, store: JsonFileStore) -> std::process::ExitCode {
    let u0 = usage();
    let t0 = Instant::now();
    let result = match connect(fl, &args.url, store, 1).await {
        Ok(client) => {
            let r = echo_call(client.peer()).await;
            Ok((client, r))
        }
        Err(e) => Err(e),
    };
    let wall_us = t0.elapsed().as_micros() as u64;
    let u1 = usage();
    let ok = match result {
        Ok((client, r)) => {
            let ok = match r {
                Ok(()) => 1,
                Err(e) => {
                    eprintln!("first error: {e}");
                    0
                }
            };
            if let Err(e) = client.cancel().await {
                eprintln!("close: {e}");
            }
            ok
        }
        Err(e) => {
            eprintln!("first error: {e}");
            0
        }
    };
    print_result(
        fl.name,
        1,
        ok,
        wall_us,
        vec![wall_us as f64],
        u1.cpu_us - u0.cpu_us,
    );
    exit(ok, 1)
}

/// `--auth storm`: warm start, one checked call, expire every token server-side, then N
/// calls started at once on the one client (N spawned tasks on clones of its Peer).
/// Whatever rmcp does on the 401s is what is measured: no locking or retry of our own.
async fn storm(fl: &Flavor, args: &Args, store: JsonFileStore) -> std::process::ExitCode {
    let n = args.calls;
    let Some(expire_url) = args.expire_url.as_deref() else {
        die("--expire-url is required with --auth storm")
    };
    let client = match connect(fl, &args.url, store, n).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("first error: {e}");
            print_result(fl.name, n, 0, 0, Vec::new(), 0);
            return std::process::ExitCode::FAILURE;
        }
    };
    let peer = client.peer().clone();
    if let Err(e) = echo_call(&peer).await {
        eprintln!("untimed call before the storm: {e}");
    }
    match reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(expire_url)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => eprintln!("POST {expire_url}: {}", r.status()),
        Err(e) => eprintln!("POST {expire_url}: {e}"),
    }
    let u0 = usage();
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let peer = peer.clone();
            tokio::spawn(async move {
                let t = Instant::now();
                let r = echo_call(&peer).await;
                (t.elapsed().as_nanos() as f64 / 1000.0, r)
            })
        })
        .collect();
    let mut ok = 0;
    let mut lat = Vec::with_capacity(n);
    let mut first_err = None;
    for t in tasks {
        let (l, r) = t.await.expect("task panicked");
        lat.push(l);
        match r {
            Ok(()) => ok += 1,
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let wall_us = t0.elapsed().as_micros() as u64;
    let u1 = usage();
    if let Some(e) = first_err {
        eprintln!("first error: {e} ({} of {n} calls failed)", n - ok);
    }
    drop(peer);
    if let Err(e) = client.cancel().await {
        eprintln!("close: {e}");
    }
    print_result(fl.name, n, ok, wall_us, lat, u1.cpu_us - u0.cpu_us);
    exit(ok, n)
}

fn vm_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// `--hold N`: N clients, each its own transport (its own HTTP client) and session, bearer
/// token as in scenario 1; one echo call on each; VmRSS while all are open; close all.
async fn hold(fl: &Flavor, args: &Args, n: usize) -> std::process::ExitCode {
    let mut clients = Vec::with_capacity(n);
    let mut first_err: Option<String> = None;
    for _ in 0..n {
        let config = transport_config(fl, &args.url, 1).auth_header(args.token.clone());
        let transport = match fl.make_http {
            Some(make) => StreamableHttpClientTransport::with_client(make(1), config),
            None => StreamableHttpClientTransport::from_config(config),
        };
        match ().serve(transport).await {
            Ok(c) => clients.push(c),
            Err(e) => {
                first_err.get_or_insert(format!("initialize: {e}"));
            }
        }
    }
    let mut ok = 0;
    for c in &clients {
        match echo_call(c.peer()).await {
            Ok(()) => ok += 1,
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let rss_kb = vm_rss_kb();
    for c in clients {
        if let Err(e) = c.cancel().await {
            eprintln!("close: {e}");
        }
    }
    if let Some(e) = first_err {
        eprintln!("first error: {e}");
    }
    println!(
        "RESULT {{\"client\":{},\"version\":{},\"clients\":{n},\"ok\":{ok},\"rss_kb\":{rss_kb},\"peak_rss_kb\":{}}}",
        serde_json::Value::from(fl.name),
        serde_json::Value::from(env!("RMCP_VERSION")),
        usage().maxrss_kb,
    );
    exit(ok, n)
}
