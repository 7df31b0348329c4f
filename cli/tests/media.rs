//! How `call` prints content that is not text: resource links, images and audio (their type and
//! size, or written out with `--save-media`), embedded resources; `--json` unchanged.
//!
//! The test server returns none of these, so this test is its own stdio MCP server: run with
//! `MEDIA_FAKE_SERVER=1`, it answers `initialize` and `tools/call` with one of each kind of
//! content. It has no libtest harness (libtest would write on the stdout the server speaks
//! on).

use std::io::{BufRead, Write};
use std::process::Command;

use serde_json::{json, Value};

/// 8 bytes: the PNG signature.
const PNG_B64: &str = "iVBORw0KGgo=";
/// 4 bytes: `RIFF`.
const WAV_B64: &str = "UklGRg==";

fn main() {
    if std::env::var_os("MEDIA_FAKE_SERVER").is_some() {
        fake_server();
        return;
    }
    let tests: [(&str, fn()); 3] = [
        ("media_is_described", media_is_described),
        ("media_is_saved", media_is_saved),
        ("json_is_unchanged", json_is_unchanged),
    ];
    let mut failed = 0;
    for (name, test) in tests {
        match std::panic::catch_unwind(test) {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("{} passed, {failed} failed", tests.len() - failed);
    if failed > 0 {
        std::process::exit(101);
    }
}

fn fake_server() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return };
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(id) = msg.get("id").cloned() else {
            continue; // a notification
        };
        let result = match msg["method"].as_str() {
            Some("initialize") => json!({
                "protocolVersion": msg["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "media", "version": "1"},
            }),
            Some("tools/call") => json!({"content": [
                {"type": "text", "text": "here you are"},
                {"type": "resource_link", "name": "report", "uri": "file:///tmp/report.pdf",
                    "mimeType": "application/pdf"},
                {"type": "image", "mimeType": "image/png", "data": PNG_B64},
                {"type": "audio", "mimeType": "audio/wav", "data": WAV_B64},
                {"type": "resource", "resource": {"uri": "test://notes", "mimeType": "text/plain",
                    "text": "some notes"}},
            ]}),
            _ => json!({}),
        };
        let answer = json!({"jsonrpc": "2.0", "id": id, "result": result});
        if writeln!(stdout, "{answer}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return;
        }
    }
}

/// `mcp-client --stdio <this test as the server> ARGS call media`.
fn call(args: &[&str]) -> (String, String) {
    let me = std::env::current_exe().expect("this test's path");
    let out = Command::new(env!("CARGO_BIN_EXE_mcp-client"))
        .env("MEDIA_FAKE_SERVER", "1")
        .arg("--stdio")
        .arg(me.display().to_string())
        .args(args)
        .args(["call", "media"])
        .output()
        .expect("run mcp-client");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

fn media_is_described() {
    let (out, _) = call(&[]);
    assert_eq!(
        out,
        "here you are\n\
         report  file:///tmp/report.pdf  (application/pdf)\n\
         [image image/png, 8 bytes]\n\
         [audio audio/wav, 4 bytes]\n\
         [resource test://notes (text/plain, 10 bytes)]\n"
    );
}

fn media_is_saved() {
    let dir = std::env::temp_dir().join(format!("mcp-client-media-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (out, _) = call(&["--save-media", &dir.display().to_string()]);
    let png = dir.join("image-1.png");
    let wav = dir.join("audio-1.wav");
    assert!(
        out.contains(&format!(
            "[image image/png, 8 bytes] saved to {}",
            png.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("saved to {}", wav.display())),
        "{out}"
    );
    assert_eq!(std::fs::read(&png).unwrap(), b"\x89PNG\r\n\x1a\n");
    assert_eq!(std::fs::read(&wav).unwrap(), b"RIFF");
    // A second run keeps the first files.
    let (out, _) = call(&["--save-media", &dir.display().to_string()]);
    assert!(out.contains("image-2.png"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn json_is_unchanged() {
    let (out, _) = call(&["--json"]);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["content"][2]["data"], PNG_B64);
    assert_eq!(v["content"][1]["type"], "resource_link");
}
