//! Interop with the official MCP reference server, `@modelcontextprotocol/server-everything`
//! from npm (pinned in tests/interop/everything/package-lock.json), over stdio, Streamable HTTP
//! and HTTP+SSE: every tool it lists (the task-required `simulate-research-query` through
//! `call_tool`, elicitation, sampling and roots answered by handlers), its resources and
//! templates, every prompt, completion, `logging/setLevel` and a resource subscription.
//!
//! The server is installed on first use with `npm ci` into target/interop/everything (as
//! tests/conformance/run.mjs installs the conformance suite). These tests need Node.js and the
//! npm registry, so they are `#[ignore]`d in a plain `cargo test`; tests/run-all.sh runs them:
//!
//!   cargo test --test everything -- --ignored --nocapture
//!
//! Without `node` or `npm` on PATH they print SKIPPED and return; a failed install fails.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use mcp_client::{Client, ClientBuilder, Notification, StdioCommand, SyncHandler};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// The pinned server version (tests/interop/everything/package.json).
const VERSION: &str = "2026.8.31";
/// Each transport's whole run must end within this (the three run in parallel).
const BUDGET: Duration = Duration::from_secs(50);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The server's entry point, installed (once per lock file) with `npm ci` into
/// target/interop/everything; `None` (after printing why) when node or npm is missing.
fn server_entry() -> Option<PathBuf> {
    static ENTRY: OnceLock<Option<PathBuf>> = OnceLock::new();
    ENTRY.get_or_init(install).clone()
}

fn install() -> Option<PathBuf> {
    if !have("node") || !have("npm") {
        eprintln!(
            "SKIPPED (these tests did not run): the server-everything interop tests need \
             `node` (Node.js 20+) and `npm` on PATH"
        );
        return None;
    }
    let src = root().join("tests/interop/everything");
    let dest = root().join("target/interop/everything");
    let entry = dest.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let lock = std::fs::read(src.join("package-lock.json")).expect("read the pinned lock file");
    let fresh = entry.exists()
        && std::fs::read(dest.join("package-lock.json")).is_ok_and(|installed| installed == lock);
    if !fresh {
        std::fs::create_dir_all(&dest).expect("create target/interop/everything");
        for f in ["package.json", "package-lock.json"] {
            std::fs::copy(src.join(f), dest.join(f)).expect("copy the pinned package files");
        }
        eprintln!("installing @modelcontextprotocol/server-everything@{VERSION} (npm ci)");
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dest)
            .stdin(Stdio::null())
            .status()
            .expect("run npm ci");
        assert!(
            status.success(),
            "npm ci failed in {}: {status}",
            dest.display()
        );
    }
    assert!(entry.exists(), "no {} after npm ci", entry.display());
    let pkg: Value = serde_json::from_slice(
        &std::fs::read(
            dest.join("node_modules/@modelcontextprotocol/server-everything/package.json"),
        )
        .expect("read the installed package.json"),
    )
    .expect("parse the installed package.json");
    assert_eq!(
        pkg["version"], VERSION,
        "the installed server is not the pinned one"
    );
    Some(entry)
}

// ------------------------------------------------------------------ the HTTP servers

/// A server process on 127.0.0.1 (`streamableHttp` or `sse`), killed when dropped. Its output
/// goes to target/interop/everything/<mode>.log.
struct HttpServer {
    child: tokio::process::Child,
    port: u16,
    log: PathBuf,
}

