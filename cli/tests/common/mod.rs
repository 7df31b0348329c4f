//! Helpers shared by the CLI's integration tests.

use std::path::Path;

use mcp_client::oauth::{HeadlessPresenter, OAuthConfig};
use mcp_client::store::StoreChoice;
use mcp_client::ClientBuilder;
use mcp_test_server::{AuthOptions, ServerOptions, TestServer};
use serde_json::json;

/// Start a test server protecting `/mcp` with `auth`.
pub async fn auth_server(auth: AuthOptions) -> TestServer {
    mcp_test_server::start(ServerOptions {
        auth: Some(auth),
        ..Default::default()
    })
    .await
    .expect("server")
}

/// Sign in to `server` headlessly with a file store in `dir` (through one `echo` call), as a
/// user would before running the CLI.
pub async fn sign_in(server: &TestServer, dir: &Path) {
    sign_in_to(server, StoreChoice::File(Some(dir.to_path_buf()))).await
}

/// Sign in to `server` headlessly into `store` (through one `echo` call).
pub async fn sign_in_to(server: &TestServer, store: StoreChoice) {
    let mut cfg = OAuthConfig::default().presenter(HeadlessPresenter::new().expect("presenter"));
    cfg.store = store;
    let c = ClientBuilder::http(&server.url())
        .expect("url")
        .oauth(cfg)
        .open_get_stream(false)
        .connect()
        .await
        .expect("connect");
    c.call_tool("echo", json!({"text": "sign in"}))
        .await
        .expect("call");
    c.close().await.expect("close");
}
