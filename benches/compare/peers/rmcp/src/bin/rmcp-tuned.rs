//! rmcp as a user tuning it for speed would reasonably configure it, with only public,
//! documented knobs (`StreamableHttpClientTransport::with_client` takes any reqwest::Client):
//!
//! * a reqwest::Client of our own instead of rmcp's default one. rmcp's default client sets
//!   `pool_max_idle_per_host(0)` (see its docs: it avoids a Delayed-ACK stall when a response
//!   body was not fully read), i.e. a new TCP connection for every POST. Our server always
//!   answers complete `application/json` bodies, so we keep idle connections pooled
//!   (`pool_max_idle_per_host` >= K, a long `pool_idle_timeout`) and reuse them;
//! * `tcp_nodelay(true)`: no Nagle delay on the small request writes (reqwest's default too,
//!   stated explicitly);
//! * `http1_only()`: plain-http MCP servers speak HTTP/1.1 (with the reqwest features rmcp
//!   enables, no HTTP/2, this only states it);
//! * `no_proxy()`: ignore proxy environment variables (the server is on 127.0.0.1) and skip
//!   the per-request proxy matching;
//! * `redirect(Policy::none())`: an MCP endpoint does not redirect, skip the policy hook;
//! * `max_concurrent_requests(max(K, 16))` on the transport config: rmcp caps ordinary POSTs
//!   in flight at 16 by default, which would queue calls beyond 16 when K = 64;
//! * `channel_buffer_capacity` raised to K so K callers never wait on the transport's queue;
//! * an explicit multi-thread tokio runtime with one worker per core (what `#[tokio::main]`
//!   also gives), so the transport worker, reqwest's connections and the K tasks spread over
//!   the cores.

#[path = "../common.rs"]
mod common;

use std::time::Duration;

use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;

/// The tuned reqwest client for K requests in flight (see above).
fn tuned_http(k: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(k.max(16) * 2)
        .pool_idle_timeout(Duration::from_secs(300))
        .tcp_nodelay(true)
        .http1_only()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

/// The tuned transport configuration for K requests in flight (see above).
fn tuned_config(
    config: StreamableHttpClientTransportConfig,
    k: usize,
) -> StreamableHttpClientTransportConfig {
    let mut config = config.max_concurrent_requests(k.max(16));
    config.channel_buffer_capacity = k.max(16);
    config
}

/// Scenarios 3-5 (common.rs) with the same tuning: the tuned client for the MCP transport
/// (under `AuthClient` with OAuth) and for rmcp's OAuth requests (`with_client`), one per
/// client with `--hold`; K = 1 for cold/warm/hold, K = N for the storm (all N in flight).
const FLAVOR: common::Flavor = common::Flavor {
    name: "rmcp-tuned",
    make_http: Some(tuned_http),
    configure: tuned_config,
};

fn main() -> std::process::ExitCode {
    let args = common::parse_args();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        if args.auth.is_some() || args.hold.is_some() {
            return common::run_mode(&FLAVOR, &args).await;
        }
        let http = tuned_http(args.inflight);
        let config = tuned_config(
            StreamableHttpClientTransportConfig::with_uri(args.url.as_str())
                .auth_header(args.token.clone()),
            args.inflight,
        );
        let transport = StreamableHttpClientTransport::with_client(http, config);
        let client = match ().serve(transport).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("initialize failed: {e}");
                common::print_result("rmcp-tuned", args.calls, 0, 0, Vec::new(), 0);
                return std::process::ExitCode::FAILURE;
            }
        };
        common::drive("rmcp-tuned", &args, client).await
    })
}