impl HttpServer {
    async fn start(entry: &Path, mode: &str) -> HttpServer {
        let dir = entry
            .ancestors()
            .nth(5)
            .expect("the install dir")
            .to_path_buf();
        let log = dir.join(format!("{mode}.log"));
        for _ in 0..5 {
            let port = free_port();
            let out = std::fs::File::create(&log).expect("create the server log");
            let err = out.try_clone().expect("clone the log handle");
            let mut child = tokio::process::Command::new("node")
                .arg(entry)
                .arg(mode)
                .env("PORT", port.to_string())
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .kill_on_drop(true)
                .spawn()
                .expect("spawn node");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(15) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // e.g. the port was taken meanwhile: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return HttpServer { child, port, log };
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = child.kill().await;
        }
        panic!(
            "server-everything {mode} never listened; its log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            eprintln!("server log ({}):", self.log.display());
            eprintln!("{}", std::fs::read_to_string(&self.log).unwrap_or_default());
        }
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

// ------------------------------------------------------------------ the client

/// What the client's handlers saw.
#[derive(Default)]
struct Seen {
    elicitations: Vec<Value>,
    samplings: Vec<Value>,
    roots: usize,
}

/// A builder with the handlers the server's tools need: elicitation (forms and URLs), sampling
/// and roots; notifications go to the returned channel.
fn configure(
    b: ClientBuilder,
) -> (
    ClientBuilder,
    mpsc::UnboundedReceiver<Notification>,
    Arc<Mutex<Seen>>,
) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (tx, rx) = mpsc::unbounded_channel();
    let (s1, s2, s3) = (seen.clone(), seen.clone(), seen.clone());
    let b = b
        .client_info("mcp-client-interop", env!("CARGO_PKG_VERSION"))
        .request_timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5))
        // URL-mode elicitation too, so that the server lists `trigger-url-elicitation`.
        .capabilities(json!({"elicitation": {"form": {"applyDefaults": true}, "url": {}}}))
        .on_notification(move |n: &Notification| {
            let _ = tx.send(n.clone());
        })
        .on_elicitation(SyncHandler(move |_: &str, params: Value| {
            s1.lock().unwrap().elicitations.push(params.clone());
            Ok(answer_elicitation(&params))
        }))
        .on_sampling(SyncHandler(move |_: &str, params: Value| {
            s2.lock().unwrap().samplings.push(params.clone());
            let asked = params
                .pointer("/messages/0/content/text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Ok(json!({
                "role": "assistant",
                "content": {"type": "text", "text": format!("interop sample for: {asked}")},
                "model": "interop-model",
                "stopReason": "endTurn"
            }))
        }))
        .on_roots(SyncHandler(move |_: &str, _| {
            s3.lock().unwrap().roots += 1;
            Ok(json!({"roots": [{"uri": "file:///tmp/mcp-interop", "name": "interop root"}]}))
        }));
    (b, rx, seen)
}

/// Accept every elicitation: a URL one plainly, a form with a plausible value for each field
/// (the first choice of an enum), the rest left to the client's `applyDefaults`.
fn answer_elicitation(params: &Value) -> Value {
    if params.get("mode").and_then(Value::as_str) == Some("url") {
        return json!({"action": "accept"});
    }
    let mut content = serde_json::Map::new();
    let props = params
        .pointer("/requestedSchema/properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, schema) in props {
        let v = if let Some(first) = schema.pointer("/oneOf/0/const") {
            first.clone()
        } else if let Some(first) = schema.pointer("/enum/0") {
            first.clone()
        } else {
            match schema.get("type").and_then(Value::as_str) {
                Some("boolean") => json!(true),
                Some("integer") | Some("number") => {
                    schema.get("minimum").cloned().unwrap_or(json!(7))
                }
                Some("string") => match schema.get("format").and_then(Value::as_str) {
                    Some("email") => json!("tester@example.com"),
                    Some("uri") => json!("https://example.com/"),
                    Some("date") => json!("2000-01-01"),
                    _ => json!("Interop Tester"),
                },
                _ => continue, // arrays and the like: the schema's default applies
            }
        };
        content.insert(name, v);
    }
    json!({"action": "accept", "content": content})
}

/// Plausible arguments from a tool's `inputSchema`: a value for each required property.
fn arguments_for(tool: &Value) -> Value {
    let schema = &tool["inputSchema"];
    let mut args = serde_json::Map::new();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for name in required {
        let prop = &schema["properties"][name];
        let v = if let Some(first) = prop.pointer("/enum/0") {
            first.clone()
        } else {
            match prop["type"].as_str() {
                Some("number") | Some("integer") => json!(3),
                Some("boolean") => json!(false),
                Some("array") => json!([]),
                Some("object") => json!({}),
                _ if prop["format"] == "uri" => json!("https://example.com/"),
                _ => json!(format!("interop {name}")),
            }
        };
        args.insert(name.to_owned(), v);
    }
    Value::Object(args)
}

