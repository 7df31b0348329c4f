//! Regression tests for the security review's findings (issue 10), each named `sec_*`, each
//! against real servers on 127.0.0.1.

mod common;

use std::sync::Arc;

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
