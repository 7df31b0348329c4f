//! The authorization server and protected-resource mode, driven by hand over
//! plain HTTP/1.1 on a TcpStream: discovery documents, registration, the
//! code flow with PKCE, refresh rotation, step-up, `iss`, device flow, DPoP.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use common::{dechunk, header, send_request};
use mcp_test_server::{
    start, AuthOptions, DpopOptions, IssMode, MetadataStyle, PreRegistered, ServerOptions,
    TestServer,
};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);
const REDIRECT: &str = "http://127.0.0.1:33333/callback";

// ---------------------------------------------------------------- HTTP

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }

    /// The query parameters of the `Location` of a redirect.
    fn location(&self) -> HashMap<String, String> {
        assert_eq!(self.status, 302, "expected a redirect: {}", self.body);
        let loc = self.header("location").expect("location");
        let url = url::Url::parse(loc).expect("location URL");
        url.query_pairs().into_owned().collect()
    }
}

async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: Option<(&str, String)>,
) -> Resp {
    let mut stream = send_request(addr, method, target, headers, body).await;
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
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v == "chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Resp {
        status,
        headers,
        body: String::from_utf8(body).expect("utf-8 body"),
    }
}

/// The path and query of a URL on the server.
fn target(url: &str) -> String {
    let u = url::Url::parse(url).expect("url");
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    }
}

async fn get(server: &TestServer, url_or_path: &str) -> Resp {
    let t = if url_or_path.starts_with("http") {
        target(url_or_path)
    } else {
        url_or_path.to_owned()
    };
    send(server.addr(), "GET", &t, &[], None).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (n, v) in pairs {
        s.append_pair(n, v);
    }
    s.finish()
}

async fn post_form(
    server: &TestServer,
    path: &str,
    pairs: &[(&str, &str)],
    headers: &[(&str, String)],
) -> Resp {
    let body = Some(("application/x-www-form-urlencoded", form(pairs)));
    send(server.addr(), "POST", path, headers, body).await
}

async fn post_json(server: &TestServer, path: &str, body: &Value) -> Resp {
    let body = Some(("application/json", body.to_string()));
    send(server.addr(), "POST", path, &[], body).await
}

/// A JSON-RPC request to `/mcp` with optional `Authorization` and session.
async fn mcp(
    server: &TestServer,
    auth: Option<String>,
    session: Option<&str>,
    msg: &Value,
    extra: &[(&str, String)],
) -> Resp {
    let mut headers = vec![
        ("accept", "application/json, text/event-stream".to_owned()),
        ("mcp-protocol-version", "2025-11-25".to_owned()),
    ];
    if let Some(a) = auth {
        headers.push(("authorization", a));
    }
    if let Some(s) = session {
        headers.push(("mcp-session-id", s.to_owned()));
    }
    headers.extend(extra.iter().cloned());
    let body = Some(("application/json", msg.to_string()));
    send(server.addr(), "POST", "/mcp", &headers, body).await
}

fn init_msg() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "oauth-test", "version": "0"}}})
}

fn call(id: u64, tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": {}}})
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

// ---------------------------------------------------------------- OAuth helpers

fn random_b64(n: usize) -> String {
    let mut buf = vec![0u8; n];
    SystemRandom::new().fill(&mut buf).expect("random");
    URL_SAFE_NO_PAD.encode(buf)
}

fn sha256_b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, data))
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> (String, String) {
    let verifier = random_b64(32);
    let challenge = sha256_b64(verifier.as_bytes());
    (verifier, challenge)
}

async fn server_with(auth: AuthOptions) -> TestServer {
    let opts = ServerOptions {
        auth: Some(auth),
        ..Default::default()
    };
    start(opts).await.expect("start")
}

