//! The loopback redirect listener's request parsing (src/oauth/presenter.rs, RFC 8252): any
//! local process (or web page) can send it bytes while it waits for the browser.
//!
//! Structure: the input is the request head. Half the time (byte 0 odd) it is wrapped as
//! `GET <input> HTTP/1.1` with the awaited `state` appended, so the fuzzer spends its time on
//! request targets that reach the URL checks. A redirect accepted must be the awaited one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_client::fuzzing::loopback_request;
use url::Url;

const STATE: &str = "st4te-Xy_z";
/// Whether the listener only takes redirects on its own origin. Not yet: a request target
/// such as `//evil.example/callback?state=…` or `x:/callback?state=…` is taken as the
/// redirect (see `loopback_listener_ignores_other_origins` in tests/fuzz_regressions.rs).
/// Set to true with that fix.
const ORIGIN_CHECKED: bool = true;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let redirect_uri = Url::parse("http://127.0.0.1:33333/callback").expect("a URL");
    let head: Vec<u8> = if sel & 1 == 1 {
        let sep = if rest.contains(&b'?') { "&" } else { "?" };
        let mut h = b"GET ".to_vec();
        h.extend_from_slice(rest);
        h.extend_from_slice(format!("{sep}state={STATE} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        h
    } else {
        rest.to_vec()
    };
    let (url, response) = loopback_request(&redirect_uri, &head, STATE);
    assert!(response.starts_with("HTTP/1.1 "));
    if let Some(u) = url {
        assert!(response.starts_with("HTTP/1.1 200 "));
        assert_eq!(u.path(), redirect_uri.path());
        assert!(u.query_pairs().any(|(k, v)| k == "state" && v == STATE));
        if ORIGIN_CHECKED {
            assert_eq!(
                u.origin(),
                redirect_uri.origin(),
                "the listener accepted a redirect for another origin: {u}"
            );
        }
    }
});
