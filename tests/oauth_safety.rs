//! What the OAuth engine must never do: leak a token, code, verifier or secret (into logs,
//! errors, `Debug` output or status), talk OAuth to a plain-HTTP non-loopback endpoint, hang
//! on or swallow a hostile document, or trust metadata for another resource or issuer.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::oauth::*;
use common::*;
use mcp_client::oauth::OAuthError;
use mcp_client::Error;
use mcp_test_server::{AuthOptions, PreRegistered, RecordedRequest};
use serde_json::{json, Value};
use url::Url;

// ------------------------------------------------------------------ log capture

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

/// Every event of every thread at TRACE, into one buffer (installed once per test binary).
fn logs() -> &'static LogBuf {
    static LOGS: OnceLock<LogBuf> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = LogBuf::default();
        let writer = buf.clone();
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(sub).expect("the only global subscriber");
        buf
    })
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

// ------------------------------------------------------------------ secrets on the wire

/// Every secret the client sent or handled, by kind, read from what the server received.
#[derive(Debug, Default)]
struct Secrets {
    access: Vec<String>,
    refresh: Vec<String>,
    codes: Vec<String>,
    verifiers: Vec<String>,
    client_secrets: Vec<String>,
    other: Vec<String>,
}

impl Secrets {
    fn from_requests(reqs: &[RecordedRequest]) -> Self {
        let mut s = Secrets::default();
        let push = |v: &mut Vec<String>, x: Option<&str>| {
            if let Some(x) = x.filter(|x| !x.is_empty()) {
                if !v.iter().any(|y| y == x) {
                    v.push(x.to_owned());
                }
            }
        };
        for r in reqs {
            if let Some(a) = r.header("authorization") {
                if let Some(t) = a
                    .strip_prefix("Bearer ")
                    .or_else(|| a.strip_prefix("DPoP "))
                {
                    push(&mut s.access, Some(t));
                }
                if let Some(b) = a.strip_prefix("Basic ") {
                    push(&mut s.other, Some(b));
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .expect("Basic credentials");
                    let raw = String::from_utf8(raw).unwrap();
                    let (_, secret) = raw.split_once(':').expect("id:secret");
                    let secret: String =
                        url::form_urlencoded::parse(format!("s={secret}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap();
                    push(&mut s.client_secrets, Some(&secret));
                }
            }
            if r.path.ends_with("/token") {
                push(&mut s.codes, field(r, "code"));
                push(&mut s.verifiers, field(r, "code_verifier"));
                push(&mut s.refresh, field(r, "refresh_token"));
                push(&mut s.client_secrets, field(r, "client_secret"));
            }
            if r.path.ends_with("/revoke") {
                match field(r, "token_type_hint") {
                    Some("refresh_token") => push(&mut s.refresh, field(r, "token")),
                    _ => push(&mut s.access, field(r, "token")),
                }
                push(&mut s.client_secrets, field(r, "client_secret"));
            }
        }
        s
    }

    fn all(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for (kind, list) in [
            ("access token", &self.access),
            ("refresh token", &self.refresh),
            ("authorization code", &self.codes),
            ("PKCE verifier", &self.verifiers),
            ("client secret", &self.client_secrets),
            ("client credentials", &self.other),
        ] {
            for x in list {
                out.push((kind, x.as_str()));
            }
        }
        out
    }

    /// Panics if any secret occurs in `text` (named `what`).
    fn assert_absent(&self, what: &str, text: &str) {
        for (kind, secret) in self.all() {
            assert!(
                !text.contains(secret),
                "a {kind} appears in {what}: …{}…",
                excerpt_around(text, secret)
            );
        }
    }
}

fn excerpt_around(text: &str, needle: &str) -> String {
    let i = text.find(needle).unwrap_or(0);
    let before: String = text[..i]
        .chars()
        .rev()
        .take(80)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let after: String = text[i + needle.len()..].chars().take(20).collect();
    format!("{before}[SECRET]{after}")
}

fn describe(e: &dyn std::fmt::Debug, d: &dyn std::fmt::Display) -> String {
    format!("{d}\n{e:?}")
}

// ------------------------------------------------------------------ the canary

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_errors_debug_or_status() {
    logs();
    within(async {
        const SECRET: &str = "canary-client-secret-3f9a7c";
        let server = auth_server(AuthOptions {
            dcr: false,
            token_endpoint_auth_methods: vec!["client_secret_post".into()],
            pre_registered: vec![PreRegistered::confidential(
                "canary-client",
                SECRET,
                "client_secret_post",
            )],
            access_token_ttl_secs: 1,
            ..Default::default()
        })
        .await;
        // Every authorization event, as JSON and as its line for people.
        let events: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = events.clone();
        let mut oauth = cfg()
            .client("canary-client", Some(SECRET))
            .on_event(move |e| {
                let mut v = sink.lock().unwrap();
                v.push(e.to_json());
                v.push(e.to_string());
            });
        oauth.max_step_up = 0;
        let builder = builder(&server.url())
            .open_get_stream(false)
            .oauth(oauth.clone());
        let mut texts: Vec<(String, String)> = vec![
            ("OAuthConfig Debug".into(), format!("{oauth:?}")),
            (
                "ClientConfig Debug".into(),
                format!("{:?}", builder.config()),
            ),
        ];
        let mut errors: Vec<String> = Vec::new();

        // Sign in, then refresh.
        let client = builder.connect().await.expect("connect");
        client
            .call_tool("echo", json!({"text": "a"}))
            .await
            .expect("echo");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        client
            .call_tool("echo", json!({"text": "b"}))
            .await
            .expect("echo after refresh");
        assert!(server.auth_stats().token_requests_for("refresh_token") >= 1);
        let p = client.oauth().unwrap().clone();
        texts.push((
            "status JSON (signed in)".into(),
            serde_json::to_string(&p.status()).unwrap(),
        ));
        texts.push(("OAuthEngine Debug".into(), format!("{p:?}")));
        texts.push(("Client Debug".into(), format!("{client:?}")));

        // Failing calls: a step-up past the limit…
        let e = client
            .call_tool("admin", json!({}))
            .await
            .expect_err("step-up limit 0");
        assert!(
            matches!(oauth_err(&e), OAuthError::StepUpLimit { .. }),
            "{e:?}"
        );
        errors.push(describe(&e, &e));

        // …a code redeemed with another authorization's state and verifier (invalid_grant)…
        let redirect = Url::parse("http://127.0.0.1:9/callback").unwrap();
        let url_a = p.begin_authorization(&redirect).await.expect("begin a");
        let loc_a = location_of(&url_a).await;
        let url_b = p.begin_authorization(&redirect).await.expect("begin b");
        let loc_b = location_of(&url_b).await;
        let state_b: String = loc_b
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let mut mixed = loc_a.clone();
        set_query_param(&mut mixed, "state", &state_b);
        let e = p
            .complete_authorization(&mixed)
            .await
            .expect_err("PKCE must fail");
        assert_eq!(e.oauth_error(), Some("invalid_grant"), "{e:?}");
        errors.push(describe(&e, &e));
        let e = Error::OAuth(e);
        errors.push(describe(&e, &e));

        // …a tampered state…
        let url_c = p.begin_authorization(&redirect).await.expect("begin c");
        let mut loc_c = location_of(&url_c).await;
        set_query_param(&mut loc_c, "state", "tampered");
        let e = p.complete_authorization(&loc_c).await.expect_err("state");
        assert!(matches!(e, OAuthError::StateMismatch));
        errors.push(describe(&e, &e));
        // …and nothing pending.
        let e = p
            .complete_authorization(&loc_b)
            .await
            .expect_err("nothing pending");
        errors.push(describe(&e, &e));

        // Logout sends the current refresh and access tokens to /revoke.
        p.logout().await.expect("logout");
        texts.push((
            "status JSON (signed out)".into(),
            serde_json::to_string(&p.status()).unwrap(),
        ));

        let reqs = server.requests();
        let mut secrets = Secrets::from_requests(&reqs);
        for loc in [&loc_a, &loc_b, &loc_c] {
            if let Some((_, code)) = loc.query_pairs().find(|(k, _)| k == "code") {
                secrets.codes.push(code.into_owned());
            }
        }
        assert!(secrets.access.len() >= 2, "{secrets:?}");
        assert!(secrets.refresh.len() >= 2, "{secrets:?}");
        assert!(!secrets.codes.is_empty(), "{secrets:?}");
        assert!(!secrets.verifiers.is_empty(), "{secrets:?}");
        assert_eq!(secrets.client_secrets, vec![SECRET.to_owned()]);

        let log = log_text();
        assert!(
            log.contains("mcp_client"),
            "the subscriber captured the library's events"
        );
        secrets.assert_absent("the TRACE log", &log);
        for (what, text) in &texts {
            secrets.assert_absent(what, text);
        }
        for e in &errors {
            secrets.assert_absent("an error", e);
        }
        let events = events.lock().unwrap().clone();
        assert!(
            events.iter().any(|e| e.contains("\"signed_in\""))
                && events.iter().any(|e| e.contains("\"token_refreshed\""))
                && events.iter().any(|e| e.contains("\"logged_out\"")),
            "the events of a sign-in, a refresh and a logout: {events:?}"
        );
        for e in &events {
            secrets.assert_absent("an auth event", e);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_basic_client_secret_reaches_logs_or_errors() {
    logs();
    within(async {
        // HTTP Basic client authentication; tokens expire to force a refresh; revocation then
        // makes the next call fail non-interactively (the refresh is refused first).
        const SECRET: &str = "canary-basic-secret-81d2";
        let server = auth_server(AuthOptions {
            dcr: false,
            token_endpoint_auth_methods: vec!["client_secret_basic".into()],
            pre_registered: vec![PreRegistered::confidential(
                "canary-basic",
                SECRET,
                "client_secret_basic",
            )],
            access_token_ttl_secs: 1,
            ..Default::default()
        })
        .await;
        let first = with_store(cfg().client("canary-basic", Some(SECRET)), &shared_store());
        let signer = connect_oauth(&server, first.clone())
            .await
            .expect("sign in");
        let mut quiet = first;
        quiet.interactive = false;
        let client = connect_oauth(&server, quiet.clone())
            .await
            .expect("connect");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        client
            .call_tool("echo", json!({"text": "x"}))
            .await
            .expect("echo after refresh");
        server.revoke_all_tokens();
        let e = client
            .call_tool("echo", json!({"text": "y"}))
            .await
            .expect_err("revoked, non-interactive");
        assert!(
            matches!(oauth_err(&e), OAuthError::InteractionRequired(_)),
            "{e:?}"
        );
        let reqs = server.requests();
        let secrets = Secrets::from_requests(&reqs);
        assert_eq!(secrets.client_secrets, vec![SECRET.to_owned()]);
        assert!(secrets.refresh.len() >= 2, "{secrets:?}");
        for (what, text) in [
            ("the TRACE log", log_text()),
            ("an error", describe(&e, &e)),
            ("OAuthConfig Debug", format!("{quiet:?}")),
            ("Client Debug", format!("{client:?}")),
            (
                "status JSON",
                serde_json::to_string(&signer.oauth().unwrap().status()).unwrap(),
            ),
        ] {
            secrets.assert_absent(what, &text);
        }
    })
    .await;
}

// ------------------------------------------------------------------ hostile metadata

/// A fake protected MCP server: 401 at /mcp, the PRM from `prm`, the AS metadata from `asm`
/// (both get the base URL), 404 elsewhere.
async fn hostile(
    prm: impl Fn(&str) -> FakeReply + Send + Sync + 'static,
    asm: impl Fn(&str) -> FakeReply + Send + Sync + 'static,
) -> Fake {
    fake_server(move |base, req| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/mcp") => FakeReply::unauthorized(&format!(
            "Bearer resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:read\""
        )),
        ("GET", "/.well-known/oauth-protected-resource/mcp") => prm(base),
        ("GET", "/.well-known/oauth-authorization-server") => asm(base),
        _ => FakeReply::not_found(),
    })
    .await
}

fn good_prm(base: &str) -> FakeReply {
    FakeReply::json(&json!({
        "resource": format!("{base}/mcp"),
        "authorization_servers": [base],
        "scopes_supported": ["mcp:read"],
    }))
}

fn as_doc(base: &str) -> Value {
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "registration_endpoint": format!("{base}/register"),
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["none"],
    })
}

/// Connect to the fake and return the OAuth error; no step past discovery may happen.
async fn refused(fake: &Fake) -> OAuthError {
    let started = Instant::now();
    let e = expect_oauth_err(connect_url(&fake.mcp_url(), cfg()).await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let paths = fake.paths();
    for p in ["/register", "/authorize", "/token"] {
        assert!(!paths.iter().any(|x| x == p), "{p} was called: {paths:?}");
    }
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_token_endpoint_off_loopback_is_refused() {
    within(async {
        let fake = hostile(good_prm, |base| {
            let mut d = as_doc(base);
            d["token_endpoint"] = json!("http://as.example.com/token");
            FakeReply::json(&d)
        })
        .await;
        match refused(&fake).await {
            OAuthError::InsecureEndpoint { url } => {
                assert!(url.contains("as.example.com"), "{url}")
            }
            other => panic!("expected InsecureEndpoint, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_authorization_server_off_loopback_is_refused() {
    within(async {
        let fake = hostile(
            |base| {
                FakeReply::json(&json!({
                    "resource": format!("{base}/mcp"),
                    "authorization_servers": ["http://as.example.com"],
                }))
            },
            |base| FakeReply::json(&as_doc(base)),
        )
        .await;
        let e = refused(&fake).await;
        assert!(matches!(e, OAuthError::InsecureEndpoint { .. }), "{e:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_resource_metadata_is_an_error_not_a_hang() {
    within(async {
        // A Content-Length far over the limit, then a connection held open.
        let fake = hostile(
            |_| FakeReply {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: FakeBody::Lying {
                    declared: 1 << 30,
                    send: 64 * 1024,
                },
            },
            |base| FakeReply::json(&as_doc(base)),
        )
        .await;
        let e = refused(&fake).await;
        assert!(matches!(e, OAuthError::BadResponse { .. }), "{e:?}");
        assert!(!fake
            .paths()
            .iter()
            .any(|p| p.contains("authorization-server")));

        // No Content-Length, and bytes for ever.
        let fake = hostile(
            |_| FakeReply {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: FakeBody::Endless,
            },
            |base| FakeReply::json(&as_doc(base)),
        )
        .await;
        let e = refused(&fake).await;
        assert!(matches!(e, OAuthError::BadResponse { .. }), "{e:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_metadata_for_another_server_is_refused() {
    within(async {
        let fake = hostile(
            |base| {
                FakeReply::json(&json!({
                    "resource": "http://127.0.0.1:1/mcp",
                    "authorization_servers": [base],
                }))
            },
            |base| FakeReply::json(&as_doc(base)),
        )
        .await;
        match refused(&fake).await {
            OAuthError::ResourceMismatch { advertised, .. } => {
                assert_eq!(advertised, "http://127.0.0.1:1/mcp")
            }
            other => panic!("expected ResourceMismatch, got {other:?}"),
        }
        assert!(
            !fake
                .paths()
                .iter()
                .any(|p| p.contains("authorization-server")),
            "stopped before the authorization server"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_server_metadata_for_another_issuer_is_refused() {
    within(async {
        let fake = hostile(good_prm, |base| {
            let mut d = as_doc(base);
            d["issuer"] = json!("https://honest.example");
            FakeReply::json(&d)
        })
        .await;
        match refused(&fake).await {
            OAuthError::IssuerMismatch { expected, found } => {
                assert_eq!(found, "https://honest.example");
                assert_eq!(expected, fake.base);
            }
            other => panic!("expected IssuerMismatch, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_requests_follow_no_redirects() {
    within(async {
        let fake = hostile(
            |base| FakeReply {
                status: 302,
                headers: vec![(
                    "Location".into(),
                    format!("{base}/elsewhere/oauth-protected-resource"),
                )],
                body: FakeBody::Bytes(Vec::new()),
            },
            |base| FakeReply::json(&as_doc(base)),
        )
        .await;
        let e = expect_oauth_err(connect_url(&fake.mcp_url(), cfg()).await);
        let paths = fake.paths();
        assert!(
            !paths.iter().any(|p| p.starts_with("/elsewhere")),
            "a redirect was followed: {paths:?} ({e:?})"
        );
    })
    .await;
}

// ------------------------------------------------------------------ security review (issue 10)

fn status(code: u16) -> FakeReply {
    FakeReply {
        status: code,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: FakeBody::Bytes(b"{}".to_vec()),
    }
}

/// Metadata claiming the real issuer, with this server's own endpoints swapped in.
fn impostor_doc(base: &str) -> FakeReply {
    let mut d = as_doc(base);
    d["issuer"] = json!("https://real-as.example");
    FakeReply::json(&d)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_metadata_refusal_does_not_fall_back_to_2025_03_26() {
    within(async {
        let fake = hostile(|_| status(403), impostor_doc).await;
        match refused(&fake).await {
            OAuthError::HttpStatus { status, what, .. } => {
                assert_eq!(status, 403);
                assert!(what.contains("protected resource metadata"), "{what}");
            }
            other => panic!("expected the 403 as the error, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_legacy_metadata_must_name_the_server_origin_as_issuer() {
    within(async {
        let fake = hostile(|_| FakeReply::not_found(), impostor_doc).await;
        match refused(&fake).await {
            OAuthError::IssuerMismatch { expected, found } => {
                assert_eq!(expected, fake.base);
                assert_eq!(found, "https://real-as.example");
            }
            other => panic!("expected IssuerMismatch, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_discovery_tries_every_well_known_url_after_a_5xx() {
    within(async {
        let fake = fake_server(|base, req| match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/mcp") => FakeReply::unauthorized(&format!(
                "Bearer resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
            )),
            ("GET", "/.well-known/oauth-protected-resource/mcp") => good_prm(base),
            ("GET", "/.well-known/oauth-authorization-server") => status(503),
            ("GET", "/.well-known/openid-configuration") => FakeReply::json(&as_doc(base)),
            _ => FakeReply::not_found(),
        })
        .await;
        let e = expect_oauth_err(connect_url(&fake.mcp_url(), cfg()).await);
        let paths = fake.paths();
        assert!(
            paths
                .iter()
                .any(|p| p == "/.well-known/openid-configuration"),
            "the next well-known URL was not tried: {paths:?}"
        );
        // Discovery succeeded; what failed is the registration this fake does not serve.
        assert!(paths.iter().any(|p| p == "/register"), "{paths:?} ({e:?})");
    })
    .await;
}
