//! Regression tests for the security review's findings (issue 10), each named `sec_*`, each
//! against real servers on 127.0.0.1.

mod common;

use std::sync::Arc;

use base64::Engine as _;

use common::oauth::*;
use mcp_client::oauth::{OAuthEngine, OAuthError};
use mcp_test_server::{AuthOptions, PreRegistered};
use url::Url;

/// A server whose authorization server knows the confidential client `cid`.
async fn with_client(cid: &str, secret: &str) -> mcp_test_server::TestServer {
    auth_server(AuthOptions {
        dcr: false,
        pre_registered: vec![PreRegistered::confidential(
            cid,
            secret,
            "client_secret_basic",
        )],
        ..Default::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_preregistered_client_bound_to_issuer() {
    within(async {
        let server = with_client("cid", "s3cret").await;
        // Another authorization server that would accept the same client (a takeover).
        let hostile = with_client("cid", "s3cret").await;
        let store = shared_store();
        let client = connect_oauth(
            &server,
            with_store(cfg().client("cid", Some("s3cret")), &store),
        )
        .await
        .expect("connect");
        echo(&client)
            .await
            .expect("signed in with the first issuer");

        // The server now names the other authorization server, and its tokens stop working.
        server.name_authorization_server(&hostile.issuer());
        server.revoke_all_tokens();
        let e = expect_oauth_err(echo(&client).await);
        match &e {
            OAuthError::IssuerNotBound { bound, found } => {
                assert_eq!(bound, &server.issuer());
                assert_eq!(found, &hostile.issuer());
            }
            other => panic!("expected IssuerNotBound, got {other:?}"),
        }
        assert_eq!(
            hostile.auth_stats().token_requests_total(),
            0,
            "the client secret went to another authorization server"
        );
        assert!(at(&hostile.requests(), "/token").is_empty());

        // A new process with the same store remembers the binding.
        let again = connect_oauth(
            &server,
            with_store(cfg().client("cid", Some("s3cret")), &store),
        )
        .await;
        assert!(
            matches!(
                again.as_ref().map_err(oauth_err),
                Err(OAuthError::IssuerNotBound { .. })
            ),
            "{again:?}"
        );
        assert!(at(&hostile.requests(), "/token").is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_preregistered_client_follows_a_configured_issuer_only() {
    within(async {
        let server = with_client("cid", "s3cret").await;
        let other = with_client("cid", "s3cret").await;
        // Configured for the other issuer from the start: the server's own is refused.
        let e = expect_oauth_err(
            connect_oauth(
                &server,
                cfg()
                    .client("cid", Some("s3cret"))
                    .client_issuer(&other.issuer()),
            )
            .await,
        );
        assert!(
            matches!(e, OAuthError::IssuerNotBound { .. } | OAuthError::Config(_)),
            "{e:?}"
        );
        assert!(at(&server.requests(), "/token").is_empty());
        // Configured for the server's issuer: it works.
        let client = connect_oauth(
            &server,
            cfg()
                .client("cid", Some("s3cret"))
                .client_issuer(&server.issuer()),
        )
        .await
        .expect("connect with the configured issuer");
        echo(&client).await.expect("echo");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_two_step_completion_uses_the_pending_server() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let hostile = auth_server(AuthOptions::default()).await;
        let mut c = cfg();
        c.interactive = false;
        let engine = Arc::new(
            OAuthEngine::for_server(
                c,
                &Url::parse(&server.url()).unwrap(),
                &common::builder(&server.url()).build().http_settings(),
            )
            .expect("engine"),
        );
        let redirect = Url::parse("http://127.0.0.1:9/app/callback").unwrap();
        let url = engine.begin_authorization(&redirect).await.expect("begin");
        let loc = location_of(&url).await;

        // Between begin and complete the server names another authorization server, and a
        // request through the same engine re-discovers (and stops: it may not interact).
        server.name_authorization_server(&hostile.issuer());
        let attempt = common::builder(&server.url())
            .oauth_engine(engine.clone())
            .connect()
            .await;
        assert!(attempt.is_err(), "no token yet, and no interaction allowed");

        engine
            .complete_authorization(&loc)
            .await
            .expect("the code goes to the server that issued it");
        assert!(
            at(&hostile.requests(), "/token").is_empty(),
            "the code and PKCE verifier went to another token endpoint"
        );
        assert_eq!(
            server.auth_stats().token_requests_for("authorization_code"),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_host_redirect_uri_is_checked_and_matched() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let engine = OAuthEngine::for_server(
            cfg(),
            &Url::parse(&server.url()).unwrap(),
            &common::builder(&server.url()).build().http_settings(),
        )
        .expect("engine");
        for bad in [
            "http://app.example/callback",
            "javascript:alert(1)",
            "file:///tmp/x",
            "https://app.example/cb#frag",
        ] {
            let e = engine
                .begin_authorization(&Url::parse(bad).unwrap())
                .await
                .expect_err(bad);
            assert!(matches!(e, OAuthError::Config(_)), "{bad}: {e:?}");
        }
        assert_eq!(server.auth_stats().authorize_requests, 0);

        // A redirect that arrives elsewhere than the URI sent is refused, code unused.
        let redirect = Url::parse("http://127.0.0.1:9/app/callback").unwrap();
        let url = engine.begin_authorization(&redirect).await.expect("begin");
        let mut loc = location_of(&url).await;
        loc.set_path("/elsewhere");
        let e = engine
            .complete_authorization(&loc)
            .await
            .expect_err("moved");
        assert!(matches!(e, OAuthError::Config(_)), "{e:?}");
        assert!(at(&server.requests(), "/token").is_empty());
    })
    .await;
}

// ------------------------------------------------------------------ device flow (finding 13)

/// A device authorization endpoint answering `device` and a token endpoint that always says
/// `authorization_pending`; returns the result of one device-flow run and how long it took.
async fn run_device(
    device: impl Fn(&str) -> serde_json::Value + Send + Sync + 'static,
    shown: Arc<std::sync::Mutex<u32>>,
) -> (Result<(), OAuthError>, std::time::Duration) {
    use common::{fake_server, FakeReply};
    use mcp_client::oauth::device::{run, DeviceFlow};
    use mcp_client::oauth::discovery::AuthServerMetadata;
    use mcp_client::oauth::http::OAuthHttp;
    use mcp_client::oauth::token::ClientAuth;
    let fake = fake_server(move |base, req| match req.path.as_str() {
        "/device" => FakeReply::json(&device(base)),
        _ => FakeReply {
            status: 400,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: common::FakeBody::Bytes(br#"{"error":"authorization_pending"}"#.to_vec()),
        },
    })
    .await;
    let meta = AuthServerMetadata {
        issuer: fake.base.clone(),
        token_endpoint: Some(format!("{}/token", fake.base)),
        device_authorization_endpoint: Some(format!("{}/device", fake.base)),
        ..Default::default()
    };
    let settings = mcp_client::http_client::HttpSettings {
        connect_timeout: std::time::Duration::from_secs(5),
        ..Default::default()
    };
    let http = OAuthHttp::new(
        settings
            .oauth_client(std::time::Duration::from_secs(5))
            .expect("an OAuth HTTP client"),
        1 << 20,
        &Url::parse("http://127.0.0.1/mcp").unwrap(),
    );
    let presenter = AsyncPresenter::refusing("no browser").on_device(move |_| {
        let shown = shown.clone();
        async move {
            *shown.lock().unwrap() += 1;
            Ok(())
        }
    });
    let started = std::time::Instant::now();
    let r = run(DeviceFlow {
        http: &http,
        meta: &meta,
        auth: &ClientAuth::None {
            client_id: "cid".into(),
        },
        scopes: &[],
        resource: "http://127.0.0.1/mcp",
        presenter: &presenter,
        dpop: None,
        timeout: std::time::Duration::from_secs(60),
    })
    .await
    .map(|_| ());
    (r, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_device_flow_bounds_the_interval_and_the_wait() {
    within(async {
        let shown = Arc::default();
        let (r, took) = run_device(
            |base| {
                serde_json::json!({
                    "device_code": "dev-1", "user_code": "ABCD-EFGH",
                    "verification_uri": format!("{base}/verify"),
                    "interval": 1e15, "expires_in": 2,
                })
            },
            shown,
        )
        .await;
        assert!(
            matches!(r, Err(OAuthError::RedirectTimeout { .. })),
            "{r:?}"
        );
        assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_device_flow_refuses_terminal_escapes_in_what_it_shows() {
    within(async {
        for (field, value) in [
            (
                "verification_uri",
                "https://as.example/\u{1b}]8;;https://evil/\u{7}x",
            ),
            ("user_code", "AB\u{1b}[2JCD"),
            ("verification_uri", "javascript:alert(1)"),
        ] {
            let shown = Arc::new(std::sync::Mutex::new(0));
            let (r, _) = run_device(
                move |base| {
                    let mut d = serde_json::json!({
                        "device_code": "dev-1", "user_code": "ABCD",
                        "verification_uri": format!("{base}/verify"), "interval": 1,
                    });
                    d[field] = serde_json::json!(value);
                    d
                },
                shown.clone(),
            )
            .await;
            assert!(r.is_err(), "{field}: {r:?}");
            assert_eq!(*shown.lock().unwrap(), 0, "{field} was shown");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_device_flow_errors_never_quote_the_device_code() {
    within(async {
        let (r, _) = run_device(
            |_| serde_json::json!({"device_code": "DEVSECRET-77", "user_code": 5}),
            Arc::default(),
        )
        .await;
        let e = r.expect_err("malformed");
        let text = format!("{e} {e:?}");
        assert!(!text.contains("DEVSECRET"), "{text}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_engine_for_one_server_is_refused_for_another() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let other = auth_server(AuthOptions::default()).await;
        let engine = Arc::new(
            OAuthEngine::for_server(
                cfg(),
                &Url::parse(&server.url()).unwrap(),
                &common::builder(&server.url()).build().http_settings(),
            )
            .expect("engine"),
        );
        let client = common::builder(&server.url())
            .oauth_engine(engine.clone())
            .connect()
            .await
            .expect("connect to the engine's server");
        echo(&client).await.expect("echo");
        let e = common::builder(&other.url())
            .oauth_engine(engine)
            .connect()
            .await
            .expect_err("another server");
        assert!(matches!(e, mcp_client::Error::InvalidArgument(_)), "{e:?}");
        assert!(
            other
                .requests()
                .iter()
                .all(|r| r.header("authorization").is_none()),
            "a token of one server went to another"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_rotated_client_secret_replaces_the_stored_one() {
    within(async {
        let server = with_client("cid", "secret-1").await;
        let store = shared_store();
        let first = connect_oauth(
            &server,
            with_store(cfg().client("cid", Some("secret-1")), &store),
        )
        .await
        .expect("connect");
        echo(&first).await.expect("signed in");
        drop(first);

        // The secret is rotated on both sides; the stored access token has expired.
        server.rotate_client_secret("cid", "secret-2");
        server.expire_access_tokens();
        server.clear_requests();
        let mut c = with_store(cfg().client("cid", Some("secret-2")), &store);
        c.interactive = false;
        let second = connect_oauth(&server, c)
            .await
            .expect("connect with the new secret");
        echo(&second).await.expect("refreshed with the new secret");
        let reqs = server.requests();
        let refreshes = token_requests(&reqs, "refresh_token");
        assert!(!refreshes.is_empty(), "no refresh was made");
        let old = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("cid:secret-1")
        );
        assert!(
            at(&reqs, "/token")
                .iter()
                .all(|r| r.header("authorization") != Some(old.as_str())),
            "the rotated-out secret was sent again"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_tokens_of_a_client_no_longer_configured_are_not_used() {
    within(async {
        let server = auth_server(AuthOptions {
            pre_registered: vec![
                PreRegistered::confidential("cid-a", "sa", "client_secret_basic"),
                PreRegistered::confidential("cid-b", "sb", "client_secret_basic"),
            ],
            ..Default::default()
        })
        .await;
        let store = shared_store();
        let a = connect_oauth(
            &server,
            with_store(cfg().client("cid-a", Some("sa")), &store),
        )
        .await
        .expect("connect as a");
        echo(&a).await.expect("a");
        drop(a);
        server.expire_access_tokens();
        server.clear_requests();
        let b = connect_oauth(
            &server,
            with_store(cfg().client("cid-b", Some("sb")), &store),
        )
        .await
        .expect("connect as b");
        echo(&b).await.expect("b");
        let reqs = server.requests();
        assert!(
            token_requests(&reqs, "refresh_token").is_empty(),
            "client a's refresh token was used for client b"
        );
        let codes = token_requests(&reqs, "authorization_code");
        assert_eq!(codes.len(), 1, "b signs in afresh");
        let b_auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("cid-b:sb")
        );
        assert_eq!(codes[0].header("authorization"), Some(b_auth.as_str()));
    })
    .await;
}

// ------------------------------------------------------------------ redirects (finding 5)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_mcp_requests_never_follow_a_redirect_to_another_origin() {
    use common::{fake_server, FakeBody, FakeReply};
    within(async {
        let elsewhere = fake_server(|_, _| FakeReply::not_found()).await;
        let target = format!("{}/mcp", elsewhere.base);
        let server = fake_server(move |_, _| FakeReply {
            status: 307,
            headers: vec![("Location".into(), target.clone())],
            body: FakeBody::Bytes(Vec::new()),
        })
        .await;
        let e = common::builder(&server.mcp_url())
            .header("X-Api-Key", "k-SECRET")
            .connect()
            .await
            .expect_err("a cross-origin redirect is not followed");
        assert!(
            elsewhere.paths().is_empty(),
            "the request (with its API key) went to another origin: {:?}",
            elsewhere.paths()
        );
        assert!(!format!("{e} {e:?}").contains("k-SECRET"), "{e:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_mcp_requests_follow_a_redirect_within_the_origin() {
    use common::{fake_server, FakeBody, FakeReply};
    within(async {
        // The server moved its endpoint to another path of the same origin.
        let moved = fake_server(|base, req| {
            if req.path == "/mcp" {
                FakeReply {
                    status: 308,
                    headers: vec![("Location".into(), format!("{base}/v2/mcp"))],
                    body: FakeBody::Bytes(Vec::new()),
                }
            } else {
                FakeReply::not_found()
            }
        })
        .await;
        let _ = common::builder(&moved.mcp_url()).connect().await;
        assert!(
            moved.paths().iter().any(|p| p == "/v2/mcp"),
            "the same-origin redirect was not followed: {:?}",
            moved.paths()
        );
    })
    .await;
}

// ------------------------------------------------------------------ the stored entry (7, 8)

fn non_interactive(store: &mcp_client::store::Store) -> mcp_client::oauth::OAuthConfig {
    let mut c = with_store(cfg(), store);
    c.interactive = false;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_stale_process_never_overwrites_newer_tokens() {
    within(async {
        // A pre-registered client: p1's later sign-in attempt keeps the registration.
        let server = with_client("cid", "sec").await;
        let store = shared_store();
        let cid = |c: mcp_client::oauth::OAuthConfig| c.client("cid", Some("sec"));
        let p1 = connect_oauth(&server, cid(with_store(cfg(), &store)))
            .await
            .expect("p1 signs in");
        echo(&p1).await.expect("p1");
        let p2 = connect_oauth(&server, cid(non_interactive(&store)))
            .await
            .expect("p2 uses the stored tokens");
        server.expire_access_tokens();
        echo(&p2)
            .await
            .expect("p2 refreshes (the refresh token rotates)");

        // p1, still holding the rotated-out refresh token, saves for another reason.
        p1.oauth()
            .unwrap()
            .begin_authorization(&Url::parse("http://127.0.0.1:9/cb").unwrap())
            .await
            .expect("p1 re-discovers and saves");

        // A third process must find p2's refresh token in the store.
        server.expire_access_tokens();
        let p3 = connect_oauth(&server, cid(non_interactive(&store)))
            .await
            .expect("p3 connects");
        echo(&p3)
            .await
            .expect("p3 refreshes with the current refresh token");
        assert_eq!(server.auth_stats().refresh_replays_detected, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_unusable_newer_tokens_do_not_count_as_a_refresh() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let store = shared_store();
        let p1 = connect_oauth(&server, with_store(cfg(), &store))
            .await
            .expect("sign in");
        echo(&p1).await.expect("p1");
        // Another "process" saved a newer entry whose tokens cannot be used here.
        let key = mcp_client::oauth::stored::key_for(&Url::parse(&server.url()).unwrap());
        let raw = store.load(&key).unwrap().expect("an entry");
        let mut v: serde_json::Value = serde_json::from_str(&raw).unwrap();
        v["generation"] = serde_json::json!(99);
        v["tokens"]["tokens"]["access_token"] = serde_json::json!("someone-elses");
        v["tokens"]["dpop_key"] = serde_json::json!("!!! not a key");
        store.save(&key, &v.to_string()).unwrap();

        server.expire_access_tokens();
        server.clear_requests();
        echo(&p1)
            .await
            .expect("a real refresh happens instead of adopting nothing");
        assert_eq!(server.auth_stats().token_requests_for("refresh_token"), 1);
        // The call, its 401, one refresh, the retry: no round with an unchanged token.
        let calls = server
            .requests()
            .into_iter()
            .filter(|r| r.rpc_method() == Some("tools/call"))
            .count();
        assert_eq!(
            calls, 2,
            "a refresh that adopted nothing was taken for a success"
        );
    })
    .await;
}

// ------------------------------------------------------------------ shared outcomes (9)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sec_failed_sign_in_is_shared_by_waiting_requests() {
    use std::sync::atomic::{AtomicU32, Ordering};
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let shown = Arc::new(AtomicU32::new(0));
        let s2 = shown.clone();
        // The first sign-in goes through; every later one is cancelled by the user, slowly.
        let presenter = AsyncPresenter::new(move |req| {
            let n = s2.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    return Ok(Some(location_of(&req.url).await));
                }
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                Err(OAuthError::Presenter("the user closed the window".into()))
            }
        });
        let client = connect_oauth(&server, cfg().presenter(presenter))
            .await
            .expect("connect");
        echo(&client).await.expect("signed in");
        server.revoke_all_tokens();
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let c = client.clone();
                tokio::spawn(async move { echo(&c).await })
            })
            .collect();
        for c in calls {
            let r = c.await.expect("join");
            assert!(r.is_err(), "{r:?}");
        }
        assert_eq!(
            shown.load(Ordering::SeqCst),
            2,
            "one sign-in for the first, then one cancelled sign-in shared by all eight"
        );
        assert_eq!(
            server.auth_stats().token_requests_for("refresh_token"),
            1,
            "one failed refresh, shared"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_403_is_an_error_without_discovery_or_sign_in() {
    use common::{fake_server, FakeBody, FakeReply};
    within(async {
        // Every request is forbidden outright (no insufficient_scope): nothing to sign in for.
        let fake = fake_server(|_, _| FakeReply {
            status: 403,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                (
                    "WWW-Authenticate".into(),
                    "Bearer error=\"access_denied\"".into(),
                ),
            ],
            body: FakeBody::Bytes(b"{}".to_vec()),
        })
        .await;
        let e = connect_url(&fake.mcp_url(), cfg())
            .await
            .expect_err("forbidden");
        let paths = fake.paths();
        assert!(
            !paths
                .iter()
                .any(|p| p.contains("well-known") || p == "/authorize"),
            "a plain 403 led to discovery or a sign-in: {paths:?} ({e:?})"
        );
    })
    .await;
}

// ------------------------------------------------------------------ blocking stores (19)

/// A store that takes its time (a keyring waiting for the user to unlock it).
struct SlowStore(mcp_client::store::MemoryStore);

impl mcp_client::store::CredentialStore for SlowStore {
    fn load(&self, key: &str) -> Result<Option<String>, mcp_client::store::StoreError> {
        std::thread::sleep(std::time::Duration::from_millis(400));
        self.0.load(key)
    }
    fn save(&self, key: &str, value: &str) -> Result<(), mcp_client::store::StoreError> {
        std::thread::sleep(std::time::Duration::from_millis(400));
        self.0.save(key, value)
    }
    fn delete(&self, key: &str) -> Result<(), mcp_client::store::StoreError> {
        self.0.delete(key)
    }
    fn name(&self) -> String {
        "slow".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn sec_a_slow_store_does_not_stall_the_runtime() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let server = auth_server(AuthOptions::default()).await;
    let store: mcp_client::store::Store = Arc::new(SlowStore(Default::default()));
    // A task that should tick every 10 ms whatever the client does.
    let worst = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = tokio::spawn({
        let (worst, stop) = (worst.clone(), stop.clone());
        async move {
            let mut last = std::time::Instant::now();
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                let gap = last.elapsed().as_millis() as u64;
                worst.fetch_max(gap, Ordering::Relaxed);
                last = std::time::Instant::now();
            }
        }
    });
    // The client's work runs on the one worker too.
    let url = server.url();
    let work = tokio::spawn(async move {
        let client = connect_url(&url, with_store(cfg(), &store)).await?;
        echo(&client).await
    });
    work.await
        .expect("join")
        .expect("signed in through the slow store");
    stop.store(true, Ordering::Relaxed);
    ticker.await.expect("ticker");
    let worst = worst.load(Ordering::Relaxed);
    assert!(
        worst < 300,
        "the store blocked the runtime's only worker for {worst} ms"
    );
}
