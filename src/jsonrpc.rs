//! JSON-RPC 2.0 framing: encoding what the client sends and classifying what it receives.
//!
//! Payloads stay as raw JSON text ([`RawValue`]) on the way through, so a result the host
//! wants as a string (the C, Go and Python bindings) is never parsed into a tree and printed
//! again.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, RpcError};

/// A message received from the server, classified.
#[derive(Debug)]
pub enum Incoming {
    /// A response to one of our requests.
    Response {
        /// The id as the server sent it.
        id: Value,
        /// The result, or the server's error.
        outcome: Result<Box<RawValue>, RpcError>,
    },
    /// A request from the server (sampling, elicitation, roots, ping).
    Request(ServerRequest),
    /// A notification from the server.
    Notification(Notification),
}

/// A request the server sends to the client.
#[derive(Debug, Clone)]
pub struct ServerRequest {
    /// The id to echo in the response.
    pub id: Value,
    /// The method, e.g. `elicitation/create`.
    pub method: String,
    /// The parameters (`null` when absent).
    pub params: Value,
}

/// A notification from the server.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// The method, e.g. `notifications/message`.
    pub method: String,
    /// The parameters (`null` when absent).
    pub params: Value,
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    jsonrpc: Option<String>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<RpcError>,
}

/// A member that is there, `null` included (an `Option` reads a `null` as absent, which would
/// make `"result": null`, a valid result, look like no result at all).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// Parse and classify one JSON-RPC message.
pub fn parse(bytes: &[u8]) -> Result<Incoming, Error> {
    let wire: Wire = serde_json::from_slice(bytes).map_err(|e| {
        let text = String::from_utf8_lossy(bytes);
        Error::MalformedMessage(format!(
            "{e} in `{}`",
            crate::redact::truncate_utf8(&text, 120)
        ))
    })?;
    if wire.jsonrpc.as_deref() != Some("2.0") {
        return Err(Error::MalformedMessage(
            "missing or wrong `jsonrpc` version (expected \"2.0\")".into(),
        ));
    }
    match (wire.method, wire.id) {
        (Some(method), Some(id)) if !id.is_null() => Ok(Incoming::Request(ServerRequest {
            id,
            method,
            params: wire.params.unwrap_or(Value::Null),
        })),
        (Some(method), _) => Ok(Incoming::Notification(Notification {
            method,
            params: wire.params.unwrap_or(Value::Null),
        })),
        (None, id) => {
            let id = id.unwrap_or(Value::Null);
            let outcome = match (wire.result, wire.error) {
                (Some(r), None) => Ok(r),
                (None, Some(e)) => Err(e),
                // JSON-RPC 1.0 style: `"result": null` beside the error.
                (Some(r), Some(e)) if r.get() == "null" => Err(e),
                (Some(_), Some(_)) => {
                    return Err(Error::MalformedMessage(
                        "response has both `result` and `error`".into(),
                    ))
                }
                (None, None) => {
                    return Err(Error::MalformedMessage(
                        "message has neither `method`, `result` nor `error`".into(),
                    ))
                }
            };
            Ok(Incoming::Response { id, outcome })
        }
    }
}

/// The numeric id of one of our requests, if `id` is one.
pub fn our_id(id: &Value) -> Option<u64> {
    id.as_u64()
}

#[derive(Serialize)]
struct OutRequest<'a, P: Serialize + ?Sized> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Serialize)]
struct OutNotification<'a, P: Serialize + ?Sized> {
    jsonrpc: &'static str,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a P>,
}

#[derive(Serialize)]
struct OutResponse<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a RpcError>,
}

/// Encode a request (`params` is raw JSON or any serialisable value, written once).
pub fn encode_request<P: Serialize + ?Sized>(id: u64, method: &str, params: Option<&P>) -> Vec<u8> {
    to_vec(&OutRequest {
        jsonrpc: "2.0",
        id,
        method,
        params,
    })
}

/// Encode a notification.
pub fn encode_notification<P: Serialize + ?Sized>(method: &str, params: Option<&P>) -> Vec<u8> {
    to_vec(&OutNotification {
        jsonrpc: "2.0",
        method,
        params,
    })
}

/// Encode the response to a server request.
pub fn encode_response(id: &Value, outcome: &Result<Value, RpcError>) -> Vec<u8> {
    let (result, error) = match outcome {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    };
    to_vec(&OutResponse {
        jsonrpc: "2.0",
        id,
        result,
        error,
    })
}

fn to_vec<T: Serialize>(v: &T) -> Vec<u8> {
    // Serialising these structs cannot fail: every field is a string, an integer or
    // already-valid JSON. Fall back to an empty object rather than panic all the same.
    serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())
}

/// Raw JSON for a `Value` (used where params are built as a tree).
pub fn to_raw(v: &Value) -> Box<RawValue> {
    // A `Value` always serialises; `RawValue::from_string` only fails on invalid JSON.
    match serde_json::value::to_raw_value(v) {
        Ok(r) => r,
        Err(_) => raw_null(),
    }
}

/// The raw JSON `null`.
pub fn raw_null() -> Box<RawValue> {
    RawValue::NULL.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_messages() {
        let r = parse(br#"{"jsonrpc":"2.0","id":3,"result":{"a":1}}"#).unwrap();
        match r {
            Incoming::Response { id, outcome } => {
                assert_eq!(our_id(&id), Some(3));
                assert_eq!(outcome.unwrap().get(), r#"{"a":1}"#);
            }
            other => panic!("{other:?}"),
        }
        let r = parse(br#"{"jsonrpc":"2.0","id":"x","method":"roots/list"}"#).unwrap();
        assert!(
            matches!(r, Incoming::Request(ServerRequest { ref method, .. }) if method == "roots/list")
        );
        let r =
            parse(br#"{"jsonrpc":"2.0","method":"notifications/message","params":{}}"#).unwrap();
        assert!(matches!(r, Incoming::Notification(_)));
        let r =
            parse(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#).unwrap();
        assert!(matches!(
            r,
            Incoming::Response {
                outcome: Err(_),
                ..
            }
        ));
    }

    #[test]
    fn rejects_garbage() {
        assert!(matches!(parse(b"hello"), Err(Error::MalformedMessage(_))));
        assert!(matches!(
            parse(br#"{"id":1,"result":{}}"#),
            Err(Error::MalformedMessage(_))
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":1}"#),
            Err(Error::MalformedMessage(_))
        ));
    }

    #[test]
    fn encodes_compactly() {
        let p = RawValue::from_string(r#"{"x":1}"#.into()).unwrap();
        assert_eq!(
            String::from_utf8(encode_request(7, "tools/call", Some(&p))).unwrap(),
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"x":1}}"#
        );
        assert_eq!(
            String::from_utf8(encode_response(&Value::from("a"), &Ok(Value::Null))).unwrap(),
            r#"{"jsonrpc":"2.0","id":"a","result":null}"#
        );
    }
}
