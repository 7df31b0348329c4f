//! `AuthOptions::refresh_delay_ms`: a refresh-token request waits before its refresh token is
//! looked up, and a client that goes away during the wait has not used it. hyper notices the
//! closed connection while the handler sleeps and drops the handler, so the token is neither
//! rotated nor revoked: presented again it works exactly once, and no replay is detected.
//!
//! Both ways a client can vanish: its connection closed (FIN, as when a process exits or is
//! killed with nothing unread) and reset (RST, as when it is killed with bytes still unread).
//! Also: other grants are not delayed, and the binary's `--refresh-delay-ms N` turns it on.

use std::io::BufRead as _;
use std::io::BufReader;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{dechunk, header, send_request};
use mcp_test_server::{start, AuthOptions, PreRegistered, ServerOptions, TestServer};
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::time::timeout;

/// The refresh delay of the server under test.
const DELAY: Duration = Duration::from_secs(2);
/// The longest one HTTP exchange may take (the delay included).
const LIMIT: Duration = Duration::from_secs(10);
/// The pre-registered public client.
const CLIENT: &str = "delayed-client";
const REDIRECT: &str = "http://127.0.0.1:33333/callback";

/// Sends one request (`body`: its content type and text) and reads the whole answer:
/// (status, body).
async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    body: Option<(&str, String)>,
) -> (u16, String) {
    let mut stream = send_request::<&str>(addr, method, target, &[], body).await;
    let mut raw = Vec::new();
    timeout(LIMIT, stream.read_to_end(&mut raw))
        .await
        .expect("timed out")
        .expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let body = if header(&headers, "transfer-encoding") == Some("chunked") {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    (status, String::from_utf8(body).expect("utf-8 body"))
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (n, v) in pairs {
        s.append_pair(n, v);
    }
    s.finish()
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The body of a refresh-token request of `client_id` for `rt`.
fn refresh_body(client_id: &str, rt: &str) -> Option<(&'static str, String)> {
    let f = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", rt),
        ("client_id", client_id),
    ]);
    Some(("application/x-www-form-urlencoded", f))
}

/// A server whose refresh-token requests wait [`DELAY`], knowing [`CLIENT`].
async fn delayed_server() -> TestServer {
    let auth = AuthOptions {
        refresh_delay_ms: DELAY.as_millis() as u64,
        pre_registered: vec![PreRegistered::public(CLIENT)],
        ..Default::default()
    };
    let opts = ServerOptions {
        auth: Some(auth),
        ..Default::default()
    };
    start(opts).await.expect("start")
}

/// Authorizes `client_id` (PKCE) at `addr` for `resource` and exchanges the code: its
/// refresh token.
async fn sign_in(addr: SocketAddr, resource: &str, client_id: &str) -> String {
    let verifier = URL_SAFE_NO_PAD.encode([7u8; 32]);
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let q = form(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", "s"),
        ("resource", resource),
    ]);
    let target = format!("/authorize?{q}");
    let mut stream = send_request::<&str>(addr, "GET", &target, &[], None).await;
    let mut raw = Vec::new();
    timeout(LIMIT, stream.read_to_end(&mut raw))
        .await
        .expect("timed out")
        .expect("read");
    let head = String::from_utf8_lossy(&raw);
    let location = head
        .split("\r\n")
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no redirect: {head}"));
    let code = url::Url::parse(&location)
        .expect("location URL")
        .query_pairs()
        .find(|(n, _)| n == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", &verifier),
        ("client_id", client_id),
        ("resource", resource),
    ]);
    let body = Some(("application/x-www-form-urlencoded", body));
    let (status, body) = send(addr, "POST", "/token", body).await;
    assert_eq!(status, 200, "{body}");
    json(&body)["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned()
}

