//! The authorization response (src/oauth/authorize.rs `finish`): the URL the browser was
//! redirected to, as a host passes it to `complete_authorization` (or the loopback listener
//! hands it over), checked for the redirect URI, `state`, RFC 9207 `iss` and `error`.
//!
//! Structure: byte 0's bit 0 says whether the server advertised `iss`; bit 1 whether the input
//! is the whole URL or the query of one at the redirect URI, with the awaited `state` first
//! (so the checks after `state` are reached). A code returned must come from a response that
//! passed every check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_client::fuzzing::redirect_url;
use url::Url;

const STATE: &str = "st4te-Xy_z";
const ISSUER: &str = "http://127.0.0.1:8080";

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let redirect_uri = Url::parse("http://127.0.0.1:33333/callback").expect("a URL");
    let iss_supported = sel & 1 == 1;
    let redirect = if sel & 2 == 2 {
        format!("{redirect_uri}?state={STATE}&{text}")
    } else {
        text.into_owned()
    };
    if let Ok(code) = redirect_url(&redirect, &redirect_uri, STATE, ISSUER, iss_supported) {
        assert!(!code.is_empty());
        let u = Url::parse(&redirect).expect("it parsed");
        assert_eq!(u.origin(), redirect_uri.origin());
        assert_eq!(u.path(), redirect_uri.path());
        let last = |name: &str| {
            u.query_pairs()
                .filter(|(k, _)| k == name)
                .last()
                .map(|(_, v)| v.into_owned())
        };
        assert_eq!(last("state").as_deref(), Some(STATE));
        assert_eq!(last("code").as_deref(), Some(code.as_str()));
        assert_eq!(last("error"), None);
        match last("iss") {
            Some(i) => assert_eq!(i, ISSUER),
            None => assert!(!iss_supported),
        }
    }
});
