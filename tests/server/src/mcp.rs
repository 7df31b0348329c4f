//! Transport-independent MCP dispatch: lifecycle, tools, resources, prompts,
//! completion and logging.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::rpc::{code, is_error, ok, respond, schema, text, RpcError};
use crate::session::Ctx;
use crate::sync::lock;
use crate::tasks;

/// The protocol versions of Streamable HTTP, newest first.
pub(crate) const HTTP_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];
/// The versions spoken over stdio and legacy HTTP+SSE, newest first.
pub(crate) const ALL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// The version answered to a client asking for one we do not speak.
pub(crate) const LATEST: &str = "2025-11-25";

/// Logging levels, least severe first.
pub(crate) const LEVELS: &[&str] = &[
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];
const INFO: u8 = 1;

/// Tools per `tools/list` page.
const PAGE_SIZE: usize = 3;
/// How long a tool waits for the client to answer a server-to-client request.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether a request must be answered on an SSE stream whatever the reply
/// mode: tool calls that send notifications or requests while running.
pub(crate) fn needs_stream(method: &str, params: Option<&Value>) -> bool {
    if method == "tasks/result" {
        return true; // a task's requests for the client go on its stream
    }
    if method != "tools/call" {
        return false;
    }
    let Some(params) = params else {
        return false;
    };
    match params.get("name").and_then(Value::as_str) {
        Some("ask" | "sample" | "list_roots" | "notify") => true,
        Some("slow") => progress_token(params).is_some(),
        _ => false,
    }
}

/// Whether a request may take a while (sleeps or waits for the client), so
/// transports run it in its own task.
pub(crate) fn is_long(method: &str, params: Option<&Value>) -> bool {
    method == "tasks/result"
        || method == "tools/call"
            && matches!(
                params.and_then(|p| p.get("name")).and_then(Value::as_str),
                Some("slow" | "ask" | "sample" | "list_roots" | "notify")
            )
}

fn progress_token(params: &Value) -> Option<&Value> {
    params
        .get("_meta")
        .and_then(|m| m.get("progressToken"))
        .filter(|t| t.is_string() || t.is_number())
}

/// Handles a notification from the client.
pub(crate) fn handle_notification(ctx: &Ctx<'_>, method: &str, params: Option<&Value>) {
    if method == "notifications/cancelled" {
        if let Some(id) = params.and_then(|p| p.get("requestId")) {
            lock(&ctx.hub.cancelled).push(id.clone());
            ctx.session.cancel(id);
        }
    }
}

/// Handles a request; None means no response must be sent (it was cancelled).
pub(crate) async fn handle_request(
    ctx: &Ctx<'_>,
    id: &Value,
    method: &str,
    params: Option<&Value>,
) -> Option<Value> {
    let result = match method {
        "tools/call" => return tools_call(ctx, id, params).await,
        "tasks/result" if ctx.hub.tasks => return tasks::result(ctx, id, params).await,
        "tasks/get" if ctx.hub.tasks => tasks::get(ctx, params),
        "tasks/list" if ctx.hub.tasks => tasks::list(ctx, params),
        "tasks/cancel" if ctx.hub.tasks => tasks::cancel(ctx, params),
        "initialize" => initialize_with(params, ctx.versions, ctx.hub.tasks),
        "ping" => Ok(json!({})),
        "tools/list" => tools_list(params, ctx.hub.admin_tool, ctx.hub.tasks),
        "resources/list" => Ok(resources_list()),
        "resources/templates/list" => Ok(templates_list()),
        "resources/read" => resources_read(params),
        "resources/subscribe" => subscribe(ctx, params),
        "resources/unsubscribe" => uri_param(params).map(|_| json!({})),
        "prompts/list" => Ok(prompts_list()),
        "prompts/get" => prompts_get(params),
        "completion/complete" => complete(params),
        "logging/setLevel" => set_level(ctx, params),
        _ => Err(RpcError::new(
            code::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        )),
    };
    Some(respond(id, result))
}

/// The `initialize` result, negotiating the protocol version.
pub(crate) fn initialize(
    params: Option<&Value>,
    versions: &'static [&'static str],
) -> Result<Value, RpcError> {
    initialize_with(params, versions, false)
}

