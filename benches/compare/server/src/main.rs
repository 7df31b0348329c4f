//! A minimal MCP server for benches/compare: Streamable HTTP over HTTP/1.1 keep-alive, JSON
//! replies only (never SSE), one `echo` tool, a static bearer token.
//!
//!   compare-server --token TOKEN [--port 0] [--host 127.0.0.1] [--threads N]
//!
//! Prints `http://HOST:PORT/mcp` as the first line on stdout.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

struct State {
    auth: Vec<u8>,
    sessions: AtomicU64,
}

const VERSIONS: &[&str] = &["2025-03-26", "2025-06-18", "2025-11-25"];

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r
}

fn json_reply(v: &Value) -> Response<Full<Bytes>> {
    let mut r = reply(StatusCode::OK, Bytes::from(serde_json::to_vec(v).unwrap()));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn error(id: &Value, code: i64, msg: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"error":{"code":code,"message":msg}})
}

/// One JSON-RPC message in; a response (None for a notification or a response).
fn handle_one(st: &State, msg: &Value, session: &mut Option<String>) -> Option<Value> {
    let method = msg.get("method").and_then(Value::as_str);
    let id = msg.get("id");
    let (Some(method), Some(id)) = (method, id) else {
        return None; // a notification (or a client's response): 202
    };
    let params = msg.get("params");
    let result = match method {
        "initialize" => {
            let asked = params
                .and_then(|p| p.get("protocolVersion"))
                .and_then(Value::as_str)
                .unwrap_or("2025-06-18");
            let version = if VERSIONS.contains(&asked) { asked } else { "2025-06-18" };
            let n = st.sessions.fetch_add(1, Ordering::Relaxed);
            *session = Some(format!("s{n:016x}"));
            json!({
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {"name": "compare-server", "version": env!("CARGO_PKG_VERSION")}
            })
        }
        "ping" => json!({}),
        "tools/list" => json!({"tools": [{
            "name": "echo",
            "description": "Echoes its text argument",
            "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}},
                            "required": ["text"]}
        }]}),
        "tools/call" => {
            let name = params.and_then(|p| p.get("name")).and_then(Value::as_str);
            if name != Some("echo") {
                return Some(error(id, -32602, "unknown tool"));
            }
            let text = params
                .and_then(|p| p.get("arguments"))
                .and_then(|a| a.get("text"))
                .cloned()
                .unwrap_or(Value::String(String::new()));
            json!({"content": [{"type": "text", "text": text}]})
        }
        _ => return Some(error(id, -32601, "method not found")),
    };
    Some(json!({"jsonrpc":"2.0","id":id,"result":result}))
}

async fn handle(st: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != "/mcp" {
        return Ok(reply(StatusCode::NOT_FOUND, Bytes::new()));
    }
    let authorized = req
        .headers()
        .get(AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == st.auth.as_slice());
    if !authorized {
        let mut r = reply(StatusCode::UNAUTHORIZED, Bytes::from_static(b"unauthorized"));
        r.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Ok(r);
    }
    match *req.method() {
        Method::POST => {}
        Method::DELETE => return Ok(reply(StatusCode::OK, Bytes::new())),
        Method::GET => {
            let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, Bytes::new());
            r.headers_mut()
                .insert("allow", HeaderValue::from_static("POST, DELETE"));
            return Ok(r);
        }
        _ => return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, Bytes::new())),
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(reply(StatusCode::BAD_REQUEST, Bytes::new())),
    };
    let msg: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return Ok(json_reply(&error(&Value::Null, -32700, "parse error"))),
    };
    let mut session = None;
    let out = match &msg {
        Value::Array(batch) => {
            let rs: Vec<Value> = batch
                .iter()
                .filter_map(|m| handle_one(&st, m, &mut session))
                .collect();
            if rs.is_empty() {
                None
            } else {
                Some(Value::Array(rs))
            }
        }
        m => handle_one(&st, m, &mut session),
    };
    let mut r = match out {
        Some(v) => json_reply(&v),
        None => reply(StatusCode::ACCEPTED, Bytes::new()),
    };
    if let Some(s) = session {
        r.headers_mut()
            .insert("mcp-session-id", HeaderValue::from_str(&s).unwrap());
    }
    Ok(r)
}

fn main() {
    let mut port = 0u16;
    let mut host = "127.0.0.1".to_owned();
    let mut token = None;
    let mut threads = 0usize;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--port" => port = v.parse().expect("--port"),
            "--host" => host = v,
            "--token" => token = Some(v),
            "--threads" => threads = v.parse().expect("--threads"),
            a => {
                eprintln!("unknown argument {a}\nusage: compare-server --token TOKEN [--port 0] [--host 127.0.0.1] [--threads N]");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let token = token.unwrap_or_else(|| {
        eprintln!("--token is required");
        std::process::exit(2)
    });
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if threads > 0 {
        rt.worker_threads(threads);
    }
    let rt = rt.enable_all().build().expect("runtime");
    rt.block_on(async move {
        let addr: SocketAddr = format!("{host}:{port}").parse().expect("address");
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let local = listener.local_addr().expect("local addr");
        println!("http://{local}/mcp");
        use std::io::Write;
        std::io::stdout().flush().ok();
        let st = Arc::new(State {
            auth: format!("Bearer {token}").into_bytes(),
            sessions: AtomicU64::new(1),
        });
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let st = st.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(st.clone(), req));
                let _ = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}
