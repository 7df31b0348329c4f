//! The client's network plumbing: TLS with an extra CA file (against a TLS-terminating
//! forwarder in front of the plain test server, with certificates made at test time) and the
//! HTTP proxy taken from the environment (`HTTP_PROXY`, `NO_PROXY`) through a minimal
//! forward proxy. Everything stays on 127.0.0.1.
//!
//! Environment variables are process-wide: every test here holds [`ENV_LOCK`], so the proxy
//! test's changes are never seen by a client another test builds meanwhile.

mod common;

use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use mcp_client::{Client, Error, ErrorKind};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// Serializes the tests of this file (see the module docs).
static ENV_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long one test may run before it is failed (a hang guard; they take well under 1 s).
const TEST_LIMIT: Duration = Duration::from_secs(5);

async fn within_limit<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, f)
        .await
        .expect("the test took too long")
}

/// Aborts a background task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &[u8]) -> Self {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "mcp-client-network-{}-{nanos}-{}-{name}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, contents).expect("write the temp file");
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---- TLS ------------------------------------------------------------------------------------

/// A CA and a server certificate for `localhost` and `127.0.0.1` signed by it.
struct Pki {
    ca_pem: String,
    server_cert: CertificateDer<'static>,
    server_key: PrivateKeyDer<'static>,
    /// The server's key alone, as PEM (a PEM file holding no certificate).
    server_key_pem: String,
}

fn make_pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mcp-client test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("self-sign the CA");

    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &*ca).expect("sign the server cert");

    Pki {
        ca_pem: ca.pem(),
        server_cert: cert.der().clone(),
        server_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        server_key_pem: key.serialize_pem(),
    }
}

/// A TLS-terminating forwarder on 127.0.0.1 in front of a plain TCP port.
struct TlsForwarder {
    port: u16,
    /// TLS handshakes completed.
    handshakes: Arc<AtomicUsize>,
    _task: AbortOnDrop,
}

async fn tls_forwarder(backend_port: u16, pki: &Pki) -> TlsForwarder {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![pki.server_cert.clone()], pki.server_key.clone_key())
        .expect("server certificate");
    // The backend speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let count = handshakes.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(mut backend) = TcpStream::connect(("127.0.0.1", backend_port)).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut backend).await;
            });
        }
    });
    TlsForwarder {
        port,
        handshakes,
        _task: AbortOnDrop(task),
    }
}

/// The plain test server, a TLS forwarder in front of it, and the CA's PEM in a temp file.
struct TlsSetup {
    server: mcp_test_server::TestServer,
    forwarder: TlsForwarder,
    ca_file: TempFile,
    pki: Pki,
}

async fn tls_setup() -> TlsSetup {
    let server = default_server().await;
    let pki = make_pki();
    let forwarder = tls_forwarder(server.port(), &pki).await;
    let ca_file = TempFile::new("ca.pem", pki.ca_pem.as_bytes());
    TlsSetup {
        server,
        forwarder,
        ca_file,
        pki,
    }
}