/// The `initialize` result, with the `tasks` capability when tasks are on.
pub(crate) fn initialize_with(
    params: Option<&Value>,
    versions: &'static [&'static str],
    tasks: bool,
) -> Result<Value, RpcError> {
    let asked = params
        .and_then(|p| p.get("protocolVersion"))
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("initialize: missing protocolVersion"))?;
    let version = versions
        .iter()
        .find(|v| **v == asked)
        .copied()
        .unwrap_or(LATEST);
    let mut result = json!({
        "protocolVersion": version,
        "capabilities": {
            "tools": {"listChanged": true},
            "resources": {"subscribe": true, "listChanged": true},
            "prompts": {"listChanged": true},
            "logging": {},
            "completions": {},
        },
        "serverInfo": {
            "name": "mcp-test-server",
            "title": "MCP test server",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "instructions": "A test server for mcp-client. Tools: echo, add, slow, fail, notify, \
            ask, sample, list_roots, broadcast. Resources: test://hello, test://data.json, \
            test://items/{id}. Prompt: greet.",
    });
    if tasks {
        result["capabilities"]["tasks"] = tasks::capability();
    }
    Ok(result)
}

/// Every tool; `admin` (last) only when auth is on.
fn tools(admin: bool) -> &'static [Value] {
    static TOOLS: OnceLock<Vec<Value>> = OnceLock::new();
    let all = TOOLS.get_or_init(|| {
        let string = |d: &str| json!({"type": "string", "description": d});
        vec![
            json!({"name": "echo", "title": "Echo", "description": "Returns the text it is given.",
                "inputSchema": schema(json!({"text": string("Text to echo")}), &["text"])}),
            json!({"name": "add", "title": "Add", "description": "Adds two numbers.",
                "inputSchema": schema(json!({"a": {"type": "number"}, "b": {"type": "number"}}), &["a", "b"]),
                "outputSchema": schema(json!({"sum": {"type": "number"}}), &["sum"])}),
            json!({"name": "slow", "title": "Slow",
                "description": "Sleeps `ms` milliseconds, reporting progress every 50 ms when given a progressToken.",
                "inputSchema": schema(json!({"ms": {"type": "integer", "minimum": 0}}), &["ms"])}),
            json!({"name": "fail", "title": "Fail", "description": "Returns an error result.",
                "inputSchema": schema(json!({"message": string("Error message")}), &[])}),
            json!({"name": "notify", "title": "Notify",
                "description": "Sends a log message (and progress, given a token) while running.",
                "inputSchema": schema(json!({"text": string("Log message")}), &["text"])}),
            json!({"name": "ask", "title": "Ask",
                "description": "Asks the user through form elicitation (URL mode with `url`).",
                "inputSchema": schema(json!({"message": string("Question for the user"),
                    "url": string("A page for the user to open (URL mode)")}), &["message"])}),
            json!({"name": "sample", "title": "Sample", "description": "Asks the client's model through sampling.",
                "inputSchema": schema(json!({"prompt": string("Prompt for the model")}), &["prompt"])}),
            json!({"name": "list_roots", "title": "List roots", "description": "Lists the client's roots.",
                "inputSchema": schema(json!({}), &[])}),
            json!({"name": "broadcast", "title": "Broadcast",
                "description": "Sends a log message and tools/list_changed on the standalone stream.",
                "inputSchema": schema(json!({"text": string("Log message")}), &["text"])}),
            json!({"name": "admin", "title": "Admin",
                "description": "Returns \"admin ok\"; needs the step-up scope (mcp:admin by default).",
                "inputSchema": schema(json!({}), &[])}),
        ]
    });
    if admin {
        all
    } else {
        &all[..all.len() - 1]
    }
}

fn tools_list(params: Option<&Value>, admin: bool, with_tasks: bool) -> Result<Value, RpcError> {
    let listed;
    let all = if with_tasks {
        listed = [tools(admin), tasks::tools()].concat();
        &listed[..]
    } else {
        tools(admin)
    };
    let start = match params.and_then(|p| p.get("cursor")) {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => c
            .parse::<usize>()
            .ok()
            .filter(|n| *n < all.len())
            .ok_or_else(|| RpcError::params(format!("invalid cursor: {c}")))?,
        Some(_) => return Err(RpcError::params("cursor must be a string")),
    };
    let end = (start + PAGE_SIZE).min(all.len());
    let mut result = json!({"tools": &all[start..end]});
    if end < all.len() {
        result["nextCursor"] = Value::String(end.to_string());
    }
    Ok(result)
}

