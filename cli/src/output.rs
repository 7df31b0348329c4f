//! How the command-line program prints results: plain text for people, `--json` for programs.
//! Each function returns the process exit code the result implies.

use serde_json::Value;

fn print_json(v: &Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(_) => println!("{v}"),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// `tools`.
pub fn tools(tools: &[Value], json: bool) -> u8 {
    if json {
        print_json(&Value::Array(tools.to_vec()));
        return 0;
    }
    if tools.is_empty() {
        println!("(no tools)");
    }
    let width = tools
        .iter()
        .filter_map(|t| t["name"].as_str())
        .map(str::len)
        .max()
        .unwrap_or(0);
    for t in tools {
        let name = t["name"].as_str().unwrap_or("?");
        let desc = first_line(t["description"].as_str().unwrap_or(""));
        let params: Vec<String> = t["inputSchema"]["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        println!("{name:width$}  {desc}  ({})", params.join(", "));
    }
    0
}

/// Text of a content block list, one block a line.
pub fn content_text(content: &Value) -> String {
    let mut out = Vec::new();
    for c in content.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        match c["type"].as_str() {
            Some("text") => out.push(c["text"].as_str().unwrap_or("").to_owned()),
            Some("resource") => out.push(format!(
                "[resource {}] {}",
                c["resource"]["uri"].as_str().unwrap_or("?"),
                c["resource"]["text"].as_str().unwrap_or("")
            )),
            Some(kind) => out.push(format!("[{kind} content]")),
            None => out.push(c.to_string()),
        }
    }
    out.join("\n")
}

/// `call`: exit 1 when the tool reported an error.
pub fn call_result(r: &Value, json: bool) -> u8 {
    let is_error = r["isError"].as_bool().unwrap_or(false);
    if json {
        print_json(r);
    } else if is_error {
        eprintln!("tool error: {}", content_text(&r["content"]));
    } else {
        let text = content_text(&r["content"]);
        if text.is_empty() && !r["structuredContent"].is_null() {
            print_json(&r["structuredContent"]);
        } else {
            println!("{text}");
        }
    }
    u8::from(is_error)
}

/// `resources`.
pub fn resources(resources: &[Value], templates: &[Value], json: bool) -> u8 {
    if json {
        print_json(&serde_json::json!({"resources": resources, "resourceTemplates": templates}));
        return 0;
    }
    if resources.is_empty() && templates.is_empty() {
        println!("(no resources)");
    }
    for r in resources {
        println!(
            "{}  {}  {}",
            r["uri"].as_str().unwrap_or("?"),
            r["name"].as_str().unwrap_or(""),
            r["mimeType"].as_str().unwrap_or("")
        );
    }
    for t in templates {
        println!(
            "{}  {}  (template)",
            t["uriTemplate"].as_str().unwrap_or("?"),
            t["name"].as_str().unwrap_or("")
        );
    }
    0
}

/// `read`.
pub fn resource_contents(r: &Value, json: bool) -> u8 {
    if json {
        print_json(r);
        return 0;
    }
    for c in r["contents"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        match (c["text"].as_str(), c["blob"].as_str()) {
            (Some(t), _) => println!("{t}"),
            (None, Some(b)) => println!("[{} bytes of base64 data]", b.len()),
            _ => println!("{c}"),
        }
    }
    0
}

/// `prompts`.
pub fn prompts(prompts: &[Value], json: bool) -> u8 {
    if json {
        print_json(&Value::Array(prompts.to_vec()));
        return 0;
    }
    if prompts.is_empty() {
        println!("(no prompts)");
    }
    for p in prompts {
        let args: Vec<String> = p["arguments"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "{}  {}  ({})",
            p["name"].as_str().unwrap_or("?"),
            first_line(p["description"].as_str().unwrap_or("")),
            args.join(", ")
        );
    }
    0
}
