//! How the command-line program prints results: plain text for people, `--json` for programs.
//! Each function returns the process exit code the result implies.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn print_json(v: &Value) {
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
    content_text_saving(content, None)
}

/// [`content_text`], writing images and audio into `save` when given.
pub fn content_text_saving(content: &Value, save: Option<&Path>) -> String {
    let mut out = Vec::new();
    for c in content.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        match c["type"].as_str() {
            Some("text") => out.push(c["text"].as_str().unwrap_or("").to_owned()),
            Some("resource_link") => {
                let mut line = format!(
                    "{}  {}",
                    c["name"].as_str().unwrap_or("?"),
                    c["uri"].as_str().unwrap_or("?")
                );
                if let Some(m) = c["mimeType"].as_str() {
                    line.push_str(&format!("  ({m})"));
                }
                out.push(line);
            }
            Some("resource") => {
                let r = &c["resource"];
                let mut facts = Vec::new();
                if let Some(m) = r["mimeType"].as_str() {
                    facts.push(m.to_owned());
                }
                match (r["text"].as_str(), r["blob"].as_str()) {
                    (Some(t), _) => facts.push(size(t.len() as u64)),
                    (None, Some(b)) => facts.push(size(base64_len(b))),
                    _ => {}
                }
                let facts = if facts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", facts.join(", "))
                };
                out.push(format!(
                    "[resource {}{facts}]",
                    r["uri"].as_str().unwrap_or("?")
                ));
            }
            Some(kind @ ("image" | "audio")) => out.push(media(kind, c, save)),
            Some(kind) => out.push(format!("[{kind} content]")),
            None => out.push(c.to_string()),
        }
    }
    out.join("\n")
}

/// `[image image/png, 1.2 KiB]`, or where it was saved.
fn media(kind: &str, c: &Value, save: Option<&Path>) -> String {
    let mime = c["mimeType"].as_str().unwrap_or("application/octet-stream");
    let data = c["data"].as_str().unwrap_or("");
    let described = format!("{kind} {mime}, {}", size(base64_len(data)));
    let Some(dir) = save else {
        return format!("[{described}]");
    };
    match save_media(dir, kind, mime, data) {
        Ok(path) => format!("[{described}] saved to {}", path.display()),
        Err(e) => format!("[{described}] not saved: {e}"),
    }
}

/// Write base64 `data` to a new file `KIND-N.EXT` in `dir`.
fn save_media(dir: &Path, kind: &str, mime: &str, data: &str) -> Result<PathBuf, String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("the data is not base64 ({e})"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ext = extension(mime);
    for n in 1.. {
        let path = dir.join(format!("{kind}-{n}.{ext}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(&bytes)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    unreachable!("some file name is free")
}

/// A file name extension for a media type.
fn extension(mime: &str) -> String {
    let sub = mime
        .split(';')
        .next()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim();
    match sub {
        "jpeg" => "jpg".into(),
        "svg+xml" => "svg".into(),
        "mpeg" => "mp3".into(),
        "x-wav" | "wave" => "wav".into(),
        s if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) => s.to_owned(),
        _ => "bin".into(),
    }
}

/// How many bytes base64 text decodes to.
fn base64_len(b64: &str) -> u64 {
    let t = b64.trim();
    let pad = t.bytes().rev().take_while(|b| *b == b'=').count() as u64;
    (t.len() as u64 * 3 / 4).saturating_sub(pad)
}

/// `512 bytes`, `1.5 KiB`, `2.0 MiB`.
fn size(n: u64) -> String {
    match n {
        0..1024 => format!("{n} bytes"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// `call`: exit 1 when the tool reported an error.
pub fn call_result(r: &Value, json: bool, save: Option<&Path>) -> u8 {
    let is_error = r["isError"].as_bool().unwrap_or(false);
    if json {
        print_json(r);
    } else if is_error {
        eprintln!("tool error: {}", content_text(&r["content"]));
    } else {
        let text = content_text_saving(&r["content"], save);
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
            (None, Some(b)) => println!(
                "[{} {}, {}]",
                c["uri"].as_str().unwrap_or("?"),
                c["mimeType"].as_str().unwrap_or("application/octet-stream"),
                size(base64_len(b))
            ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_blocks_read_as_text() {
        let content = json!([
            {"type": "resource_link", "name": "report", "uri": "file:///r.pdf", "mimeType": "application/pdf"},
            {"type": "resource_link", "name": "plain", "uri": "test://x"},
            {"type": "image", "mimeType": "image/png", "data": "AAAA"},
            {"type": "audio", "mimeType": "audio/wav", "data": "AAA="},
            {"type": "resource", "resource": {"uri": "test://hello", "mimeType": "text/plain", "text": "Hello"}},
        ]);
        assert_eq!(
            content_text(&content),
            "report  file:///r.pdf  (application/pdf)\nplain  test://x\n[image image/png, 3 bytes]\n\
             [audio audio/wav, 2 bytes]\n[resource test://hello (text/plain, 5 bytes)]"
        );
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(extension("image/jpeg"), "jpg");
        assert_eq!(extension("weird/x.y"), "bin");
        assert_eq!(extension("image/../../etc"), "etc");
    }
}