fn str_arg<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a str, RpcError> {
    args.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params(format!("argument `{name}` must be a string")))
}

fn num_arg(args: &Map<String, Value>, name: &str) -> Result<serde_json::Number, RpcError> {
    match args.get(name) {
        Some(Value::Number(n)) => Ok(n.clone()),
        _ => Err(RpcError::params(format!(
            "argument `{name}` must be a number"
        ))),
    }
}

async fn tools_call(ctx: &Ctx<'_>, id: &Value, params: Option<&Value>) -> Option<Value> {
    static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
    let Some(params) = params else {
        return Some(respond(id, Err(RpcError::params("missing params"))));
    };
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Some(respond(id, Err(RpcError::params("missing tool name"))));
    };
    let args = match params.get("arguments") {
        None | Some(Value::Null) => EMPTY.get_or_init(Map::new),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Some(respond(
                id,
                Err(RpcError::params("arguments must be an object")),
            ))
        }
    };
    if ctx.hub.tasks {
        if let Some(result) = tasks::tools_call(ctx, name, args, params) {
            return Some(respond(id, result));
        }
    }
    let result = match name {
        "echo" => str_arg(args, "text").map(text),
        "add" => add(args),
        "fail" => Ok(is_error(
            args.get("message")
                .and_then(Value::as_str)
                .unwrap_or("requested failure"),
        )),
        "broadcast" => str_arg(args, "text").map(|t| {
            ctx.session.send_standalone(json!({
                "jsonrpc": "2.0", "method": "notifications/message",
                "params": {"level": "info", "logger": "mcp-test-server", "data": t},
            }));
            ctx.session.send_standalone(
                json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}),
            );
            text("sent")
        }),
        "notify" => str_arg(args, "text").map(|t| {
            if ctx.session.level() <= INFO {
                ctx.out.send(json!({
                    "jsonrpc": "2.0", "method": "notifications/message",
                    "params": {"level": "info", "logger": "mcp-test-server", "data": t},
                }));
            }
            if let Some(token) = progress_token(params) {
                ctx.out.send(progress(token, 1, Some(1)));
            }
            text("notified")
        }),
        "slow" => match args.get("ms").and_then(Value::as_u64) {
            Some(ms) => return slow(ctx, id, params, ms).await,
            None => Err(RpcError::params(
                "argument `ms` must be a non-negative integer",
            )),
        },
        "ask" => match str_arg(args, "message") {
            Ok(message) if args.get("url").is_some() => {
                return ask_url(ctx, id, message, args).await
            }
            Ok(message) => {
                let req = json!({
                    "mode": "form",
                    "message": message,
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "title": "Name", "default": "Ada",
                                "pattern": "^[A-Za-z ]+$"},
                            "age": {"type": "integer", "title": "Age", "default": 36},
                            "subscribe": {"type": "boolean", "title": "Subscribe", "default": true},
                        },
                    },
                });
                return client_call(ctx, id, "elicitation/create", req).await;
            }
            Err(e) => Err(e),
        },
        "sample" => match str_arg(args, "prompt") {
            Ok(prompt) => {
                let req = json!({
                    "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
                    "maxTokens": 100,
                });
                return client_call(ctx, id, "sampling/createMessage", req).await;
            }
            Err(e) => Err(e),
        },
        "list_roots" => return client_call(ctx, id, "roots/list", json!({})).await,
        "admin" if ctx.hub.admin_tool => Ok(text("admin ok")),
        _ => Err(RpcError::params(format!("Unknown tool: {name}"))),
    };
    Some(respond(id, result))
}

fn add(args: &Map<String, Value>) -> Result<Value, RpcError> {
    let (a, b) = (num_arg(args, "a")?, num_arg(args, "b")?);
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        if let Some(sum) = x.checked_add(y) {
            return Ok(json!({
                "content": [{"type": "text", "text": sum.to_string()}],
                "structuredContent": {"sum": sum},
            }));
        }
    }
    let sum = a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0);
    let shown = if sum.fract() == 0.0 && sum.abs() < 1e15 {
        format!("{}", sum as i64)
    } else {
        sum.to_string()
    };
    Ok(json!({
        "content": [{"type": "text", "text": shown}],
        "structuredContent": {"sum": sum},
    }))
}

fn progress(token: &Value, progress: u64, total: Option<u64>) -> Value {
    let mut p = json!({"progressToken": token, "progress": progress});
    if let Some(total) = total {
        p["total"] = total.into();
    }
    json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": p})
}