async fn list_and_echo(client: &Client, text: &str) {
    let tools = client.list_tools().await.expect("list_tools");
    assert!(
        tools.iter().any(|t| t["name"] == "echo"),
        "no echo tool in {tools:?}"
    );
    let r = client
        .call_tool("echo", json!({ "text": text }))
        .await
        .expect("echo");
    assert_eq!(first_text(&r), text);
    assert!(!is_error(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_extra_ca_file_connects() {
    let _env = ENV_LOCK.lock().await;
    within_limit(async {
        let s = tls_setup().await;
        for host in ["localhost", "127.0.0.1"] {
            let url = format!("https://{host}:{}/mcp", s.forwarder.port);
            let before = s.forwarder.handshakes.load(Ordering::SeqCst);
            let client = builder(&url)
                .extra_ca_file(s.ca_file.path())
                .connect()
                .await
                .unwrap_or_else(|e| panic!("connect to {url} trusting the test CA: {e}"));
            list_and_echo(&client, &format!("over TLS to {host}")).await;
            client.close().await.expect("close");
            assert!(
                s.forwarder.handshakes.load(Ordering::SeqCst) > before,
                "no TLS handshake reached the forwarder for {url}"
            );
        }
        // The calls really went through the forwarder to the plain server.
        let calls = s
            .server
            .requests()
            .iter()
            .filter(|r| r.rpc_method() == Some("tools/call"))
            .count();
        assert_eq!(calls, 2, "{:#?}", s.server.requests());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_without_extra_ca_fails_with_a_certificate_error() {
    let _env = ENV_LOCK.lock().await;
    within_limit(async {
        let s = tls_setup().await;
        let url = format!("https://localhost:{}/mcp", s.forwarder.port);
        let err = builder(&url)
            .connect()
            .await
            .expect_err("a server certificate from an unknown CA must be refused");
        match &err {
            Error::Connect { message, .. } => assert!(
                message.to_ascii_lowercase().contains("certificate"),
                "the message should mention the certificate: {message}"
            ),
            other => panic!("expected Error::Connect, got {other:?}"),
        }
        assert_eq!(err.kind(), ErrorKind::Transport);
        assert_eq!(s.forwarder.handshakes.load(Ordering::SeqCst), 0);
        assert!(
            s.server.requests().is_empty(),
            "nothing may reach the server: {:#?}",
            s.server.requests()
        );
    })
    .await;
}

fn expect_invalid_argument(result: mcp_client::Result<Client>, what: &str) -> String {
    match result {
        Err(Error::InvalidArgument(msg)) => msg,
        Err(other) => panic!("{what}: expected Error::InvalidArgument, got {other:?}"),
        Ok(_) => panic!("{what}: expected Error::InvalidArgument, but the client connected"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_ca_file_that_is_missing_is_an_invalid_argument() {
    let _env = ENV_LOCK.lock().await;
    within_limit(async {
        let s = tls_setup().await;
        let missing = std::env::temp_dir().join(format!(
            "mcp-client-network-{}-does-not-exist.pem",
            std::process::id()
        ));
        assert!(!missing.exists());
        let url = format!("https://localhost:{}/mcp", s.forwarder.port);
        let msg = expect_invalid_argument(
            builder(&url).extra_ca_file(&missing).connect().await,
            "a missing CA file",
        );
        assert!(
            msg.contains(&missing.display().to_string()),
            "the message should name the file: {msg}"
        );
        assert_eq!(s.forwarder.handshakes.load(Ordering::SeqCst), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_ca_file_without_a_certificate_is_an_invalid_argument() {
    let _env = ENV_LOCK.lock().await;
    within_limit(async {
        let s = tls_setup().await;
        let url = format!("https://localhost:{}/mcp", s.forwarder.port);
        let not_pem = TempFile::new("not-pem.pem", b"this is not a PEM file\n");
        let key_only = TempFile::new("key-only.pem", s.pki.server_key_pem.as_bytes());
        let mut failures = Vec::new();
        for (file, what) in [
            (&not_pem, "a CA file with no PEM at all"),
            (&key_only, "a CA file holding only a private key"),
        ] {
            let result = builder(&url).extra_ca_file(file.path()).connect().await;
            match result {
                Err(Error::InvalidArgument(msg)) => assert!(
                    msg.contains(&file.path().display().to_string()),
                    "{what}: the message should name the file: {msg}"
                ),
                Err(other) => failures.push(format!(
                    "{what}: expected Error::InvalidArgument, got {other:?}"
                )),
                Ok(c) => {
                    let _ = c.close().await;
                    failures.push(format!(
                        "{what}: expected Error::InvalidArgument, but the client connected"
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    })
    .await;
}

// ---- proxies --------------------------------------------------------------------------------

/// Every variable reqwest (hyper-util's matcher) reads for proxies, in both spellings, and
/// `REQUEST_METHOD` (set, it turns the HTTP proxy variables off).
const PROXY_VARS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// Saves the proxy variables, clears them, and restores them when dropped (even on panic).
struct ProxyEnv(Vec<(&'static str, Option<OsString>)>);

impl ProxyEnv {
    fn clear() -> Self {
        let saved = PROXY_VARS
            .iter()
            .map(|&k| (k, std::env::var_os(k)))
            .collect();
        for k in PROXY_VARS {
            std::env::remove_var(k);
        }
        ProxyEnv(saved)
    }
}

impl Drop for ProxyEnv {
    fn drop(&mut self) {
        for (k, v) in &self.0 {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
}

/// What the proxy saw.
#[derive(Default)]
struct ProxyLog {
    connections: AtomicUsize,
    /// `METHOD target` of each request, and its body.
    requests: Mutex<Vec<(String, String)>>,
}

impl ProxyLog {
    fn requests(&self) -> Vec<(String, String)> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A minimal HTTP/1.1 forward proxy on 127.0.0.1 (plain `http://` targets only).
struct Proxy {
    port: u16,
    log: Arc<ProxyLog>,
    _task: AbortOnDrop,
}

async fn http_proxy() -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let log = Arc::new(ProxyLog::default());
    let l = log.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            l.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(proxy_connection(sock, l.clone()));
        }
    });
    Proxy {
        port,
        log,
        _task: AbortOnDrop(task),
    }
}

/// Reads absolute-form requests one by one (head, then a `Content-Length` body), rewrites each
/// to origin-form and sends it to the target; the target's bytes are copied back as they come.
async fn proxy_connection(client: TcpStream, log: Arc<ProxyLog>) {
    let (mut from_client, to_client) = client.into_split();
    // The client's write half, until the pump from the target takes it.
    let mut to_client = Some(to_client);
    let mut upstream: Option<(String, tokio::net::tcp::OwnedWriteHalf, JoinHandle<()>)> = None;
    let mut buf = Vec::new();
    while let Some((head, body)) = read_request(&mut from_client, &mut buf).await {
        let mut lines = head.split("\r\n");
        let mut parts = lines.next().unwrap_or_default().split(' ');
        let (Some(method), Some(target), Some(version)) =
            (parts.next(), parts.next(), parts.next())
        else {
            break;
        };
        // Only absolute-form `http://` requests; one target per client connection.
        let Some(rest) = target.strip_prefix("http://") else {
            if let Some(w) = to_client.as_mut() {
                let _ = w.write_all(BAD_REQUEST).await;
            }
            break;
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let headers: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
        log.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((
                format!("{method} {target}"),
                String::from_utf8_lossy(&body).into_owned(),
            ));

        if upstream.as_ref().is_some_and(|(a, _, _)| a != authority) {
            break;
        }
        if upstream.is_none() {
            let Some(mut w) = to_client.take() else {
                break;
            };
            let Ok(conn) = TcpStream::connect(authority).await else {
                let _ = w.write_all(BAD_GATEWAY).await;
                break;
            };
            let (mut up_read, up_write) = conn.into_split();
            let pump = tokio::spawn(async move {
                let _ = tokio::io::copy(&mut up_read, &mut w).await;
                let _ = w.shutdown().await;
            });
            upstream = Some((authority.to_owned(), up_write, pump));
        }
        let Some((_, up_write, _)) = upstream.as_mut() else {
            break;
        };
        let mut out = format!("{method} {path} {version}\r\n");
        for h in headers
            .iter()
            .filter(|h| !h.to_ascii_lowercase().starts_with("proxy-"))
        {
            out.push_str(h);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&body);
        if up_write.write_all(&bytes).await.is_err() {
            break;
        }
    }
    if let Some((_, mut up_write, pump)) = upstream {
        let _ = up_write.shutdown().await;
        let _ = pump.await;
    }
}

const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const BAD_GATEWAY: &[u8] =
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// The `tools/call` requests among `log`'s.
fn echo_calls(reqs: &[(String, String)]) -> usize {
    reqs.iter()
        .filter(|(_, body)| body.contains("\"tools/call\"") && body.contains("\"echo\""))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_proxy_from_env_is_used_and_no_proxy_bypasses_it() {
    let _env_lock = ENV_LOCK.lock().await;
    let _env = ProxyEnv::clear();
    within_limit(async {
        let server = default_server().await;
        let proxy = http_proxy().await;
        let proxy_url = format!("http://127.0.0.1:{}", proxy.port);

        // 1. HTTP_PROXY set, no NO_PROXY: every request goes through the proxy.
        std::env::set_var("HTTP_PROXY", &proxy_url);
        let client = connect(&server).await;
        let r = client
            .call_tool("echo", json!({"text": "via the proxy"}))
            .await
            .expect("echo through the proxy");
        assert_eq!(first_text(&r), "via the proxy");
        client.close().await.expect("close");
        let through = proxy.log.requests();
        assert!(
            proxy.log.connections.load(Ordering::SeqCst) >= 1,
            "the proxy saw no connection"
        );
        let expected_target = format!("POST {}", server.url());
        assert!(
            through.iter().any(|(line, _)| *line == expected_target),
            "no `{expected_target}` request reached the proxy: {through:#?}"
        );
        assert_eq!(echo_calls(&through), 1, "{through:#?}");
        // And the server got them, in origin-form.
        assert!(server
            .requests()
            .iter()
            .any(|r| r.rpc_method() == Some("tools/call")));

        // 2. NO_PROXY=127.0.0.1: a new client goes direct.
        std::env::set_var("NO_PROXY", "127.0.0.1");
        let connections = proxy.log.connections.load(Ordering::SeqCst);
        let requests = proxy.log.requests().len();
        server.clear_requests();
        let client = connect(&server).await;
        let r = client
            .call_tool("echo", json!({"text": "direct"}))
            .await
            .expect("echo bypassing the proxy");
        assert_eq!(first_text(&r), "direct");
        client.close().await.expect("close");
        assert_eq!(
            proxy.log.connections.load(Ordering::SeqCst),
            connections,
            "NO_PROXY=127.0.0.1 must bypass the proxy"
        );
        assert_eq!(
            proxy.log.requests().len(),
            requests,
            "new requests reached the proxy: {:#?}",
            &proxy.log.requests()[requests..]
        );
        assert!(server
            .requests()
            .iter()
            .any(|r| r.rpc_method() == Some("tools/call")));
    })
    .await;
}

/// `SSL_CERT_FILE` (read by the platform verifier, as OpenSSL-based tools read it) makes the
/// system trust the test CA without any client configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_cert_file_from_the_environment_is_trusted() {
    let _env = ENV_LOCK.lock().await;
    within_limit(async {
        let s = tls_setup().await;
        let saved = std::env::var_os("SSL_CERT_FILE");
        std::env::set_var("SSL_CERT_FILE", s.ca_file.path());
        let url = format!("https://localhost:{}/mcp", s.forwarder.port);
        let outcome = builder(&url).connect().await;
        match saved {
            Some(v) => std::env::set_var("SSL_CERT_FILE", v),
            None => std::env::remove_var("SSL_CERT_FILE"),
        }
        let client = outcome.unwrap_or_else(|e| panic!("connect trusting SSL_CERT_FILE: {e}"));
        list_and_echo(&client, "trusted through SSL_CERT_FILE").await;
        client.close().await.expect("close");
    })
    .await;
}
