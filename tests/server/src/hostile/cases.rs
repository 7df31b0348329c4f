//! The misbehaviours, one per case: where in the flow each strikes ([`Stage`]) and what it
//! does there ([`Fault`]). Everything else about a case's server is correct.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, response, HeaderName, HeaderValue, Response};
use serde_json::{json, Value};

use super::bodies::{self, BROTLI_BOMB, GIB};
use super::{raw, rebuilt, Ctx, TRICKLE};

/// Where a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The protected resource metadata.
    Prm,
    /// The authorization server metadata.
    AsMeta,
    /// Dynamic client registration.
    Register,
    /// The authorization endpoint (what the browser, here the headless presenter, gets).
    Authorize,
    /// The token endpoint (every grant).
    Token,
    /// `/mcp`: every request, or those of one JSON-RPC method.
    Mcp(Option<&'static str>),
    /// The 401 and 403 answers of `/mcp` (their `WWW-Authenticate`).
    Challenge,
}

/// Where a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum At {
    Prm,
    AsMeta,
    Register,
    Authorize,
    Token,
    /// `/mcp`, with the JSON-RPC method of the body.
    Mcp(Option<String>),
    Other,
}

impl Stage {
    /// Whether a request at `at` is this stage's (the challenge stage is matched on answers).
    pub(crate) fn matches(&self, at: &At) -> bool {
        match (self, at) {
            (Stage::Prm, At::Prm)
            | (Stage::AsMeta, At::AsMeta)
            | (Stage::Register, At::Register)
            | (Stage::Authorize, At::Authorize)
            | (Stage::Token, At::Token)
            | (Stage::Mcp(None), At::Mcp(_)) => true,
            (Stage::Mcp(Some(m)), At::Mcp(Some(x))) => m == x,
            _ => false,
        }
    }
}