/// `slow`: sleeps, with progress every 50 ms given a token; a cancelled call
/// returns None (no response).
async fn slow(ctx: &Ctx<'_>, id: &Value, params: &Value, ms: u64) -> Option<Value> {
    let guard = ctx.session.track(id);
    let token = progress_token(params);
    let mut elapsed = 0u64;
    let mut sent = false;
    while elapsed < ms || (token.is_some() && !sent) {
        let step = (ms - elapsed).min(50);
        tokio::select! {
            () = guard.token.cancelled() => return None,
            () = tokio::time::sleep(Duration::from_millis(step)) => {}
        }
        elapsed += step;
        if let Some(token) = token {
            ctx.out.send(progress(token, elapsed, Some(ms)));
            sent = true;
        }
    }
    Some(ok(id, text("done")))
}

/// Sends a request to the client on the request's stream and turns its
/// answer into the tool result (the result as JSON text, or isError with the
/// error's message).
/// `ask` with `url`: a URL-mode elicitation; once the client accepts, the server says the
/// interaction is complete (`notifications/elicitation/complete`) before answering.
async fn ask_url(
    ctx: &Ctx<'_>,
    id: &Value,
    message: &str,
    args: &Map<String, Value>,
) -> Option<Value> {
    let Some(url) = args.get("url").and_then(Value::as_str) else {
        return Some(respond(
            id,
            Err(RpcError::params("argument `url` must be a string")),
        ));
    };
    let elicitation = format!("elicit-{}", ctx.session.next_request_id());
    let req = json!({"mode": "url", "message": message, "url": url, "elicitationId": elicitation});
    let done = json!({"jsonrpc": "2.0", "method": "notifications/elicitation/complete",
        "params": {"elicitationId": elicitation}});
    client_call_then(ctx, id, "elicitation/create", req, Some(done)).await
}

async fn client_call(ctx: &Ctx<'_>, id: &Value, method: &str, params: Value) -> Option<Value> {
    client_call_then(ctx, id, method, params, None).await
}

/// Sends a request to the client and answers the tool call with its answer; `accepted` (a
/// notification) goes first when the client accepted.
async fn client_call_then(
    ctx: &Ctx<'_>,
    id: &Value,
    method: &str,
    params: Value,
    accepted: Option<Value>,
) -> Option<Value> {
    let guard = ctx.session.track(id);
    let rid = Value::from(ctx.session.next_request_id());
    let rx = ctx.session.expect_response(&rid);
    let sent = ctx
        .out
        .send(json!({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}));
    if !sent {
        ctx.session.forget_response(&rid);
        return Some(ok(id, is_error(format!("cannot send {method}: no stream"))));
    }
    let answer = tokio::select! {
        () = guard.token.cancelled() => {
            ctx.session.forget_response(&rid);
            return None;
        }
        r = tokio::time::timeout(CLIENT_TIMEOUT, rx) => r,
    };
    let result = match answer {
        Ok(Ok(msg)) => match (msg.get("result"), msg.get("error")) {
            (Some(result), _) => {
                if let Some(n) = accepted.filter(|_| result["action"] == "accept") {
                    ctx.out.send(n);
                }
                text(result.to_string())
            }
            (None, Some(err)) => is_error(
                err.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("client error"),
            ),
            _ => is_error("malformed client response"),
        },
        Ok(Err(_)) => return None,
        Err(_) => {
            ctx.session.forget_response(&rid);
            is_error(format!(
                "timed out waiting for the client to answer {method}"
            ))
        }
    };
    Some(ok(id, result))
}

fn resources_list() -> Value {
    json!({"resources": [
        {"uri": "test://hello", "name": "hello", "title": "Hello", "mimeType": "text/plain",
         "description": "A greeting"},
        {"uri": "test://data.json", "name": "data.json", "title": "Data", "mimeType": "application/json",
         "description": "Some JSON data"},
    ]})
}

fn templates_list() -> Value {
    json!({"resourceTemplates": [
        {"uriTemplate": "test://items/{id}", "name": "item", "title": "Item",
         "mimeType": "text/plain", "description": "An item by id"},
    ]})
}

fn uri_param(params: Option<&Value>) -> Result<&str, RpcError> {
    params
        .and_then(|p| p.get("uri"))
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("missing uri"))
}

