//! JSON-RPC decoding (src/jsonrpc.rs): every message body (a JSON reply, an SSE event's data,
//! a stdio line) is classified by `jsonrpc::parse`. A server request's id is echoed in our
//! response, so it must survive encoding and parsing again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_client::fuzzing::{jsonrpc, Incoming};
use mcp_client::jsonrpc::{encode_response, our_id};

fuzz_target!(|data: &[u8]| {
    match jsonrpc(data) {
        Ok(Incoming::Request(r)) => {
            assert!(!r.id.is_null());
            // `"result": null` too (see `jsonrpc_null_result_is_a_response` in
            // tests/fuzz_regressions.rs): a null result is a result.
            let result = if data.len() % 2 == 0 { serde_json::Value::Null } else { serde_json::json!({}) };
            let echoed = encode_response(&r.id, &Ok(result));
            match jsonrpc(&echoed) {
                Ok(Incoming::Response { id, outcome }) => {
                    assert!(outcome.is_ok());
                    // Floats aside (JSON-RPC ids should not be fractional; serde_json does
                    // not promise to round-trip every float exactly).
                    if !r.id.is_f64() {
                        assert_eq!(id, r.id, "the echoed id changed");
                    }
                }
                other => panic!("our response does not parse back: {other:?}"),
            }
        }
        Ok(Incoming::Response { id, outcome }) => {
            let _ = our_id(&id);
            if let Ok(raw) = outcome {
                // Not always a `Value`: serde_json's raw values let a lone surrogate escape
                // (`"\ud800"`) through, which the typed decoders then refuse as an error.
                let _ = serde_json::from_str::<serde_json::Value>(raw.get());
            }
        }
        Ok(Incoming::Notification(_)) | Err(_) => {}
    }
});
