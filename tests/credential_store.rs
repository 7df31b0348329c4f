//! Credentials kept between clients: the file store (private, versioned JSON that a new client
//! uses without any OAuth traffic, and that is ignored when corrupt, of another format or for
//! another issuer), the kernel keyring, and two engines sharing one store (a refresh by one is
//! adopted by the other, never replayed).

mod common;

use std::time::Duration;

use common::oauth::*;
use mcp_client::oauth::OAuthConfig;
use mcp_client::store::StoreChoice;
use mcp_test_server::{AuthOptions, AuthStats, TestServer};
use serde_json::{json, Value};

fn file_cfg(dir: &TempDir) -> OAuthConfig {
    let mut c = cfg();
    c.store = StoreChoice::File(Some(dir.path().to_path_buf()));
    c
}

/// The single entry in the store directory, parsed.
fn entry(dir: &TempDir) -> (std::path::PathBuf, Value) {
    let files = dir.json_files();
    assert_eq!(files.len(), 1, "one entry per server: {files:?}");
    let raw = std::fs::read_to_string(&files[0]).expect("read the entry");
    let v = serde_json::from_str(&raw).expect("the entry is JSON");
    (files[0].clone(), v)
}

/// Sign in once with a file store in `dir`; returns the stats afterwards.
async fn sign_in(server: &TestServer, dir: &TempDir) -> AuthStats {
    let client = connect_oauth(server, file_cfg(dir)).await.expect("sign in");
    echo(&client).await.expect("echo");
    client.close().await.expect("close");
    let stats = server.auth_stats();
    assert_eq!(stats.authorize_requests, 1);
    stats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_lets_a_new_client_skip_oauth_entirely() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let dir = TempDir::new("file");
        let s0 = sign_in(&server, &dir).await;

        let (path, v) = entry(&dir);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the entry is private");
        }
        assert_eq!(v["format"], 1);
        assert_eq!(v["server"], server.url());

        let n = server.requests().len();
        let client = connect_oauth(&server, file_cfg(&dir))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        assert_eq!(server.auth_stats(), s0, "no OAuth activity");
        let reqs = server.requests();
        let later = &reqs[n..];
        let oauth: Vec<_> = later.iter().filter(|r| is_oauth_request(r)).collect();
        assert!(oauth.is_empty(), "OAuth requests: {oauth:#?}");
        assert!(later
            .iter()
            .filter(|r| r.path == "/mcp")
            .all(|r| bearer_of(r).is_some()));
        let st = client.oauth().unwrap().status();
        assert!(st.has_token && st.has_refresh_token);
        assert_eq!(st.issuer, Some(server.issuer()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_store_after_expiry_a_new_client_refreshes_once() {
    within(async {
        // 2 s: the refreshed token cannot fall due again during the handshake.
        let server = auth_server(AuthOptions {
            access_token_ttl_secs: 2,
            ..Default::default()
        })
        .await;
        let dir = TempDir::new("expiry");
        let s0 = sign_in(&server, &dir).await;
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let n = server.requests().len();
        let client = connect_oauth(&server, file_cfg(&dir))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let s1 = server.auth_stats();
        assert_eq!(
            s1.token_requests_for("refresh_token") - s0.token_requests_for("refresh_token"),
            1,
            "{s1:?}"
        );
        assert_eq!(s1.authorize_requests, 1);
        assert_eq!(s1.registrations, 1);
        assert_eq!(s1.refresh_replays_detected, 0);
        let reqs = server.requests();
        assert!(
            !reqs[n..].iter().any(|r| r.path.contains("/.well-known/")),
            "the stored metadata is used"
        );
    })
    .await;
}

async fn unusable_entry_means_a_fresh_sign_in(corrupt: impl Fn(&std::path::Path)) {
    let server = auth_server(AuthOptions::default()).await;
    let dir = TempDir::new("corrupt");
    sign_in(&server, &dir).await;
    let (path, _) = entry(&dir);
    corrupt(&path);
    let client = connect_oauth(&server, file_cfg(&dir))
        .await
        .expect("connect despite the unusable entry");
    echo(&client).await.expect("echo");
    assert_eq!(
        server.auth_stats().authorize_requests,
        2,
        "signed in afresh"
    );
    // The fresh sign-in replaced the entry.
    let (_, v) = entry(&dir);
    assert_eq!(v["format"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_entry_means_a_fresh_sign_in() {
    within(unusable_entry_means_a_fresh_sign_in(|p| {
        std::fs::write(p, b"\x00\x01{ not json at all").unwrap()
    }))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_entry_means_a_fresh_sign_in() {
    within(unusable_entry_means_a_fresh_sign_in(|p| {
        let raw = std::fs::read(p).unwrap();
        std::fs::write(p, &raw[..raw.len() / 2]).unwrap()
    }))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_of_another_format_means_a_fresh_sign_in() {
    within(unusable_entry_means_a_fresh_sign_in(|p| {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        v["format"] = json!(0);
        std::fs::write(p, v.to_string()).unwrap()
    }))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_another_issuer_are_not_sent() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let dir = TempDir::new("issuer");
        sign_in(&server, &dir).await;
        let (path, mut v) = entry(&dir);
        assert_eq!(v["tokens"]["issuer"], server.issuer());
        v["tokens"]["issuer"] = json!("http://127.0.0.1:1/elsewhere");
        std::fs::write(&path, v.to_string()).unwrap();

        let n = server.requests().len();
        let client = connect_oauth(&server, file_cfg(&dir))
            .await
            .expect("connect");
        echo(&client).await.expect("echo");
        let reqs = server.requests();
        let first = reqs[n..]
            .iter()
            .find(|r| r.path == "/mcp")
            .expect("an MCP request");
        assert!(
            first.header("authorization").is_none(),
            "a token from another issuer was sent"
        );
        assert_eq!(server.auth_stats().authorize_requests, 2);
    })
    .await;
}

// ------------------------------------------------------------------ two engines, one store

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_by_one_engine_is_adopted_by_the_other_on_expiry() {
    within(async {
        // 2 s: the token A refreshes cannot fall due before B looks at it.
        let server = auth_server(AuthOptions {
            access_token_ttl_secs: 2,
            ..Default::default()
        })
        .await;
        let dir = TempDir::new("shared");
        let a = connect_oauth(&server, file_cfg(&dir)).await.expect("A");
        let b = connect_oauth(&server, file_cfg(&dir)).await.expect("B");
        assert_eq!(
            server.auth_stats().authorize_requests,
            1,
            "B used A's sign-in"
        );

        tokio::time::sleep(Duration::from_millis(2100)).await;
        echo(&a).await.expect("echo"); // A refreshes, rotating the refresh token B still holds.
        let s1 = server.auth_stats();
        assert_eq!(s1.token_requests_for("refresh_token"), 1);
        echo(&b).await.expect("echo"); // B's token is due: it must take A's from the store.
        echo(&a).await.expect("echo");
        let s2 = server.auth_stats();
        assert_eq!(s2.refresh_replays_detected, 0, "B replayed a rotated token");
        assert_eq!(s2.token_requests_for("refresh_token"), 1, "{s2:?}");
        assert_eq!(s2.authorize_requests, 1);
        let reqs = server.requests();
        let bearers: Vec<&str> = mcp_requests(&reqs)
            .iter()
            .rev()
            .take(2)
            .filter_map(|r| bearer_of(r))
            .collect();
        assert_eq!(bearers.len(), 2);
        assert_eq!(bearers[0], bearers[1], "A and B use the same token");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_by_one_engine_is_adopted_by_the_other_on_401() {
    within(async {
        let server = auth_server(AuthOptions::default()).await;
        let dir = TempDir::new("shared401");
        let a = connect_oauth(&server, file_cfg(&dir)).await.expect("A");
        let b = connect_oauth(&server, file_cfg(&dir)).await.expect("B");
        server.expire_access_tokens();
        echo(&a).await.expect("echo"); // 401, A refreshes (rotating)
        echo(&b).await.expect("echo"); // 401 with the old token, B must adopt A's
        echo(&a).await.expect("echo");
        let s = server.auth_stats();
        assert_eq!(s.refresh_replays_detected, 0, "B replayed a rotated token");
        assert_eq!(s.token_requests_for("refresh_token"), 1, "{s:?}");
        assert_eq!(s.authorize_requests, 1);
    })
    .await;
}

// ------------------------------------------------------------------ kernel keyring

/// Only in a session keyring of our own (joined before any thread of the runtime exists, so
/// every thread inherits it).
#[test]
fn kernel_keyring_keeps_a_sign_in_for_the_session() {
    // SAFETY: KEYCTL_JOIN_SESSION_KEYRING with a null name: a new anonymous session keyring
    // for this thread and the threads it starts.
    let rc = unsafe { libc::syscall(libc::SYS_keyctl, 1, std::ptr::null::<libc::c_char>()) };
    if rc < 0 {
        println!(
            "skipping: cannot join a session keyring ({})",
            std::io::Error::last_os_error()
        );
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(within(async {
        let lock_dir = TempDir::new("keyring-locks");
        let probe = match mcp_client::store::KeyringStore::new(
            mcp_client::store::KeyringBackend::KernelKeyring,
            lock_dir.path().to_path_buf(),
        ) {
            Ok(s) => s,
            Err(e) => {
                println!("skipping: the kernel keyring is unusable here ({e})");
                return;
            }
        };
        use mcp_client::store::CredentialStore as _;
        let index_before = probe.load("mcp-client-index").ok().flatten();

        let server = auth_server(AuthOptions::default()).await;
        let mut c = cfg();
        c.store = StoreChoice::KernelKeyring;
        let first = connect_oauth(&server, c.clone()).await.expect("sign in");
        echo(&first).await.expect("echo");
        assert_eq!(
            first.oauth().unwrap().store_name(),
            "kernel keyring",
            "the kernel keyring is in use"
        );
        let s0 = server.auth_stats();
        let n = server.requests().len();

        let second = connect_oauth(&server, c).await.expect("connect");
        echo(&second).await.expect("echo");
        assert_eq!(server.auth_stats(), s0, "no OAuth activity");
        let reqs = server.requests();
        assert!(!reqs[n..].iter().any(is_oauth_request));

        // Leave nothing behind: logout deletes the entry.
        second.oauth().unwrap().logout().await.expect("logout");
        // (keyutils may still find an invalidated key for a few milliseconds)
        let key = server.url();
        let mut gone = false;
        for _ in 0..50 {
            if probe.load(&key).ok().flatten().is_none() {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(gone, "logout left the entry in the keyring");
        if index_before.is_none() {
            let _ = probe.delete("mcp-client-index");
        }
    }));
}
