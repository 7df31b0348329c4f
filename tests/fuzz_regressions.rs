//! Regression tests for what the fuzz targets in `fuzz/` found (fuzz/README.md: every crash or
//! broken invariant becomes a test). Each test carries the input that showed the problem.
//!
//! The tests at the top use the public API; the `fuzzing` module at the bottom uses the
//! `mcp_client::fuzzing` entry points and runs with `cargo test --features fuzzing --test
//! fuzz_regressions`.

use std::time::Duration;

use mcp_client::jsonrpc::{encode_response, parse, Incoming};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// fuzz target `jsonrpc`: `{"jsonrpc":"2.0","id":3,"result":null}` was refused ("message has
/// neither `method`, `result` nor `error`"): serde reads a `null` member into `Option` as
/// absent. `null` is a valid result; a JSON-RPC 1.0-style `"result": null` beside an error is
/// that error. The client's own response to a server request with a `null` result did not
/// parse back either.
#[test]
fn jsonrpc_null_result_is_a_response() {
    match parse(br#"{"jsonrpc":"2.0","id":3,"result":null}"#) {
        Ok(Incoming::Response {
            id,
            outcome: Ok(raw),
        }) => {
            assert_eq!(id, serde_json::json!(3));
            assert_eq!(raw.get(), "null");
        }
        other => panic!("a response with a null result: {other:?}"),
    }
    match parse(br#"{"jsonrpc":"2.0","id":4,"result":null,"error":{"code":-32000,"message":"no"}}"#)
    {
        Ok(Incoming::Response {
            outcome: Err(e), ..
        }) => assert_eq!(e.code, -32000),
        other => panic!("a null result beside an error is that error: {other:?}"),
    }
    let ours = encode_response(&serde_json::json!("x"), &Ok(serde_json::Value::Null));
    assert!(
        matches!(parse(&ours), Ok(Incoming::Response { outcome: Ok(_), .. })),
        "{}",
        String::from_utf8_lossy(&ours)
    );
    // What stays refused.
    assert!(parse(br#"{"jsonrpc":"2.0","id":5}"#).is_err());
    assert!(
        parse(br#"{"jsonrpc":"2.0","id":6,"result":{},"error":{"code":1,"message":"m"}}"#).is_err()
    );
}

/// fuzz target `sse` (whole and chunked parses disagreed), crash-b041c6a3…: after a chunk
/// ending in `\r` and a chunk holding only the `\n` of that `\r\n`, the parser kept waiting
/// for the `\n` and ate the next chunk's leading `\n`, a blank line: two events came out as
/// one (`a\nb`), whose JSON then fails, so a response is lost and its request waits for its
/// timeout. Any chunking of a stream must give the same events as the whole stream.
#[test]
fn sse_lone_lf_chunk_after_cr_keeps_the_blank_line() {
    use mcp_client::transport::sse::SseParser;
    let run = |chunks: &[&[u8]]| {
        let mut p = SseParser::new(1 << 20);
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out).expect("parses");
        }
        out.into_iter().map(|e| e.data).collect::<Vec<_>>()
    };
    assert_eq!(run(&[b"data: a\r\n\ndata: b\n\n"]), ["a", "b"]);
    assert_eq!(run(&[b"data: a\r", b"\n", b"\ndata: b\n\n"]), ["a", "b"]);
    assert_eq!(
        run(&[b"data: a\r", b"\n", b"", b"\ndata: b\n\n"]),
        ["a", "b"]
    );
    assert_eq!(run(&[b"data: a\r", b"", b"\n", b"\n"]), ["a"]);
}

/// Send `head` to the listener at `port`; its answer.
async fn send(port: u16, head: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(head.as_bytes()).await.expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out).await;
    out
}

/// fuzz target `loopback_request`: the listener took any request target on its path that
/// carried the awaited `state` as the redirect, whatever its scheme and host
/// (`GET //evil.example/callback?state=…`, `GET x://h/callback?state=…`, absolute-form
/// `GET http://evil.example/callback?state=…`): that URL went on to the authorization response
/// check, which refused it (not the redirect URI sent) and so ended the sign-in, instead of
/// the listener ignoring it and waiting for the browser.
#[tokio::test]
async fn loopback_listener_ignores_other_origins() {
    let listener = mcp_client::oauth::RedirectListener::bind(0)
        .await
        .expect("bind");
    let port = listener.redirect_uri().port().expect("a port");
    let state = "st4te-Xy_z";
    let waiting = tokio::spawn(async move { listener.wait(state, Duration::from_secs(20)).await });
    for target in [
        format!("//evil.example/callback?state={state}&code=bad"),
        format!("x://127.0.0.1:{port}/callback?state={state}&code=bad"),
        format!("http://evil.example/callback?state={state}&code=bad"),
        format!("http://127.0.0.1:1/callback?state={state}&code=bad"),
    ] {
        let answer = send(port, &format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n")).await;
        assert!(
            !answer.starts_with("HTTP/1.1 200"),
            "`{target}` was taken as the redirect: {answer}"
        );
    }
    let answer = send(
        port,
        &format!(
            "GET /callback?code=good&state={state} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let url = waiting.await.expect("join").expect("the redirect");
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    assert_eq!(url.port(), Some(port));
    assert!(
        url.query_pairs().any(|(k, v)| k == "code" && v == "good"),
        "{url}"
    );
}

/// The same findings through the parsers themselves, and the fuzzing entry points kept
/// compiling and working beside the targets.
#[cfg(feature = "fuzzing")]
mod fuzzing {
    use mcp_client::fuzzing as f;
    use url::Url;

    fn redirect_uri() -> Url {
        Url::parse("http://127.0.0.1:33333/callback").expect("a URL")
    }

    /// fuzz target `loopback_request`, crash-96d73f43…: `t4tehttp:` parsed as a scheme.
    #[test]
    fn loopback_request_on_another_origin_is_not_the_redirect() {
        for head in [
            &b"GET t4tehttp://12uuuuuuuuuu/callback?code=l6KVPq41n&state=st4te-Xy_z HTTP/1.1\r\n\r\n"[..],
            b"GET //evil.example/callback?state=st4te-Xy_z HTTP/1.1\r\n\r\n",
        ] {
            let (url, response) = f::loopback_request(&redirect_uri(), head, "st4te-Xy_z");
            assert_eq!(url, None, "{}", String::from_utf8_lossy(head));
            assert!(!response.starts_with("HTTP/1.1 200"), "{response}");
        }
        let (url, response) = f::loopback_request(
            &redirect_uri(),
            b"GET /callback?code=c&state=st4te-Xy_z HTTP/1.1\r\n\r\n",
            "st4te-Xy_z",
        );
        assert!(url.is_some() && response.starts_with("HTTP/1.1 200"));
    }

    /// fuzz target `jsonrpc`: serde_json's raw values let a lone surrogate escape through; the
    /// result is handed on as raw JSON, and reading it as a `Value` is an error, not a panic.
    #[test]
    fn jsonrpc_lone_surrogate_in_a_result_is_kept_raw() {
        match f::jsonrpc(br#"{"jsonrpc":"2.0","id":1,"result":{"t":"\ud83d"}}"#) {
            Ok(f::Incoming::Response {
                outcome: Ok(raw), ..
            }) => {
                assert!(serde_json::from_str::<serde_json::Value>(raw.get()).is_err());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn entry_points_read_real_replies() {
        let server = Url::parse("http://127.0.0.1:8080/mcp").expect("a URL");
        let at = Url::parse("http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp")
            .expect("a URL");
        let prm = f::resource_metadata(
            br#"{"resource":"http://127.0.0.1:8080/mcp","authorization_servers":["http://127.0.0.1:8080"]}"#,
            &server,
            &at,
        )
        .expect("resource metadata");
        assert_eq!(prm.authorization_servers, vec!["http://127.0.0.1:8080"]);
        assert!(f::resource_metadata(
            br#"{"resource":"http://127.0.0.1:8080/other"}"#,
            &server,
            &at
        )
        .is_err());
        let asm = f::auth_server_metadata(
            br#"{"issuer":"http://127.0.0.1:8080","token_endpoint":"http://evil.example/token"}"#,
            "http://127.0.0.1:8080",
            &at,
        );
        assert!(asm.is_err(), "an insecure endpoint is refused");
        let t = f::token_response(
            200,
            br#"{"access_token":"a","token_type":"Bearer","expires_in":"3600","scope":"x y"}"#,
            &[],
        )
        .expect("a token set");
        assert_eq!(t.scopes, vec!["x", "y"]);
        let e = f::token_response(400, br#"{"error":"invalid_grant"}"#, &[]).expect_err("an error");
        assert_eq!(e.oauth_error(), Some("invalid_grant"));
        assert!(f::device_response(
            br#"{"device_code":"d","user_code":"\u001b[2J","verification_uri":"https://as.example/device"}"#
        )
        .is_err());
        let reg = f::registration_response(
            201,
            br#"{"client_id":"c","client_secret":"s"}"#,
            "none",
            &redirect_uri(),
        )
        .expect("a registration");
        assert_eq!(reg.auth_method, "client_secret_basic");
        let code = f::redirect_url(
            "http://127.0.0.1:33333/callback?code=c&state=s&iss=https%3A%2F%2Fas",
            &redirect_uri(),
            "s",
            "https://as",
            true,
        )
        .expect("a code");
        assert_eq!(code, "c");
        let server = Url::parse("http://127.0.0.1:8080/sse").expect("a URL");
        assert!(f::legacy_endpoint(&server, "//evil.example/messages").is_err());
        let c = f::www_authenticate(r#"Bearer realm="a, b", scope=x"#);
        assert_eq!(c[0].param("scope"), Some("x"));
        assert_eq!(f::stored_credential("k", "{}"), None);
        let mut p = f::SseParser::new(1024);
        let mut out = Vec::new();
        p.push(b"data: x\r\n\r\n", &mut out).expect("parses");
        assert_eq!(out.len(), 1);
    }
}
