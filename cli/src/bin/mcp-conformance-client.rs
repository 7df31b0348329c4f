//! The client the official MCP conformance suite drives.
//!
//! Contract (see `tests/conformance/README.md`): the server URL is the last argument;
//! `MCP_CONFORMANCE_SCENARIO` names the scenario, `MCP_CONFORMANCE_PROTOCOL_VERSION` (alpha
//! suite) the protocol version to speak, `MCP_CONFORMANCE_CONTEXT` carries JSON for scenarios
//! that need inputs. It exits 0 when the scenario's steps all succeeded.
//!
//! Everything protocol-related is the library's job; this program only chooses which calls a
//! scenario expects, so a pass here is a pass for every host of the library.

use std::process::ExitCode;

use mcp_client::oauth::{EnterpriseGrant, Grant, HeadlessPresenter, OAuthConfig};
use mcp_client::store::StoreChoice;
use mcp_client::{Client, ClientBuilder, Error, RpcError, Secret, SyncHandler};
use serde_json::{json, Value};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    init_logging();
    // The runner appends the server URL as the last argument.
    let Some(url) = std::env::args().skip(1).last() else {
        eprintln!("usage: mcp-conformance-client <server-url>");
        return ExitCode::from(2);
    };
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    match run(&url, &scenario).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcp-conformance-client: {scenario}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

fn context() -> Value {
    std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(Value::Null)
}

/// The OAuth settings a scenario calls for: the suite's authorization servers approve at once,
/// so the authorization URL is followed headlessly; credentials come from the context.
fn oauth_config(scenario: &str) -> Result<OAuthConfig, Error> {
    let ctx = context();
    let s = |k: &str| ctx[k].as_str().map(str::to_owned);
    let mut cfg = OAuthConfig::default()
        .presenter(HeadlessPresenter::new()?)
        .client_metadata_url("https://conformance-test.local/client-metadata.json");
    cfg.registration.client_name = "mcp-client-conformance".into();
    // Every scenario starts fresh; nothing of a mock server's is kept.
    cfg.store = StoreChoice::Memory;
    match scenario {
        "auth/client-credentials-basic" => {
            cfg = cfg
                .client(
                    &s("client_id").unwrap_or_default(),
                    s("client_secret").as_deref(),
                )
                .grant(Grant::ClientCredentials);
        }
        "auth/client-credentials-jwt" => {
            cfg = cfg
                .client(&s("client_id").unwrap_or_default(), None)
                .private_key(
                    &s("private_key_pem").unwrap_or_default(),
                    s("signing_algorithm").as_deref(),
                )
                .grant(Grant::ClientCredentials);
        }
        "auth/wif-jwt-bearer" => {
            cfg = cfg
                .client(&s("client_id").unwrap_or_default(), None)
                .grant(Grant::JwtBearer {
                    assertion: Secret::new(s("valid_jwt").unwrap_or_default()),
                });
        }
        "auth/cross-app-access-complete-flow" | "auth/enterprise-managed-authorization" => {
            cfg = cfg
                .client(
                    &s("client_id").unwrap_or_default(),
                    s("client_secret").as_deref(),
                )
                .grant(Grant::EnterpriseManaged(EnterpriseGrant {
                    idp_token_endpoint: s("idp_token_endpoint").unwrap_or_default(),
                    idp_client_id: s("idp_client_id").unwrap_or_default(),
                    idp_client_secret: None,
                    subject_token: Secret::new(s("idp_id_token").unwrap_or_default()),
                    subject_token_type: "urn:ietf:params:oauth:token-type:id_token".into(),
                }));
        }
        _ => {
            if let Some(id) = s("client_id") {
                cfg = cfg.client(&id, s("client_secret").as_deref());
            }
        }
    }
    Ok(cfg)
}

async fn connect(url: &str) -> Result<Client, Error> {
    let version = std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION")
        .unwrap_or_else(|_| mcp_client::protocol::LATEST_STATEFUL.to_owned());
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    ClientBuilder::http(url)?
        .oauth(oauth_config(&scenario)?)
        .client_info("mcp-client-conformance", mcp_client::VERSION)
        .protocol_version(&version)
        // Accept every form; the library fills in the schema's defaults.
        .on_elicitation(SyncHandler(|_: &str, _| {
            Ok(json!({"action": "accept", "content": {}}))
        }))
        .on_sampling(SyncHandler(|_: &str, _| {
            Ok(json!({
                "role": "assistant",
                "content": {"type": "text", "text": "conformance sample"},
                "model": "none",
                "stopReason": "endTurn"
            }))
        }))
        .on_roots(SyncHandler(|_: &str, _| Ok(json!({"roots": []}))))
        .connect()
        .await
}

