//! rmcp with its defaults: `#[tokio::main]` (tokio's multi-thread runtime, one worker per
//! core), `StreamableHttpClientTransport::from_config` (rmcp's own default reqwest client)
//! with the bearer token through the config's documented `auth_header`, and `().serve(..)`.
//! Everything else (e.g. max_concurrent_requests = 16, no idle connection pooling) is rmcp's.
//!
//! `--auth cold|warm|storm` and `--hold N` (common.rs) with the same defaults: `--hold`
//! builds each transport with `from_config`; under OAuth, rmcp's own OAuth HTTP client
//! (`OAuthState::new(url, None)`, `AuthorizationManager::new`) and, as rmcp's OAuth example
//! and docs do, `AuthClient::new(reqwest::Client::default(), manager)` for the transport.

#[path = "../common.rs"]
mod common;

use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;

/// Scenarios 3-5: rmcp's defaults throughout (see `common::Flavor`).
const FLAVOR: common::Flavor = common::Flavor {
    name: "rmcp-default",
    make_http: None,
    configure: |config, _k| config,
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = common::parse_args();
    if args.auth.is_some() || args.hold.is_some() {
        return common::run_mode(&FLAVOR, &args).await;
    }
    let config = StreamableHttpClientTransportConfig::with_uri(args.url.as_str())
        .auth_header(args.token.clone());
    let transport = StreamableHttpClientTransport::from_config(config);
    let client = match ().serve(transport).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("initialize failed: {e}");
            common::print_result("rmcp-default", args.calls, 0, 0, Vec::new(), 0);
            return std::process::ExitCode::FAILURE;
        }
    };
    common::drive("rmcp-default", &args, client).await
}
