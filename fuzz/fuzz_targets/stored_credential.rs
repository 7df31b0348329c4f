//! The stored credential format (src/oauth/stored.rs `decode`): what the keyring or the
//! credential file hands back, which another program, a disk error or an older version may
//! have written. Anything unreadable is `None`, never a panic.
//!
//! Structure: the key is the `server` the entry names when it names one (so the format and
//! server checks are passed and the whole entry is read), else a fixed key. An entry that is
//! accepted must survive being written and read again unchanged, and summarise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_client::fuzzing::{stored_credential, StoredCredential};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let key = serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| v.get("server")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "http://127.0.0.1:8080/mcp".to_owned());
    if let Some(c) = stored_credential(&key, raw) {
        assert_eq!(c.server, key);
        let _ = c.summary();
        let again = serde_json::to_string(&c).expect("serialises");
        let back: Option<StoredCredential> = stored_credential(&key, &again);
        assert_eq!(
            back.as_ref(),
            Some(&c),
            "the entry changed when stored again"
        );
    }
});