async fn run(url: &str, scenario: &str) -> Result<(), Error> {
    let client = connect(url).await?;
    let outcome = drive(&client, scenario).await;
    // Ending the session is best effort; the scenario's verdict is the calls above.
    let _ = client.close().await;
    outcome
}

fn tool_failed(name: &str, result: &Value) -> Result<(), Error> {
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        return Err(Error::Rpc(RpcError::new(
            0,
            format!("tool `{name}` reported an error: {result}"),
        )));
    }
    Ok(())
}

async fn drive(client: &Client, scenario: &str) -> Result<(), Error> {
    let tools = client.list_tools().await?;
    match scenario {
        "initialize" | "request-metadata" | "json-schema-ref-no-deref" => Ok(()),
        "tools_call" => {
            let r = client
                .call_tool("add_numbers", json!({"a": 2, "b": 3}))
                .await?;
            tool_failed("add_numbers", &r)
        }
        "elicitation-sep1034-client-defaults" => {
            let r = client
                .call_tool("test_client_elicitation_defaults", json!({}))
                .await?;
            tool_failed("test_client_elicitation_defaults", &r)
        }
        "sse-retry" => {
            let r = client.call_tool("test_reconnection", json!({})).await?;
            tool_failed("test_reconnection", &r)
        }
        "json-schema-2020-12-preservation" => {
            let schema = tools
                .iter()
                .find(|t| t["name"] == "json_schema_2020_12_tool")
                .map(|t| t["inputSchema"].clone())
                .ok_or_else(|| {
                    Error::InvalidArgument("json_schema_2020_12_tool not listed".into())
                })?;
            client
                .call_tool("json_schema_echo", json!({ "schema": schema }))
                .await
                .map(|_| ())
        }
        "sep-2322-client-request-state" => {
            for name in [
                "test_mrtr_echo_state",
                "test_mrtr_no_state",
                "test_mrtr_unrelated",
                "test_mrtr_no_result_type",
            ] {
                let r = client.call_tool(name, json!({})).await?;
                tool_failed(name, &r)?;
            }
            Ok(())
        }
        "http-standard-headers" => {
            for t in &tools {
                if let Some(name) = t["name"].as_str() {
                    client.call_tool(name, json!({})).await?;
                }
            }
            let resources = client.list_resources().await?;
            if let Some(uri) = resources.first().and_then(|r| r["uri"].as_str()) {
                client.read_resource(uri).await?;
            }
            for p in client.list_prompts().await? {
                if let Some(name) = p["name"].as_str() {
                    client.get_prompt(name, json!({})).await?;
                }
            }
            Ok(())
        }
        "http-custom-headers" => {
            let ctx = context();
            for call in ctx["toolCalls"].as_array().cloned().unwrap_or_default() {
                let name = call["name"].as_str().unwrap_or_default();
                client.call_tool(name, call["arguments"].clone()).await?;
            }
            Ok(())
        }
        "http-invalid-tool-headers" => {
            // Only tools that survived the library's x-mcp-header validation are listed.
            for t in &tools {
                if let Some(name) = t["name"].as_str() {
                    client
                        .call_tool(name, sample_arguments(&t["inputSchema"]))
                        .await?;
                }
            }
            Ok(())
        }
        _ => {
            // Auth and other scenarios: list the tools (done) and call the test tool if there.
            if tools.iter().any(|t| t["name"] == "test-tool") {
                let r = client.call_tool("test-tool", json!({})).await?;
                tool_failed("test-tool", &r)?;
            }
            Ok(())
        }
    }
}

/// Arguments that satisfy a simple schema: each property a plausible value of its type.
fn sample_arguments(schema: &Value) -> Value {
    let mut args = serde_json::Map::new();
    if let Some(props) = schema["properties"].as_object() {
        for (name, p) in props {
            let v = match p["type"].as_str() {
                Some("string") => json!("us-west1"),
                Some("integer") => json!(1),
                Some("number") => json!(1.5),
                Some("boolean") => json!(true),
                _ => continue,
            };
            args.insert(name.clone(), v);
        }
    }
    Value::Object(args)
}
