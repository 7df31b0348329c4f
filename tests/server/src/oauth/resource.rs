//! The protected resource: the checks `/mcp` applies to every request when
//! auth is on (401 challenges, DPoP, step-up 403).

use std::time::Instant;

use axum::body::Body;
use axum::http::{header, request::Parts, HeaderValue, Response, StatusCode};
use serde_json::Value;

use super::dpop::{self, Expect, ProofError};
use super::{header_str, host_url, AuthServer};
use crate::reply::rpc_error;
use crate::rpc::code;

/// What the token of an admitted request allows.
struct Admitted {
    scopes: Vec<String>,
    dpop: bool,
}

/// A refusal: status, WWW-Authenticate, optional DPoP-Nonce, message.
struct Refusal {
    status: StatusCode,
    challenge: String,
    nonce: Option<String>,
    message: &'static str,
}

impl Refusal {
    fn response(&self) -> Response<Body> {
        let mut resp = rpc_error(self.status, code::INVALID_REQUEST, self.message);
        if let Ok(v) = HeaderValue::from_str(&self.challenge) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        if let Some(nonce) = self
            .nonce
            .as_deref()
            .and_then(|n| HeaderValue::from_str(n).ok())
        {
            resp.headers_mut().insert("dpop-nonce", nonce);
        }
        resp
    }
}

/// Checks a request to `/mcp` (`msg` is its JSON body, if any): None to
/// admit it, else the refusal to send.
pub(crate) fn refusal(
    auth: &AuthServer,
    parts: &Parts,
    msg: Option<&Value>,
) -> Option<Response<Body>> {
    check(auth, parts, msg).err().map(|r| r.response())
}

fn check(auth: &AuthServer, parts: &Parts, msg: Option<&Value>) -> Result<(), Refusal> {
    let admitted = admit(auth, parts)?;
    let Some(msg) = msg else {
        return Ok(());
    };
    let calls: Vec<&Value> = match msg {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    for call in calls {
        if call.get("method").and_then(Value::as_str) != Some("tools/call") {
            continue;
        }
        let Some(tool) = call
            .get("params")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        for (name, scope) in &auth.opts.step_up {
            if name == tool && !admitted.scopes.iter().any(|s| s == scope) {
                let challenge = challenge(
                    auth,
                    admitted.dpop,
                    &[
                        ("error", "insufficient_scope"),
                        ("scope", scope),
                        ("error_description", "this tool needs another scope"),
                    ],
                );
                return Err(Refusal {
                    status: StatusCode::FORBIDDEN,
                    challenge,
                    nonce: None,
                    message: "Forbidden: insufficient_scope",
                });
            }
        }
    }
    Ok(())
}

/// A `WWW-Authenticate` value: the scheme, `params`, then
/// `resource_metadata` (unless legacy) and, for DPoP, `algs`.
fn challenge(auth: &AuthServer, dpop: bool, params: &[(&str, &str)]) -> String {
    let mut out = String::from(if dpop { "DPoP" } else { "Bearer" });
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if !auth.legacy {
        all.push(("resource_metadata", &auth.prm_url));
    }
    if dpop {
        all.push(("algs", "ES256"));
    }
    for (i, (n, v)) in all.iter().enumerate() {
        out.push_str(if i == 0 { " " } else { ", " });
        out.push_str(&format!("{n}=\"{v}\""));
    }
    out
}

fn unauthorized(auth: &AuthServer, dpop: bool, error: &str, description: &str) -> Refusal {
    Refusal {
        status: StatusCode::UNAUTHORIZED,
        challenge: challenge(
            auth,
            dpop,
            &[("error", error), ("error_description", description)],
        ),
        nonce: None,
        message: "Unauthorized",
    }
}

/// Authenticates the request's access token.
fn admit(auth: &AuthServer, parts: &Parts) -> Result<Admitted, Refusal> {
    let required = auth.opts.dpop.required;
    let presented = header_str(&parts.headers, "authorization").and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        let token = token.trim();
        if token.is_empty() {
            return None;
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            Some((false, token))
        } else if scheme.eq_ignore_ascii_case("dpop") {
            Some((true, token))
        } else {
            None
        }
    });
    let Some((as_dpop, token)) = presented else {
        let mut params: Vec<(&str, &str)> = Vec::new();
        if !auth.legacy {
            if let Some(scope) = &auth.opts.challenge_scope {
                params.push(("scope", scope));
            }
        }
        return Err(Refusal {
            status: StatusCode::UNAUTHORIZED,
            challenge: challenge(auth, required, &params),
            nonce: None,
            message: "Unauthorized: an access token is required",
        });
    };

    let (scopes, jkt) = {
        let store = auth.store();
        let Some(t) = store.access.get(token) else {
            return Err(unauthorized(
                auth,
                required,
                "invalid_token",
                "unknown access token",
            ));
        };
        if t.revoked || !store.grant_live(t.grant) {
            return Err(unauthorized(
                auth,
                required,
                "invalid_token",
                "access token revoked",
            ));
        }
        if Instant::now() >= t.expires {
            return Err(unauthorized(
                auth,
                required,
                "invalid_token",
                "access token expired",
            ));
        }
        if !auth.resource_matches(&t.resource) {
            return Err(unauthorized(
                auth,
                required,
                "invalid_token",
                "access token for another resource",
            ));
        }
        (t.scopes.clone(), t.jkt.clone())
    };

    let Some(jkt) = jkt else {
        if as_dpop {
            return Err(unauthorized(
                auth,
                true,
                "invalid_token",
                "not a DPoP-bound token",
            ));
        }
        if required {
            return Err(unauthorized(
                auth,
                true,
                "invalid_token",
                "a DPoP-bound token is required",
            ));
        }
        return Ok(Admitted {
            scopes,
            dpop: false,
        });
    };
    if !as_dpop {
        return Err(unauthorized(
            auth,
            true,
            "invalid_token",
            "DPoP-bound token presented as Bearer",
        ));
    }
    let jwt = match dpop::header(&parts.headers) {
        Ok(Some(jwt)) => jwt,
        Ok(None) => {
            return Err(unauthorized(
                auth,
                true,
                "invalid_dpop_proof",
                "missing DPoP proof",
            ))
        }
        Err(_) => {
            return Err(unauthorized(
                auth,
                true,
                "invalid_dpop_proof",
                "bad DPoP header",
            ))
        }
    };
    let mut htus = vec![format!("{}{}", auth.base, parts.uri.path())];
    htus.extend(host_url(parts));
    let expect = Expect {
        htm: parts.method.as_str(),
        htus: &htus,
        access_token: Some(token),
        nonce: auth.opts.dpop.nonce.then_some(auth.rs_nonce.as_str()),
    };
    match dpop::check(auth, jwt, &expect) {
        Ok(proof) if proof.jkt == jkt => Ok(Admitted { scopes, dpop: true }),
        Ok(_) => Err(unauthorized(
            auth,
            true,
            "invalid_dpop_proof",
            "proof key does not match the token",
        )),
        Err(ProofError::Nonce) => Err(Refusal {
            status: StatusCode::UNAUTHORIZED,
            challenge: challenge(
                auth,
                true,
                &[
                    ("error", "use_dpop_nonce"),
                    ("error_description", "a DPoP nonce is required"),
                ],
            ),
            nonce: Some(auth.rs_nonce.clone()),
            message: "Unauthorized: use_dpop_nonce",
        }),
        Err(ProofError::Invalid(why)) => Err(unauthorized(auth, true, "invalid_dpop_proof", &why)),
    }
}