fn texts(result: &Value) -> String {
    result["content"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn assert_ok(tool: &str, r: &Value) {
    assert_ne!(r["isError"], json!(true), "{tool} failed: {r}");
    assert!(
        r["content"].as_array().is_some_and(|c| !c.is_empty()),
        "{tool}: no content: {r}"
    );
}

/// Wait up to `within` for a notification `pick` accepts; others are dropped.
async fn wait_for(
    rx: &mut mpsc::UnboundedReceiver<Notification>,
    within: Duration,
    mut pick: impl FnMut(&Notification) -> bool,
) -> Option<Notification> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(n)) if pick(&n) => return Some(n),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

/// The tools the pinned server lists to a client with elicitation (form and URL), sampling
/// and roots but no tasks capability of its own (the `*-async` tools need one).
const EXPECTED_TOOLS: &[&str] = &[
    "echo",
    "get-annotated-message",
    "get-env",
    "get-resource-links",
    "get-resource-reference",
    "get-structured-content",
    "get-sum",
    "get-tiny-image",
    "gzip-file-as-resource",
    "toggle-simulated-logging",
    "toggle-subscriber-updates",
    "trigger-long-running-operation",
    "get-roots-list",
    "trigger-elicitation-request",
    "trigger-url-elicitation",
    "trigger-sampling-request",
    "simulate-research-query",
];

// ------------------------------------------------------------------ the run

/// Everything, on one connected client.
async fn exercise(
    label: &str,
    client: &Client,
    rx: &mut mpsc::UnboundedReceiver<Notification>,
    seen: &Arc<Mutex<Seen>>,
) {
    let t0 = Instant::now();
    let step = |what: &str| eprintln!("[{label} {:>5.1}s] {what}", t0.elapsed().as_secs_f64());
    let info = client.server_info();
    assert_eq!(
        info["serverInfo"]["name"], "mcp-servers/everything",
        "{info}"
    );

    step(&format!(
        "connected: {} {}, protocol {}",
        info["serverInfo"]["name"].as_str().unwrap_or("?"),
        info["serverInfo"]["version"].as_str().unwrap_or("?"),
        client.protocol_version()
    ));

    // logging/setLevel: the server then logs at that level and above.
    step("logging/setLevel");
    client
        .set_logging_level("debug")
        .await
        .expect("logging/setLevel");

    // ---- tools
    step("tools/list");
    let tools = client.list_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for want in EXPECTED_TOOLS {
        assert!(names.contains(want), "{want} is not listed: {names:?}");
    }
    assert_eq!(
        client.tool_task_support("simulate-research-query"),
        Some(mcp_client::TaskSupport::Required)
    );

    // The task-required tool takes ~4 s: its two runs (one asking for clarification through
    // elicitation while `input_required`) go on while the other tools are called.
    let research = async {
        let plain = client.call_tool(
            "simulate-research-query",
            json!({"topic": "interop testing"}),
        );
        let ambiguous = client.call_tool(
            "simulate-research-query",
            json!({"topic": "python", "ambiguous": true}),
        );
        tokio::join!(plain, ambiguous)
    };
    let others = async {
        for tool in &tools {
            let name = tool["name"].as_str().unwrap_or_default();
            if name == "simulate-research-query" {
                continue;
            }
            step(&format!("tools/call {name}"));
            call_one(client, name, tool, rx).await;
        }
    };
    let ((plain, ambiguous), ()) = tokio::join!(research, others);
    step("simulate-research-query done");
    let plain = plain.expect("simulate-research-query (a task) through call_tool");
    assert_ok("simulate-research-query", &plain);
    assert!(
        texts(&plain).contains("# Research Report: interop testing"),
        "{plain}"
    );
    let ambiguous = ambiguous.expect("simulate-research-query (ambiguous) through call_tool");
    assert_ok("simulate-research-query", &ambiguous);
    assert!(
        texts(&ambiguous).contains("Research Report: python (programming)"),
        "the clarification did not reach the task: {ambiguous}"
    );
    {
        let seen = seen.lock().unwrap();
        assert!(
            seen.elicitations.iter().any(|e| e
                .pointer("/requestedSchema/properties/interpretation")
                .is_some()),
            "no clarification was asked for"
        );
        assert!(!seen.samplings.is_empty(), "no sampling request arrived");
        assert!(seen.roots > 0, "roots/list was never asked");
    }

    // ---- resources
    step("resources");
    let resources = client.list_resources().await.expect("resources/list");
    assert!(!resources.is_empty(), "no resources");
    for r in resources.iter().take(3) {
        let uri = r["uri"].as_str().expect("a resource uri");
        let read = client.read_resource(uri).await.expect("resources/read");
        let c = &read["contents"][0];
        assert_eq!(c["uri"], uri, "{read}");
        assert!(
            c["text"].as_str().is_some_and(|t| !t.is_empty())
                || c["blob"].as_str().is_some_and(|b| !b.is_empty()),
            "{uri}: empty: {read}"
        );
    }
    let templates = client
        .list_resource_templates()
        .await
        .expect("resources/templates/list");
    assert!(templates.len() >= 2, "{templates:?}");
    for t in &templates {
        let tpl = t["uriTemplate"].as_str().expect("a uriTemplate");
        let uri = tpl.replace("{resourceId}", "7");
        assert!(!uri.contains('{'), "an unexpected template variable: {tpl}");
        let read = client
            .read_resource(&uri)
            .await
            .expect("read a template instance");
        let c = &read["contents"][0];
        assert_eq!(c["uri"], uri.as_str(), "{read}");
        let text = match c["text"].as_str() {
            Some(t) => t.to_owned(),
            None => {
                use base64::Engine as _;
                let blob = c["blob"].as_str().expect("text or blob");
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(blob)
                        .expect("base64"),
                )
                .expect("utf-8")
            }
        };
        assert!(text.starts_with("Resource 7: "), "{uri}: {text}");
    }

    // ---- prompts
    step("prompts");
    let prompts = client.list_prompts().await.expect("prompts/list");
    assert!(prompts.len() >= 3, "{prompts:?}");
    for p in &prompts {
        let name = p["name"].as_str().expect("a prompt name");
        let mut args = serde_json::Map::new();
        for a in p["arguments"].as_array().into_iter().flatten() {
            let an = a["name"].as_str().expect("an argument name");
            let v = match an {
                "city" => "Lisbon",
                "state" => "Lisboa",
                "department" => "Engineering",
                "name" => "Alice",
                "resourceType" => "Text",
                "resourceId" => "2",
                _ => "interop",
            };
            args.insert(an.to_owned(), json!(v));
        }
        let got = client
            .get_prompt(name, Value::Object(args))
            .await
            .unwrap_or_else(|e| panic!("prompts/get {name}: {e}"));
        let msgs = got["messages"].as_array().expect("messages");
        assert!(!msgs.is_empty(), "{name}: no messages: {got}");
        for m in msgs {
            assert!(
                m["role"].is_string() && m["content"].is_object(),
                "{name}: {m}"
            );
        }
        if name == "completable-prompt" {
            assert!(texts_of_messages(&got).contains("promote Alice"), "{got}");
        }
    }

    // ---- completion
    step("completion/complete");
    let c = client
        .complete(
            json!({"type": "ref/prompt", "name": "completable-prompt"}),
            json!({"name": "department", "value": "Eng"}),
        )
        .await
        .expect("completion/complete on a prompt argument");
    assert_eq!(c["completion"]["values"], json!(["Engineering"]), "{c}");
    // With the context of an argument already chosen.
    let c = client
        .request(
            "completion/complete",
            Some(json!({
                "ref": {"type": "ref/prompt", "name": "completable-prompt"},
                "argument": {"name": "name", "value": ""},
                "context": {"arguments": {"department": "Sales"}}
            })),
        )
        .await
        .expect("completion/complete with context");
    assert_eq!(
        c["completion"]["values"],
        json!(["David", "Eve", "Frank"]),
        "{c}"
    );
    let tpl = templates[0]["uriTemplate"].as_str().unwrap();
    let c = client
        .complete(
            json!({"type": "ref/resource", "uri": tpl}),
            json!({"name": "resourceId", "value": "12"}),
        )
        .await
        .expect("completion/complete on a template");
    assert_eq!(c["completion"]["values"], json!(["12"]), "{c}");

    // ---- a resource subscription: the server acknowledges it with a log message, and its
    // simulated updates (toggle-subscriber-updates) notify the subscribed URI.
    step("resources/subscribe");
    let uri = resources[0]["uri"].as_str().unwrap().to_owned();
    while rx.try_recv().is_ok() {}
    client.subscribe(&uri).await.expect("resources/subscribe");
    let logged = wait_for(rx, Duration::from_secs(5), |n| {
        n.method == "notifications/message"
            && n.params["data"].as_str().is_some_and(|d| {
                d.contains("Received Subscribe Resource request") && d.contains(&uri)
            })
    })
    .await;
    assert!(logged.is_some(), "no log message for the subscription");
    let r = client
        .call_tool("toggle-subscriber-updates", json!({}))
        .await
        .expect("toggle-subscriber-updates on");
    assert_ok("toggle-subscriber-updates", &r);
    let updated = wait_for(rx, Duration::from_secs(5), |n| {
        n.method == "notifications/resources/updated" && n.params["uri"] == uri.as_str()
    })
    .await;
    assert!(
        updated.is_some(),
        "no notifications/resources/updated for {uri}"
    );
    client
        .unsubscribe(&uri)
        .await
        .expect("resources/unsubscribe");
    let r = client
        .call_tool("toggle-subscriber-updates", json!({}))
        .await
        .expect("toggle-subscriber-updates off");
    assert_ok("toggle-subscriber-updates", &r);

    // A level above `info` silences the next acknowledgement.
    client
        .set_logging_level("error")
        .await
        .expect("logging/setLevel error");
    while rx.try_recv().is_ok() {}
    client
        .subscribe(&uri)
        .await
        .expect("resources/subscribe again");
    client
        .unsubscribe(&uri)
        .await
        .expect("resources/unsubscribe again");
    let quiet = wait_for(rx, Duration::from_millis(500), |n| {
        n.method == "notifications/message" && n.params["level"] == "info"
    })
    .await;
    assert!(
        quiet.is_none(),
        "info logged despite level error: {quiet:?}"
    );

    client.ping().await.expect("ping");
    step("done");
}

