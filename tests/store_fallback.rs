//! With no usable OS keyring (no D-Bus session here), the default store falls back to the file
//! store in the user's state directory, and says so: once, when a credential is first saved,
//! never in a run whose server asks for no authorization. Alone in its test binary: it sets
//! process-wide environment variables.

use std::sync::{Arc, Mutex};

use mcp_client::oauth::{AuthEvent, HeadlessPresenter, OAuthConfig};
use mcp_client::store::StoreChoice;
use mcp_client::ClientBuilder;
use mcp_test_server::{AuthOptions, ServerOptions};

/// The tests here change the process's environment: one at a time.
static ENV: Mutex<()> = Mutex::new(());

#[test]
fn default_store_falls_back_to_a_private_file_store() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let dir = std::env::temp_dir().join(format!("mcp-client-fallback-{}", std::process::id()));
    std::env::set_var("XDG_STATE_HOME", &dir);
    std::env::remove_var("DBUS_SESSION_BUS_ADDRESS");
    std::env::remove_var("MCP_CLIENT_STORE");
    let opened = StoreChoice::Auto.open_with_reason().expect("a store");
    let store = opened.store;
    assert_eq!(
        opened.fallback.is_some(),
        store.name().starts_with("file"),
        "a file store stands in for the keyring, with the reason: {:?}",
        opened.fallback
    );
    assert!(
        store.name().starts_with("file") || store.name() == "keyring",
        "unexpected store {}",
        store.name()
    );
    if store.name().starts_with("file") {
        assert!(store.name().contains(&dir.display().to_string()));
        store.save("https://a.example/mcp", "{}").expect("save");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let d = dir.join("mcp-client");
            assert_eq!(
                std::fs::metadata(&d).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }
    // The operator's override wins over the configuration.
    std::env::set_var("MCP_CLIENT_STORE", "memory");
    assert_eq!(StoreChoice::File(None).open().unwrap().name(), "memory");
    std::env::set_var(
        "MCP_CLIENT_STORE",
        format!("file:{}", dir.join("x").display()),
    );
    assert!(StoreChoice::Memory.open().unwrap().name().contains("/x"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The events of connecting with the default store to a server with `auth`, and one call.
async fn events_of_a_run(auth: Option<AuthOptions>) -> Vec<AuthEvent> {
    let server = mcp_test_server::start(ServerOptions {
        auth,
        ..Default::default()
    })
    .await
    .expect("server");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let oauth = OAuthConfig::default()
        .presenter(HeadlessPresenter::new().expect("presenter"))
        .on_event(move |e| sink.lock().unwrap().push(e.clone()));
    let client = ClientBuilder::http(&server.url())
        .expect("url")
        .open_get_stream(false)
        .oauth(oauth)
        .connect()
        .await
        .expect("connect");
    client.ping().await.expect("ping");
    client.close().await.expect("close");
    server.shutdown().await;
    let v = events.lock().unwrap().clone();
    v
}

#[test]
fn the_fallback_is_announced_when_a_credential_is_saved_and_only_then() {
    let _env = ENV.lock().unwrap_or_else(|p| p.into_inner());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = std::env::temp_dir().join(format!("mcp-client-announce-{}", std::process::id()));
    std::env::set_var("XDG_STATE_HOME", &dir);
    std::env::remove_var("DBUS_SESSION_BUS_ADDRESS");
    std::env::remove_var("MCP_CLIENT_STORE");
    if StoreChoice::Auto
        .open_with_reason()
        .expect("store")
        .fallback
        .is_none()
    {
        return; // a real keyring here: nothing falls back
    }
    // A server that never asks: not a word about stores.
    let quiet = rt.block_on(events_of_a_run(None));
    assert!(quiet.is_empty(), "{quiet:?}");
    // A server that asks: the file fallback is announced once, with its reason.
    let events = rt.block_on(events_of_a_run(Some(AuthOptions::default())));
    let selected: Vec<&AuthEvent> = events
        .iter()
        .filter(|e| matches!(e, AuthEvent::StoreSelected { .. }))
        .collect();
    assert_eq!(selected.len(), 1, "{events:?}");
    match selected[0] {
        AuthEvent::StoreSelected {
            store, fallback, ..
        } => {
            assert!(store.starts_with("file"), "{store}");
            assert!(
                fallback.as_deref().is_some_and(|f| f.contains("keyring")),
                "{fallback:?}"
            );
        }
        e => panic!("{e:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
