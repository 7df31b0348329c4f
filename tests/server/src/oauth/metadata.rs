//! Protected resource metadata (RFC 9728) and authorization server metadata
//! (RFC 8414 / OpenID Connect Discovery).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::{auth_off, json_response, method_not_allowed, AuthServer, IssMode, DEVICE_GRANT};
use crate::Shared;

/// Records a metadata request and answers it with `doc` (GET only).
fn answer(shared: &Shared, req: Request, doc: fn(&AuthServer) -> Value) -> Response<Body> {
    let (parts, _) = req.into_parts();
    shared.recorder.record(&parts, None);
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    if parts.method != Method::GET {
        return method_not_allowed();
    }
    json_response(StatusCode::OK, &doc(auth))
}

/// `GET /.well-known/oauth-protected-resource[/mcp]`.
pub(crate) async fn protected_resource(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Response<Body> {
    answer(&shared, req, prm)
}

/// `GET /.well-known/oauth-authorization-server{path}`.
pub(crate) async fn oauth(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    answer(&shared, req, |auth| as_metadata(auth, false))
}

/// `GET /.well-known/openid-configuration{path}` and `{path}/.well-known/openid-configuration`.
pub(crate) async fn openid(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    answer(&shared, req, |auth| as_metadata(auth, true))
}

/// The protected resource metadata document.
fn prm(auth: &AuthServer) -> Value {
    let mut doc = json!({
        "resource": auth.resource,
        "authorization_servers": [crate::sync::lock(&auth.named_issuer).clone().unwrap_or_else(|| auth.issuer.clone())],
        "scopes_supported": auth.opts.scopes_supported,
        "bearer_methods_supported": ["header"],
        "resource_name": "mcp-test-server",
    });
    if auth.dpop {
        doc["dpop_signing_alg_values_supported"] = json!(["ES256"]);
    }
    if auth.opts.dpop.required {
        doc["dpop_bound_access_tokens_required"] = json!(true);
    }
    doc
}

/// The authorization server metadata (OpenID Connect adds its required fields).
fn as_metadata(auth: &AuthServer, oidc: bool) -> Value {
    let o = &auth.opts;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("issuer", json!(auth.issuer));
    put("authorization_endpoint", json!(auth.endpoint("/authorize")));
    put("token_endpoint", json!(auth.endpoint("/token")));
    if o.dcr {
        put("registration_endpoint", json!(auth.endpoint("/register")));
    }
    if o.revocation {
        put("revocation_endpoint", json!(auth.endpoint("/revoke")));
        put(
            "revocation_endpoint_auth_methods_supported",
            json!(o.token_endpoint_auth_methods),
        );
    }
    put(
        "introspection_endpoint",
        json!(auth.endpoint("/introspect")),
    );
    if o.device_flow {
        put(
            "device_authorization_endpoint",
            json!(auth.endpoint("/device_authorization")),
        );
    }
    put("response_types_supported", json!(["code"]));
    put("response_modes_supported", json!(["query"]));
    let mut grants = vec!["authorization_code"];
    if o.issue_refresh_tokens {
        grants.push("refresh_token");
    }
    grants.push("client_credentials");
    if o.device_flow {
        grants.push(DEVICE_GRANT);
    }
    put("grant_types_supported", json!(grants));
    put(
        "token_endpoint_auth_methods_supported",
        json!(o.token_endpoint_auth_methods),
    );
    if o.pkce_advertised {
        put("code_challenge_methods_supported", json!(["S256"]));
    }
    let mut scopes = o.scopes_supported.clone();
    if o.offline_access && !scopes.iter().any(|s| s == "offline_access") {
        scopes.push("offline_access".into());
    }
    put("scopes_supported", json!(scopes));
    if o.iss != IssMode::Silent {
        put(
            "authorization_response_iss_parameter_supported",
            json!(true),
        );
    }
    if o.cimd {
        put("client_id_metadata_document_supported", json!(true));
    }
    if auth.dpop {
        put("dpop_signing_alg_values_supported", json!(["ES256"]));
    }
    if oidc {
        put("subject_types_supported", json!(["public"]));
        put("id_token_signing_alg_values_supported", json!(["ES256"]));
    }
    Value::Object(m)
}