/// Waits until the server has received `n` refresh-token requests.
async fn refresh_requests_reach(server: &TestServer, n: u64) {
    let deadline = Instant::now() + LIMIT;
    while server.auth_stats().token_requests_for("refresh_token") < n {
        assert!(
            Instant::now() < deadline,
            "the refresh request never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A refresh request whose client vanishes 200 ms into the delay (`reset`: with an RST
/// rather than a FIN) leaves its refresh token usable exactly once.
async fn client_gone_during_the_delay(reset: bool) {
    let server = delayed_server().await;
    let rt = sign_in(server.addr(), &server.url(), CLIENT).await;

    let body = refresh_body(CLIENT, &rt);
    let stream = send_request::<&str>(server.addr(), "POST", "/token", &[], body).await;
    refresh_requests_reach(&server, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    if reset {
        stream.set_zero_linger().expect("SO_LINGER 0");
    }
    drop(stream);

    // Well past the point where the handler, had it gone on, would have rotated the token.
    tokio::time::sleep(DELAY + Duration::from_secs(1)).await;
    let stats = server.auth_stats();
    assert_eq!(stats.token_requests_for("refresh_token"), 1);
    assert_eq!(stats.refresh_replays_detected, 0);
    assert_eq!(stats.invalid_grants, 0);

    // The same refresh token works (after the delay) ...
    let t0 = Instant::now();
    let body = refresh_body(CLIENT, &rt);
    let (status, body) = send(server.addr(), "POST", "/token", body).await;
    assert_eq!(status, 200, "the abandoned request used the token: {body}");
    assert!(t0.elapsed() >= DELAY, "answered after {:?}", t0.elapsed());
    let new_rt = json(&body)["refresh_token"]
        .as_str()
        .expect("a rotated refresh token")
        .to_owned();
    assert_ne!(new_rt, rt);
    assert_eq!(server.auth_stats().refresh_replays_detected, 0);

    // ... exactly once: it has been rotated now.
    let body = refresh_body(CLIENT, &rt);
    let (status, body) = send(server.addr(), "POST", "/token", body).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(json(&body)["error"], "invalid_grant");
    let stats = server.auth_stats();
    assert_eq!(stats.refresh_replays_detected, 1);
    assert_eq!(stats.token_requests_for("refresh_token"), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn a_closed_connection_during_the_delay_leaves_the_refresh_token_unused() {
    client_gone_during_the_delay(false).await;
}

#[tokio::test]
async fn a_reset_connection_during_the_delay_leaves_the_refresh_token_unused() {
    client_gone_during_the_delay(true).await;
}

#[tokio::test]
async fn other_grants_are_not_delayed() {
    let server = delayed_server().await;
    let t0 = Instant::now();
    sign_in(server.addr(), &server.url(), CLIENT).await;
    assert!(
        t0.elapsed() < DELAY,
        "the code exchange waited {:?}",
        t0.elapsed()
    );
    server.shutdown().await;
}

#[test]
fn the_command_line_flag_turns_the_delay_on() {
    let bin = env!("CARGO_BIN_EXE_mcp-test-server");
    let bad = Command::new(bin)
        .args(["--refresh-delay-ms", "soon"])
        .output()
        .expect("run mcp-test-server");
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("bad --refresh-delay-ms: soon"), "{stderr}");

    // The flag alone turns OAuth on (dynamic registration included).
    let mut child = Command::new(bin)
        .args(["--refresh-delay-ms", "1000", "--exit-on-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mcp-test-server");
    let mut url = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut url)
        .expect("the URL line");
    let url = url.trim().to_owned();
    let addr: SocketAddr = url::Url::parse(&url)
        .expect("URL")
        .socket_addrs(|| None)
        .expect("address")[0];

    let took = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let reg = serde_json::json!({"client_name": "t", "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "none"});
            let body = Some(("application/json", reg.to_string()));
            let (status, body) = send(addr, "POST", "/register", body).await;
            assert_eq!(status, 201, "{body}");
            let client_id = json(&body)["client_id"].as_str().expect("id").to_owned();
            let rt = sign_in(addr, &url, &client_id).await;
            let t0 = Instant::now();
            let (status, body) = send(addr, "POST", "/token", refresh_body(&client_id, &rt)).await;
            assert_eq!(status, 200, "{body}");
            t0.elapsed()
        });
    assert!(took >= Duration::from_secs(1), "the refresh took {took:?}");

    drop(child.stdin.take());
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
}