/// Registers a public client with [`REDIRECT`]; returns its client_id.
async fn register_public(server: &TestServer) -> String {
    let r = post_json(
        server,
        "/register",
        &json!({"client_name": "t", "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned()
}

/// An authorization request's query.
fn authz_query(
    server: &TestServer,
    client_id: &str,
    challenge: &str,
    scope: Option<&str>,
) -> String {
    let resource = server.url();
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", "st4te"),
        ("resource", resource.as_str()),
    ];
    if let Some(s) = scope {
        pairs.push(("scope", s));
    }
    form(&pairs)
}

/// Runs `/authorize`; returns (code, verifier).
async fn authorize(server: &TestServer, client_id: &str, scope: Option<&str>) -> (String, String) {
    let (verifier, challenge) = pkce();
    let q = authz_query(server, client_id, &challenge, scope);
    let r = get(server, &format!("/authorize?{q}")).await;
    let params = r.location();
    assert_eq!(params.get("state").map(String::as_str), Some("st4te"));
    let code = params.get("code").expect("code").clone();
    (code, verifier)
}

async fn exchange(
    server: &TestServer,
    client_id: &str,
    code: &str,
    verifier: &str,
    headers: &[(&str, String)],
) -> Resp {
    let resource = server.url();
    post_form(
        server,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("client_id", client_id),
            ("resource", &resource),
        ],
        headers,
    )
    .await
}

/// Registers, authorizes and exchanges: (client_id, token response).
async fn tokens(server: &TestServer, scope: Option<&str>) -> (String, Value) {
    let client_id = register_public(server).await;
    let (code, verifier) = authorize(server, &client_id, scope).await;
    let r = exchange(server, &client_id, &code, &verifier, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    (client_id, r.json())
}

async fn refresh(server: &TestServer, client_id: &str, rt: &str) -> Resp {
    refresh_with(server, client_id, rt, &[]).await
}

/// A refresh token request with `extra` form fields (`scope`, `resource`).
async fn refresh_with(
    server: &TestServer,
    client_id: &str,
    rt: &str,
    extra: &[(&str, &str)],
) -> Resp {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", rt),
        ("client_id", client_id),
    ];
    form.extend_from_slice(extra);
    post_form(server, "/token", &form, &[]).await
}

/// Initializes with a bearer token; returns the response.
async fn init_with(server: &TestServer, token: &str) -> Resp {
    mcp(server, bearer(token), None, &init_msg(), &[]).await
}

/// The authorization server metadata at `/.well-known/oauth-authorization-server`.
async fn as_metadata(server: &TestServer) -> Value {
    get(server, "/.well-known/oauth-authorization-server")
        .await
        .json()
}

/// The `request_id` of a consent page's form.
fn consent_request_id(page: &Resp) -> String {
    page.body
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("request id")
        .to_owned()
}

fn access(v: &Value) -> String {
    v["access_token"].as_str().expect("access_token").to_owned()
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn unauthenticated_requests_get_a_challenge_and_metadata_is_served() {
    let server = server_with(AuthOptions::default()).await;
    let base = server.base_url();
    let prm_url = format!("{base}/.well-known/oauth-protected-resource/mcp");
    assert_eq!(server.resource_metadata_url(), prm_url);

    let r = mcp(&server, None, None, &init_msg(), &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some(format!(r#"Bearer scope="mcp:read", resource_metadata="{prm_url}""#).as_str())
    );
    // GET and DELETE are protected too; a bad token is invalid_token.
    let r = send(server.addr(), "GET", "/mcp", &[], None).await;
    assert_eq!(r.status, 401);
    let r = send(
        server.addr(),
        "DELETE",
        "/mcp",
        &[("authorization", "Bearer nope".into())],
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            format!(
                r#"Bearer error="invalid_token", error_description="unknown access token", resource_metadata="{prm_url}""#
            )
            .as_str()
        )
    );

    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let prm = get(&server, path).await;
        assert_eq!(prm.status, 200);
        assert_eq!(
            prm.json(),
            json!({"resource": server.url(), "authorization_servers": [base],
                   "scopes_supported": ["mcp:read", "mcp:write"],
                   "bearer_methods_supported": ["header"], "resource_name": "mcp-test-server"})
        );
    }

    let meta = get(&server, "/.well-known/oauth-authorization-server").await;
    assert_eq!(meta.status, 200);
    let m = meta.json();
    assert_eq!(m["issuer"], base);
    assert_eq!(server.issuer(), base);
    assert_eq!(m["authorization_endpoint"], format!("{base}/authorize"));
    assert_eq!(m["token_endpoint"], format!("{base}/token"));
    assert_eq!(m["registration_endpoint"], format!("{base}/register"));
    assert_eq!(m["revocation_endpoint"], format!("{base}/revoke"));
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        m["scopes_supported"],
        json!(["mcp:read", "mcp:write", "offline_access"])
    );
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert!(m.get("device_authorization_endpoint").is_none());
    assert!(m.get("client_id_metadata_document_supported").is_none());
    assert!(m.get("dpop_signing_alg_values_supported").is_none());
    assert_eq!(
        get(&server, "/.well-known/openid-configuration")
            .await
            .status,
        404
    );

    // Every AS request is recorded, in order.
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        &paths[paths.len() - 4..],
        &[
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn issuer_paths_and_openid_discovery() {
    let server = server_with(AuthOptions {
        issuer_path: Some("/tenant1".into()),
        metadata: MetadataStyle::OpenIdOnly,
        ..Default::default()
    })
    .await;
    let issuer = format!("{}/tenant1", server.base_url());
    assert_eq!(server.issuer(), issuer);
    let prm = get(&server, "/.well-known/oauth-protected-resource/mcp").await;
    assert_eq!(prm.json()["authorization_servers"], json!([issuer]));
    assert_eq!(
        get(&server, "/.well-known/oauth-authorization-server/tenant1")
            .await
            .status,
        404
    );
    for path in [
        "/.well-known/openid-configuration/tenant1",
        "/tenant1/.well-known/openid-configuration",
    ] {
        let r = get(&server, path).await;
        assert_eq!(r.status, 200, "{path}");
        let m = r.json();
        assert_eq!(m["issuer"], issuer);
        assert_eq!(m["token_endpoint"], format!("{issuer}/token"));
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(m["subject_types_supported"], json!(["public"]));
    }
    // The endpoints live under the issuer path.
    let r = post_json(
        &server,
        "/tenant1/register",
        &json!({"redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(get(&server, "/register").await.status, 404);
    server.shutdown().await;

    let server = server_with(AuthOptions {
        issuer_path: Some("tenant2/".into()),
        metadata: MetadataStyle::Both,
        ..Default::default()
    })
    .await;
    for path in [
        "/.well-known/oauth-authorization-server/tenant2",
        "/.well-known/openid-configuration/tenant2",
        "/tenant2/.well-known/openid-configuration",
    ] {
        assert_eq!(get(&server, path).await.status, 200, "{path}");
    }
    server.shutdown().await;

    let bad = start(ServerOptions {
        auth: Some(AuthOptions {
            issuer_path: Some("/a/{b}".into()),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await;
    assert!(bad.is_err());
}

#[tokio::test]
async fn a_2025_03_26_style_server() {
    let server = server_with(AuthOptions {
        resource_metadata: false,
        issuer_path: Some("/ignored".into()),
        ..Default::default()
    })
    .await;
    let r = mcp(&server, None, None, &init_msg(), &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        get(&server, "/.well-known/oauth-protected-resource/mcp")
            .await
            .status,
        404
    );
    let m = as_metadata(&server).await;
    assert_eq!(m["issuer"], server.base_url());
    server.shutdown().await;

    let server = server_with(AuthOptions {
        resource_metadata: false,
        legacy_no_as_metadata: true,
        ..Default::default()
    })
    .await;
    assert_eq!(
        get(&server, "/.well-known/oauth-authorization-server")
            .await
            .status,
        404
    );
    // The default endpoints work, and `resource` is optional.
    let client_id = register_public(&server).await;
    let (verifier, challenge) = pkce();
    let q = form(&[
        ("response_type", "code"),
        ("client_id", &client_id),
        ("redirect_uri", REDIRECT),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let params = get(&server, &format!("/authorize?{q}")).await.location();
    let r = post_form(
        &server,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &params["code"]),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", &client_id),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = init_with(&server, &access(&r.json())).await;
    assert_eq!(r.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn dynamic_client_registration() {
    let server = server_with(AuthOptions::default()).await;
    let r = post_json(
        &server,
        "/register",
        &json!({"client_name": "Public", "redirect_uris": [REDIRECT],
                "token_endpoint_auth_method": "none", "application_type": "native"}),
    )
    .await;
    assert_eq!(r.status, 201);
    let v = r.json();
    assert!(v["client_id"].as_str().is_some_and(|s| s.len() == 43));
    assert!(v.get("client_secret").is_none());
    assert!(v["client_id_issued_at"].as_u64().is_some());
    assert_eq!(v["client_name"], "Public");
    assert_eq!(v["application_type"], "native");
    assert_eq!(v["redirect_uris"], json!([REDIRECT]));
    assert_eq!(v["grant_types"], json!(["authorization_code"]));
    assert_eq!(v["token_endpoint_auth_method"], "none");

    // Confidential by default (client_secret_basic), https redirect allowed.
    let r = post_json(
        &server,
        "/register",
        &json!({"redirect_uris": ["https://app.example/cb"]}),
    )
    .await;
    assert_eq!(r.status, 201);
    let v = r.json();
    assert!(v["client_secret"].as_str().is_some());
    assert_eq!(v["client_secret_expires_at"], 0);
    assert_eq!(v["token_endpoint_auth_method"], "client_secret_basic");

    let r = post_json(
        &server,
        "/register",
        &json!({"redirect_uris": ["http://app.example/cb"]}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_redirect_uri");
    let r = post_json(&server, "/register", &json!({"client_name": "x"})).await;
    assert_eq!(r.json()["error"], "invalid_redirect_uri");
    let r = post_json(
        &server,
        "/register",
        &json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_client_metadata");
    assert_eq!(server.auth_stats().registrations, 2);
    server.shutdown().await;

    let server = server_with(AuthOptions {
        dcr: false,
        ..Default::default()
    })
    .await;
    let m = as_metadata(&server).await;
    assert!(m.get("registration_endpoint").is_none());
    let r = post_json(&server, "/register", &json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(r.status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn full_code_flow_ends_in_tools_list() {
    let server = server_with(AuthOptions::default()).await;
    let (_, t) = tokens(&server, Some("mcp:read offline_access")).await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["scope"], "mcp:read offline_access");
    assert!(t["refresh_token"].as_str().is_some());
    let token = access(&t);

    let r = init_with(&server, &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("mcp-session-id").expect("session").to_owned();
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list",
                      "params": {"cursor": "9"}});
    let r = mcp(&server, bearer(&token), Some(&sid), &list, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"]["tools"][0]["name"], "admin");
    // The token must come with every request.
    let r = mcp(&server, None, Some(&sid), &list, &[]).await;
    assert_eq!(r.status, 401);

    let stats = server.auth_stats();
    assert_eq!(stats.authorize_requests, 1);
    assert_eq!(stats.token_requests_for("authorization_code"), 1);
    assert_eq!(stats.registrations, 1);
    // The token request was recorded with its form fields.
    let req = server
        .requests()
        .into_iter()
        .find(|r| r.path == "/token")
        .expect("token request");
    let body = req.body.expect("form body");
    assert_eq!(body["resource"], server.url());
    assert_eq!(body["grant_type"], "authorization_code");
    server.shutdown().await;
}

#[tokio::test]
async fn authorize_refusals() {
    let server = server_with(AuthOptions::default()).await;
    let client_id = register_public(&server).await;
    let (_, challenge) = pkce();

    // Unknown client and unregistered redirect URI: 400 pages, never a redirect.
    let q = authz_query(&server, "nobody", &challenge, None);
    let r = get(&server, &format!("/authorize?{q}")).await;
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    let q = authz_query(&server, &client_id, &challenge, None).replace("callback", "elsewhere");
    let r = get(&server, &format!("/authorize?{q}")).await;
    assert_eq!(r.status, 400);

    // Loopback ports are ignored.
    let q = authz_query(&server, &client_id, &challenge, None).replace("33333", "44444");
    let p = get(&server, &format!("/authorize?{q}")).await.location();
    assert!(p.contains_key("code"));

    // Redirected errors carry state and iss.
    let q = authz_query(&server, &client_id, &challenge, Some("mcp:read nonsense"));
    let p = get(&server, &format!("/authorize?{q}")).await.location();
    assert_eq!(p["error"], "invalid_scope");
    assert_eq!(p["state"], "st4te");
    assert_eq!(p["iss"], server.issuer());
    let q = authz_query(&server, &client_id, &challenge, None).replace("%2Fmcp", "%2Fother");
    let p = get(&server, &format!("/authorize?{q}")).await.location();
    assert_eq!(p["error"], "invalid_target");
    let q = authz_query(&server, &client_id, &challenge, None)
        .replace("&code_challenge_method=S256", "");
    let p = get(&server, &format!("/authorize?{q}")).await.location();
    assert_eq!(p["error"], "invalid_request");
    assert_eq!(server.auth_stats().authorize_requests, 6);
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_verifier_and_code_replay() {
    let server = server_with(AuthOptions::default()).await;
    let client_id = register_public(&server).await;

    let (code, _) = authorize(&server, &client_id, None).await;
    let (other, _) = pkce();
    let r = exchange(&server, &client_id, &code, &other, &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");

    let (code, verifier) = authorize(&server, &client_id, None).await;
    let r = exchange(&server, &client_id, &code, &verifier, &[]).await;
    assert_eq!(r.status, 200);
    let t = r.json();
    assert_eq!(init_with(&server, &access(&t)).await.status, 200);
    let r = exchange(&server, &client_id, &code, &verifier, &[]).await;
    assert_eq!(r.json()["error"], "invalid_grant");
    // The replay revoked what the code had produced.
    assert_eq!(init_with(&server, &access(&t)).await.status, 401);
    let rt = t["refresh_token"].as_str().expect("rt");
    assert_eq!(
        refresh(&server, &client_id, rt).await.json()["error"],
        "invalid_grant"
    );
    assert_eq!(server.auth_stats().code_replays_detected, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn refresh_rotation_and_replay_detection() {
    let server = server_with(AuthOptions::default()).await;
    let (client_id, t) = tokens(&server, Some("mcp:read mcp:write")).await;
    let rt1 = t["refresh_token"].as_str().expect("rt").to_owned();

    let r = refresh(&server, &client_id, &rt1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t2 = r.json();
    let rt2 = t2["refresh_token"].as_str().expect("rt2").to_owned();
    assert_ne!(rt1, rt2);
    assert_eq!(t2["scope"], "mcp:read mcp:write");
    assert_eq!(init_with(&server, &access(&t2)).await.status, 200);

    // Narrowing works; widening does not; a foreign resource is refused.
    let resource = server.url();
    let extra = [("scope", "mcp:read"), ("resource", resource.as_str())];
    let r = refresh_with(&server, &client_id, &rt2, &extra).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t3 = r.json();
    assert_eq!(t3["scope"], "mcp:read");
    let rt3 = t3["refresh_token"].as_str().expect("rt3").to_owned();
    let r = refresh_with(&server, &client_id, &rt3, &[("scope", "mcp:admin")]).await;
    assert_eq!(r.json()["error"], "invalid_scope");
    let extra = [("resource", "http://127.0.0.1:1/mcp")];
    let r = refresh_with(&server, &client_id, &rt3, &extra).await;
    assert_eq!(r.json()["error"], "invalid_target");

    // Replaying rt1 revokes the whole grant.
    let r = refresh(&server, &client_id, &rt1).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_eq!(
        refresh(&server, &client_id, &rt3).await.json()["error"],
        "invalid_grant"
    );
    assert_eq!(init_with(&server, &access(&t3)).await.status, 401);
    let stats = server.auth_stats();
    assert_eq!(stats.refresh_replays_detected, 1);
    assert_eq!(stats.token_requests_for("refresh_token"), 6);
    server.shutdown().await;

    // Without rotation the refresh token stays and none is returned.
    let server = server_with(AuthOptions {
        rotate_refresh_tokens: false,
        ..Default::default()
    })
    .await;
    let (client_id, t) = tokens(&server, None).await;
    let rt = t["refresh_token"].as_str().expect("rt").to_owned();
    for _ in 0..2 {
        let r = refresh(&server, &client_id, &rt).await;
        assert_eq!(r.status, 200);
        assert!(r.json().get("refresh_token").is_none());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_invalid() {
    let server = server_with(AuthOptions {
        access_token_ttl_secs: 1,
        ..Default::default()
    })
    .await;
    let (client_id, t) = tokens(&server, None).await;
    assert_eq!(t["expires_in"], 1);
    assert_eq!(init_with(&server, &access(&t)).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = init_with(&server, &access(&t)).await;
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with(r#"Bearer error="invalid_token""#)));
    // The refresh token still works.
    let rt = t["refresh_token"].as_str().expect("rt");
    let t2 = refresh(&server, &client_id, rt).await.json();
    assert_eq!(init_with(&server, &access(&t2)).await.status, 200);
    server.shutdown().await;

    let server = server_with(AuthOptions::default()).await;
    let (client_id, t) = tokens(&server, None).await;
    server.expire_access_tokens();
    assert_eq!(init_with(&server, &access(&t)).await.status, 401);

    // RFC 7009 revocation of an access token, then of a refresh token.
    let t = refresh(
        &server,
        &client_id,
        t["refresh_token"].as_str().expect("rt"),
    )
    .await
    .json();
    let at = access(&t);
    let r = post_form(
        &server,
        "/revoke",
        &[("token", &at), ("client_id", &client_id)],
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(init_with(&server, &at).await.status, 401);
    let rt = t["refresh_token"].as_str().expect("rt").to_owned();
    let r = post_form(
        &server,
        "/revoke",
        &[
            ("token", &rt),
            ("token_type_hint", "refresh_token"),
            ("client_id", &client_id),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        refresh(&server, &client_id, &rt).await.json()["error"],
        "invalid_grant"
    );
    assert_eq!(server.auth_stats().revocations, 2);

    let (_, t) = tokens(&server, None).await;
    server.revoke_all_tokens();
    assert_eq!(init_with(&server, &access(&t)).await.status, 401);
    server.shutdown().await;
}

#[tokio::test]
async fn introspection_reports_live_access_tokens_only() {
    let server = server_with(AuthOptions::default()).await;
    let base = server.base_url();
    assert_eq!(
        as_metadata(&server).await["introspection_endpoint"],
        format!("{base}/introspect")
    );
    let (client_id, t) = tokens(&server, Some("mcp:read offline_access")).await;
    let at = access(&t);
    let r = post_form(&server, "/introspect", &[("token", &at)], &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    assert_eq!(v["active"], true);
    assert_eq!(v["scope"], "mcp:read offline_access");
    assert_eq!(v["client_id"], client_id.as_str());
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["aud"], server.url());
    assert_eq!(v["iss"], base);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let exp = v["exp"].as_u64().expect("exp");
    assert!(exp > now && exp <= now + 3601, "exp {exp}, now {now}");

    let inactive = json!({"active": false});
    let rt = t["refresh_token"].as_str().expect("rt");
    for token in ["nope", rt] {
        let r = post_form(&server, "/introspect", &[("token", token)], &[]).await;
        assert_eq!((r.status, r.json()), (200, inactive.clone()));
    }
    let r = post_form(&server, "/introspect", &[], &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");
    let r = send(server.addr(), "GET", "/introspect", &[], None).await;
    assert_eq!(r.status, 405);

    server.expire_access_tokens();
    let r = post_form(&server, "/introspect", &[("token", &at)], &[]).await;
    assert_eq!(r.json(), inactive);
    let t = refresh(&server, &client_id, rt).await.json();
    let at = access(&t);
    let r = post_form(&server, "/introspect", &[("token", &at)], &[]).await;
    assert_eq!(r.json()["active"], true);
    server.revoke_all_tokens();
    let r = post_form(&server, "/introspect", &[("token", &at)], &[]).await;
    assert_eq!(r.json(), inactive);
    server.shutdown().await;
}

#[tokio::test]
async fn tokens_for_a_resource_served_elsewhere() {
    // `--resource`: tokens for a resource server in another process, checked by introspection.
    let elsewhere = "http://127.0.0.1:1/mcp";
    let server = server_with(AuthOptions {
        prm_resource: Some(elsewhere.into()),
        ..Default::default()
    })
    .await;
    let client_id = register_public(&server).await;
    let (verifier, challenge) = pkce();
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "st4te"),
    ];
    // Our own /mcp is not the resource any more.
    let own = server.url();
    pairs.push(("resource", own.as_str()));
    let r = get(&server, &format!("/authorize?{}", form(&pairs))).await;
    assert_eq!(
        r.location().get("error").map(String::as_str),
        Some("invalid_target")
    );
    pairs.pop();
    pairs.push(("resource", elsewhere));
    let r = get(&server, &format!("/authorize?{}", form(&pairs))).await;
    let code = r.location().get("code").expect("code").clone();
    let r = post_form(
        &server,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", &client_id),
            ("resource", elsewhere),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let at = access(&r.json());
    let r = post_form(&server, "/introspect", &[("token", &at)], &[]).await;
    assert_eq!(r.json()["aud"], elsewhere);
    assert_eq!(r.json()["active"], true);
    server.shutdown().await;
}

#[tokio::test]
async fn step_up_needs_the_admin_scope() {
    let server = server_with(AuthOptions::default()).await;
    let (_, t) = tokens(&server, Some("mcp:read")).await;
    let token = access(&t);
    let r = init_with(&server, &token).await;
    let sid = r.header("mcp-session-id").expect("session").to_owned();
    let r = mcp(&server, bearer(&token), Some(&sid), &call(1, "echo"), &[]).await;
    assert_eq!(r.status, 200);
    let r = mcp(&server, bearer(&token), Some(&sid), &call(2, "admin"), &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            format!(
                r#"Bearer error="insufficient_scope", scope="mcp:admin", error_description="this tool needs another scope", resource_metadata="{}""#,
                server.resource_metadata_url()
            )
            .as_str()
        )
    );

    let (_, t) = tokens(&server, Some("mcp:read mcp:admin")).await;
    let token = access(&t);
    let r = mcp(&server, bearer(&token), Some(&sid), &call(3, "admin"), &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["result"]["content"][0]["text"], "admin ok");
    server.shutdown().await;
}

#[tokio::test]
async fn iss_modes() {
    for (mode, advertised, iss) in [
        (IssMode::Advertised, true, Some("issuer")),
        (IssMode::Silent, false, None),
        (IssMode::Wrong, true, Some("http://evil.example")),
        (IssMode::Missing, true, None),
    ] {
        let server = server_with(AuthOptions {
            iss: mode,
            ..Default::default()
        })
        .await;
        let m = as_metadata(&server).await;
        assert_eq!(
            m.get("authorization_response_iss_parameter_supported") == Some(&json!(true)),
            advertised,
            "{mode:?}"
        );
        let client_id = register_public(&server).await;
        let (_, challenge) = pkce();
        let q = authz_query(&server, &client_id, &challenge, None);
        let p = get(&server, &format!("/authorize?{q}")).await.location();
        let expected = iss.map(|i| {
            if i == "issuer" {
                server.issuer()
            } else {
                i.to_owned()
            }
        });
        assert_eq!(p.get("iss").cloned(), expected, "{mode:?}");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn client_authentication_and_client_credentials() {
    let server = server_with(AuthOptions {
        pre_registered: vec![
            PreRegistered::confidential("svc", "s3cret", "client_secret_basic"),
            PreRegistered::confidential("poster", "p0st", "client_secret_post"),
            PreRegistered::public("cli"),
        ],
        ..Default::default()
    })
    .await;
    let basic = |id: &str, secret: &str| {
        vec![(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        )]
    };
    let cc = [("grant_type", "client_credentials"), ("scope", "mcp:read")];

    let r = post_form(&server, "/token", &cc, &basic("svc", "s3cret")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    assert!(t.get("refresh_token").is_none());
    assert_eq!(init_with(&server, &access(&t)).await.status, 200);

    let r = post_form(&server, "/token", &cc, &basic("svc", "wrong")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Basic")));
    // The registered method is enforced.
    let mut post = cc.to_vec();
    post.extend([("client_id", "svc"), ("client_secret", "s3cret")]);
    let r = post_form(&server, "/token", &post, &[]).await;
    assert_eq!(r.status, 401);
    let mut post = cc.to_vec();
    post.extend([("client_id", "poster"), ("client_secret", "p0st")]);
    assert_eq!(post_form(&server, "/token", &post, &[]).await.status, 200);
    // Public clients may not use client_credentials.
    let mut public = cc.to_vec();
    public.push(("client_id", "cli"));
    let r = post_form(&server, "/token", &public, &[]).await;
    assert_eq!(r.json()["error"], "unauthorized_client");
    // Pre-registered clients accept any loopback redirect URI.
    let (code, verifier) = authorize(&server, "cli", None).await;
    assert_eq!(
        exchange(&server, "cli", &code, &verifier, &[]).await.status,
        200
    );
    // Forms only.
    let r = post_json(
        &server,
        "/token",
        &json!({"grant_type": "client_credentials"}),
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_request");
    assert_eq!(
        server.auth_stats().token_requests_for("client_credentials"),
        5
    );
    server.shutdown().await;
}

#[tokio::test]
async fn client_id_metadata_documents() {
    let server = server_with(AuthOptions {
        cimd: true,
        ..Default::default()
    })
    .await;
    let m = as_metadata(&server).await;
    assert_eq!(m["client_id_metadata_document_supported"], true);
    let id = "https://app.example/client.json";
    let (code, verifier) = authorize(&server, id, Some("mcp:read")).await;
    let r = exchange(&server, id, &code, &verifier, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    server.shutdown().await;
}

async fn poll_device(server: &TestServer, client_id: &str, device_code: &str) -> Resp {
    post_form(
        server,
        "/token",
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", client_id),
        ],
        &[],
    )
    .await
}

#[tokio::test]
async fn device_flow_pending_then_approved() {
    let server = server_with(AuthOptions {
        device_flow: true,
        ..Default::default()
    })
    .await;
    let m = as_metadata(&server).await;
    assert_eq!(
        m["device_authorization_endpoint"],
        format!("{}/device_authorization", server.issuer())
    );
    let client_id = register_public(&server).await;
    let d = post_form(
        &server,
        "/device_authorization",
        &[("client_id", &client_id), ("scope", "mcp:read")],
        &[],
    )
    .await
    .json();
    assert_eq!(d["interval"], 1);
    let device_code = d["device_code"].as_str().expect("device_code").to_owned();
    let poll = || poll_device(&server, &client_id, &device_code);
    assert_eq!(poll().await.json()["error"], "authorization_pending");
    assert_eq!(poll().await.json()["error"], "slow_down");
    let page = get(
        &server,
        d["verification_uri_complete"].as_str().expect("uri"),
    )
    .await;
    assert_eq!(page.status, 200);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let r = poll().await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    assert_eq!(t["scope"], "mcp:read");
    assert_eq!(init_with(&server, &access(&t)).await.status, 200);
    assert_eq!(poll().await.json()["error"], "invalid_grant");

    // approve_all_devices() does the same.
    let d = post_form(
        &server,
        "/device_authorization",
        &[("client_id", &client_id)],
        &[],
    )
    .await
    .json();
    server.approve_all_devices();
    let r = poll_device(
        &server,
        &client_id,
        d["device_code"].as_str().expect("code"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(server.auth_stats().device_authorizations, 2);
    server.shutdown().await;
}

// ---------------------------------------------------------------- DPoP

struct DpopKey {
    pair: EcdsaKeyPair,
    jwk: Value,
}

impl DpopKey {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("generate");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("key");
        let public = pair.public_key().as_ref();
        assert_eq!(public.len(), 65);
        let jwk = json!({"kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&public[33..])});
        Self { pair, jwk }
    }

    fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().expect("x"),
            self.jwk["y"].as_str().expect("y")
        );
        sha256_b64(canonical.as_bytes())
    }

    fn proof(&self, htm: &str, htu: &str, token: Option<&str>, nonce: Option<&str>) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let iat = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let mut claims = json!({"jti": random_b64(16), "htm": htm, "htu": htu, "iat": iat});
        if let Some(t) = token {
            claims["ath"] = json!(sha256_b64(t.as_bytes()));
        }
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("sign");
        assert_eq!(sig.as_ref().len(), 64);
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

#[tokio::test]
async fn dpop_bound_tokens_with_nonces() {
    let server = server_with(AuthOptions {
        dpop: DpopOptions {
            required: true,
            nonce: true,
        },
        ..Default::default()
    })
    .await;
    let prm = get(&server, "/.well-known/oauth-protected-resource")
        .await
        .json();
    assert_eq!(prm["dpop_bound_access_tokens_required"], true);
    let m = as_metadata(&server).await;
    assert_eq!(m["dpop_signing_alg_values_supported"], json!(["ES256"]));
    let r = mcp(&server, None, None, &init_msg(), &[]).await;
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            format!(
                r#"DPoP scope="mcp:read", resource_metadata="{}", algs="ES256""#,
                server.resource_metadata_url()
            )
            .as_str()
        )
    );

    let key = DpopKey::new();
    let token_url = format!("{}/token", server.issuer());
    let client_id = register_public(&server).await;
    let (code, verifier) = authorize(&server, &client_id, None).await;

    // No proof at all.
    let r = exchange(&server, &client_id, &code, &verifier, &[]).await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof");
    let (code, verifier) = authorize(&server, &client_id, None).await;
    // A proof without the nonce: use_dpop_nonce (the code is not spent).
    let proof = key.proof("POST", &token_url, None, None);
    let r = exchange(&server, &client_id, &code, &verifier, &[("dpop", proof)]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "use_dpop_nonce");
    let as_nonce = r.header("dpop-nonce").expect("nonce").to_owned();
    // Wrong htu.
    let proof = key.proof("POST", &server.url(), None, Some(&as_nonce));
    let r = exchange(&server, &client_id, &code, &verifier, &[("dpop", proof)]).await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof");
    let (code, verifier) = authorize(&server, &client_id, None).await;
    let proof = key.proof("POST", &token_url, None, Some(&as_nonce));
    let r = exchange(
        &server,
        &client_id,
        &code,
        &verifier,
        &[("dpop", proof.clone())],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    assert_eq!(t["token_type"], "DPoP");
    let token = access(&t);
    // A proof cannot be used twice.
    let (code, verifier) = authorize(&server, &client_id, None).await;
    let r = exchange(&server, &client_id, &code, &verifier, &[("dpop", proof)]).await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof");

    // At /mcp: Bearer use is refused, then the resource's own nonce.
    let r = init_with(&server, &token).await;
    assert_eq!(r.status, 401);
    let mcp_url = server.url();
    let dpop = |p: String| vec![("dpop", p)];
    let auth = Some(format!("DPoP {token}"));
    let p = key.proof("POST", &mcp_url, Some(&token), None);
    let r = mcp(&server, auth.clone(), None, &init_msg(), &dpop(p)).await;
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with(r#"DPoP error="use_dpop_nonce""#)));
    let rs_nonce = r.header("dpop-nonce").expect("nonce").to_owned();
    assert_ne!(rs_nonce, as_nonce);
    // Wrong ath, wrong key.
    let p = key.proof("POST", &mcp_url, Some("other"), Some(&rs_nonce));
    let r = mcp(&server, auth.clone(), None, &init_msg(), &dpop(p)).await;
    assert_eq!(r.status, 401);
    let p = DpopKey::new().proof("POST", &mcp_url, Some(&token), Some(&rs_nonce));
    let r = mcp(&server, auth.clone(), None, &init_msg(), &dpop(p)).await;
    assert_eq!(r.status, 401);
    let p = key.proof("POST", &mcp_url, Some(&token), Some(&rs_nonce));
    let r = mcp(&server, auth.clone(), None, &init_msg(), &dpop(p)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sid = r.header("mcp-session-id").expect("sid").to_owned();
    let p = key.proof("POST", &mcp_url, Some(&token), Some(&rs_nonce));
    let r = mcp(
        &server,
        auth.clone(),
        Some(&sid),
        &call(1, "admin"),
        &dpop(p),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with(r#"DPoP error="insufficient_scope""#)));

    // Refresh needs a proof with the same key (public client).
    let rt = t["refresh_token"].as_str().expect("rt");
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt),
        ("client_id", client_id.as_str()),
    ];
    let p = DpopKey::new().proof("POST", &token_url, None, Some(&as_nonce));
    let r = post_form(&server, "/token", &refresh_form, &dpop(p)).await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof");
    let p = key.proof("POST", &token_url, None, Some(&as_nonce));
    let r = post_form(&server, "/token", &refresh_form, &dpop(p)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["token_type"], "DPoP");
    server.shutdown().await;
}

#[tokio::test]
async fn dpop_authorization_code_binding() {
    let server = server_with(AuthOptions {
        dpop: DpopOptions {
            required: false,
            nonce: false,
        },
        ..Default::default()
    })
    .await;
    // DPoP off: a proof is ignored and the token is a Bearer token.
    let key = DpopKey::new();
    let token_url = format!("{}/token", server.issuer());
    let client_id = register_public(&server).await;
    let (code, verifier) = authorize(&server, &client_id, None).await;
    let p = key.proof("POST", &token_url, None, None);
    let r = exchange(&server, &client_id, &code, &verifier, &[("dpop", p)]).await;
    assert_eq!(r.json()["token_type"], "Bearer");
    server.shutdown().await;

    // Nonces only: DPoP is on but not required; dpop_jkt binds the code.
    let server = server_with(AuthOptions {
        dpop: DpopOptions {
            required: false,
            nonce: true,
        },
        ..Default::default()
    })
    .await;
    let token_url = format!("{}/token", server.issuer());
    let client_id = register_public(&server).await;
    let (verifier, challenge) = pkce();
    let q = format!(
        "{}&dpop_jkt={}",
        authz_query(&server, &client_id, &challenge, None),
        key.thumbprint()
    );
    let code = get(&server, &format!("/authorize?{q}")).await.location()["code"].clone();
    let p = key.proof("POST", &token_url, None, None);
    let r = exchange(&server, &client_id, &code, &verifier, &[("dpop", p)]).await;
    let nonce = r.header("dpop-nonce").expect("nonce").to_owned();
    let p = DpopKey::new().proof("POST", &token_url, None, Some(&nonce));
    let r = exchange(&server, &client_id, &code, &verifier, &[("dpop", p)]).await;
    assert_eq!(r.json()["error"], "invalid_dpop_proof");
    // Without a proof, a Bearer token (DPoP not required).
    let (code, verifier) = authorize(&server, &client_id, None).await;
    let r = exchange(&server, &client_id, &code, &verifier, &[]).await;
    assert_eq!(r.json()["token_type"], "Bearer");
    let token = access(&r.json());
    assert_eq!(init_with(&server, &token).await.status, 200);
    // A Bearer token presented with the DPoP scheme is refused.
    let p = key.proof("POST", &server.url(), Some(&token), None);
    let r = mcp(
        &server,
        Some(format!("DPoP {token}")),
        None,
        &init_msg(),
        &[("dpop", p)],
    )
    .await;
    assert_eq!(r.status, 401);
    server.shutdown().await;
}

#[tokio::test]
async fn consent_page_when_not_auto_approving() {
    let server = server_with(AuthOptions {
        auto_approve: false,
        ..Default::default()
    })
    .await;
    let client_id = register_public(&server).await;
    let (_, challenge) = pkce();
    let q = authz_query(&server, &client_id, &challenge, None);
    let page = get(&server, &format!("/authorize?{q}")).await;
    assert_eq!(page.status, 200);
    let id = consent_request_id(&page);
    let r = post_form(
        &server,
        "/authorize/consent",
        &[("request_id", &id), ("decision", "approve")],
        &[],
    )
    .await;
    assert!(r.location().contains_key("code"));
    let page = get(&server, &format!("/authorize?{q}")).await;
    let id = consent_request_id(&page);
    let r = post_form(
        &server,
        "/authorize/consent",
        &[("request_id", &id), ("decision", "deny")],
        &[],
    )
    .await;
    assert_eq!(r.location()["error"], "access_denied");
    server.shutdown().await;
}

#[tokio::test]
async fn login_form_then_session_cookie_then_consent() {
    let server = server_with(AuthOptions {
        login: Some(mcp_test_server::Login::new("ada", "lovelace")),
        ..Default::default()
    })
    .await;
    let client_id = register_public(&server).await;
    let (verifier, challenge) = pkce();
    let q = authz_query(&server, &client_id, &challenge, None);
    // No session: the login form, naming the client (its client_name), keeping the request.
    let page = get(&server, &format!("/authorize?{q}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"password\""), "{}", page.body);
    assert!(
        page.body.contains("<b id=\"client\">t</b>"),
        "{}",
        page.body
    );
    let login_id = consent_request_id(&page);
    let login = |user: &'static str, pw: &'static str, id: String| {
        let server = &server;
        async move {
            post_form(
                server,
                "/authorize/login",
                &[("request_id", &id), ("username", user), ("password", pw)],
                &[],
            )
            .await
        }
    };
    // Deciding without a session is refused.
    let r = post_form(
        &server,
        "/authorize/consent",
        &[("request_id", &login_id), ("decision", "approve")],
        &[],
    )
    .await;
    assert_eq!(r.status, 403);
    // A wrong password (or user): the form again with an error; no cookie, no redirect.
    for (user, pw) in [("ada", "wrong"), ("bob", "lovelace")] {
        let r = login(user, pw, login_id.clone()).await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("Wrong user name or password"), "{}", r.body);
        assert!(r.header("set-cookie").is_none());
        assert!(r.header("location").is_none());
        assert_eq!(consent_request_id(&r), login_id, "the same request is kept");
    }
    assert_eq!(server.auth_stats().login_failures, 2);
    // The right password: an HttpOnly session cookie and the consent page.
    let r = login("ada", "lovelace", login_id.clone()).await;
    assert_eq!(r.status, 200);
    let cookie = r.header("set-cookie").expect("a session cookie").to_owned();
    assert!(cookie.starts_with("mcp_test_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    assert!(r.body.contains("id=\"allow\"") && r.body.contains("id=\"deny\""));
    assert!(r.body.contains("mcp:read mcp:write"), "{}", r.body);
    let consent_id = consent_request_id(&r);
    // The login's request id is spent.
    let again = login("ada", "lovelace", login_id).await;
    assert_eq!(again.status, 400);
    // Allow: a code (with state and iss) that exchanges as any other.
    let r = post_form(
        &server,
        "/authorize/consent",
        &[("request_id", &consent_id), ("decision", "approve")],
        &[("cookie", session.clone())],
    )
    .await;
    let loc = r.location();
    assert_eq!(loc["state"], "st4te");
    assert_eq!(loc["iss"], server.issuer());
    let r = exchange(&server, &client_id, &loc["code"], &verifier, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Signed in: the next authorization goes straight to the consent page; Deny.
    let page = send(
        server.addr(),
        "GET",
        &format!("/authorize?{q}"),
        &[("cookie", format!("other=1; {session}"))],
        None,
    )
    .await;
    assert!(page.body.contains("id=\"deny\""), "{}", page.body);
    let id = consent_request_id(&page);
    let r = post_form(
        &server,
        "/authorize/consent",
        &[("request_id", &id), ("decision", "deny")],
        &[("cookie", session)],
    )
    .await;
    let loc = r.location();
    assert_eq!(loc["error"], "access_denied");
    assert_eq!(loc["state"], "st4te");
    assert_eq!(loc["iss"], server.issuer());
    assert!(!loc.contains_key("code"));
    assert_eq!(
        server.auth_stats().token_requests_for("authorization_code"),
        1
    );
    server.shutdown().await;
}

#[tokio::test]
async fn state_file_keeps_grants_and_refresh_tokens_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("mcp-test-server-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let state = dir.join("as.json");
    let opts = |port| ServerOptions {
        port,
        auth: Some(AuthOptions {
            state_file: Some(state.clone()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let server = start(opts(0)).await.expect("server");
    let port = server.port();
    let (client_id, t) = tokens(&server, None).await;
    let rt1 = t["refresh_token"].as_str().expect("rt").to_owned();
    let t2 = refresh(&server, &client_id, &rt1).await.json();
    let rt2 = t2["refresh_token"].as_str().expect("rt2").to_owned();
    server.shutdown().await;

    // The same port, the same issuer: the client and the grant are known, access tokens not.
    let server = start(opts(port)).await.expect("restarted");
    assert_eq!(init_with(&server, &access(&t2)).await.status, 401);
    let r = refresh(&server, &client_id, &rt2).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t3 = r.json();
    assert_eq!(init_with(&server, &access(&t3)).await.status, 200);
    // A token rotated before the restart is still a replay, and revokes the grant.
    assert_eq!(
        refresh(&server, &client_id, &rt1).await.json()["error"],
        "invalid_grant"
    );
    let rt3 = t3["refresh_token"].as_str().expect("rt3");
    assert_eq!(
        refresh(&server, &client_id, rt3).await.json()["error"],
        "invalid_grant"
    );
    let stats = server.auth_stats();
    assert_eq!(stats.refresh_replays_detected, 1);
    assert_eq!(stats.invalid_grants, 2);
    assert_eq!(
        stats.token_requests_for("refresh_token"),
        4,
        "counters kept"
    );
    server.shutdown().await;

    // An unreadable state is an error, not a silent fresh start.
    std::fs::write(&state, "{").expect("write");
    assert!(start(opts(0)).await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
