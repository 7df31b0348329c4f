//! Authorization events fire where they should: sign-in needed, browser opened, signed in,
//! refreshed, step-up, refresh failed, token adopted from another engine, store selected (once,
//! and only when a credential is loaded or saved) and logged out; with the grant, scopes and
//! expiry they name. (That none carries a secret is checked by the canary of oauth_safety.rs.)

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::oauth::*;
use common::*;
use mcp_client::oauth::{AuthEvent, OAuthConfig, OAuthEngine};
use mcp_client::store::{MemoryStore, StoreChoice};
use mcp_test_server::AuthOptions;
use serde_json::{json, Value};
use url::Url;

/// Every event an engine emits, in order.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<AuthEvent>>>);

impl Recorder {
    fn attach(&self, cfg: OAuthConfig) -> OAuthConfig {
        let sink = self.0.clone();
        cfg.on_event(move |e| sink.lock().unwrap().push(e.clone()))
    }

    fn take(&self) -> Vec<AuthEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

async fn echo(client: &mcp_client::Client) -> mcp_client::Result<()> {
    client
        .call_tool("echo", json!({"text": "hi"}))
        .await
        .map(|_| ())
}

/// The events' names in order (`signed_in`, …), from their JSON form.
fn names(events: &[AuthEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let v: Value = serde_json::from_str(&e.to_json()).unwrap();
            v["event"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sign_in_refresh_step_up_and_logout_say_what_they_do() {
    within(async {
        // Expiry is in whole seconds: a 2-second token is good for at least one, so the
        // refreshed token below is not refreshed again before the step-up.
        let server = auth_server(AuthOptions {
            access_token_ttl_secs: 2,
            ..Default::default()
        })
        .await;
        let rec = Recorder::default();
        let client = connect_oauth(&server, rec.attach(cfg()))
            .await
            .expect("connect");
        let key = mcp_client::oauth::stored::key_for(&Url::parse(&server.url()).unwrap());
        let events = rec.take();
        assert_eq!(
            names(&events),
            [
                "store_selected",
                "sign_in_required",
                "browser_opened",
                "signed_in"
            ],
            "{events:?}"
        );
        match &events[1] {
            AuthEvent::SignInRequired {
                server: s,
                issuer,
                grant,
                ..
            } => {
                assert_eq!(s, &key);
                assert_eq!(issuer, &server.issuer());
                assert_eq!(grant, "authorization_code");
            }
            e => panic!("{e:?}"),
        }
        // The store is announced when the discovered metadata is first saved.
        match &events[0] {
            AuthEvent::StoreSelected {
                store, fallback, ..
            } => {
                assert_eq!(store, "memory");
                assert_eq!(fallback, &None);
            }
            e => panic!("{e:?}"),
        }
        match &events[3] {
            AuthEvent::SignedIn {
                expires_at,
                token_type,
                grant,
                ..
            } => {
                assert!(expires_at.is_some());
                assert_eq!(token_type, "Bearer");
                assert_eq!(grant, "authorization_code");
            }
            e => panic!("{e:?}"),
        }

        // The expired token is refreshed ahead of the next call.
        tokio::time::sleep(Duration::from_millis(2100)).await;
        echo(&client).await.expect("echo after expiry");
        let events = rec.take();
        assert_eq!(names(&events), ["token_refreshed"], "{events:?}");

        // A tool that needs another scope: step-up, a new sign-in asking for it.
        client
            .call_tool("admin", json!({}))
            .await
            .expect("admin after step-up");
        let events = rec.take();
        assert_eq!(
            names(&events),
            ["step_up", "sign_in_required", "browser_opened", "signed_in"],
            "{events:?}"
        );
        match (&events[0], &events[1]) {
            (AuthEvent::StepUp { required, .. }, AuthEvent::SignInRequired { scopes, .. }) => {
                assert_eq!(required, &["mcp:admin".to_owned()]);
                assert!(scopes.contains(&"mcp:admin".to_owned()), "{scopes:?}");
            }
            e => panic!("{e:?}"),
        }

        client.oauth().unwrap().logout().await.expect("logout");
        assert_eq!(
            rec.take(),
            [AuthEvent::LoggedOut {
                server: key,
                revoked: true
            }]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_says_so_before_signing_in_again() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let rec = Recorder::default();
        let client = connect_oauth(&server, rec.attach(cfg()))
            .await
            .expect("connect");
        rec.take();
        server.revoke_all_tokens();
        echo(&client).await.expect("echo after revocation");
        let events = rec.take();
        assert_eq!(
            names(&events),
            [
                "refresh_failed",
                "sign_in_required",
                "browser_opened",
                "signed_in"
            ],
            "{events:?}"
        );
        match &events[0] {
            AuthEvent::RefreshFailed { reason, issuer, .. } => {
                assert_eq!(reason, "invalid_grant");
                assert_eq!(issuer, &server.issuer());
            }
            e => panic!("{e:?}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_another_engine_refreshed_is_adopted_and_said() {
    within(async {
        let server = auth_server(AuthOptions {
            access_token_ttl_secs: 2,
            ..Default::default()
        })
        .await;
        let store = Arc::new(MemoryStore::default());
        let shared = |rec: &Recorder| {
            let mut c = rec.attach(cfg());
            c.store = StoreChoice::Custom(store.clone());
            c
        };
        let (rec_a, rec_b) = (Recorder::default(), Recorder::default());
        let a = connect_oauth(&server, shared(&rec_a)).await.expect("a");
        let url = Url::parse(&server.url()).unwrap();
        let b = OAuthEngine::for_server(
            shared(&rec_b),
            &url,
            &builder(&server.url()).build().http_settings(),
        )
        .expect("engine b");
        // b starts with a's tokens from the store: no sign-in of its own.
        let b_client = builder(&server.url())
            .open_get_stream(false)
            .oauth_engine(Arc::new(b))
            .connect()
            .await
            .expect("b connects");
        assert_eq!(names(&rec_b.take()), ["store_selected"]);
        tokio::time::sleep(Duration::from_millis(2100)).await;
        echo(&a).await.expect("a refreshes");
        assert!(names(&rec_a.take()).contains(&"token_refreshed".to_owned()));
        echo(&b_client).await.expect("b uses a's token");
        let events = rec_b.take();
        assert!(
            names(&events).contains(&"token_adopted".to_owned()),
            "{events:?}"
        );
        assert!(!names(&events).contains(&"token_refreshed".to_owned()));
        assert_eq!(server.auth_stats().token_requests_for("refresh_token"), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_asks_hears_nothing_of_authorization() {
    within(async {
        let server = default_server().await;
        let rec = Recorder::default();
        let client = connect_url(&server.url(), rec.attach(cfg()))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        assert_eq!(rec.take(), []);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_hook_receives_the_engine_events() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let client = builder(&server.url())
            .open_get_stream(false)
            .oauth(cfg())
            .on_auth_event(move |e| sink.lock().unwrap().push(e.to_string()))
            .connect()
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.iter().any(|l| l.starts_with("signed in to ")),
            "{seen:?}"
        );
        assert!(
            seen.iter().any(|l| l.starts_with("sign-in needed for ")),
            "{seen:?}"
        );
    })
    .await;
}
