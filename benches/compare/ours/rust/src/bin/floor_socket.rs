//! Floor 2 (the syscall floor): one blocking thread, one TCP connection per in-flight slot,
//! pre-built HTTP/1.1 requests written with one write(2) each and replies read by
//! Content-Length. With K in flight, the K connections each carry one request at a time (no
//! pipelining) and are served round-robin: read connection i's reply, send its next request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use compare_ours::{args, finish, reply_ok, rusage, CALL_BODY, INITIALIZED_BODY, INIT_BODY};

struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
    /// bytes of `buf` holding data not yet consumed
    len: usize,
}

impl Conn {
    fn new(host: &str) -> Conn {
        let s = TcpStream::connect(host).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn {
            s,
            buf: vec![0; 64 * 1024],
            len: 0,
        }
    }

    /// Reads one response; returns (status, session header, body).
    fn read_response(&mut self) -> std::io::Result<(u16, Option<String>, Vec<u8>)> {
        loop {
            if let Some(end) = find(&self.buf[..self.len], b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end])
                    .unwrap_or("")
                    .to_owned();
                let status: u16 = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let mut clen = 0usize;
                let mut session = None;
                for line in head.split("\r\n").skip(1) {
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            clen = v.trim().parse().unwrap_or(0);
                        } else if k.eq_ignore_ascii_case("mcp-session-id") {
                            session = Some(v.trim().to_owned());
                        }
                    }
                }
                let total = end + 4 + clen;
                while self.len < total {
                    if self.buf.len() < total {
                        self.buf.resize(total, 0);
                    }
                    let n = self.s.read(&mut self.buf[self.len..])?;
                    if n == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    self.len += n;
                }
                let body = self.buf[end + 4..total].to_vec();
                self.buf.copy_within(total..self.len, 0);
                self.len -= total;
                return Ok((status, session, body));
            }
            if self.len == self.buf.len() {
                self.buf.resize(self.len * 2, 0);
            }
            let n = self.s.read(&mut self.buf[self.len..])?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.len += n;
        }
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn request(host: &str, path: &str, token: &str, session: Option<&str>, body: &str) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {token}\r\n\
         accept: application/json, text/event-stream\r\ncontent-type: application/json\r\n"
    );
    if let Some(s) = session {
        r.push_str(&format!(
            "mcp-session-id: {s}\r\nmcp-protocol-version: 2025-06-18\r\n"
        ));
    }
    r.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    r.into_bytes()
}

fn main() {
    let a = args();
    let rest = a.url.strip_prefix("http://").expect("http:// URL");
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut conns: Vec<Conn> = (0..a.inflight).map(|_| Conn::new(host)).collect();
    let c0 = &mut conns[0];
    c0.s.write_all(&request(host, path, &a.token, None, INIT_BODY))
        .expect("write");
    let (status, session, _) = c0.read_response().expect("initialize");
    assert_eq!(status, 200, "initialize");
    let session = session.unwrap_or_default();
    c0.s.write_all(&request(
        host,
        path,
        &a.token,
        Some(&session),
        INITIALIZED_BODY,
    ))
    .expect("write");
    c0.read_response().expect("initialized");
    let call = request(host, path, &a.token, Some(&session), CALL_BODY);
    for i in 0..a.warmup {
        let c = &mut conns[i % a.inflight];
        c.s.write_all(&call).expect("write");
        c.read_response().expect("warm-up");
    }

    let mut lat = Vec::with_capacity(a.calls);
    let mut ok = 0usize;
    let mut started = vec![Instant::now(); a.inflight];
    let (cpu0, _) = rusage();
    let t0 = Instant::now();
    let mut sent = 0usize;
    for (i, c) in conns.iter_mut().enumerate() {
        if sent == a.calls {
            break;
        }
        started[i] = Instant::now();
        c.s.write_all(&call).expect("write");
        sent += 1;
    }
    let mut done = 0usize;
    let mut i = 0usize;
    while done < sent {
        let c = &mut conns[i];
        // a connection has a request outstanding iff fewer than `sent` replies read so far from
        // it: with round-robin in order, connection i has one outstanding while done < sent.
        match c.read_response() {
            Ok((200, _, body)) if reply_ok(&body) => ok += 1,
            Ok((s, _, _)) => eprintln!("bad reply: status {s}"),
            Err(e) => {
                eprintln!("read: {e}");
                std::process::exit(1);
            }
        }
        lat.push(started[i].elapsed().as_micros() as u64);
        done += 1;
        if sent < a.calls {
            started[i] = Instant::now();
            c.s.write_all(&call).expect("write");
            sent += 1;
        }
        i = (i + 1) % conns.len();
    }
    let wall = t0.elapsed();
    let (cpu1, _) = rusage();
    drop(conns);
    finish(
        "floor: blocking socket",
        "std",
        a.calls,
        ok,
        wall,
        cpu1 - cpu0,
        lat,
    );
}
