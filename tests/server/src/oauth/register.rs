//! Dynamic client registration (RFC 7591).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::store::{is_loopback_http, Client};
use super::{
    auth_off, body, json_response, method_not_allowed, no_store, now_secs, AuthServer, OAuthError,
};
use crate::Shared;

/// `POST {issuer}/register`: JSON client metadata in, credentials out (201).
pub(crate) async fn register(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, bytes) = match body(&shared, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let metadata = serde_json::from_slice::<Value>(&bytes).ok();
    shared.recorder.record(&parts, metadata.as_ref());
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    if parts.method != Method::POST {
        return method_not_allowed();
    }
    match metadata {
        Some(Value::Object(m)) => match register_client(auth, m) {
            Ok(v) => {
                super::persist::save(auth);
                let mut resp = json_response(StatusCode::CREATED, &v);
                no_store(&mut resp);
                resp
            }
            Err(e) => e.response(),
        },
        _ => {
            OAuthError::bad("invalid_client_metadata", "the body must be a JSON object").response()
        }
    }
}

fn strings(m: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, OAuthError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| {
                OAuthError::bad(
                    "invalid_client_metadata",
                    format!("{name} must be an array of strings"),
                )
            }),
        Some(_) => Err(OAuthError::bad(
            "invalid_client_metadata",
            format!("{name} must be an array of strings"),
        )),
    }
}

/// A redirect URI a client may register: loopback http, or https; no fragment.
fn acceptable_redirect(uri: &str) -> bool {
    if is_loopback_http(uri) {
        return true;
    }
    url::Url::parse(uri)
        .map(|u| u.scheme() == "https" && u.host().is_some() && u.fragment().is_none())
        .unwrap_or(false)
}

fn register_client(auth: &AuthServer, mut m: Map<String, Value>) -> Result<Value, OAuthError> {
    let redirect_uris = strings(&m, "redirect_uris")?.unwrap_or_default();
    if let Some(bad) = redirect_uris.iter().find(|u| !acceptable_redirect(u)) {
        return Err(OAuthError::bad(
            "invalid_redirect_uri",
            format!("{bad} is neither a loopback http nor an https URI"),
        ));
    }
    let grant_types =
        strings(&m, "grant_types")?.unwrap_or_else(|| vec!["authorization_code".into()]);
    if grant_types.iter().any(|g| g == "authorization_code") && redirect_uris.is_empty() {
        return Err(OAuthError::bad(
            "invalid_redirect_uri",
            "redirect_uris is required for the authorization_code grant",
        ));
    }
    let response_types = strings(&m, "response_types")?.unwrap_or_else(|| vec!["code".into()]);
    let method = match m.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => "client_secret_basic".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(OAuthError::bad(
                "invalid_client_metadata",
                "token_endpoint_auth_method must be a string",
            ))
        }
    };
    let known = matches!(
        method.as_str(),
        "none" | "client_secret_basic" | "client_secret_post"
    );
    if !known || !auth.opts.token_endpoint_auth_methods.contains(&method) {
        return Err(OAuthError::bad(
            "invalid_client_metadata",
            format!("token_endpoint_auth_method {method} is not supported"),
        ));
    }
    let client_id = auth.random_token();
    let secret = (method != "none").then(|| auth.random_token());
    m.insert("client_id".into(), json!(client_id));
    m.insert("client_id_issued_at".into(), json!(now_secs()));
    if let Some(secret) = &secret {
        m.insert("client_secret".into(), json!(secret));
        m.insert("client_secret_expires_at".into(), json!(0));
    }
    m.insert("redirect_uris".into(), json!(redirect_uris));
    m.insert("grant_types".into(), json!(grant_types));
    m.insert("response_types".into(), json!(response_types));
    m.insert("token_endpoint_auth_method".into(), json!(method));
    let mut store = auth.store();
    if let Some(Value::String(name)) = m.get("client_name") {
        store.client_names.insert(client_id.clone(), name.clone());
    }
    store.clients.insert(
        client_id.clone(),
        Client {
            id: client_id,
            secret,
            method,
            redirect_uris,
            any_loopback: false,
        },
    );
    store.stats.registrations += 1;
    Ok(Value::Object(m))
}
