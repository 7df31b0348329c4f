//! `mcp-client demo`: start the in-repo MCP test server in this process and run a whole
//! session against it, saying what happens at each step.

use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let mut steps = Steps { n: 0, total: 9 };

    steps.next("Starting the local MCP test server");
    let server = mcp_test_server::start(mcp_test_server::ServerOptions::default())
        .await
        .map_err(|e| Failure {
            code: 3,
            message: format!("cannot start the test server: {e}"),
        })?;
    say(format!("listening at {}", server.url()));

    steps.next("Connecting over Streamable HTTP");
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
    let mut builder = ClientBuilder::http(&server.url())?
        .client_info("mcp-client-demo", mcp_client::VERSION)
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
    let tools = client.list_tools().await?;
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    say(format!("{} tools: {}", names.len(), names.join(", ")));

    steps.next("Calling tools");
    let r = client
        .call_tool("echo", json!({"text": "hello, MCP"}))
        .await?;
    say(format!(
        "echo {{text: \"hello, MCP\"}} -> {}",
        content_text(&r["content"])
    ));
    let r = client.call_tool("add", json!({"a": 2, "b": 3})).await?;
    say(format!(
        "add {{a: 2, b: 3}} -> {}",
        content_text(&r["content"])
    ));
    let r = client
        .call_tool("fail", json!({"message": "as requested"}))
        .await?;
    say(format!(
        "fail -> isError={} \"{}\" (a tool error is a result, not an exception)",
        r["isError"],
        content_text(&r["content"])
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
        .call_tool("ask", json!({"message": "Who are you?"}))
        .await?;
    say(format!("ask -> {}", content_text(&r["content"])));

    steps.next("Timeouts and cancellation");
    let t = Instant::now();
    match client
        .call_tool_with("slow", json!({"ms": 5000}), RequestOptions::timeout(Duration::from_millis(200)))
        .await
    {
        Err(e) => say(format!(
            "slow 5s with a 200 ms timeout -> {e} after {} ms; the server was sent notifications/cancelled",
            t.elapsed().as_millis()
        )),
        Ok(_) => say("slow unexpectedly finished"),
    }

    steps.next("Resources and prompts");
    let resources = client.list_resources().await?;
    say(format!("{} resources", resources.len()));
    let r = client.read_resource("test://hello").await?;
    say(format!(
        "test://hello -> {}",
        r["contents"][0]["text"].as_str().unwrap_or("?")
    ));
    let p = client.get_prompt("greet", json!({"name": "Ada"})).await?;
    say(format!(
        "prompt greet(Ada) -> {}",
        p["messages"][0]["content"]["text"].as_str().unwrap_or("?")
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

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}
