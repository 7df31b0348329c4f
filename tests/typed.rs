//! The typed API (`mcp_client::types` and the typed twins of the JSON methods): against the
//! in-repo test server, on spec-shaped JSON literals, and on a server that sends results that
//! break the schema.

mod common;

use std::collections::BTreeMap;

use common::*;
use mcp_client::types::{Annotations, Role};
use mcp_client::{
    CallToolResult, ContentBlock, Error, ErrorKind, GetPromptResult, ReadResourceResult,
    ResourceContents, Tool,
};
use serde_json::{json, Value};

// ---- against the test server ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_are_typed_with_their_schemas() {
    let server = default_server().await;
    let client = connect(&server).await;

    let tools = client.tools().await.expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ALL_TOOLS, "every page followed, in order");

    let echo = &tools[0];
    assert_eq!(echo.title.as_deref(), Some("Echo"));
    assert_eq!(echo.display_name(), "Echo");
    assert_eq!(
        echo.description.as_deref(),
        Some("Returns the text it is given.")
    );
    assert_eq!(echo.input_schema["type"], "object");
    assert_eq!(echo.input_schema["properties"]["text"]["type"], "string");
    assert_eq!(echo.input_schema["required"], json!(["text"]));
    assert!(echo.output_schema.is_none());

    let add = tools.iter().find(|t| t.name == "add").expect("add");
    let output = add
        .output_schema
        .as_ref()
        .expect("add has an output schema");
    assert_eq!(output["properties"]["sum"]["type"], "number");

    // The typed list is the JSON list, decoded: nothing lost, nothing added.
    let raw = client.list_tools().await.expect("list_tools");
    assert_eq!(serde_json::to_value(&tools).expect("serialize"), json!(raw));

    let with = client
        .tools_with(mcp_client::RequestOptions::timeout(
            std::time::Duration::from_secs(3),
        ))
        .await
        .expect("tools_with");
    assert_eq!(with, tools);
    client.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_results_are_typed() {
    let server = default_server().await;
    let client = connect(&server).await;

    let r = client
        .call("echo", json!({"text": "hello"}))
        .await
        .expect("echo");
    assert!(!r.is_error());
    assert_eq!(r.is_error, None);
    assert_eq!(r.text(), "hello");
    assert_eq!(r.content.len(), 1);
    assert!(matches!(&r.content[0], ContentBlock::Text(t) if t.text == "hello"));
    assert_eq!(r.content[0].as_text(), Some("hello"));
    assert_eq!(r.content[0].kind(), "text");
    assert_eq!(r.structured_content, None);

    // Any Serialize type works as arguments.
    #[derive(serde::Serialize)]
    struct Add {
        a: i64,
        b: i64,
    }
    let r = client.call("add", Add { a: 2, b: 3 }).await.expect("add");
    assert_eq!(r.text(), "5");
    assert_eq!(r.structured_content, Some(json!({"sum": 5})));
    let args: BTreeMap<&str, f64> = [("a", 0.5), ("b", 0.25)].into();
    let r = client.call("add", &args).await.expect("add floats");
    assert_eq!(r.structured_content, Some(json!({"sum": 0.75})));

    // A tool error is a result, not an Err.
    let r = client
        .call("fail", json!({"message": "as requested"}))
        .await
        .expect("fail is a result");
    assert!(r.is_error());
    assert_eq!(r.is_error, Some(true));
    assert_eq!(r.text(), "as requested");
    // `()` means no arguments.
    let r = client.call("fail", ()).await.expect("fail without args");
    assert!(r.is_error());
    assert_eq!(r.text(), "requested failure");

    // The typed result is the JSON result, decoded.
    let raw = client
        .call_tool("add", json!({"a": 1, "b": 1}))
        .await
        .expect("call_tool");
    let typed = client
        .call_with(
            "add",
            json!({"a": 1, "b": 1}),
            mcp_client::RequestOptions::default(),
        )
        .await
        .expect("call_with");
    assert_eq!(serde_json::to_value(&typed).expect("serialize"), raw);

    // Arguments that are not an object never reach the server.
    let e = client.call("echo", 42).await.expect_err("not an object");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(e.to_string().contains("`echo`"), "{e}");
    let e = client
        .call("echo", vec!["a"])
        .await
        .expect_err("not an object");
    assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");

    // Protocol errors stay errors.
    let e = client.call("nope", ()).await.expect_err("unknown tool");
    assert_eq!(e.kind(), ErrorKind::Rpc, "{e}");
    client.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_are_typed() {
    let server = default_server().await;
    let client = connect(&server).await;

    let resources = client.resources().await.expect("resources");
    assert_eq!(resources.len(), 2);
    let hello = &resources[0];
    assert_eq!(hello.uri, "test://hello");
    assert_eq!(hello.name, "hello");
    assert_eq!(hello.title.as_deref(), Some("Hello"));
    assert_eq!(hello.mime_type.as_deref(), Some("text/plain"));
    assert_eq!(hello.description.as_deref(), Some("A greeting"));
    assert_eq!(resources[1].uri, "test://data.json");
    let raw = client.list_resources().await.expect("list_resources");
    assert_eq!(
        serde_json::to_value(&resources).expect("serialize"),
        json!(raw)
    );
    assert_eq!(
        client
            .resources_with(Default::default())
            .await
            .expect("resources_with"),
        resources
    );

    let templates = client.resource_templates().await.expect("templates");
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].uri_template, "test://items/{id}");
    assert_eq!(templates[0].name, "item");
    assert_eq!(templates[0].mime_type.as_deref(), Some("text/plain"));

    let r = client.read("test://hello").await.expect("read");
    assert_eq!(r.contents.len(), 1);
    match &r.contents[0] {
        ResourceContents::Text(t) => {
            assert_eq!(t.uri, "test://hello");
            assert_eq!(t.mime_type.as_deref(), Some("text/plain"));
            assert_eq!(t.text, "Hello, world!");
        }
        other => panic!("expected text contents, got {other:?}"),
    }
    assert_eq!(r.text(), "Hello, world!");
    assert_eq!(r.contents[0].uri(), "test://hello");
    let r = client
        .read_with("test://items/7", Default::default())
        .await
        .expect("read_with");
    assert_eq!(r.contents[0].text(), Some("item 7"));

    let e = client.read("test://missing").await.expect_err("not found");
    assert_eq!(e.kind(), ErrorKind::Rpc, "{e}");
    client.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_are_typed() {
    let server = default_server().await;
    let client = connect(&server).await;

    let prompts = client.prompts().await.expect("prompts");
    assert_eq!(prompts.len(), 1);
    let greet = &prompts[0];
    assert_eq!(greet.name, "greet");
    assert_eq!(greet.title.as_deref(), Some("Greet"));
    let args = greet.arguments.as_deref().expect("arguments");
    assert_eq!(args.len(), 1);
    assert_eq!(args[0].name, "name");
    assert_eq!(args[0].required, Some(true));
    assert_eq!(args[0].description.as_deref(), Some("Who to greet"));
    assert_eq!(
        client
            .prompts_with(Default::default())
            .await
            .expect("prompts_with"),
        prompts
    );

    let p = client
        .prompt("greet", json!({"name": "Ada"}))
        .await
        .expect("prompt");
    assert_eq!(p.description.as_deref(), Some("A friendly greeting"));
    assert_eq!(p.messages.len(), 1);
    assert_eq!(p.messages[0].role, Role::User);
    assert_eq!(p.messages[0].content.as_text(), Some("Hello, Ada!"));

    let args: BTreeMap<String, String> = [("name".to_owned(), "Grace".to_owned())].into();
    let p = client
        .prompt_with("greet", args, Default::default())
        .await
        .expect("prompt_with");
    assert_eq!(p.messages[0].content.as_text(), Some("Hello, Grace!"));

    let e = client.prompt("greet", ()).await.expect_err("name missing");
    assert_eq!(e.kind(), ErrorKind::Rpc, "{e}");
    let e = client
        .prompt("greet", "Ada")
        .await
        .expect_err("not an object");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    client.close().await.expect("close");
}

