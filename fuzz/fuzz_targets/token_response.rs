//! Token endpoint replies (src/oauth/token.rs) and device authorization replies
//! (src/oauth/device.rs), as the grants read them.
//!
//! Structure: byte 0 picks the reply's kind and status; the rest is the body. A token set
//! that is accepted must be usable (a token, a known type, a bounded expiry), and its `Debug`
//! must not depend on its secrets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_client::fuzzing::{device_response, token_response};
use mcp_client::oauth::token::MAX_EXPIRES_IN;
use mcp_client::Secret;

const STATUSES: [u16; 7] = [200, 201, 400, 401, 403, 500, 503];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    if sel & 0x80 != 0 {
        let _ = device_response(body);
        return;
    }
    let status = STATUSES[usize::from(sel) % STATUSES.len()];
    let requested = vec!["files:read".to_owned(), "files:write".to_owned()];
    match token_response(status, body, &requested) {
        Ok(t) => {
            assert!((200..300).contains(&status));
            assert!(!t.access_token.expose().is_empty());
            assert!(["bearer", "dpop", "n_a"]
                .iter()
                .any(|k| t.token_type.eq_ignore_ascii_case(k)));
            if let Some(l) = t.lifetime_secs {
                assert!(l <= MAX_EXPIRES_IN);
                assert!(t.expires_at.is_some());
            }
            let _ = (t.due_for_refresh(60), t.is_dpop());
            let mut blank = t.clone();
            blank.access_token = Secret::new("X");
            blank.refresh_token = blank.refresh_token.map(|_| Secret::new("X"));
            assert_eq!(
                format!("{t:?}"),
                format!("{blank:?}"),
                "Debug shows a secret"
            );
        }
        Err(e) => {
            let _ = (e.to_string(), e.oauth_error());
        }
    }
});
