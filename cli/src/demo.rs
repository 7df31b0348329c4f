//! `mcp-client demo`: start the in-repo MCP test server in this process and run a whole
//! session against it, saying what happens at each step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_client::oauth::{AuthorizationPresenter, AuthorizationRequest, OAuthConfig, OAuthError};
use mcp_client::store::StoreChoice;
use mcp_client::BoxFuture;
use mcp_client::{ClientBuilder, Notification, RequestOptions, SyncHandler};
use serde_json::{json, Value};

use crate::output::content_text;
use crate::{Failure, Global};

struct Steps {
    n: usize,
    total: usize,
}

impl Steps {
    fn next(&mut self, what: &str) {
        self.n += 1;
        println!("\n[{}/{}] {what}", self.n, self.total);
    }
}

fn say(line: impl AsRef<str>) {
    println!("      {}", line.as_ref());
}

/// Run the demo.
pub async fn run(g: &Global) -> Result<(), Failure> {
    let started = Instant::now();
    let mut steps = Steps { n: 0, total: 10 };

    steps.next("Starting the local MCP test server and its OAuth authorization server");
    let server = mcp_test_server::start(mcp_test_server::ServerOptions {
        auth: Some(mcp_test_server::AuthOptions {
            access_token_ttl_secs: TOKEN_TTL_SECS,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .map_err(|e| Failure {
        code: 3,
        message: format!("cannot start the test server: {e}"),
    })?;
    say(format!("MCP endpoint:          {}", server.url()));
    say(format!("authorization server:  {}", server.issuer()));
    say(format!(
        "access tokens live {TOKEN_TTL_SECS} s, so the demo also shows a refresh"
    ));

    steps.next("Connecting: the server answers 401, the client signs in with OAuth");
    let notices: Arc<dyn Fn(&Notification) + Send + Sync> =
        Arc::new(|n: &Notification| match n.method.as_str() {
            "notifications/progress" => say(format!(
                "  <- progress {}/{}",
                n.params["progress"], n.params["total"]
            )),
            "notifications/message" => say(format!(
                "  <- log [{}] {}",
                n.params["level"].as_str().unwrap_or("?"),
                n.params["data"]
            )),
            other => say(format!("  <- {other}")),
        });
    let notices2 = notices.clone();
    let mut oauth = OAuthConfig::default().presenter(DemoBrowser);
    oauth.registration.client_name = "mcp-client demo".into();
    // The demo keeps nothing: no keyring or file is touched.
    oauth.store = StoreChoice::Memory;
    let mut builder = ClientBuilder::http(&server.url())?
        .client_info("mcp-client-demo", mcp_client::VERSION)
        .oauth(oauth)
        .request_timeout(Duration::from_secs(g.timeout.max(1)))
        .on_notification(move |n: &Notification| notices2(n))
        .on_elicitation(SyncHandler(|_: &str, params: Value| {
            say(format!(
                "  <- the server asks: \"{}\"",
                params["message"].as_str().unwrap_or("?")
            ));
            say("  -> accepting; the client fills in the form's defaults");
            Ok(json!({"action": "accept", "content": {}}))
        }));
    if let Some(v) = &g.protocol_version {
        builder = builder.protocol_version(v);
    }
    let client = builder.connect().await?;
    for r in server.requests() {
        let what = match r.path.as_str() {
            p if p.starts_with("/.well-known/oauth-protected-resource") => {
                "protected resource metadata (RFC 9728)"
            }
            p if p.starts_with("/.well-known/") => "authorization server metadata (RFC 8414)",
            p if p.ends_with("/register") => "dynamic client registration (RFC 7591)",
            p if p.ends_with("/authorize") => "authorization request: PKCE S256, state, resource",
            p if p.ends_with("/token") => "code exchanged for tokens (with the PKCE verifier)",
            "/mcp" if r.rpc_method().is_some() => match r.header("authorization") {
                Some(_) => "MCP request with Authorization: Bearer",
                None => "MCP request without a token -> 401 with WWW-Authenticate",
            },
            _ => continue,
        };
        say(format!(
            "{:<6} {:<52} {what}",
            r.method,
            short_path(&r.path)
        ));
        if r.path == "/mcp" && r.header("authorization").is_some() {
            break;
        }
    }
    if let Some(o) = client.oauth() {
        let st = o.status();
        say(format!(
            "signed in: client {} ({}), scopes [{}], refresh token: {}",
            st.client_id.as_deref().unwrap_or("-"),
            st.registration.as_deref().unwrap_or("-"),
            st.scopes.join(" "),
            if st.has_refresh_token { "yes" } else { "no" }
        ));
    }
    say(format!(
        "protocol {} via {}, session {}",
        client.protocol_version(),
        client.transport_name(),
        client
            .session_id()
            .as_deref()
            .map(short)
            .unwrap_or("(none)")
    ));
    let info = client.server_info();
    say(format!(
        "server: {} {}",
        info["serverInfo"]["name"].as_str().unwrap_or("?"),
        info["serverInfo"]["version"].as_str().unwrap_or("")
    ));

    steps.next("Listing tools (following pagination)");
    // The typed API: `tools()` decodes each tool (name, schemas, annotations) into a `Tool`.
    let tools = client.tools().await?;
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    say(format!("{} tools: {}", names.len(), names.join(", ")));
    if let Some(add) = tools.iter().find(|t| t.name == "add") {
        let args: Vec<&str> = add
            .input_schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let output = if add.output_schema.is_some() {
            "with an output schema"
        } else {
            "without an output schema"
        };
        say(format!(
            "{} takes ({}), {output}",
            add.name,
            args.join(", ")
        ));
    }

    steps.next("Calling tools");
    // `call()` takes any serializable arguments and returns a typed `CallToolResult`.
    let r = client.call("echo", json!({"text": "hello, MCP"})).await?;
    say(format!("echo {{text: \"hello, MCP\"}} -> {}", r.text()));
    let r = client.call("add", json!({"a": 2, "b": 3})).await?;
    say(format!(
        "add {{a: 2, b: 3}} -> {} (structured: {})",
        r.text(),
        r.structured_content.unwrap_or_default()
    ));
    let r = client
        .call("fail", json!({"message": "as requested"}))
        .await?;
    say(format!(
        "fail -> isError={} \"{}\" (a tool error is a result, not an exception)",
        r.is_error(),
        r.text()
    ));

    steps.next("A slow tool with progress notifications over SSE");
    let r = client
        .request(
            "tools/call",
            Some(json!({"name": "slow", "arguments": {"ms": 160}, "_meta": {"progressToken": "demo"}})),
        )
        .await?;
    say(format!("slow -> {}", content_text(&r["content"])));

    steps.next("A request from the server: elicitation");
    let r = client
        .call("ask", json!({"message": "Who are you?"}))
        .await?;
    say(format!("ask -> {}", r.text()));

    steps.next("Timeouts and cancellation");
    let t = Instant::now();
    match client
        .call_with("slow", json!({"ms": 5000}), RequestOptions::timeout(Duration::from_millis(200)))
        .await
    {
        Err(e) => say(format!(
            "slow 5s with a 200 ms timeout -> {e} after {} ms; the server was sent notifications/cancelled",
            t.elapsed().as_millis()
        )),
        Ok(_) => say("slow unexpectedly finished"),
    }

    steps.next("Token refresh ahead of expiry");
    let before = server.auth_stats().token_requests_for("refresh_token");
    let wait = Duration::from_millis(TOKEN_TTL_SECS * 1000 + 300);
    say(format!(
        "waiting {} ms for the access token to expire...",
        wait.as_millis()
    ));
    tokio::time::sleep(wait).await;
    let r = client
        .call("echo", json!({"text": "after refresh"}))
        .await?;
    let refreshes = server.auth_stats().token_requests_for("refresh_token") - before;
    say(format!(
        "echo -> {} ({refreshes} refresh_token grant, no new sign-in; the refresh token was rotated)",
        r.text()
    ));

    steps.next("Resources and prompts");
    let resources = client.resources().await?;
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    say(format!(
        "{} resources: {}",
        resources.len(),
        uris.join(", ")
    ));
    let r = client.read("test://hello").await?;
    say(format!("test://hello -> {}", r.text()));
    let p = client.prompt("greet", json!({"name": "Ada"})).await?;
    say(format!(
        "prompt greet(Ada) -> {}",
        p.messages
            .first()
            .and_then(|m| m.content.as_text())
            .unwrap_or("?")
    ));

    steps.next("Closing the session");
    client.close().await?;
    let deleted = server.requests().iter().any(|r| r.method == "DELETE");
    say(format!(
        "session ended{}",
        if deleted { " (HTTP DELETE sent)" } else { "" }
    ));
    server.shutdown().await;
    drop(notices);
    println!(
        "\nDemo finished in {} ms. Try: mcp-client tools <URL>, mcp-client call <URL> <TOOL> --args '{{...}}'",
        started.elapsed().as_millis()
    );
    Ok(())
}

/// How long the demo server's access tokens live.
const TOKEN_TTL_SECS: u64 = 2;

/// The demo's stand-in for a browser: it follows the authorization URL like a browser would,
/// the authorization server approves at once and redirects to the client's loopback listener,
/// which receives the code; exactly the path a real sign-in takes.
struct DemoBrowser;

impl AuthorizationPresenter for DemoBrowser {
    fn present<'a>(
        &'a self,
        request: &'a AuthorizationRequest,
    ) -> BoxFuture<'a, Result<Option<url::Url>, OAuthError>> {
        let url = request.url.clone();
        let redirect = request.redirect_uri.clone();
        Box::pin(async move {
            say(format!(
                "  \"browser\" opens {}?client_id=…&code_challenge=…&state=…",
                url.as_str().split('?').next().unwrap_or("")
            ));
            say(format!("  the loopback listener waits at {redirect}"));
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                match client.get(url).send().await {
                    Ok(r) => {
                        let page = r.text().await.unwrap_or_default();
                        if page.contains("close this tab") {
                            say("  browser lands on the listener: \"Signed in. You may close this tab.\"");
                        }
                    }
                    Err(e) => say(format!("  browser failed: {e}")),
                }
            });
            Ok(None)
        })
    }
}

fn short_path(p: &str) -> &str {
    &p[..p.len().min(52)]
}

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}