fn resources_read(params: Option<&Value>) -> Result<Value, RpcError> {
    let uri = uri_param(params)?;
    let (mime, body) = match uri {
        "test://hello" => ("text/plain", "Hello, world!".to_owned()),
        "test://data.json" => (
            "application/json",
            r#"{"name":"mcp-test-server","items":[1,2,3],"ok":true}"#.to_owned(),
        ),
        _ => match uri.strip_prefix("test://items/") {
            Some(item) if !item.is_empty() && !item.contains('/') => {
                ("text/plain", format!("item {item}"))
            }
            _ => {
                return Err(RpcError {
                    code: code::RESOURCE_NOT_FOUND,
                    message: format!("Resource not found: {uri}"),
                    data: Some(json!({"uri": uri})),
                })
            }
        },
    };
    Ok(json!({"contents": [{"uri": uri, "mimeType": mime, "text": body}]}))
}

fn subscribe(ctx: &Ctx<'_>, params: Option<&Value>) -> Result<Value, RpcError> {
    let uri = uri_param(params)?;
    ctx.session.send_standalone(json!({
        "jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": uri},
    }));
    Ok(json!({}))
}

fn prompts_list() -> Value {
    json!({"prompts": [{
        "name": "greet", "title": "Greet", "description": "A friendly greeting",
        "arguments": [{"name": "name", "description": "Who to greet", "required": true}],
    }]})
}

fn prompts_get(params: Option<&Value>) -> Result<Value, RpcError> {
    let name = params
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("missing prompt name"))?;
    if name != "greet" {
        return Err(RpcError::params(format!("Unknown prompt: {name}")));
    }
    let who = params
        .and_then(|p| p.get("arguments"))
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("prompt `greet` needs the argument `name`"))?;
    Ok(json!({
        "description": "A friendly greeting",
        "messages": [{"role": "user", "content": {"type": "text", "text": format!("Hello, {who}!")}}],
    }))
}

fn complete(params: Option<&Value>) -> Result<Value, RpcError> {
    let params = params.ok_or_else(|| RpcError::params("missing params"))?;
    let reference = params
        .get("ref")
        .and_then(Value::as_object)
        .ok_or_else(|| RpcError::params("missing ref"))?;
    let argument = params
        .get("argument")
        .and_then(Value::as_object)
        .ok_or_else(|| RpcError::params("missing argument"))?;
    let arg_name = argument.get("name").and_then(Value::as_str);
    let value = argument
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("missing argument value"))?;
    let is_greet = reference.get("type").and_then(Value::as_str) == Some("ref/prompt")
        && reference.get("name").and_then(Value::as_str) == Some("greet")
        && arg_name == Some("name");
    let values: Vec<&str> = if is_greet {
        let v = value.to_lowercase();
        ["Ada", "Alan", "Grace"]
            .into_iter()
            .filter(|c| c.to_lowercase().starts_with(&v))
            .collect()
    } else {
        Vec::new()
    };
    Ok(json!({"completion": {"values": values, "total": values.len(), "hasMore": false}}))
}

fn set_level(ctx: &Ctx<'_>, params: Option<&Value>) -> Result<Value, RpcError> {
    let level = params
        .and_then(|p| p.get("level"))
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params("missing level"))?;
    let index = LEVELS
        .iter()
        .position(|l| *l == level)
        .ok_or_else(|| RpcError::params(format!("unknown level: {level}")))?;
    ctx.session.set_level(u8::try_from(index).unwrap_or(0));
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_covers_every_tool() {
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let params = cursor.as_ref().map(|c| json!({ "cursor": c }));
            let Ok(page) = tools_list(params.as_ref(), false, false) else {
                panic!("page failed")
            };
            pages += 1;
            for t in page["tools"].as_array().into_iter().flatten() {
                names.push(t["name"].as_str().unwrap_or_default().to_owned());
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(names.len(), 9);
    }

    #[test]
    fn version_negotiation() {
        let r = initialize(
            Some(&json!({"protocolVersion": "2025-03-26"})),
            HTTP_VERSIONS,
        );
        assert_eq!(
            r.ok().map(|v| v["protocolVersion"].clone()),
            Some(json!("2025-03-26"))
        );
        let r = initialize(
            Some(&json!({"protocolVersion": "1999-01-01"})),
            HTTP_VERSIONS,
        );
        assert_eq!(
            r.ok().map(|v| v["protocolVersion"].clone()),
            Some(json!(LATEST))
        );
    }
}
