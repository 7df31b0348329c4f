//! Dynamic client registration replies (RFC 7591; src/oauth/registration.rs).
//!
//! Structure: byte 0 picks the status and the auth method the request asked for; the rest is
//! the body. A registration that is accepted has a client id, and its `Debug` must not depend
//! on its secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_client::fuzzing::registration_response;
use mcp_client::Secret;

const STATUSES: [u16; 5] = [201, 200, 400, 401, 500];
const METHODS: [&str; 4] = [
    "none",
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(sel & 0x0f) % STATUSES.len()];
    let method = METHODS[usize::from(sel >> 4) % METHODS.len()];
    let redirect = url::Url::parse("http://127.0.0.1:33333/callback").expect("a URL");
    match registration_response(status, body, method, &redirect) {
        Ok(r) => {
            assert!((200..300).contains(&status));
            assert!(!r.client_id.is_empty());
            assert_eq!(r.redirect_uris, vec![redirect.to_string()]);
            let _ = r.expired();
            let mut blank = r.clone();
            blank.client_secret = blank.client_secret.map(|_| Secret::new("X"));
            assert_eq!(
                format!("{r:?}"),
                format!("{blank:?}"),
                "Debug shows the secret"
            );
        }
        Err(e) => {
            let _ = (e.to_string(), e.oauth_error());
        }
    }
});
