//! Raw HTTP/1.1 helpers shared by the test server's own tests.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Connects to `addr` and sends one `connection: close` request: `headers`, then `body` (its
/// content type and text) with its `content-length` (0 without a body).
pub async fn send_request<V: AsRef<str>>(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, V)],
    body: Option<(&str, String)>,
) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {}\r\n", v.as_ref()));
    }
    let body = match body {
        Some((ct, b)) => {
            req.push_str(&format!("content-type: {ct}\r\n"));
            b
        }
        None => String::new(),
    };
    req.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).await.expect("write");
    stream
}

/// The value of the header `name` (any case) among `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The body of a complete `transfer-encoding: chunked` payload.
pub fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = std::str::from_utf8(&raw[..eol]).expect("chunk size");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
        if size == 0 {
            return out;
        }
        raw = &raw[eol + 2..];
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}
