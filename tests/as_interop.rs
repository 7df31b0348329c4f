//! Authorization servers as they really behave: one test per switch of the test server's
//! `Quirks`, each a behaviour seen in widely deployed servers that the spec lets a client
//! live with.

mod common;

use common::oauth::*;
use mcp_test_server::{AuthOptions, PreRegistered, Quirks, TestServer};

async fn quirky(quirks: Quirks, method: &str) -> TestServer {
    auth_server(AuthOptions {
        dcr: false,
        pre_registered: vec![PreRegistered::confidential("cid", "sec", method)],
        quirks,
        ..Default::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interop_basic_auth_also_sends_client_id_in_the_body() {
    within(async {
        let server = quirky(
            Quirks {
                basic_needs_client_id_in_body: true,
                ..Default::default()
            },
            "client_secret_basic",
        )
        .await;
        let client = connect_oauth(&server, cfg().client("cid", Some("sec")))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        let t = token_requests(&reqs, "authorization_code");
        assert_eq!(t.len(), 1, "one token request, accepted");
        assert!(t[0]
            .header("authorization")
            .is_some_and(|h| h.starts_with("Basic ")));
        assert_eq!(field(t[0], "client_id"), Some("cid"));
        assert_eq!(field(t[0], "client_secret"), None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interop_invalid_client_tries_the_other_advertised_method_once() {
    within(async {
        let server = quirky(
            Quirks {
                refused_auth_method: Some("client_secret_basic".into()),
                ..Default::default()
            },
            "client_secret_basic",
        )
        .await;
        let client = connect_oauth(&server, cfg().client("cid", Some("sec")))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        let t = token_requests(&reqs, "authorization_code");
        assert_eq!(t.len(), 2, "Basic, then the form body");
        assert!(t[0].header("authorization").is_some());
        assert_eq!(field(t[0], "client_secret"), None);
        assert!(t[1].header("authorization").is_none());
        assert_eq!(field(t[1], "client_secret"), Some("sec"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interop_invalid_client_is_not_retried_without_another_advertised_method() {
    within(async {
        let server = auth_server(AuthOptions {
            dcr: false,
            pre_registered: vec![PreRegistered::confidential(
                "cid",
                "sec",
                "client_secret_basic",
            )],
            token_endpoint_auth_methods: vec!["client_secret_basic".into()],
            quirks: Quirks {
                refused_auth_method: Some("client_secret_basic".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await;
        let e = expect_oauth_err(connect_oauth(&server, cfg().client("cid", Some("sec"))).await);
        assert_eq!(e.oauth_error(), Some("invalid_client"), "{e:?}");
        assert_eq!(
            token_requests(&server.requests(), "authorization_code").len(),
            1,
            "no second method to try"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interop_token_type_in_any_case() {
    within(async {
        for spelling in ["bearer", "BEARER", "BeArEr"] {
            let server = quirky(
                Quirks {
                    token_type_spelling: Some(spelling.into()),
                    ..Default::default()
                },
                "client_secret_basic",
            )
            .await;
            let client = connect_oauth(&server, cfg().client("cid", Some("sec")))
                .await
                .unwrap_or_else(|e| panic!("{spelling}: {e:?}"));
            echo(&client).await.expect("echo");
            let sent = mcp_requests(&server.requests())
                .into_iter()
                .filter_map(|r| r.header("authorization").map(str::to_owned))
                .next_back()
                .expect("an authorized request");
            assert!(sent.starts_with("Bearer "), "{spelling}: {sent}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interop_expires_in_as_a_string() {
    within(async {
        let server = quirky(
            Quirks {
                expires_in_as_string: true,
                ..Default::default()
            },
            "client_secret_basic",
        )
        .await;
        let client = connect_oauth(&server, cfg().client("cid", Some("sec")))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let st = client.oauth().unwrap().status();
        let at = st.expires_at.expect("the expiry was read from the string");
        let now = mcp_client::oauth::jwt::now_secs();
        assert!(at > now + 3000 && at <= now + 3600, "{at} vs {now}");
    })
    .await;
}