// ---- a server whose results break the schema -------------------------------------------

/// A server that completes the handshake and answers `tools/list`, `tools/call`,
/// `resources/read` and `prompts/get` with results that break the schema.
async fn bad_results_server() -> String {
    fake_http(|method, body: Option<Value>| {
        if method == "GET" {
            // No standalone stream.
            return Canned {
                status: 405,
                content_type: "text/plain",
                body: String::new(),
            };
        }
        let body = body.unwrap_or_default();
        let Some(id) = body.get("id").cloned() else {
            // A notification: accepted, no body.
            return Canned {
                status: 202,
                content_type: "application/json",
                body: String::new(),
            };
        };
        let result = match body["method"].as_str().unwrap_or("") {
            "initialize" => json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                "serverInfo": {"name": "bad", "version": "0"}}),
            "tools/list" => json!({"tools": [
                {"name": "fine", "inputSchema": {"type": "object"}},
                {"title": "no name", "inputSchema": {"type": "object"}},
            ]}),
            "tools/call" => json!({"content": [{"type": "text"}]}),
            "resources/read" => json!({"contents": [{"uri": "x://y"}]}),
            "prompts/get" => json!({"messages": [{"role": "narrator",
                "content": {"type": "text", "text": "hi"}}]}),
            _ => {
                return Canned {
                    status: 200,
                    content_type: "application/json",
                    body: json!({"jsonrpc": "2.0", "id": id,
                        "error": {"code": -32601, "message": "Method not found"}})
                    .to_string(),
                }
            }
        };
        Canned {
            status: 200,
            content_type: "application/json",
            body: json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_that_break_the_schema_are_malformed_messages() {
    let url = bad_results_server().await;
    let client = builder(&url).connect().await.expect("connect");

    // The JSON methods still hand the result over as it is.
    assert_eq!(client.list_tools().await.expect("list_tools").len(), 2);

    let e = client.tools().await.expect_err("a tool without a name");
    assert_eq!(e.kind(), ErrorKind::Protocol);
    let Error::MalformedMessage(m) = &e else {
        panic!("expected MalformedMessage, got {e:?}");
    };
    assert!(m.contains("tools/list"), "{m}");
    assert!(m.contains("item 1"), "{m}");
    assert!(m.contains("`name`"), "{m}");

    let e = client
        .call("fine", ())
        .await
        .expect_err("text without text");
    let Error::MalformedMessage(m) = &e else {
        panic!("expected MalformedMessage, got {e:?}");
    };
    assert!(m.contains("tools/call"), "{m}");
    assert!(m.contains("CallToolResult"), "{m}");
    assert!(m.contains("`text` content block"), "{m}");

    let e = client
        .read("x://y")
        .await
        .expect_err("neither text nor blob");
    let Error::MalformedMessage(m) = &e else {
        panic!("expected MalformedMessage, got {e:?}");
    };
    assert!(m.contains("resources/read"), "{m}");
    assert!(m.contains("neither `text` nor `blob`"), "{m}");

    let e = client
        .prompt("p", json!({}))
        .await
        .expect_err("an unknown role");
    let Error::MalformedMessage(m) = &e else {
        panic!("expected MalformedMessage, got {e:?}");
    };
    assert!(m.contains("prompts/get"), "{m}");
    assert!(m.contains("narrator"), "{m}");
    client.close().await.expect("close");
}

// ---- the serde types on spec-shaped JSON ------------------------------------------------

/// Decode `v` as `T`, check that it serializes back to exactly `v`, and return it.
fn round_trip<T>(v: Value) -> T
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let typed: T = serde_json::from_value(v.clone()).expect("decode");
    assert_eq!(serde_json::to_value(&typed).expect("encode"), v);
    typed
}

#[test]
fn every_content_block_type_decodes_and_round_trips() {
    let r: CallToolResult = round_trip(json!({
        "content": [
            {"type": "text", "text": "line 1",
             "annotations": {"audience": ["user", "assistant"], "priority": 0.9,
                             "lastModified": "2025-01-12T15:00:58Z"}},
            {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
            {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav", "_meta": {"k": 1}},
            {"type": "resource_link", "uri": "file:///project/src/main.rs", "name": "main.rs",
             "description": "Primary entry point", "mimeType": "text/x-rust", "size": 1024},
            {"type": "resource", "resource": {"uri": "file:///notes.txt",
             "mimeType": "text/plain", "text": "line 2"}},
            {"type": "resource", "resource": {"uri": "file:///logo.png",
             "mimeType": "image/png", "blob": "iVBORw0KGgo="}},
            {"type": "text", "text": "line 3"},
        ],
        "structuredContent": {"temperature": 22.5},
        "isError": false,
        "_meta": {"io.example/trace": "abc"},
    }));
    assert!(!r.is_error());
    assert_eq!(r.text(), "line 1\nline 3");
    let kinds: Vec<&str> = r.content.iter().map(ContentBlock::kind).collect();
    assert_eq!(
        kinds,
        [
            "text",
            "image",
            "audio",
            "resource_link",
            "resource",
            "resource",
            "text"
        ]
    );
    match &r.content[0] {
        ContentBlock::Text(t) => {
            let a: &Annotations = t.annotations.as_ref().expect("annotations");
            assert_eq!(
                a.audience.as_deref(),
                Some(&[Role::User, Role::Assistant][..])
            );
            assert_eq!(a.priority, Some(0.9));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(&r.content[1], ContentBlock::Image(i) if i.mime_type == "image/png" && i.data == "iVBORw0KGgo=")
    );
    assert!(
        matches!(&r.content[2], ContentBlock::Audio(a) if a.meta.as_ref().is_some_and(|m| m["k"] == 1))
    );
    assert!(
        matches!(&r.content[3], ContentBlock::ResourceLink(l) if l.name == "main.rs" && l.size == Some(1024))
    );
    match &r.content[4] {
        ContentBlock::Resource(e) => assert_eq!(e.resource.text(), Some("line 2")),
        other => panic!("{other:?}"),
    }
    match &r.content[5] {
        ContentBlock::Resource(e) => match &e.resource {
            ResourceContents::Blob(b) => {
                assert_eq!(b.blob, "iVBORw0KGgo=");
                assert_eq!(e.resource.mime_type(), Some("image/png"));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(r.structured_content, Some(json!({"temperature": 22.5})));
    assert_eq!(
        r.meta.as_ref().expect("_meta")["io.example/trace"],
        json!("abc")
    );
}

#[test]
fn an_unknown_content_block_type_does_not_fail_the_result() {
    let r: CallToolResult = round_trip(json!({
        "content": [
            {"type": "hologram", "frames": [1, 2, 3], "_meta": {"x": true}},
            {"type": "text", "text": "still here"},
        ],
        "isError": true,
    }));
    assert!(r.is_error());
    assert_eq!(r.text(), "still here");
    match &r.content[0] {
        ContentBlock::Unknown(block) => {
            assert_eq!(block["type"], "hologram");
            assert_eq!(block["frames"], json!([1, 2, 3]));
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
    assert_eq!(r.content[0].kind(), "hologram");
    assert_eq!(r.content[0].as_text(), None);
}

#[test]
fn malformed_content_blocks_are_errors() {
    for (block, expect) in [
        (json!({"type": "text"}), "missing field `text`"),
        (
            json!({"type": "image", "data": "x"}),
            "missing field `mimeType`",
        ),
        (json!({"text": "no type"}), "no `type`"),
        (json!({"type": 7, "text": "x"}), "not a string"),
        (json!("just text"), "invalid type"),
        (
            json!({"type": "resource", "resource": {"uri": "u"}}),
            "neither `text` nor `blob`",
        ),
    ] {
        let e = serde_json::from_value::<ContentBlock>(block.clone())
            .expect_err(&format!("{block} should not decode"));
        assert!(e.to_string().contains(expect), "{block}: {e}");
    }
}

#[test]
fn tools_keep_every_member() {
    // The 2025-11-25 schema's Tool, with members this version keeps in `extra`.
    let tool: Tool = round_trip(json!({
        "name": "get_weather",
        "title": "Weather",
        "description": "Get current weather information for a location",
        "inputSchema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"location": {"type": "string", "description": "City name or zip code"}},
            "required": ["location"],
        },
        "outputSchema": {
            "type": "object",
            "properties": {"temperature": {"type": "number"}},
            "required": ["temperature"],
        },
        "annotations": {"title": "Weather lookup", "readOnlyHint": true,
                        "openWorldHint": true, "x-vendor": 1},
        "icons": [{"src": "https://example.com/w.png", "mimeType": "image/png",
                   "sizes": ["48x48"], "theme": "light"}],
        "execution": {"taskSupport": "optional"},
        "_meta": {"io.example/owner": "team-a"},
        "x-future": {"anything": [1, 2]},
    }));
    assert_eq!(tool.display_name(), "Weather");
    let a = tool.annotations.as_ref().expect("annotations");
    assert_eq!(a.read_only_hint, Some(true));
    assert_eq!(a.destructive_hint, None);
    assert_eq!(a.extra["x-vendor"], 1);
    assert_eq!(tool.input_schema["required"], json!(["location"]));
    assert_eq!(
        tool.icons.as_ref().expect("icons")[0].src,
        "https://example.com/w.png"
    );
    assert_eq!(tool.extra["execution"]["taskSupport"], "optional");
    assert_eq!(tool.extra["x-future"]["anything"], json!([1, 2]));
    assert!(!tool.extra.contains_key("name"));

    // Display name precedence: title, annotations.title, name.
    let t: Tool = round_trip(json!({"name": "n", "inputSchema": {"type": "object"},
        "annotations": {"title": "From annotations"}}));
    assert_eq!(t.display_name(), "From annotations");
    let t: Tool = round_trip(json!({"name": "n", "inputSchema": {"type": "object"}}));
    assert_eq!(t.display_name(), "n");
    assert!(t.annotations.is_none() && t.output_schema.is_none() && t.meta.is_none());
}

#[test]
fn resources_and_prompts_round_trip() {
    let r: ReadResourceResult = round_trip(json!({
        "contents": [
            {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "a"},
            {"uri": "file:///b.bin", "blob": "AAEC", "_meta": {"m": 1}},
        ],
        "ttlMs": 60000,
        "cacheScope": "public",
        "resultType": "complete",
    }));
    assert_eq!(r.text(), "a");
    assert_eq!(r.contents[1].uri(), "file:///b.bin");
    assert_eq!(r.contents[1].text(), None);
    assert_eq!(r.extra["ttlMs"], 60000);

    let _: mcp_client::Resource = round_trip(json!({
        "uri": "file:///project/README.md", "name": "README.md", "title": "Readme",
        "mimeType": "text/markdown", "size": 2048,
        "annotations": {"audience": ["user"], "priority": 0.5},
    }));
    let _: mcp_client::ResourceTemplate = round_trip(json!({
        "uriTemplate": "file:///{path}", "name": "project_files", "title": "Project files",
        "description": "Access files in the project directory", "mimeType": "application/octet-stream",
    }));
    let p: mcp_client::Prompt = round_trip(json!({
        "name": "code_review", "title": "Request Code Review",
        "description": "Asks the LLM to analyze code quality and suggest improvements",
        "arguments": [{"name": "code", "description": "The code to review", "required": true}],
    }));
    assert_eq!(p.arguments.as_ref().map(Vec::len), Some(1));

    let g: GetPromptResult = round_trip(json!({
        "description": "Code review prompt",
        "messages": [
            {"role": "user", "content": {"type": "text", "text": "Please review this code"}},
            {"role": "assistant", "content": {"type": "resource",
             "resource": {"uri": "file:///x.py", "mimeType": "text/x-python", "text": "print(1)"}}},
            {"role": "user", "content": {"type": "brand_new", "payload": {}}},
        ],
    }));
    assert_eq!(g.messages[0].role, Role::User);
    assert_eq!(g.messages[1].role, Role::Assistant);
    assert_eq!(g.messages[1].content.kind(), "resource");
    assert!(matches!(g.messages[2].content, ContentBlock::Unknown(_)));
}

#[test]
fn results_missing_optional_members_decode() {
    // `content` left out (a structured-only result) decodes as empty.
    let r: CallToolResult =
        serde_json::from_value(json!({"structuredContent": [1, 2]})).expect("decode");
    assert!(r.content.is_empty());
    assert_eq!(r.text(), "");
    assert!(!r.is_error());
    assert_eq!(
        serde_json::to_value(&r).expect("encode"),
        json!({"content": [], "structuredContent": [1, 2]})
    );
    // A block built in code serializes with its tag.
    assert_eq!(
        serde_json::to_value(ContentBlock::text("hi")).expect("encode"),
        json!({"type": "text", "text": "hi"})
    );
}
