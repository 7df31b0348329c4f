//! JSON-RPC messages (error codes, responses, taking a message apart) and the shapes of the
//! MCP results the tools return. The bottom of the server: it knows no session or transport.

use serde_json::{json, Value};

/// JSON-RPC error codes.
pub(crate) mod code {
    /// Invalid JSON.
    pub(crate) const PARSE_ERROR: i64 = -32700;
    /// Not a valid JSON-RPC message.
    pub(crate) const INVALID_REQUEST: i64 = -32600;
    /// Unknown method.
    pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
    /// Bad params.
    pub(crate) const INVALID_PARAMS: i64 = -32602;
    /// MCP: resource not found.
    pub(crate) const RESOURCE_NOT_FOUND: i64 = -32002;
    /// Internal error.
    pub(crate) const INTERNAL_ERROR: i64 = -32603;
    /// MCP: request cancelled (JSON replies to a cancelled call; `tasks/result` of a task
    /// cancelled before it had a result).
    pub(crate) const REQUEST_CANCELLED: i64 = -32800;
}

/// A JSON-RPC error.
#[derive(Clone)]
pub(crate) struct RpcError {
    pub(crate) code: i64,
    pub(crate) message: String,
    pub(crate) data: Option<Value>,
}

impl RpcError {
    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub(crate) fn params(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_PARAMS, message)
    }
}

/// A JSON-RPC success response.
pub(crate) fn ok(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A JSON-RPC error response (`id` None leaves the field out).
pub(crate) fn error(id: Option<&Value>, code: i64, message: &str) -> Value {
    let mut v = json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}});
    if let (Some(id), Some(obj)) = (id, v.as_object_mut()) {
        obj.insert("id".into(), id.clone());
    }
    v
}

/// A JSON-RPC response from a handler's outcome.
pub(crate) fn respond(id: &Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(result) => ok(id, result),
        Err(e) => {
            let mut err = json!({"code": e.code, "message": e.message});
            if let Some(data) = e.data {
                err["data"] = data;
            }
            json!({"jsonrpc": "2.0", "id": id, "error": err})
        }
    }
}

/// One JSON-RPC message, taken apart.
pub(crate) enum Message {
    /// A request.
    Request {
        /// Its id (a string or a number).
        id: Value,
        /// Its method.
        method: String,
        /// Its params, if any.
        params: Option<Value>,
    },
    /// A notification.
    Notification {
        /// Its method.
        method: String,
        /// Its params, if any.
        params: Option<Value>,
    },
    /// A response (result or error) to a server-to-client request.
    Response(Value),
    /// Anything else.
    Invalid,
}

/// Takes one message apart.
pub(crate) fn parse(msg: Value) -> Message {
    let Value::Object(mut obj) = msg else {
        return Message::Invalid;
    };
    let id = obj.remove("id");
    match obj.remove("method") {
        Some(Value::String(method)) => {
            let params = obj.remove("params");
            match id {
                None | Some(Value::Null) => Message::Notification { method, params },
                Some(id) if id.is_string() || id.is_number() => {
                    Message::Request { id, method, params }
                }
                Some(_) => Message::Invalid,
            }
        }
        Some(_) => Message::Invalid,
        None => match id {
            Some(id) if obj.contains_key("result") || obj.contains_key("error") => {
                obj.insert("id".into(), id);
                Message::Response(Value::Object(obj))
            }
            _ => Message::Invalid,
        },
    }
}

/// A tool result with one text block.
pub(crate) fn text(t: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": t.into()}]})
}

/// A tool result that is an error, with one text block.
pub(crate) fn is_error(t: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": t.into()}], "isError": true})
}

/// An object schema with these properties and required members.
pub(crate) fn schema(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required})
}
