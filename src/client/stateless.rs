//! The stateless revision (2026-07-28): per-request `_meta`, the request-metadata headers
//! (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*` from `x-mcp-header`), version retries on
//! `UnsupportedProtocolVersion`, and multi round-trip requests (`input_required` results
//! answered through the host's hooks and retried with `inputResponses`).

use std::collections::HashMap;

use base64::Engine;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{answer_server_request, Client, RequestOptions};
use crate::error::{Error, ErrorKind, Result, RpcError};
use crate::jsonrpc;
use crate::protocol::{self, META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PROTOCOL_VERSION};

/// `UnsupportedProtocolVersionError`.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// `MissingRequiredClientCapabilityError`.
pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;

/// How many `input_required` rounds one request may take.
const MAX_INPUT_ROUNDS: usize = 8;
/// How many times one request is retried with another protocol version.
const MAX_VERSION_RETRIES: usize = 2;

const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");

/// Whether a failed `server/discover` shows a modern server that refused the request (so
/// falling back to `initialize` would be wrong).
pub(crate) fn is_modern_refusal(e: &Error) -> bool {
    match e {
        Error::Rpc(r) => matches!(
            r.code,
            RpcError::HEADER_MISMATCH | MISSING_CLIENT_CAPABILITY | RpcError::INVALID_PARAMS
        ),
        // Unreachable servers and auth failures are not an era question.
        _ => matches!(
            e.kind(),
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Cancelled | ErrorKind::Auth
        ),
    }
}

/// The version to use from a `server/discover` result: the one sent when the server lists it,
/// else the newest stateless version both speak. An error means "not a stateless server".
pub(crate) fn pick_version(result: &Value, sent: &str) -> Result<String> {
    let Some(list) = result.get("supportedVersions").and_then(Value::as_array) else {
        return Err(Error::MalformedMessage(
            "`server/discover` result has no `supportedVersions`".into(),
        ));
    };
    let versions: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
    best_stateless(&versions, sent).ok_or_else(|| Error::UnsupportedProtocolVersion {
        offered: sent.to_owned(),
        supported: versions.join(", "),
    })
}

fn best_stateless(versions: &[&str], preferred: &str) -> Option<String> {
    if versions.contains(&preferred) && protocol::is_supported(preferred) {
        return Some(preferred.to_owned());
    }
    protocol::SUPPORTED_VERSIONS
        .iter()
        .find(|v| protocol::is_stateless(v) && versions.contains(v))
        .map(|v| (*v).to_owned())
}

#[derive(Deserialize)]
struct ResultProbe {
    #[serde(rename = "resultType", default)]
    result_type: Option<String>,
    #[serde(rename = "inputRequests", default)]
    input_requests: Option<Map<String, Value>>,
    #[serde(rename = "requestState", default)]
    request_state: Option<Box<RawValue>>,
}