fn texts_of_messages(r: &Value) -> String {
    r["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"]["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Call one listed tool with plausible arguments and check what it answers.
async fn call_one(
    client: &Client,
    name: &str,
    tool: &Value,
    rx: &mut mpsc::UnboundedReceiver<Notification>,
) {
    let call = |args: Value| async move {
        client
            .call_tool(name, args)
            .await
            .unwrap_or_else(|e| panic!("tools/call {name}: {e}"))
    };
    match name {
        "echo" => {
            let r = call(json!({"message": "hello interop"})).await;
            assert_ok(name, &r);
            assert_eq!(texts(&r), "Echo: hello interop", "{r}");
        }
        "get-sum" => {
            let r = call(json!({"a": 2, "b": 40})).await;
            assert_ok(name, &r);
            assert!(texts(&r).contains("42"), "{r}");
        }
        "get-annotated-message" => {
            let r = call(json!({"messageType": "success", "includeImage": true})).await;
            assert_ok(name, &r);
            let content = r["content"].as_array().unwrap();
            assert!(content.iter().any(|c| c["type"] == "image"), "{r}");
            assert!(content.iter().any(|c| c["annotations"].is_object()), "{r}");
        }
        "get-tiny-image" => {
            let r = call(json!({})).await;
            assert_ok(name, &r);
            let img = r["content"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["type"] == "image")
                .unwrap_or_else(|| panic!("no image: {r}"));
            assert_eq!(img["mimeType"], "image/png");
            assert!(img["data"].as_str().is_some_and(|d| !d.is_empty()));
        }
        "get-structured-content" => {
            let r = call(arguments_for(tool)).await;
            assert_ok(name, &r);
            let s = &r["structuredContent"];
            assert!(
                s["temperature"].is_number() && s["conditions"].is_string(),
                "{r}"
            );
        }
        "get-resource-links" => {
            let r = call(json!({"count": 2})).await;
            assert_ok(name, &r);
            let links: Vec<&Value> = r["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["type"] == "resource_link")
                .collect();
            assert_eq!(links.len(), 2, "{r}");
        }
        "get-resource-reference" => {
            let r = call(json!({"resourceType": "Text", "resourceId": 3})).await;
            assert_ok(name, &r);
            let res = r["content"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["type"] == "resource")
                .unwrap_or_else(|| panic!("no embedded resource: {r}"));
            assert!(
                res["resource"]["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Resource 3: ")),
                "{r}"
            );
        }
        "gzip-file-as-resource" => {
            // A data: URI, so the server fetches nothing from the network.
            let data = "data:text/plain;base64,aGVsbG8gaW50ZXJvcA=="; // "hello interop"
            let r = call(json!({"name": "interop.txt.gz", "data": data})).await;
            assert_ok(name, &r);
            let link = &r["content"][0];
            assert_eq!(link["type"], "resource_link", "{r}");
            let uri = link["uri"].as_str().expect("a link uri");
            // The session resource it registered can be read back.
            let read = client
                .read_resource(uri)
                .await
                .expect("read the gzip resource");
            let blob = read["contents"][0]["blob"].as_str().expect("a blob");
            use base64::Engine as _;
            let gz = base64::engine::general_purpose::STANDARD
                .decode(blob)
                .expect("base64");
            assert_eq!(&gz[..2], &[0x1f, 0x8b], "not gzip");
            let r = call(json!({"name": "inline.txt.gz", "data": data, "outputType": "resource"}))
                .await;
            assert_ok(name, &r);
            assert_eq!(
                r["content"][0]["resource"]["mimeType"], "application/gzip",
                "{r}"
            );
        }
        "toggle-simulated-logging" | "toggle-subscriber-updates" => {
            // On, then off again (the subscription step uses the second one deliberately).
            for _ in 0..2 {
                let r = call(json!({})).await;
                assert_ok(name, &r);
            }
        }
        "trigger-long-running-operation" => {
            // With a progress token: the server reports each step.
            while rx.try_recv().is_ok() {}
            let r = client
                .request(
                    "tools/call",
                    Some(json!({
                        "name": name,
                        "arguments": {"duration": 1, "steps": 2},
                        "_meta": {"progressToken": "interop-progress"}
                    })),
                )
                .await
                .unwrap_or_else(|e| panic!("tools/call {name}: {e}"));
            assert_ok(name, &r);
            assert!(texts(&r).contains("completed"), "{r}");
            let progress = wait_for(rx, Duration::from_secs(2), |n| {
                n.method == "notifications/progress"
                    && n.params["progressToken"] == "interop-progress"
            })
            .await;
            assert!(progress.is_some(), "no progress notification");
        }
        "get-roots-list" => {
            let r = call(json!({})).await;
            assert_ok(name, &r);
            assert!(texts(&r).contains("file:///tmp/mcp-interop"), "{r}");
        }
        "trigger-elicitation-request" => {
            let r = call(json!({})).await;
            assert_ok(name, &r);
            let t = texts(&r);
            assert!(t.contains("User provided the requested information"), "{r}");
            assert!(t.contains("- Name: Interop Tester"), "{r}");
        }
        "trigger-url-elicitation" => {
            let url = "https://example.com/interop-consent";
            let r = call(json!({"url": url})).await;
            assert_ok(name, &r);
            assert!(
                texts(&r).contains("User completed the URL elicitation flow"),
                "{r}"
            );
            // The error path: -32042 with the elicitation to complete, then the same call again.
            let args = json!({"url": url, "errorPath": true, "elicitationId": "interop-1"});
            let e = client
                .call_tool(name, args.clone())
                .await
                .expect_err("the error path answers -32042");
            let rpc = e.rpc().unwrap_or_else(|| panic!("not an RPC error: {e:?}"));
            assert_eq!(rpc.code, -32042, "{rpc:?}");
            let data = rpc.data.as_ref().expect("the error's data");
            assert_eq!(data["elicitations"][0]["mode"], "url", "{data}");
            let r = call(args).await;
            assert_ok(name, &r);
        }
        "trigger-sampling-request" => {
            let r = call(json!({"prompt": "say hi", "maxTokens": 20})).await;
            assert_ok(name, &r);
            assert!(texts(&r).contains("interop sample for:"), "{r}");
        }
        _ => {
            // A tool this test does not know (a newer server): plausible arguments, and it
            // must not fail.
            let r = call(arguments_for(tool)).await;
            assert_ok(name, &r);
        }
    }
}

async fn run(label: &str, b: ClientBuilder, transport: &str) {
    let (b, mut rx, seen) = configure(b);
    let fut = async {
        let client = b
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{label}: connect: {e}"));
        assert_eq!(client.transport_name(), transport);
        exercise(label, &client, &mut rx, &seen).await;
        client.close().await.expect("close");
    };
    tokio::time::timeout(BUDGET, fut)
        .await
        .unwrap_or_else(|_| panic!("{label}: not done within {BUDGET:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and the npm registry; tests/run-all.sh runs it"]
async fn everything_over_stdio() {
    let Some(entry) = server_entry() else { return };
    let cmd = StdioCommand {
        program: "node".into(),
        args: vec![entry.display().to_string(), "stdio".into()],
        env: Vec::new(),
        cwd: None,
    };
    run("stdio", ClientBuilder::stdio(cmd), "stdio").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and the npm registry; tests/run-all.sh runs it"]
async fn everything_over_streamable_http() {
    let Some(entry) = server_entry() else { return };
    let server = HttpServer::start(&entry, "streamableHttp").await;
    let b = ClientBuilder::http(&server.url("/mcp")).expect("url");
    run("streamable-http", b, "streamable-http").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node.js and the npm registry; tests/run-all.sh runs it"]
async fn everything_over_sse() {
    let Some(entry) = server_entry() else { return };
    let server = HttpServer::start(&entry, "sse").await;
    // POST /sse is not Streamable HTTP there: the client falls back to HTTP+SSE.
    let b = ClientBuilder::http(&server.url("/sse")).expect("url");
    run("sse", b, "http+sse").await;
}