/// What a case does at its stage.
pub(crate) enum Fault {
    // ---- answers in place of the real server
    /// A fixed answer.
    Canned {
        status: u16,
        content_type: &'static str,
        body: &'static str,
    },
    /// A redirect (this status) to the very URL requested.
    RedirectToSelf(u16),
    /// 401 with a fresh challenge, whatever the token.
    Unauthorized,
    /// 403: `insufficient_scope` for this scope, or (None) a plain refusal.
    Forbidden(Option<&'static str>),
    /// 401 whose `WWW-Authenticate` is 1 MiB long.
    MebibyteChallenge,
    /// A JSON body of 1 GiB, chunked or with its `Content-Length`.
    Gigabyte { declared: bool },
    /// A JSON body with `Content-Encoding: gzip`: 6.5 MB that inflate to 1 GiB.
    GzipBomb,
    /// A JSON body with `Content-Encoding: br`: 3 KB that decode to 4 GiB.
    BrotliBomb,
    /// JSON nested 100,000 deep (a JSON-RPC result at `/mcp`, a document elsewhere).
    Deep,
    /// SSE: `data: ` and then bytes for ever, no end of line.
    EndlessSseLine,
    /// SSE: notifications as fast as the client reads them, never the response.
    NotificationFlood,
    /// SSE: a comment every 100 ms, never the response.
    CommentsForever,
    /// No answer at all until the server stops.
    Never,
    /// An error page quoting the request: its `Authorization` header and secret form fields.
    ReflectingPage {
        status: u16,
        content_type: &'static str,
    },
    /// These bytes (invalid UTF-8 and the like).
    Bytes {
        status: u16,
        content_type: &'static [u8],
        body: fn(&Ctx<'_>) -> Vec<u8>,
    },
    /// On the first `tools/call`: an SSE event with an id, then the session ends and the
    /// connection is cut (the client's resumption finds no session).
    ExpireMidStream,
    // ---- just before the request reaches the server
    /// On the first `tools/call`, the session ends just before the request arrives.
    ExpireBefore,
    // ---- changes to the real answer
    /// Edit the JSON document.
    Json(fn(&mut Value, &Ctx<'_>)),
    /// Edit the bytes of the body.
    Splice(fn(Vec<u8>, &Ctx<'_>) -> Vec<u8>),
    /// Replace the `WWW-Authenticate` of a 401 or 403 (given the old one).
    Challenge(fn(&str, &Ctx<'_>) -> Vec<u8>),
    /// Edit the query of the authorization response's `Location`.
    Location(fn(&mut Vec<(String, String)>)),
    /// Replace the `Location` with these bytes (given the old one).
    RawLocation(fn(&str) -> Vec<u8>),
    /// Every authorization response carries the first code ever issued.
    ReplayCode,
    /// The answer, one byte per second.
    Trickle,
    /// The answer as one SSE event, one byte per second.
    TrickleSse,
    /// Half the answer, then the connection is cut.
    Cut,
    /// SSE: a notification, then the connection is cut (no event ids: no resumption).
    CutSse,
    /// The JSON-RPC response with another id (in an SSE event when `sse`).
    WrongId { sse: bool },
    /// Replace a header's value (given the old one).
    Header(&'static str, fn(&[u8]) -> Vec<u8>),
    /// The answer as one SSE event, its bytes edited first.
    AsSse(fn(Vec<u8>, &Ctx<'_>) -> Vec<u8>),
}

/// One case.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) stage: Stage,
    pub(crate) fault: Fault,
}

const fn case(name: &'static str, stage: Stage, fault: Fault) -> Case {
    Case { name, stage, fault }
}

const CALL: Stage = Stage::Mcp(Some("tools/call"));

/// Every case.
pub(crate) static CASES: &[Case] = &[
    // ---- discovery: metadata pointing elsewhere, insecure or unusable
    case("prm_auth_server_plain_http", Stage::Prm, Fault::Json(|v, _| {
        v["authorization_servers"] = json!(["http://as.example.com"]);
    })),
    case("as_endpoint_plain_http", Stage::AsMeta, Fault::Json(|v, _| {
        v["token_endpoint"] = json!("http://as.example.com/token");
    })),
    case("resource_metadata_url_plain_http", Stage::Challenge, Fault::Challenge(|_, _| {
        b"Bearer resource_metadata=\"http://as.example.com/.well-known/oauth-protected-resource\"".to_vec()
    })),
    case("metadata_other_origin", Stage::AsMeta, Fault::Json(|v, c| {
        let other = c.other_origin();
        for (k, e) in [
            ("authorization_endpoint", "/authorize"),
            ("token_endpoint", "/token"),
            ("registration_endpoint", "/register"),
            ("revocation_endpoint", "/revoke"),
        ] {
            v[k] = json!(format!("{other}{e}"));
        }
    })),
    case("issuer_mismatch", Stage::AsMeta, Fault::Json(|v, _| {
        v["issuer"] = json!("https://honest.example");
    })),
    case("issuer_mixup_other_origin", Stage::Prm, Fault::Json(|v, c| {
        v["authorization_servers"] = json!([c.other_origin()]);
    })),
    case("resource_for_another_server", Stage::Prm, Fault::Json(|v, _| {
        v["resource"] = json!("http://127.0.0.1:1/mcp");
    })),
    case("resource_parent_path", Stage::Prm, Fault::Json(|v, c| {
        v["resource"] = json!(format!("{}/hostile", c.base));
    })),
    case("javascript_authorization_endpoint", Stage::AsMeta, Fault::Json(|v, _| {
        v["authorization_endpoint"] = json!("javascript:alert(document.cookie)");
    })),
    case("file_token_endpoint", Stage::AsMeta, Fault::Json(|v, _| {
        v["token_endpoint"] = json!("file:///etc/passwd");
    })),
    case("data_registration_endpoint", Stage::AsMeta, Fault::Json(|v, _| {
        v["registration_endpoint"] = json!("data:application/json,{\"client_id\":\"x\"}");
    })),
    case("javascript_resource_metadata_url", Stage::Challenge, Fault::Challenge(|_, _| {
        b"Bearer resource_metadata=\"javascript:alert(1)\"".to_vec()
    })),
    case("file_authorization_server", Stage::Prm, Fault::Json(|v, _| {
        v["authorization_servers"] = json!(["file:///etc/passwd"]);
    })),
    case("prm_without_authorization_servers", Stage::Prm, Fault::Json(|v, _| {
        if let Some(m) = v.as_object_mut() {
            m.remove("authorization_servers");
        }
    })),
    case("pkce_not_advertised", Stage::AsMeta, Fault::Json(|v, _| {
        if let Some(m) = v.as_object_mut() {
            m.remove("code_challenge_methods_supported");
        }
    })),
    // ---- redirect loops
    case("metadata_redirect_loop", Stage::Prm, Fault::RedirectToSelf(302)),
    case("as_metadata_redirect_loop", Stage::AsMeta, Fault::RedirectToSelf(302)),
    case("mcp_redirect_loop", Stage::Mcp(None), Fault::RedirectToSelf(307)),
    case("authorize_redirect_loop", Stage::Authorize, Fault::RedirectToSelf(302)),
    case("token_redirect_loop", Stage::Token, Fault::RedirectToSelf(307)),
    // ---- refusals without end
    case("endless_401", Stage::Mcp(None), Fault::Unauthorized),
    case("endless_403_insufficient_scope", CALL, Fault::Forbidden(Some("mcp:read"))),
    case("endless_403", CALL, Fault::Forbidden(None)),
    case("endless_invalid_client", Stage::Token, Fault::Canned {
        status: 401,
        content_type: "application/json",
        body: r#"{"error":"invalid_client","error_description":"who are you?"}"#,
    }),
    // ---- WWW-Authenticate
    case("www_authenticate_thousands_of_params", Stage::Challenge, Fault::Challenge(|old, _| {
        let mut out = String::from("Bearer ");
        for i in 0..5000 {
            out.push_str(&format!("p{i}=\"v{i}\", "));
        }
        out.push_str(old.strip_prefix("Bearer ").unwrap_or(old));
        out.into_bytes()
    })),
    case("www_authenticate_one_mebibyte", Stage::Mcp(None), Fault::MebibyteChallenge),
    case("www_authenticate_invalid_utf8", Stage::Challenge, Fault::Challenge(|old, _| {
        inject(old.as_bytes().to_vec(), b"resource_metadata=\"", b"\xff\xfe")
    })),
    // ---- big bodies
    case("gigabyte_body", CALL, Fault::Gigabyte { declared: false }),
    case("gigabyte_body_declared", CALL, Fault::Gigabyte { declared: true }),
    case("gigabyte_token_response", Stage::Token, Fault::Gigabyte { declared: false }),
    case("gigabyte_metadata", Stage::Prm, Fault::Gigabyte { declared: false }),
    case("gzip_bomb", CALL, Fault::GzipBomb),
    case("brotli_bomb", CALL, Fault::BrotliBomb),
    case("gzip_bomb_token_response", Stage::Token, Fault::GzipBomb),
    case("deep_json_result", CALL, Fault::Deep),
    case("deep_json_metadata", Stage::Prm, Fault::Deep),
    case("deep_json_token_response", Stage::Token, Fault::Splice(|body, _| {
        // The real token response with one more member, nested 100,000 deep.
        let Some(end) = body.iter().rposition(|&b| b == b'}') else {
            return body;
        };
        let mut out = body[..end].to_vec();
        out.extend_from_slice(b",\"x_deep\":");
        out.extend_from_slice(&bodies::nested_array());
        out.extend_from_slice(&body[end..]);
        out
    })),
    case("endless_sse_line", CALL, Fault::EndlessSseLine),
    case("notification_flood", CALL, Fault::NotificationFlood),
    case("sse_comments_forever", CALL, Fault::CommentsForever),
    // ---- slow
    case("trickle_mcp_response", CALL, Fault::Trickle),
    case("trickle_sse", CALL, Fault::TrickleSse),
    case("trickle_token_response", Stage::Token, Fault::Trickle),
    case("trickle_metadata", Stage::Prm, Fault::Trickle),
    case("never_answer_token", Stage::Token, Fault::Never),
    case("never_answer_authorize", Stage::Authorize, Fault::Never),
    // ---- token responses
    case("expires_in_negative", Stage::Token, Fault::Json(|v, _| v["expires_in"] = json!(-3600))),
    case("expires_in_zero", Stage::Token, Fault::Json(|v, _| v["expires_in"] = json!(0))),
    case("expires_in_huge", Stage::Token, Fault::Json(|v, _| v["expires_in"] = json!(1e308))),
    case("expires_in_fractional", Stage::Token, Fault::Json(|v, _| v["expires_in"] = json!(0.25))),
    case("expires_in_missing", Stage::Token, Fault::Json(|v, _| {
        if let Some(m) = v.as_object_mut() {
            m.remove("expires_in");
        }
    })),
    case("expires_in_garbage", Stage::Token, Fault::Json(|v, _| v["expires_in"] = json!("soon"))),
    case("token_type_wrong", Stage::Token, Fault::Json(|v, _| v["token_type"] = json!("MAC"))),
    case("token_without_access_token", Stage::Token, Fault::Json(|v, _| {
        if let Some(m) = v.as_object_mut() {
            m.remove("access_token");
        }
    })),
    case("token_empty_access_token", Stage::Token, Fault::Json(|v, _| v["access_token"] = json!(""))),
    case("token_access_token_number", Stage::Token, Fault::Json(|v, _| v["access_token"] = json!(12345))),
    case("token_html_error_page", Stage::Token, Fault::ReflectingPage {
        status: 500,
        content_type: "text/html; charset=utf-8",
    }),
    case("token_html_200", Stage::Token, Fault::Canned {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: "<!doctype html><html><body><h1>Sign in</h1><form>…</form></body></html>",
    }),
    case("token_200_error_body", Stage::Token, Fault::Canned {
        status: 200,
        content_type: "application/json",
        body: r#"{"error":"invalid_grant","error_description":"the code is no good"}"#,
    }),
    // ---- authorization responses
    case("replayed_code", Stage::Authorize, Fault::ReplayCode),
    case("wrong_state", Stage::Authorize, Fault::Location(|q| {
        set(q, "state", "forged-state-0000");
    })),
    case("wrong_iss", Stage::Authorize, Fault::Location(|q| set(q, "iss", "http://evil.example"))),
    case("missing_iss", Stage::Authorize, Fault::Location(|q| q.retain(|(k, _)| k != "iss"))),
    case("authorize_html_page", Stage::Authorize, Fault::Canned {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: "<!doctype html><html><body><h1>Sign in</h1><form method=post>…</form></body></html>",
    }),
    // ---- registration
    case("registration_200_error_body", Stage::Register, Fault::Canned {
        status: 200,
        content_type: "application/json",
        body: r#"{"error":"invalid_client_metadata","error_description":"redirect_uris rejected"}"#,
    }),
    case("registration_html_page", Stage::Register, Fault::Canned {
        status: 201,
        content_type: "text/html",
        body: "<!doctype html><html><body>Registered!</body></html>",
    }),
    // ---- the connection closed mid-response, at every stage
    case("closed_mid_metadata", Stage::Prm, Fault::Cut),
    case("closed_mid_as_metadata", Stage::AsMeta, Fault::Cut),
    case("closed_mid_registration", Stage::Register, Fault::Cut),
    case("closed_mid_authorize", Stage::Authorize, Fault::Cut),
    case("closed_mid_token", Stage::Token, Fault::Cut),
    case("closed_mid_initialize", Stage::Mcp(Some("initialize")), Fault::Cut),
    case("closed_mid_tool_call", CALL, Fault::Cut),
    case("closed_mid_sse", CALL, Fault::CutSse),
    // ---- JSON-RPC and sessions
    case("wrong_jsonrpc_id", CALL, Fault::WrongId { sse: false }),
    case("wrong_jsonrpc_id_sse", CALL, Fault::WrongId { sse: true }),
    case("session_expires_mid_stream", CALL, Fault::ExpireMidStream),
    case("session_expires_between_calls", CALL, Fault::ExpireBefore),
    // ---- invalid UTF-8, field by field
    case("invalid_utf8_metadata", Stage::Prm, Fault::Splice(|b, _| inject(b, b"\"resource\":\"", b"\xff\xfe"))),
    case("invalid_utf8_as_metadata", Stage::AsMeta, Fault::Splice(|b, _| inject(b, b"\"issuer\":\"", b"\xff\xfe"))),
    case("invalid_utf8_registration", Stage::Register, Fault::Splice(|b, _| inject(b, b"\"client_id\":\"", b"\xff\xfe"))),
    case("invalid_utf8_location", Stage::Authorize, Fault::RawLocation(|old| {
        let mut v = old.as_bytes().to_vec();
        v.extend_from_slice(b"&x=\xff\xfe");
        v
    })),
    case("invalid_utf8_code", Stage::Authorize, Fault::RawLocation(|old| {
        old.replacen("code=", "code=%FF%FE", 1).into_bytes()
    })),
    case("invalid_utf8_state", Stage::Authorize, Fault::RawLocation(|old| {
        old.replacen("state=", "state=%FF%FE", 1).into_bytes()
    })),
    case("invalid_utf8_iss", Stage::Authorize, Fault::RawLocation(|old| {
        old.replacen("iss=", "iss=%FF%FE", 1).into_bytes()
    })),
    case("invalid_utf8_token_response", Stage::Token, Fault::Splice(|b, _| inject(b, b"\"access_token\":\"", b"\xff\xfe"))),
    case("invalid_utf8_oauth_error", Stage::Token, Fault::Bytes {
        status: 400,
        content_type: b"application/json",
        body: |_| b"{\"error\":\"invalid_grant\",\"error_description\":\"bad \xff\xfe code\"}".to_vec(),
    }),
    case("invalid_utf8_www_authenticate", Stage::Challenge, Fault::Challenge(|old, _| {
        inject(old.as_bytes().to_vec(), b"resource_metadata=\"", b"\xff\xfe")
    })),
    case("invalid_utf8_session_id", Stage::Mcp(Some("initialize")), Fault::Header("mcp-session-id", |old| {
        let mut v = old.to_vec();
        v.extend_from_slice(b"\xff\xfe");
        v
    })),
    case("invalid_utf8_result", CALL, Fault::Splice(|b, _| inject(b, b"\"text\":\"", b"\xff\xfe"))),
    case("invalid_utf8_sse", CALL, Fault::AsSse(|b, _| inject(b, b"\"text\":\"", b"\xff\xfe"))),
    case("invalid_utf8_content_type", CALL, Fault::Header("content-type", |_| b"application/json\xff".to_vec())),
    case("invalid_utf8_rpc_error", CALL, Fault::Bytes {
        status: 200,
        content_type: b"application/json",
        body: |c| {
            let mut v = format!("{{\"jsonrpc\":\"2.0\",\"id\":{},\"error\":{{\"code\":-32000,\"message\":\"bad ", c.id).into_bytes();
            v.extend_from_slice(b"\xff\xfe\"}}");
            v
        },
    }),
    // ---- secrets sent back
    case("error_page_reflects_credentials", CALL, Fault::ReflectingPage {
        status: 500,
        content_type: "text/plain; charset=utf-8",
    }),
];

/// The case named `name`.
pub(crate) fn find(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name == name)
}

/// Sets (or adds) a query parameter.
fn set(q: &mut Vec<(String, String)>, name: &str, value: &str) {
    q.retain(|(k, _)| k != name);
    q.push((name.to_owned(), value.to_owned()));
}

/// `bytes` with `bad` inserted right after the first `after` (at the start when absent).
fn inject(bytes: Vec<u8>, after: &[u8], bad: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(after.len())
        .position(|w| w == after)
        .map(|i| i + after.len())
        .unwrap_or(0);
    let mut out = Vec::with_capacity(bytes.len() + bad.len());
    out.extend_from_slice(&bytes[..at]);
    out.extend_from_slice(bad);
    out.extend_from_slice(&bytes[at..]);
    out
}

fn with_header(mut r: Response<Body>, name: HeaderName, value: &[u8]) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_bytes(value) {
        r.headers_mut().insert(name, v);
    }
    r
}

fn sse(body: Body) -> Response<Body> {
    let r = raw(200, b"text/event-stream", body);
    with_header(r, header::CACHE_CONTROL, b"no-cache")
}

/// One SSE event carrying `data`.
fn event(data: &[u8]) -> Vec<u8> {
    let mut v = b"data: ".to_vec();
    v.extend_from_slice(data);
    v.extend_from_slice(b"\n\n");
    v
}

/// The JSON before and after a big value: a JSON-RPC result at `/mcp`, else a document.
fn wrapper(c: &Ctx<'_>, mcp: bool) -> (Vec<u8>, Vec<u8>) {
    if mcp {
        (
            format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":{{\"content\":[{{\"type\":\"text\",\"text\":\"",
                c.id
            )
            .into_bytes(),
            b"\"}]}}".to_vec(),
        )
    } else {
        (
            b"{\"token_type\":\"Bearer\",\"padding\":\"".to_vec(),
            b"\"}".to_vec(),
        )
    }
}

/// A 401 with this challenge.
fn challenge_401(value: &[u8]) -> Response<Body> {
    let body = br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Unauthorized"}}"#;
    let r = raw(401, b"application/json", Body::from(&body[..]));
    with_header(r, header::WWW_AUTHENTICATE, value)
}

/// The answer a case gives in place of the real server, if it does at this request.
pub(crate) async fn answer(case: &Case, c: &Ctx<'_>) -> Option<Response<Body>> {
    let mcp = c.parts.uri.path().ends_with("/mcp");
    let counter = c.streamed.clone();
    Some(match &case.fault {
        Fault::Canned {
            status,
            content_type,
            body,
        } => raw(*status, content_type.as_bytes(), Body::from(*body)),
        Fault::RedirectToSelf(status) => {
            let r = raw(*status, b"text/plain", Body::from("moved"));
            with_header(r, header::LOCATION, c.request_url().as_bytes())
        }
        Fault::Unauthorized => {
            let v = format!(
                "Bearer error=\"invalid_token\", error_description=\"try again\", resource_metadata=\"{}\"",
                c.prm_url()
            );
            challenge_401(v.as_bytes())
        }
        Fault::Forbidden(scope) => {
            let body =
                br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Forbidden"}}"#;
            let r = raw(403, b"application/json", Body::from(&body[..]));
            match scope {
                Some(s) => {
                    let v = format!(
                        "Bearer error=\"insufficient_scope\", scope=\"{s}\", resource_metadata=\"{}\"",
                        c.prm_url()
                    );
                    with_header(r, header::WWW_AUTHENTICATE, v.as_bytes())
                }
                None => r,
            }
        }
        Fault::MebibyteChallenge => {
            let mut v = format!(
                "Bearer resource_metadata=\"{}\", error_description=\"",
                c.prm_url()
            )
            .into_bytes();
            v.resize(v.len() + (1 << 20), b'a');
            v.push(b'"');
            challenge_401(&v)
        }
        Fault::Gigabyte { declared } => {
            let (head, tail) = wrapper(c, mcp);
            let total = head.len() as u64 + GIB + tail.len() as u64;
            let r = raw(
                200,
                b"application/json",
                bodies::padded(counter, head, b'x', GIB, tail),
            );
            if *declared {
                with_header(r, header::CONTENT_LENGTH, total.to_string().as_bytes())
            } else {
                r
            }
        }
        Fault::GzipBomb => {
            let r = raw(200, b"application/json", bodies::gzip_bomb(counter));
            with_header(r, header::CONTENT_ENCODING, b"gzip")
        }
        Fault::BrotliBomb => {
            counter.fetch_add(
                BROTLI_BOMB.len() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
            let r = raw(200, b"application/json", Body::from(BROTLI_BOMB));
            with_header(r, header::CONTENT_ENCODING, b"br")
        }
        Fault::Deep => {
            let mut v = if mcp {
                format!(
                    "{{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":{{\"content\":[],\"deep\":",
                    c.id
                )
                .into_bytes()
            } else {
                b"{\"deep\":".to_vec()
            };
            v.extend_from_slice(&bodies::nested_array());
            v.extend_from_slice(if mcp { b"}}" } else { b"}" });
            raw(200, b"application/json", Body::from(v))
        }
        Fault::EndlessSseLine => sse(bodies::endless(
            counter,
            b"data: ".to_vec(),
            Bytes::from(vec![b'x'; 64 * 1024]),
        )),
        Fault::NotificationFlood => {
            let one = event(
                br#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"flood","data":"again"}}"#,
            );
            let mut chunk = Vec::with_capacity(64 * 1024);
            while chunk.len() + one.len() <= 64 * 1024 {
                chunk.extend_from_slice(&one);
            }
            sse(bodies::endless(counter, Vec::new(), Bytes::from(chunk)))
        }
        Fault::CommentsForever => sse(bodies::ticking(
            counter,
            Bytes::from_static(b": still here\n\n"),
            Duration::from_millis(100),
        )),
        Fault::Never => {
            c.stop.cancelled().await;
            raw(503, b"text/plain", Body::from("stopping"))
        }
        Fault::ReflectingPage {
            status,
            content_type,
        } => raw(
            *status,
            content_type.as_bytes(),
            Body::from(reflection(c, content_type.starts_with("text/html"))),
        ),
        Fault::Bytes {
            status,
            content_type,
            body,
        } => raw(*status, content_type, Body::from(body(c))),
        Fault::ExpireMidStream => {
            if c.inner.calls.load(std::sync::atomic::Ordering::Relaxed) != 1 {
                return None;
            }
            let mut first = b"retry: 50\nid: h-1\n".to_vec();
            first.extend_from_slice(&event(
                br#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"mid-stream"}}"#,
            ));
            let expire = expire_later(c);
            sse(bodies::cut_after(
                vec![Bytes::from(first)],
                Duration::from_millis(100),
                Some(expire),
            ))
        }
        _ => return None,
    })
}

/// A closure that ends the inner server's sessions (run when the stream is cut).
fn expire_later(c: &Ctx<'_>) -> Box<dyn FnOnce() + Send> {
    let shared = c.inner.shared.clone();
    Box::new(move || shared.expire_sessions())
}

/// What a case does just before the request reaches the server.
pub(crate) fn before(case: &Case, c: &Ctx<'_>) {
    if let Fault::ExpireBefore = case.fault {
        if c.inner.calls.load(std::sync::atomic::Ordering::Relaxed) == 1 {
            c.inner.expire_sessions();
        }
    }
}

/// A page quoting the request's secrets first (as a debugging proxy might), then the rest.
fn reflection(c: &Ctx<'_>, html: bool) -> String {
    let mut lines = Vec::new();
    if let Some(a) = c
        .parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        lines.push(format!("authorization: {a}"));
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(c.body).into_owned().collect();
    for name in ["code", "code_verifier", "client_secret", "refresh_token"] {
        if let Some((_, v)) = form.iter().find(|(k, _)| k == name) {
            lines.push(format!("{name}={v}"));
        }
    }
    lines.push(format!("{} {}", c.parts.method, c.parts.uri.path()));
    let text = lines.join("\n");
    if html {
        format!("<pre>{text}</pre><h1>Internal Server Error</h1>")
    } else {
        format!("{text}\nupstream error")
    }
}

/// The real answer, changed by the case.
pub(crate) fn rewrite(
    case: &Case,
    c: &Ctx<'_>,
    parts: response::Parts,
    body: Bytes,
) -> Response<Body> {
    let counter = c.streamed.clone();
    match &case.fault {
        Fault::Json(edit) => match serde_json::from_slice::<Value>(&body) {
            Ok(mut v) if v.is_object() => {
                edit(&mut v, c);
                rebuilt(
                    parts,
                    Body::from(serde_json::to_vec(&v).unwrap_or_default()),
                )
            }
            _ => Response::from_parts(parts, Body::from(body)),
        },
        Fault::Splice(edit) => rebuilt(parts, Body::from(edit(body.to_vec(), c))),
        Fault::Challenge(edit) => {
            let mut parts = parts;
            let old = parts
                .headers
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if let Some(old) = old {
                if let Ok(v) = HeaderValue::from_bytes(&edit(&old, c)) {
                    parts.headers.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            Response::from_parts(parts, Body::from(body))
        }
        Fault::Location(edit) => edit_location(parts, body, |loc| {
            let Ok(mut url) = url::Url::parse(loc) else {
                return loc.as_bytes().to_vec();
            };
            let mut q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            edit(&mut q);
            url.query_pairs_mut().clear().extend_pairs(q);
            url.to_string().into_bytes()
        }),
        Fault::RawLocation(edit) => edit_location(parts, body, *edit),
        Fault::ReplayCode => edit_location(parts, body, |loc| {
            let Ok(mut url) = url::Url::parse(loc) else {
                return loc.as_bytes().to_vec();
            };
            let mut q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            let mut first = crate::sync::lock(&c.inner.first_code);
            for (k, v) in q.iter_mut() {
                if k == "code" {
                    match first.as_ref() {
                        Some(f) => *v = f.clone(),
                        None => *first = Some(v.clone()),
                    }
                }
            }
            url.query_pairs_mut().clear().extend_pairs(q);
            url.to_string().into_bytes()
        }),
        Fault::Trickle => rebuilt(parts, bodies::trickle(counter, body, TRICKLE)),
        Fault::TrickleSse => {
            let mut parts = parts;
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            rebuilt(
                parts,
                bodies::trickle(counter, Bytes::from(event(&body)), TRICKLE),
            )
        }
        Fault::Cut => rebuilt(parts, bodies::cut(body)),
        Fault::CutSse => {
            let note = event(
                br#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"about to be cut"}}"#,
            );
            sse(bodies::cut_after(
                vec![Bytes::from(note)],
                Duration::from_millis(100),
                None,
            ))
        }
        Fault::WrongId { sse: as_sse } => {
            let Ok(mut v) = serde_json::from_slice::<Value>(&body) else {
                return Response::from_parts(parts, Body::from(body));
            };
            v["id"] = json!(987_654_321);
            let bytes = serde_json::to_vec(&v).unwrap_or_default();
            if *as_sse {
                sse(Body::from(event(&bytes)))
            } else {
                rebuilt(parts, Body::from(bytes))
            }
        }
        Fault::Header(name, edit) => {
            let mut parts = parts;
            if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
                let old = parts
                    .headers
                    .get(&n)
                    .map(|v| v.as_bytes().to_vec())
                    .unwrap_or_default();
                if let Ok(v) = HeaderValue::from_bytes(&edit(&old)) {
                    parts.headers.insert(n, v);
                }
            }
            Response::from_parts(parts, Body::from(body))
        }
        Fault::AsSse(edit) => sse(Body::from(event(&edit(body.to_vec(), c)))),
        _ => Response::from_parts(parts, Body::from(body)),
    }
}

/// The answer with its `Location` replaced by `edit(old)` (unchanged without one).
fn edit_location(
    mut parts: response::Parts,
    body: Bytes,
    edit: impl FnOnce(&str) -> Vec<u8>,
) -> Response<Body> {
    let old = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(old) = old {
        if let Ok(v) = HeaderValue::from_bytes(&edit(&old)) {
            parts.headers.insert(header::LOCATION, v);
        }
    }
    Response::from_parts(parts, Body::from(body))
}