/// Send one request in the stateless revision.
pub(crate) async fn request(
    client: &Client,
    method: &str,
    base: Map<String, Value>,
    opts: &RequestOptions,
) -> Result<Box<RawValue>> {
    let mut extra: Map<String, Value> = Map::new();
    let mut version_retries = 0;
    let mut header_retry_done = false;
    let mut rounds = 0;
    loop {
        let version = client.protocol_version();
        let mut p = base.clone();
        for (k, v) in &extra {
            p.insert(k.clone(), v.clone());
        }
        add_meta(client, &mut p, &version);
        let headers = request_headers(client, method, &p).await?;
        let params = Value::Object(p);
        let id = client.next_id();
        let body = Bytes::from(jsonrpc::encode_request(id, method, Some(&params)));
        let outcome = client
            .send_encoded(id, method, body, Some(headers), opts)
            .await;
        let raw = match outcome {
            Ok(raw) => raw,
            Err(Error::Rpc(e))
                if e.code == UNSUPPORTED_PROTOCOL_VERSION
                    && version_retries < MAX_VERSION_RETRIES =>
            {
                version_retries += 1;
                let supported: Vec<&str> = e
                    .data
                    .as_ref()
                    .and_then(|d| d.get("supported"))
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                match best_stateless(&supported, &version) {
                    Some(v) => {
                        tracing::debug!(version = %v, "server asked for another protocol version");
                        client.switch_version(&v);
                        continue;
                    }
                    None => {
                        return Err(Error::UnsupportedProtocolVersion {
                            offered: version,
                            supported: supported.join(", "),
                        })
                    }
                }
            }
            Err(Error::Rpc(e))
                if e.code == RpcError::HEADER_MISMATCH
                    && method == "tools/call"
                    && !header_retry_done =>
            {
                // The tool's `x-mcp-header` annotations may have changed: list again, retry once.
                header_retry_done = true;
                client.forget_tools();
                continue;
            }
            Err(e) => return Err(e),
        };
        let probe: ResultProbe = serde_json::from_str(raw.get()).map_err(|e| {
            Error::MalformedMessage(format!("result of `{method}` is not an object: {e}"))
        })?;
        if probe.result_type.as_deref() != Some("input_required") {
            return Ok(raw);
        }
        rounds += 1;
        if rounds > MAX_INPUT_ROUNDS {
            return Err(Error::MalformedMessage(format!(
                "`{method}` still asked for input after {MAX_INPUT_ROUNDS} rounds"
            )));
        }
        let responses =
            answer_input_requests(client, probe.input_requests.unwrap_or_default()).await?;
        extra.clear();
        extra.insert("inputResponses".into(), Value::Object(responses));
        if let Some(state) = probe.request_state {
            // Echo the state exactly as received.
            let v: Value = serde_json::from_str(state.get())
                .map_err(|e| Error::MalformedMessage(format!("requestState: {e}")))?;
            extra.insert("requestState".into(), v);
        }
    }
}

async fn answer_input_requests(
    client: &Client,
    requests: Map<String, Value>,
) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for (key, req) in requests {
        let method = req
            .get("method")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::MalformedMessage(format!("input request `{key}` has no method")))?
            .to_owned();
        let params = req.get("params").cloned().unwrap_or(Value::Null);
        let result =
            answer_server_request(client.handlers(), &method, params, client.capabilities())
                .await
                .map_err(Error::Rpc)?;
        out.insert(key, result);
    }
    Ok(out)
}

/// Put the protocol version, client info and capabilities into `params._meta`, keeping any
/// `_meta` the caller set (a progress token, say).
fn add_meta(client: &Client, params: &mut Map<String, Value>, version: &str) {
    let meta = params
        .entry("_meta")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Value::Object(m) = meta {
        m.insert(META_PROTOCOL_VERSION.into(), Value::from(version));
        m.insert(
            META_CLIENT_INFO.into(),
            serde_json::json!({
                "name": client.config().client_name,
                "version": client.config().client_version,
            }),
        );
        m.insert(
            META_CLIENT_CAPABILITIES.into(),
            client.capabilities().clone(),
        );
    }
}

/// `Mcp-Method`, `Mcp-Name` and the tool's `Mcp-Param-*` headers.
async fn request_headers(
    client: &Client,
    method: &str,
    params: &Map<String, Value>,
) -> Result<HeaderMap> {
    let mut h = HeaderMap::new();
    if !client.is_http() {
        return Ok(h);
    }
    h.insert(
        MCP_METHOD,
        HeaderValue::from_str(method).map_err(|_| {
            Error::InvalidArgument(format!("method `{method}` is not a valid header value"))
        })?,
    );
    let name_field = match method {
        "tools/call" | "prompts/get" => params.get("name"),
        "resources/read" => params.get("uri"),
        _ => None,
    };
    if let Some(Value::String(name)) = name_field {
        h.insert(MCP_NAME, encode_header_value(name)?);
    }
    if method == "tools/call" {
        if let (Some(Value::String(tool)), Some(args)) =
            (params.get("name"), params.get("arguments"))
        {
            let map = client.tool_headers().await?;
            if let Some(th) = map.get(tool) {
                th.apply(args, &mut h)?;
            }
        }
    }
    Ok(h)
}

