//! `mcp-client inspect URL`: everything a server says about itself on one page (or, with
//! `--json`, in one document).

use mcp_client::{Client, Error};
use serde_json::{json, Map, Value};

/// What the server offers; lists its capabilities do not declare are left empty.
pub async fn gather(client: &Client) -> Result<Value, Error> {
    let server = client.server_info();
    let caps = server.get("capabilities").cloned().unwrap_or(json!({}));
    let has = |c: &str| caps.get(c).is_some();
    let tools = if has("tools") {
        client.list_tools().await?
    } else {
        Vec::new()
    };
    let (resources, templates) = if has("resources") {
        (
            client.list_resources().await?,
            client.list_resource_templates().await.unwrap_or_default(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let prompts = if has("prompts") {
        client.list_prompts().await?
    } else {
        Vec::new()
    };
    Ok(json!({
        "protocolVersion": client.protocol_version(),
        "transport": client.transport_name(),
        "sessionId": client.session_id(),
        "serverInfo": server.get("serverInfo").cloned().unwrap_or(Value::Null),
        "instructions": server.get("instructions").cloned().unwrap_or(Value::Null),
        "capabilities": caps,
        "tools": tools,
        "resources": resources,
        "resourceTemplates": templates,
        "prompts": prompts,
    }))
}

/// The page people read.
pub fn render(doc: &Value) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let info = &doc["serverInfo"];
    let mut name = format!(
        "{} {}",
        info["name"].as_str().unwrap_or("(unnamed server)"),
        info["version"].as_str().unwrap_or("")
    );
    if let Some(t) = info["title"].as_str() {
        name.push_str(&format!(" ({t})"));
    }
    line(format!("Server        {}", name.trim_end()));
    line(format!(
        "Protocol      {} over {}",
        doc["protocolVersion"].as_str().unwrap_or("?"),
        doc["transport"].as_str().unwrap_or("?")
    ));
    if let Some(s) = doc["sessionId"].as_str() {
        line(format!("Session       {s}"));
    }
    line(format!(
        "Capabilities  {}",
        capabilities(&doc["capabilities"])
    ));
    if let Some(i) = doc["instructions"]
        .as_str()
        .filter(|i| !i.trim().is_empty())
    {
        line(String::new());
        line("Instructions".into());
        for l in i.lines() {
            line(format!("  {l}"));
        }
    }

    let tools = list(&doc["tools"]);
    line(String::new());
    line(format!("Tools ({})", tools.len()));
    for t in tools {
        let mut head = format!("  {}", t["name"].as_str().unwrap_or("?"));
        if let Some(d) = t["description"].as_str() {
            head.push_str(&format!("  {}", first_line(d)));
        }
        if let Some(s) = t["execution"]["taskSupport"].as_str() {
            head.push_str(&format!("  [task: {s}]"));
        }
        line(head);
        let schema = &t["inputSchema"];
        let required: Vec<&str> = list(&schema["required"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let empty = Map::new();
        let props = schema["properties"].as_object().unwrap_or(&empty);
        if props.is_empty() {
            line("      (no arguments)".into());
        }
        for (p, s) in props {
            let mut l = format!("      {p}: {}", type_of(s));
            if required.contains(&p.as_str()) {
                l.push_str(" (required)");
            }
            let facts = constraints(s);
            if !facts.is_empty() {
                l.push_str(&format!(" [{}]", facts.join(", ")));
            }
            if let Some(d) = s["description"].as_str() {
                l.push_str(&format!("  {}", first_line(d)));
            }
            line(l);
        }
    }

    let resources = list(&doc["resources"]);
    line(String::new());
    line(format!("Resources ({})", resources.len()));
    for r in resources {
        line(
            format!(
                "  {}  {}  {}",
                r["uri"].as_str().unwrap_or("?"),
                r["name"].as_str().unwrap_or(""),
                r["mimeType"].as_str().unwrap_or("")
            )
            .trim_end()
            .to_owned(),
        );
    }
    let templates = list(&doc["resourceTemplates"]);
    line(String::new());
    line(format!("Resource templates ({})", templates.len()));
    for t in templates {
        line(
            format!(
                "  {}  {}  {}",
                t["uriTemplate"].as_str().unwrap_or("?"),
                t["name"].as_str().unwrap_or(""),
                t["mimeType"].as_str().unwrap_or("")
            )
            .trim_end()
            .to_owned(),
        );
    }
    let prompts = list(&doc["prompts"]);
    line(String::new());
    line(format!("Prompts ({})", prompts.len()));
    for p in prompts {
        let args: Vec<String> = list(&p["arguments"])
            .iter()
            .map(|a| {
                let n = a["name"].as_str().unwrap_or("?");
                if a["required"].as_bool() == Some(true) {
                    format!("{n}*")
                } else {
                    n.to_owned()
                }
            })
            .collect();
        line(format!(
            "  {}  {}  ({})",
            p["name"].as_str().unwrap_or("?"),
            first_line(p["description"].as_str().unwrap_or("")),
            args.join(", ")
        ));
    }
    out
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// `tools (listChanged), resources (subscribe, listChanged), logging`
fn capabilities(caps: &Value) -> String {
    let Some(m) = caps.as_object().filter(|m| !m.is_empty()) else {
        return "(none)".into();
    };
    m.iter()
        .map(|(k, v)| {
            let subs: Vec<&str> = v
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(_, x)| **x != Value::Bool(false))
                        .map(|(s, _)| s.as_str())
                        .collect()
                })
                .unwrap_or_default();
            if subs.is_empty() {
                k.clone()
            } else {
                format!("{k} ({})", subs.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `string`, `integer`, `array of string`, `"a" | "b"`.
fn type_of(s: &Value) -> String {
    if let Some(e) = s["enum"].as_array() {
        return e
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    match &s["type"] {
        Value::String(t) if t == "array" => match s["items"]["type"].as_str() {
            Some(i) => format!("array of {i}"),
            None => "array".into(),
        },
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".into(),
    }
}

fn constraints(s: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (key, word) in [
        ("minimum", "min"),
        ("maximum", "max"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("format", "format"),
        ("pattern", "pattern"),
        ("default", "default"),
    ] {
        if let Some(v) = s.get(key) {
            let v = match v {
                Value::String(x) => x.clone(),
                other => other.to_string(),
            };
            out.push(format!("{word} {v}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_everything() {
        let doc = json!({
            "protocolVersion": "2025-11-25", "transport": "streamable-http", "sessionId": null,
            "serverInfo": {"name": "srv", "version": "1.0"},
            "instructions": "Be nice.",
            "capabilities": {"tools": {"listChanged": true}, "logging": {}},
            "tools": [{"name": "slow", "description": "Sleeps.", "inputSchema": {
                "type": "object", "properties": {"ms": {"type": "integer", "minimum": 0}},
                "required": ["ms"]}}],
            "resources": [], "resourceTemplates": [], "prompts": [],
        });
        let page = render(&doc);
        assert!(page.contains("Server        srv 1.0"), "{page}");
        assert!(page.contains("Protocol      2025-11-25 over streamable-http"));
        assert!(
            page.contains("Capabilities  tools (listChanged), logging"),
            "{page}"
        );
        assert!(page.contains("  Be nice."));
        assert!(
            page.contains("      ms: integer (required) [min 0]"),
            "{page}"
        );
        assert!(page.contains("Prompts (0)"));
    }
}
