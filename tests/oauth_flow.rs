//! The OAuth engine against the test server's real authorization server: discovery,
//! registration, the authorization code flow and its checks, refresh, single flight, step-up,
//! DPoP, the other grants, the two-step API, the loopback listener and logout. Behaviour is
//! asserted on what the server received (`requests()`) and counted (`auth_stats()`).

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::oauth::*;
use common::*;
use mcp_client::oauth::{AuthorizationRequest, Grant, OAuthEngine, OAuthError};
use mcp_client::store::Store;
use mcp_client::Client;
use mcp_test_server::{
    AuthOptions, DpopOptions, IssMode, MetadataStyle, PreRegistered, RecordedRequest, TestServer,
};
use serde_json::json;
use url::Url;

fn position(reqs: &[RecordedRequest], pred: impl Fn(&RecordedRequest) -> bool) -> usize {
    reqs.iter()
        .position(pred)
        .unwrap_or_else(|| panic!("no such request in {:#?}", paths(reqs)))
}

fn paths(reqs: &[RecordedRequest]) -> Vec<String> {
    reqs.iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The paths of authorization server metadata requests, in order.
fn as_metadata_paths(reqs: &[RecordedRequest]) -> Vec<String> {
    reqs.iter()
        .filter(|r| {
            r.path.contains("/.well-known/oauth-authorization-server")
                || r.path.contains("/.well-known/openid-configuration")
        })
        .map(|r| r.path.clone())
        .collect()
}

fn s256(verifier: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// A server protected with `auth`, and a client signed in to it with [`cfg`].
async fn signed_in(auth: AuthOptions) -> (TestServer, Client) {
    let server = auth_server(auth).await;
    let client = connect_oauth(&server, cfg()).await.expect("connect");
    (server, client)
}

/// The latest bearer token `server` received.
fn last_bearer(server: &TestServer) -> String {
    server
        .requests()
        .iter()
        .rev()
        .find_map(|r| bearer_of(r).map(str::to_owned))
        .expect("a bearer")
}

// ------------------------------------------------------------------ the full flow

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow_discovers_registers_authorizes_and_retries() {
    within(async {
        let (server, client) = signed_in(AuthOptions::default()).await;
        echo(&client).await.expect("echo");
        let reqs = server.requests();

        // The first request went out without credentials and met the 401.
        assert_eq!(reqs[0].path, "/mcp");
        assert!(reqs[0].header("authorization").is_none());
        let prm = position(&reqs, |r| {
            r.path.starts_with("/.well-known/oauth-protected-resource")
        });
        assert_eq!(
            reqs[prm].path, "/.well-known/oauth-protected-resource/mcp",
            "the challenge's resource_metadata is used"
        );
        let asm = position(&reqs, |r| {
            r.path == "/.well-known/oauth-authorization-server"
        });
        let reg = position(&reqs, |r| r.path == "/register");
        let authz = position(&reqs, |r| r.path == "/authorize");
        let tok = position(&reqs, |r| r.path == "/token");
        let retried = position(&reqs, |r| r.path == "/mcp" && bearer_of(r).is_some());
        assert!(
            0 < prm && prm < asm && asm < reg && reg < authz && authz < tok && tok < retried,
            "{:#?}",
            paths(&reqs)
        );
        // Nothing else authenticated reached /mcp before the token was obtained.
        assert!(reqs[..tok]
            .iter()
            .filter(|r| r.path == "/mcp")
            .all(|r| r.header("authorization").is_none()));

        // Registration: a native public client with the loopback redirect URI.
        let reg_body = reqs[reg].body.as_ref().expect("registration body");
        assert_eq!(reg_body["application_type"], "native");
        let grants = reg_body["grant_types"].as_array().expect("grant_types");
        assert!(grants.iter().any(|g| g == "refresh_token"), "{reg_body}");

        // The authorization request.
        let q = query(&reqs[authz]);
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"].len(), 43);
        assert!(q["state"].len() >= 16, "state {:?}", q.get("state"));
        assert_eq!(q["resource"], server.url(), "resource = the PRM resource");
        let scopes: BTreeSet<String> = scopes_of(&q["scope"]).into_iter().collect();
        let want: BTreeSet<String> = ["mcp:read", "offline_access"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(scopes, want, "challenge scope + offline_access");
        let redirect = Url::parse(&q["redirect_uri"]).expect("redirect_uri");
        assert_eq!(redirect.host_str(), Some("127.0.0.1"));
        assert_eq!(redirect.path(), "/callback");

        // The token request.
        let t = &reqs[tok];
        assert_eq!(field(t, "grant_type"), Some("authorization_code"));
        let verifier = field(t, "code_verifier").expect("code_verifier");
        assert_eq!(
            s256(verifier),
            q["code_challenge"],
            "verifier matches challenge"
        );
        assert_eq!(field(t, "resource"), Some(server.url().as_str()));
        assert_eq!(field(t, "redirect_uri"), Some(q["redirect_uri"].as_str()));
        assert_eq!(field(t, "client_id"), Some(q["client_id"].as_str()));

        // Every request after the token carries it as a Bearer header.
        let token = bearer_of(&reqs[retried]).expect("bearer").to_owned();
        for r in reqs[tok..].iter().filter(|r| r.path == "/mcp") {
            assert_eq!(bearer_of(r), Some(token.as_str()));
        }

        let st = client.oauth().expect("oauth").status();
        assert_eq!(st.issuer.as_deref(), Some(server.issuer().as_str()));
        assert_eq!(st.resource.as_deref(), Some(server.url().as_str()));
        assert_eq!(st.client_id.as_deref(), Some(q["client_id"].as_str()));
        assert_eq!(st.registration.as_deref(), Some("dynamic"));
        assert!(st.has_token && st.has_refresh_token);
        assert_eq!(st.token_type.as_deref(), Some("Bearer"));
        assert!(st.scopes.iter().any(|s| s == "mcp:read"), "{st:?}");
        assert!(st.expires_at.is_some());

        // No token, code or verifier in any URL the client requested.
        let code = field(t, "code").expect("code");
        for r in &reqs {
            let url = format!("{}?{}", r.path, r.query.as_deref().unwrap_or(""));
            for secret in [token.as_str(), verifier, code] {
                assert!(!url.contains(secret), "secret in URL {url}");
            }
        }
        let stats = server.auth_stats();
        assert_eq!(stats.authorize_requests, 1);
        assert_eq!(stats.registrations, 1);
        assert_eq!(stats.token_requests_for("authorization_code"), 1);
        assert_eq!(stats.token_requests_total(), 1);
    })
    .await;
}

// ------------------------------------------------------------------ discovery variants

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_with_a_path_uses_the_rfc8414_path_inserted_url_first() {
    within(async {
        let (server, client) = signed_in(AuthOptions {
            issuer_path: Some("/tenant1".into()),
            ..Default::default()
        })
        .await;
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        assert_eq!(
            as_metadata_paths(&reqs),
            vec!["/.well-known/oauth-authorization-server/tenant1"]
        );
        assert_eq!(at(&reqs, "/tenant1/authorize").len(), 1);
        assert_eq!(at(&reqs, "/tenant1/token").len(), 1);
        assert_eq!(at(&reqs, "/tenant1/register").len(), 1);
        assert!(server.issuer().ends_with("/tenant1"));
        assert_eq!(
            client.oauth().unwrap().status().issuer,
            Some(server.issuer())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_only_metadata_is_found_by_falling_back_in_order() {
    within(async {
        // With an issuer path: RFC 8414 path-inserted, then OpenID path-inserted.
        let (server, client) = signed_in(AuthOptions {
            issuer_path: Some("/tenant1".into()),
            metadata: MetadataStyle::OpenIdOnly,
            ..Default::default()
        })
        .await;
        echo(&client).await.expect("echo");
        assert_eq!(
            as_metadata_paths(&server.requests()),
            vec![
                "/.well-known/oauth-authorization-server/tenant1",
                "/.well-known/openid-configuration/tenant1",
            ]
        );

        // Without a path: RFC 8414, then OpenID.
        let (server, client) = signed_in(AuthOptions {
            metadata: MetadataStyle::OpenIdOnly,
            ..Default::default()
        })
        .await;
        echo(&client).await.expect("echo");
        assert_eq!(
            as_metadata_paths(&server.requests()),
            vec![
                "/.well-known/oauth-authorization-server",
                "/.well-known/openid-configuration",
            ]
        );
        assert_eq!(server.auth_stats().authorize_requests, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_without_resource_metadata_is_its_own_authorization_server() {
    within(async {
        let (server, client) = signed_in(AuthOptions {
            resource_metadata: false,
            ..Default::default()
        })
        .await;
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        let wk: Vec<&str> = reqs
            .iter()
            .filter(|r| r.path.starts_with("/.well-known/"))
            .map(|r| r.path.as_str())
            .collect();
        assert_eq!(
            wk,
            vec![
                "/.well-known/oauth-protected-resource/mcp",
                "/.well-known/oauth-protected-resource",
                "/.well-known/oauth-authorization-server",
            ]
        );
        assert_eq!(at(&reqs, "/authorize").len(), 1);
        assert_eq!(at(&reqs, "/token").len(), 1);
        assert_eq!(
            client.oauth().unwrap().status().issuer,
            Some(server.base_url())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_without_any_metadata_gets_the_default_endpoints() {
    within(async {
        let (server, client) = signed_in(AuthOptions {
            resource_metadata: false,
            legacy_no_as_metadata: true,
            ..Default::default()
        })
        .await;
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        let reg = position(&reqs, |r| r.path == "/register");
        let authz = position(&reqs, |r| r.path == "/authorize");
        let tok = position(&reqs, |r| r.path == "/token");
        assert!(reg < authz && authz < tok, "{:#?}", paths(&reqs));
        assert_eq!(query(&reqs[authz])["code_challenge_method"], "S256");
        assert_eq!(server.auth_stats().registrations, 1);
    })
    .await;
}

// ------------------------------------------------------------------ registration

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preregistered_client_with_client_secret_basic() {
    within(async {
        let server = auth_server(AuthOptions {
            dcr: false,
            pre_registered: vec![PreRegistered::confidential(
                "cid-basic",
                "s3cret:basic",
                "client_secret_basic",
            )],
            ..Default::default()
        })
        .await;
        let client = connect_oauth(&server, cfg().client("cid-basic", Some("s3cret:basic")))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        assert!(at(&reqs, "/register").is_empty());
        assert_eq!(
            query(authorize_requests(&reqs)[0])["client_id"],
            "cid-basic"
        );
        let t = token_requests(&reqs, "authorization_code");
        assert_eq!(t.len(), 1);
        // RFC 6749 §2.3.1: form-encoded id and secret, then Base64.
        let want = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("cid-basic:s3cret%3Abasic")
        );
        assert_eq!(t[0].header("authorization"), Some(want.as_str()));
        assert_eq!(field(t[0], "client_secret"), None);
        let st = client.oauth().unwrap().status();
        assert_eq!(st.registration.as_deref(), Some("pre-registered"));
        assert_eq!(st.client_id.as_deref(), Some("cid-basic"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preregistered_client_with_client_secret_post() {
    within(async {
        let server = auth_server(AuthOptions {
            dcr: false,
            token_endpoint_auth_methods: vec!["client_secret_post".into()],
            pre_registered: vec![PreRegistered::confidential(
                "cid-post",
                "s3cret-post",
                "client_secret_post",
            )],
            ..Default::default()
        })
        .await;
        let client = connect_oauth(&server, cfg().client("cid-post", Some("s3cret-post")))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        assert!(at(&reqs, "/register").is_empty());
        let t = token_requests(&reqs, "authorization_code");
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].header("authorization"), None);
        assert_eq!(field(t[0], "client_id"), Some("cid-post"));
        assert_eq!(field(t[0], "client_secret"), Some("s3cret-post"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dynamic_registration_and_nothing_configured_is_no_registration() {
    within(async {
        let server = auth_server(AuthOptions {
            dcr: false,
            ..Default::default()
        })
        .await;
        let err = expect_oauth_err(connect_oauth(&server, cfg()).await);
        match err {
            OAuthError::NoRegistration { issuer } => assert_eq!(issuer, server.issuer()),
            other => panic!("expected NoRegistration, got {other:?}"),
        }
        let reqs = server.requests();
        assert!(at(&reqs, "/register").is_empty());
        assert!(authorize_requests(&reqs).is_empty());
        assert_eq!(server.auth_stats().token_requests_total(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_id_metadata_document_url_is_the_client_id() {
    within(async {
        const DOC: &str = "https://client.example/mcp-client.json";
        let server = auth_server(AuthOptions {
            cimd: true,
            ..Default::default()
        })
        .await;
        let client = connect_oauth(&server, cfg().client_metadata_url(DOC))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        assert!(at(&reqs, "/register").is_empty(), "DCR must not be used");
        assert_eq!(server.auth_stats().registrations, 0);
        assert_eq!(query(authorize_requests(&reqs)[0])["client_id"], DOC);
        assert_eq!(
            field(token_requests(&reqs, "authorization_code")[0], "client_id"),
            Some(DOC)
        );
        let st = client.oauth().unwrap().status();
        assert_eq!(st.registration.as_deref(), Some("client-metadata-document"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_registration_asks_for_a_secret_when_public_clients_are_not_offered() {
    within(async {
        let server = auth_server(AuthOptions {
            token_endpoint_auth_methods: vec!["client_secret_basic".into()],
            ..Default::default()
        })
        .await;
        let r = connect_oauth(&server, cfg()).await;
        let reqs = server.requests();
        let reg = at(&reqs, "/register");
        assert_eq!(reg.len(), 1);
        assert_eq!(
            field(reg[0], "token_endpoint_auth_method"),
            Some("client_secret_basic"),
            "the server lists only client_secret_basic (docs/auth.md §5)"
        );
        let client = r.expect("connect");
        echo(&client).await.expect("echo");
        let t = token_requests(&reqs, "authorization_code");
        assert!(t[0]
            .header("authorization")
            .is_some_and(|h| h.starts_with("Basic ")));
    })
    .await;
}

// ------------------------------------------------------------------ refresh

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_token_is_refreshed_once_and_rotated() {
    within(async {
        let (server, client) = signed_in(AuthOptions {
            access_token_ttl_secs: 1,
            ..Default::default()
        })
        .await;
        let s0 = server.auth_stats();

        tokio::time::sleep(Duration::from_millis(1100)).await;
        echo(&client).await.expect("echo after expiry");
        let s1 = server.auth_stats();
        assert_eq!(
            s1.token_requests_for("refresh_token") - s0.token_requests_for("refresh_token"),
            1,
            "{s1:?}"
        );
        assert_eq!(s1.authorize_requests, s0.authorize_requests);

        tokio::time::sleep(Duration::from_millis(1100)).await;
        echo(&client).await.expect("echo after the second expiry");
        let s2 = server.auth_stats();
        assert_eq!(
            s2.token_requests_for("refresh_token") - s1.token_requests_for("refresh_token"),
            1
        );
        assert_eq!(s2.authorize_requests, 1);
        assert_eq!(s2.refresh_replays_detected, 0, "a rotated token was reused");

        let reqs = server.requests();
        let refreshes = token_requests(&reqs, "refresh_token");
        let rts: Vec<&str> = refreshes
            .iter()
            .map(|r| field(r, "refresh_token").expect("refresh_token"))
            .collect();
        let distinct: BTreeSet<&&str> = rts.iter().collect();
        assert_eq!(
            distinct.len(),
            rts.len(),
            "a refresh token was presented twice"
        );
        for r in &refreshes {
            assert_eq!(field(r, "resource"), Some(server.url().as_str()));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_after_expiry_share_one_refresh() {
    within(async {
        // 2 s: the refreshed token cannot fall due while the 50 calls run.
        let (server, client) = signed_in(AuthOptions {
            access_token_ttl_secs: 2,
            ..Default::default()
        })
        .await;
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let s0 = server.auth_stats();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let c = client.clone();
            set.spawn(async move { echo(&c).await });
        }
        while let Some(r) = set.join_next().await {
            r.expect("join").expect("call");
        }
        let s1 = server.auth_stats();
        assert_eq!(
            s1.token_requests_for("refresh_token") - s0.token_requests_for("refresh_token"),
            1,
            "{s1:?}"
        );
        assert_eq!(s1.authorize_requests, s0.authorize_requests);
        assert_eq!(s1.refresh_replays_detected, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_unauthorized_calls_share_one_authorization() {
    within(async {
        let (server, client) = signed_in(AuthOptions::default()).await;
        client.oauth().unwrap().forget_tokens();
        let s0 = server.auth_stats();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let c = client.clone();
            set.spawn(async move { echo(&c).await });
        }
        while let Some(r) = set.join_next().await {
            r.expect("join").expect("call");
        }
        let s1 = server.auth_stats();
        assert_eq!(s1.authorize_requests - s0.authorize_requests, 1, "{s1:?}");
        assert_eq!(
            s1.token_requests_for("authorization_code")
                - s0.token_requests_for("authorization_code"),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_tokens_lead_to_a_new_authorization() {
    within(async {
        let (server, client) = signed_in(AuthOptions::default()).await;
        let before = last_bearer(&server);
        server.revoke_all_tokens();
        echo(&client).await.expect("echo after revocation");
        let stats = server.auth_stats();
        assert_eq!(stats.authorize_requests, 2, "{stats:?}");
        assert_eq!(
            stats.token_requests_for("refresh_token"),
            1,
            "refresh tried first"
        );
        let reqs = server.requests();
        let last = mcp_requests(&reqs).last().copied().expect("an MCP request");
        assert!(bearer_of(last).is_some_and(|t| t != before));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_tokens_without_interaction_are_interaction_required() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let store = shared_store();
        let _first = connect_oauth(&server, with_store(cfg(), &store))
            .await
            .expect("sign in");

        let mut quiet = with_store(cfg(), &store);
        quiet.interactive = false;
        let client = connect_oauth(&server, quiet)
            .await
            .expect("connect with the stored tokens");
        echo(&client).await.expect("echo");
        assert_eq!(server.auth_stats().authorize_requests, 1);

        server.revoke_all_tokens();
        let err = client
            .call_tool("echo", json!({"text": "x"}))
            .await
            .expect_err("needs a sign-in");
        assert!(
            matches!(oauth_err(&err), OAuthError::InteractionRequired(_)),
            "{err:?}"
        );
        assert_eq!(server.auth_stats().authorize_requests, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_access_token_is_refreshed_on_401() {
    within(async {
        let (server, client) = signed_in(AuthOptions::default()).await;
        server.expire_access_tokens();
        let n = server.requests().len();
        echo(&client).await.expect("echo");
        let stats = server.auth_stats();
        assert_eq!(stats.token_requests_for("refresh_token"), 1, "{stats:?}");
        assert_eq!(stats.authorize_requests, 1);
        let reqs = server.requests();
        let after = &reqs[n..];
        let mcp: Vec<_> = after.iter().filter(|r| r.path == "/mcp").collect();
        assert_eq!(mcp.len(), 2, "the refused call and its retry");
        assert_ne!(bearer_of(mcp[0]), bearer_of(mcp[1]));
        let refresh = position(after, |r| r.path == "/token");
        assert!(field(&after[refresh], "refresh_token").is_some());
    })
    .await;
}

// ------------------------------------------------------------------ step-up

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_reauthorizes_with_the_union_of_scopes() {
    within(async {
        let (server, client) = signed_in(AuthOptions::default()).await;
        let r = client
            .call_tool("admin", json!({}))
            .await
            .expect("admin after step-up");
        assert_eq!(first_text(&r), "admin ok");
        let reqs = server.requests();
        let authz = authorize_requests(&reqs);
        assert_eq!(authz.len(), 2);
        let first = scopes_of(&query(authz[0])["scope"]);
        let second = scopes_of(&query(authz[1])["scope"]);
        for s in first.iter().map(String::as_str).chain(["mcp:admin"]) {
            assert!(second.iter().any(|x| x == s), "{s} missing from {second:?}");
        }
        let st = client.oauth().unwrap().status();
        assert!(st.scopes.iter().any(|s| s == "mcp:admin"), "{st:?}");
        assert!(st.scopes.iter().any(|s| s == "mcp:read"), "{st:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_that_never_gets_the_scope_hits_the_limit() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        // The user unticks mcp:admin on every consent page.
        let presenter = AsyncPresenter::rewriting(|url| {
            let scope: String = url
                .query_pairs()
                .find(|(k, _)| k == "scope")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let kept: Vec<&str> = scope.split(' ').filter(|s| *s != "mcp:admin").collect();
            set_query_param(url, "scope", &kept.join(" "));
        });
        let client = connect_oauth(&server, cfg().presenter(presenter))
            .await
            .expect("connect");
        let err = client
            .call_tool("admin", json!({}))
            .await
            .expect_err("the scope is never granted");
        match oauth_err(&err) {
            OAuthError::StepUpLimit { attempts, scopes } => {
                assert_eq!(*attempts, 2);
                assert!(scopes.contains("mcp:admin"), "{scopes}");
            }
            other => panic!("expected StepUpLimit, got {other:?}"),
        }
        // The initial sign-in and max_step_up (2) re-authorizations, no more.
        assert_eq!(server.auth_stats().authorize_requests, 3);
        // The client stays usable for what it may do.
        echo(&client).await.expect("echo");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_with_configured_scopes_still_asks_for_the_required_scope() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let mut c = cfg();
        c.scopes = Some(vec!["mcp:read".into()]);
        let client = connect_oauth(&server, c).await.expect("connect");
        let reqs = server.requests();
        assert_eq!(
            scopes_of(&query(authorize_requests(&reqs)[0])["scope"]),
            vec!["mcp:read", "offline_access"]
        );
        let r = client.call_tool("admin", json!({})).await;
        let reqs = server.requests();
        let authz = authorize_requests(&reqs);
        assert!(authz.len() >= 2, "no step-up authorization");
        let second = scopes_of(&query(authz[1])["scope"]);
        assert!(
            second.iter().any(|s| s == "mcp:admin"),
            "step-up must add the challenge's scope to the configured ones (docs/auth.md §9); asked {second:?}"
        );
        r.expect("admin after step-up");
    })
    .await;
}

// ------------------------------------------------------------------ response checks

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iss_modes() {
    within(async {
        for (mode, ok) in [
            (IssMode::Advertised, true),
            (IssMode::Silent, true),
            (IssMode::Wrong, false),
            (IssMode::Missing, false),
        ] {
            let server = auth_server(AuthOptions {
                iss: mode,
                ..Default::default()
            })
            .await;
            let r = connect_oauth(&server, cfg()).await;
            let stats = server.auth_stats();
            assert_eq!(stats.authorize_requests, 1, "{mode:?}");
            if ok {
                echo(&r.expect("connect")).await.expect("echo");
                assert_eq!(stats.token_requests_for("authorization_code"), 1);
            } else {
                let e = expect_oauth_err(r);
                assert!(matches!(e, OAuthError::IssuerCheck(_)), "{mode:?}: {e:?}");
                assert_eq!(
                    stats.token_requests_total(),
                    0,
                    "{mode:?}: the code must not be used"
                );
                assert!(at(&server.requests(), "/token").is_empty());
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_for_another_resource_stops_before_authorization() {
    within(async {
        let server = auth_server(AuthOptions {
            prm_resource: Some("http://127.0.0.1:1/other".into()),
            ..Default::default()
        })
        .await;
        let e = expect_oauth_err(connect_oauth(&server, cfg()).await);
        match e {
            OAuthError::ResourceMismatch { advertised, .. } => {
                assert_eq!(advertised, "http://127.0.0.1:1/other")
            }
            other => panic!("expected ResourceMismatch, got {other:?}"),
        }
        let reqs = server.requests();
        assert!(authorize_requests(&reqs).is_empty());
        assert!(at(&reqs, "/register").is_empty());
        assert!(as_metadata_paths(&reqs).is_empty());
        assert_eq!(server.auth_stats().token_requests_total(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_s256_is_refused_unless_allowed() {
    within(async {
        let opts = AuthOptions {
            pkce_advertised: false,
            ..Default::default()
        };
        let server = auth_server(opts.clone()).await;
        let e = expect_oauth_err(connect_oauth(&server, cfg()).await);
        assert!(matches!(e, OAuthError::PkceNotSupported { .. }), "{e:?}");
        let reqs = server.requests();
        assert!(authorize_requests(&reqs).is_empty());
        assert!(at(&reqs, "/register").is_empty());

        let server = auth_server(opts).await;
        let mut c = cfg();
        c.allow_missing_pkce_metadata = true;
        let client = connect_oauth(&server, c).await.expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        assert_eq!(
            query(authorize_requests(&reqs)[0])["code_challenge_method"],
            "S256"
        );
    })
    .await;
}

// ------------------------------------------------------------------ other grants

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_polls_until_approved() {
    within(async {
        let server = auth_server(AuthOptions {
            device_flow: true,
            ..Default::default()
        })
        .await;
        let shown = Arc::new(Mutex::new(Vec::new()));
        let shown2 = shown.clone();
        let presenter =
            AsyncPresenter::refusing("no browser in the device flow").on_device(move |d| {
                shown2.lock().unwrap().push(d.user_code.clone());
                async move {
                    // The user approves on another device a little after the first poll.
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(1300)).await;
                        let url = d.verification_uri_complete.expect("complete URI");
                        let resp = http_client(false).get(url).send().await.expect("approve");
                        assert_eq!(resp.status().as_u16(), 200);
                    });
                    Ok(())
                }
            });
        let client = connect_oauth(&server, cfg().grant(Grant::DeviceCode).presenter(presenter))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        assert_eq!(shown.lock().unwrap().len(), 1);
        let reqs = server.requests();
        assert!(authorize_requests(&reqs).is_empty(), "no browser flow");
        assert_eq!(at(&reqs, "/device_authorization").len(), 1);
        let polls = token_requests(&reqs, "urn:ietf:params:oauth:grant-type:device_code").len();
        assert!((2..=3).contains(&polls), "{polls} polls");
        let stats = server.auth_stats();
        assert_eq!(stats.device_authorizations, 1);
        assert!(client.oauth().unwrap().status().has_refresh_token);
    })
    .await;
}

/// Checks DPoP on the wire: token type, `Authorization: DPoP`, a proof per request, and
/// (with `nonce`) that the first proofs lacked the nonce and later ones carry it.
async fn dpop_case(nonce: bool) {
    let (server, client) = signed_in(AuthOptions {
        dpop: DpopOptions {
            required: true,
            nonce,
        },
        ..Default::default()
    })
    .await;
    echo(&client).await.expect("echo");
    let st = client.oauth().unwrap().status();
    assert_eq!(st.token_type.as_deref(), Some("DPoP"), "{st:?}");

    let reqs = server.requests();
    let tokens = token_requests(&reqs, "authorization_code");
    assert_eq!(tokens.len(), if nonce { 2 } else { 1 });
    for t in &tokens {
        let claims = jwt_claims(t.header("dpop").expect("a DPoP proof at /token"));
        assert_eq!(claims["htm"], "POST");
    }
    let first = jwt_claims(tokens[0].header("dpop").unwrap());
    assert!(first.get("nonce").is_none());
    if nonce {
        let second = jwt_claims(tokens[1].header("dpop").unwrap());
        assert!(second["nonce"].is_string(), "nonce answered at /token");
    }

    let bound: Vec<_> = mcp_requests(&reqs)
        .into_iter()
        .filter(|r| r.header("authorization").is_some())
        .collect();
    assert!(!bound.is_empty());
    for r in &bound {
        let auth = r.header("authorization").unwrap();
        assert!(auth.starts_with("DPoP "), "{auth}");
        let claims = jwt_claims(r.header("dpop").expect("a DPoP proof at /mcp"));
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], server.url());
        assert!(claims["ath"].is_string());
    }
    let nonces: Vec<Option<String>> = bound
        .iter()
        .map(|r| {
            jwt_claims(r.header("dpop").unwrap())
                .get("nonce")
                .and_then(|n| n.as_str())
                .map(str::to_owned)
        })
        .collect();
    if nonce {
        // Nonces are remembered per origin, and /token and /mcp share one here: the first
        // proof at /mcp carries none or the token endpoint's; the resource server's
        // `use_dpop_nonce` is answered and its nonce used from then on.
        let as_nonce = jwt_claims(tokens[1].header("dpop").unwrap())["nonce"]
            .as_str()
            .map(str::to_owned);
        assert!(bound.len() >= 2, "the refused proof and its retry");
        assert!(nonces[0].is_none() || nonces[0] == as_nonce, "{nonces:?}");
        let rs_nonce = nonces[1].clone().expect("the retry carries a nonce");
        assert_ne!(Some(&rs_nonce), as_nonce.as_ref());
        assert!(
            nonces[1..]
                .iter()
                .all(|n| n.as_deref() == Some(rs_nonce.as_str())),
            "the resource server's nonce is remembered: {nonces:?}"
        );
    } else {
        assert!(nonces.iter().all(Option::is_none), "{nonces:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_bound_tokens_with_nonces() {
    within(dpop_case(true)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dpop_bound_tokens_without_nonces() {
    within(dpop_case(false)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_grant_needs_no_browser() {
    within(async {
        let server = auth_server(AuthOptions {
            dcr: false,
            pre_registered: vec![PreRegistered::confidential(
                "m2m",
                "m2m-secret",
                "client_secret_basic",
            )],
            ..Default::default()
        })
        .await;
        let presenter = AsyncPresenter::refusing("no browser for a machine client");
        let c = cfg()
            .client("m2m", Some("m2m-secret"))
            .grant(Grant::ClientCredentials)
            .presenter(presenter);
        let client = connect_oauth(&server, c).await.expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        assert!(authorize_requests(&reqs).is_empty());
        let t = token_requests(&reqs, "client_credentials");
        assert_eq!(t.len(), 1);
        assert_eq!(field(t[0], "resource"), Some(server.url().as_str()));
        assert!(t[0]
            .header("authorization")
            .is_some_and(|h| h.starts_with("Basic ")));
        let st = client.oauth().unwrap().status();
        assert!(st.has_token);
        assert!(!st.has_refresh_token);
    })
    .await;
}

// ------------------------------------------------------------------ the host's part

async fn standalone(server: &TestServer, store: &Store) -> OAuthEngine {
    OAuthEngine::for_server(
        with_store(cfg(), store),
        &Url::parse(&server.url()).unwrap(),
        &builder(&server.url()).build().http_settings(),
    )
    .expect("provider")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_authorization_through_the_hosts_redirect_handler() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let store = shared_store();
        let provider = standalone(&server, &store).await;
        let redirect = Url::parse("http://127.0.0.1:9/app/callback").unwrap();
        let url = provider
            .begin_authorization(&redirect)
            .await
            .expect("begin");
        assert!(
            url.as_str()
                .starts_with(&format!("{}/authorize?", server.issuer())),
            "{url}"
        );
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["redirect_uri"], redirect.as_str());
        assert_eq!(q["code_challenge_method"], "S256");
        let loc = location_of(&url).await;
        assert!(loc.as_str().starts_with(redirect.as_str()), "{loc}");
        provider
            .complete_authorization(&loc)
            .await
            .expect("complete");
        assert!(provider.status().has_token);

        // A client sharing the store uses those tokens: no other authorization.
        let mut c = with_store(cfg(), &store);
        c.interactive = false;
        let client = connect_oauth(&server, c).await.expect("connect");
        echo(&client).await.expect("echo");
        let stats = server.auth_stats();
        assert_eq!(stats.authorize_requests, 1);
        assert_eq!(stats.token_requests_for("authorization_code"), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_authorization_with_a_tampered_state_is_refused() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let provider = standalone(&server, &shared_store()).await;
        let redirect = Url::parse("http://127.0.0.1:9/callback").unwrap();
        let url = provider
            .begin_authorization(&redirect)
            .await
            .expect("begin");
        let mut loc = location_of(&url).await;
        set_query_param(&mut loc, "state", "tampered");
        let e = provider
            .complete_authorization(&loc)
            .await
            .expect_err("tampered state");
        assert!(matches!(e, OAuthError::StateMismatch), "{e:?}");
        assert!(at(&server.requests(), "/token").is_empty(), "code not used");
        assert!(!provider.status().has_token);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_listener_receives_the_browser_redirect() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let page: Arc<Mutex<Option<(u16, String)>>> = Arc::default();
        let page2 = page.clone();
        let presenter = move |req: &AuthorizationRequest| -> Result<Option<Url>, OAuthError> {
            let (url, page) = (req.url.clone(), page2.clone());
            // The browser: follows the authorization server's redirect to the listener.
            tokio::spawn(async move {
                let resp = http_client(true)
                    .get(url)
                    .send()
                    .await
                    .expect("browser GET");
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                *page.lock().unwrap() = Some((status, text));
            });
            Ok(None)
        };
        let client = connect_oauth(&server, cfg().presenter(presenter))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        let q = query(authorize_requests(&reqs)[0]);
        let redirect = Url::parse(&q["redirect_uri"]).unwrap();
        assert_eq!(redirect.host_str(), Some("127.0.0.1"));
        assert_eq!(redirect.path(), "/callback");
        assert_ne!(redirect.port(), Some(server.port()));
        // The browser saw the listener's page.
        for _ in 0..50 {
            if page.lock().unwrap().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (status, text) = page.lock().unwrap().clone().expect("the browser finished");
        assert_eq!(status, 200);
        assert!(text.contains("close this tab"), "{text}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_listener_on_a_fixed_port() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let port = free_port();
        let presenter = |req: &AuthorizationRequest| -> Result<Option<Url>, OAuthError> {
            let url = req.url.clone();
            tokio::spawn(async move {
                let _ = http_client(true).get(url).send().await;
            });
            Ok(None)
        };
        let mut c = cfg().presenter(presenter);
        c.redirect_port = port;
        let client = connect_oauth(&server, c).await.expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        assert_eq!(
            query(authorize_requests(&reqs)[0])["redirect_uri"],
            format!("http://127.0.0.1:{port}/callback")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_refresh_token_first_and_next_call_signs_in_again() {
    within(async {
        let (server, client) = signed_in(AuthOptions::default()).await;
        echo(&client).await.expect("echo");
        let access = last_bearer(&server);
        client.oauth().unwrap().logout().await.expect("logout");
        let reqs = server.requests();
        let revokes = at(&reqs, "/revoke");
        assert_eq!(revokes.len(), 2);
        assert_eq!(field(revokes[0], "token_type_hint"), Some("refresh_token"));
        assert_eq!(field(revokes[1], "token_type_hint"), Some("access_token"));
        assert_eq!(field(revokes[1], "token"), Some(access.as_str()));
        assert_ne!(field(revokes[0], "token"), Some(access.as_str()));
        assert_eq!(server.auth_stats().revocations, 2);
        let st = client.oauth().unwrap().status();
        assert!(!st.has_token && !st.has_refresh_token);

        echo(&client).await.expect("echo after logout");
        assert_eq!(server.auth_stats().authorize_requests, 2);
        let reqs = server.requests();
        let last = mcp_requests(&reqs).last().copied().unwrap();
        assert!(bearer_of(last).is_some_and(|t| t != access));
    })
    .await;
}

/// A sign-in slower than the request timeout does not time the request out: time spent
/// authorizing is not the request's, and its full timeout restarts afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sign_in_does_not_count_against_the_request_timeout() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let slow_user = AsyncPresenter::new(|req: AuthorizationRequest| async move {
            tokio::time::sleep(Duration::from_millis(1200)).await;
            Ok(Some(location_of(&req.url).await))
        });
        let client = builder(&server.url())
            .request_timeout(Duration::from_millis(500))
            .open_get_stream(false)
            .oauth(cfg().presenter(slow_user))
            .connect()
            .await
            .expect("connect despite a sign-in longer than the request timeout");
        echo(&client).await.expect("call");
        // And the timeout still applies to the server itself.
        let r = client.call_tool("slow", json!({"ms": 2000})).await;
        assert!(matches!(r, Err(mcp_client::Error::Timeout { .. })), "{r:?}");
    })
    .await;
}

/// An engine made beforehand (two-step sign-in before connecting) is the client's engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_made_before_connecting_is_the_clients() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let provider = Arc::new(standalone(&server, &shared_store()).await);
        let redirect = Url::parse("http://127.0.0.1:9/app/callback").unwrap();
        let url = provider
            .begin_authorization(&redirect)
            .await
            .expect("begin");
        provider
            .complete_authorization(&location_of(&url).await)
            .await
            .expect("complete");
        let client = builder(&server.url())
            .open_get_stream(false)
            .oauth_engine(provider.clone())
            .connect()
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        assert!(Arc::ptr_eq(client.oauth().expect("engine"), &provider));
        assert_eq!(
            server.auth_stats().authorize_requests,
            1,
            "no second sign-in"
        );
    })
    .await;
}

/// Closing after a logout ends the session without signing in again: the DELETE's 401 is the
/// end, not a challenge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_after_logout_does_not_sign_in_again() {
    within(async {
        let (server, client) = signed_in(AuthOptions::default()).await;
        echo(&client).await.expect("echo");
        client.oauth().unwrap().logout().await.expect("logout");
        client.close().await.expect("close after logout");
        assert_eq!(
            server.auth_stats().authorize_requests,
            1,
            "no sign-in to close"
        );
    })
    .await;
}