/// Encode a value for `Mcp-Name` / `Mcp-Param-*`: as-is when header-safe, else the
/// `=?base64?…?=` sentinel form.
pub fn encode_header_value(s: &str) -> Result<HeaderValue> {
    let unsafe_char = s.bytes().any(|b| !(0x20..=0x7e).contains(&b));
    let padded = s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']);
    let looks_encoded = s.starts_with("=?base64?") && s.ends_with("?=");
    let text = if unsafe_char || padded || looks_encoded {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
        )
    } else {
        s.to_owned()
    };
    HeaderValue::from_str(&text)
        .map_err(|_| Error::Internal("an encoded header value is not valid".into()))
}

/// The `x-mcp-header` mappings of one tool.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToolHeaders {
    params: Vec<(Vec<String>, HeaderName)>,
}

impl ToolHeaders {
    fn apply(&self, args: &Value, h: &mut HeaderMap) -> Result<()> {
        for (path, name) in &self.params {
            let mut v = args;
            let mut found = true;
            for step in path {
                match v.get(step) {
                    Some(next) => v = next,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if !found {
                continue;
            }
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    (Some(i), _, _) => i.to_string(),
                    (None, Some(u), _) => u.to_string(),
                    (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.007e15 => {
                        format!("{}", f as i64)
                    }
                    _ => continue,
                },
                _ => continue, // null and non-primitive values are not mirrored
            };
            h.insert(name.clone(), encode_header_value(&text)?);
        }
        Ok(())
    }
}

/// Map tool name → its header mappings, for valid tools.
pub(crate) fn tool_header_map(tools: &[Value]) -> HashMap<String, ToolHeaders> {
    let mut map = HashMap::new();
    for t in tools {
        let Some(name) = t.get("name").and_then(Value::as_str) else {
            continue;
        };
        if let Ok(th) = tool_headers(t.get("inputSchema").unwrap_or(&Value::Null)) {
            map.insert(name.to_owned(), th);
        }
    }
    map
}

/// Drop from a `tools/list` result every tool whose `x-mcp-header` annotations are invalid,
/// with a warning naming the tool and the reason.
pub(crate) fn filter_invalid_tools(page: &mut Value) {
    let Some(Value::Array(tools)) = page.get_mut("tools") else {
        return;
    };
    tools.retain(|t| {
        match tool_headers(t.get("inputSchema").unwrap_or(&Value::Null)) {
            Ok(_) => true,
            Err(why) => {
                let name = t.get("name").and_then(Value::as_str).unwrap_or("?");
                tracing::warn!(tool = name, reason = %why, "ignoring a tool with an invalid x-mcp-header");
                false
            }
        }
    });
}

/// Validate a tool's `x-mcp-header` annotations and collect them.
fn tool_headers(schema: &Value) -> std::result::Result<ToolHeaders, String> {
    let mut out = ToolHeaders::default();
    let mut seen: Vec<String> = Vec::new();
    walk(schema, true, &mut Vec::new(), &mut out, &mut seen)?;
    Ok(out)
}

fn walk(
    node: &Value,
    reachable: bool,
    path: &mut Vec<String>,
    out: &mut ToolHeaders,
    seen: &mut Vec<String>,
) -> std::result::Result<(), String> {
    match node {
        Value::Object(m) => {
            if let Some(h) = m.get("x-mcp-header") {
                if !reachable || path.is_empty() {
                    return Err(
                        "x-mcp-header on a property not reachable through `properties` alone"
                            .into(),
                    );
                }
                let name = h.as_str().ok_or("x-mcp-header is not a string")?;
                if name.is_empty() {
                    return Err("x-mcp-header is empty".into());
                }
                if !name.bytes().all(is_tchar) {
                    return Err(format!("x-mcp-header `{name}` is not an HTTP token"));
                }
                let lower = name.to_ascii_lowercase();
                if seen.contains(&lower) {
                    return Err(format!("x-mcp-header `{name}` is used twice"));
                }
                match m.get("type").and_then(Value::as_str) {
                    Some("string" | "integer" | "boolean") => {}
                    other => {
                        return Err(format!(
                            "x-mcp-header `{name}` is on a property of type {}",
                            other.unwrap_or("(none)")
                        ))
                    }
                }
                seen.push(lower);
                let header = HeaderName::from_bytes(format!("mcp-param-{name}").as_bytes())
                    .map_err(|_| format!("x-mcp-header `{name}` is not a header name"))?;
                out.params.push((path.clone(), header));
            }
            for (k, v) in m {
                match k.as_str() {
                    "properties" => {
                        if let Value::Object(props) = v {
                            for (pname, sub) in props {
                                path.push(pname.clone());
                                walk(sub, reachable, path, out, seen)?;
                                path.pop();
                            }
                        }
                    }
                    // Values, not schemas.
                    "const" | "default" | "enum" | "examples" | "x-mcp-header" => {}
                    _ => {
                        let depth = path.len();
                        walk(v, false, path, out, seen)?;
                        path.truncate(depth);
                    }
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for v in items {
                walk(v, false, path, out, seen)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_values_are_encoded_when_unsafe() {
        let enc = |s: &str| encode_header_value(s).unwrap().to_str().unwrap().to_owned();
        assert_eq!(enc("us-west1"), "us-west1");
        assert_eq!(enc("us west 1"), "us west 1");
        assert_eq!(enc(""), "");
        assert_eq!(enc("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
        assert_eq!(enc(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(enc("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
        assert_eq!(enc("\tindented"), "=?base64?CWluZGVudGVk?=");
        assert_eq!(
            enc("=?base64?literal?="),
            "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
        );
    }

    #[test]
    fn invalid_annotations_drop_the_tool() {
        let ok = json!({"type":"object","properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "nested":{"type":"object","properties":{"n":{"type":"integer","x-mcp-header":"N"}}}}});
        let th = tool_headers(&ok).unwrap();
        assert_eq!(th.params.len(), 2);
        for bad in [
            json!({"properties":{"a":{"type":"string","x-mcp-header":""}}}),
            json!({"properties":{"a":{"type":"number","x-mcp-header":"A"}}}),
            json!({"properties":{"a":{"type":"object","x-mcp-header":"A"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"My Region"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"Région"}}}),
            json!({"properties":{"a":{"type":"string","x-mcp-header":"A"},"b":{"type":"string","x-mcp-header":"a"}}}),
            json!({"properties":{"a":{"type":"array","items":{"type":"string","x-mcp-header":"A"}}}}),
            json!({"anyOf":[{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}]}),
        ] {
            assert!(tool_headers(&bad).is_err(), "{bad}");
        }
        let mut page = json!({"tools":[{"name":"good","inputSchema":ok},
            {"name":"bad","inputSchema":{"properties":{"a":{"type":"number","x-mcp-header":"A"}}}}]});
        filter_invalid_tools(&mut page);
        assert_eq!(page["tools"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn params_are_mirrored_by_path_and_type() {
        let th = tool_headers(&json!({"properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "p":{"type":"integer","x-mcp-header":"Priority"},
            "v":{"type":"boolean","x-mcp-header":"Verbose"},
            "o":{"type":"object","properties":{"deep":{"type":"string","x-mcp-header":"Deep"}}}}}))
        .unwrap();
        let mut h = HeaderMap::new();
        th.apply(
            &json!({"region":"eu","p":42,"v":null,"o":{"deep":"x y"}}),
            &mut h,
        )
        .unwrap();
        assert_eq!(h["mcp-param-region"], "eu");
        assert_eq!(h["mcp-param-priority"], "42");
        assert_eq!(h["mcp-param-deep"], "x y");
        assert!(h.get("mcp-param-verbose").is_none());
    }

    #[test]
    fn version_choice() {
        assert_eq!(
            pick_version(&json!({"supportedVersions":["2026-07-28"]}), "2026-07-28").unwrap(),
            "2026-07-28"
        );
        assert!(pick_version(&json!({}), "2026-07-28").is_err());
        assert!(pick_version(&json!({"supportedVersions":["2025-11-25"]}), "2026-07-28").is_err());
    }
}
