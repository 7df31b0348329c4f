//! The token endpoint (authorization code, refresh token, client
//! credentials, device code), client authentication, and revocation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{request::Parts, HeaderMap, HeaderName, Response, StatusCode};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};

use super::dpop::{self, Expect, ProofError};
use super::store::{AccessToken, Client, RefreshToken, Store};
use super::{
    auth_off, bump, header_str, host_url, json_response, no_store, now_secs, read_form, sha256_b64,
    AuthServer, Form, OAuthError, DEVICE_GRANT,
};
use crate::Shared;

/// Polls this much sooner than the interval are tolerated (network jitter).
const POLL_SLACK: Duration = Duration::from_millis(100);
/// The device polling interval, in seconds.
pub(crate) const DEVICE_INTERVAL: u64 = 1;

/// `POST {issuer}/token`.
pub(crate) async fn token(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, form) = match read_form(&shared, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    let grant_type = form.one("grant_type").ok().flatten().unwrap_or_default();
    bump(&mut auth.store().stats.token_requests, grant_type);
    if grant_type == "refresh_token" && auth.opts.refresh_delay_ms > 0 {
        // Nothing looked up or consumed yet. When the client goes away, hyper notices the
        // closed connection and drops this future here: the refresh token stays unused
        // (tests/server/tests/refresh_delay.rs).
        tokio::time::sleep(Duration::from_millis(auth.opts.refresh_delay_ms)).await;
    }
    let outcome = handle(auth, &parts, &form, grant_type);
    if outcome.as_ref().is_err_and(|e| e.error == "invalid_grant") {
        auth.store().stats.invalid_grants += 1;
    }
    // On disk before the client has it (a rotation, a revocation after a replay).
    super::persist::save(auth);
    match outcome {
        Ok(v) => {
            let mut resp = json_response(StatusCode::OK, &v);
            no_store(&mut resp);
            resp
        }
        Err(e) => e.response(),
    }
}

fn handle(
    auth: &AuthServer,
    parts: &Parts,
    form: &Form,
    grant_type: &str,
) -> Result<Value, OAuthError> {
    form.required("grant_type")?;
    let client = authenticate(auth, &parts.headers, form)?;
    let known = matches!(
        grant_type,
        "authorization_code" | "refresh_token" | "client_credentials"
    ) || (grant_type == DEVICE_GRANT && auth.opts.device_flow);
    if !known {
        return Err(OAuthError::bad(
            "unsupported_grant_type",
            format!("grant_type {grant_type} is not supported"),
        ));
    }
    let jkt = token_proof(auth, parts)?;
    match grant_type {
        "authorization_code" => code_grant(auth, &client, form, jkt),
        "refresh_token" => refresh_grant(auth, &client, form, jkt),
        "client_credentials" => client_credentials(auth, &client, form, jkt),
        _ => device_grant(auth, &client, form, jkt),
    }
}

/// Decodes one `application/x-www-form-urlencoded` value (Basic credentials
/// are form-encoded first, RFC 6749 §2.3.1).
fn form_decode(s: &str) -> String {
    let joined = format!("v={s}");
    url::form_urlencoded::parse(joined.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Authenticates the client of a token, revocation or device request with
/// the method it registered: HTTP Basic, secret in the body, or none.
pub(crate) fn authenticate(
    auth: &AuthServer,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Client, OAuthError> {
    let basic = header_str(headers, "authorization").and_then(|v| {
        let (scheme, rest) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
    });
    let body_id = form.one("client_id")?;
    let body_secret = form.one("client_secret")?;
    let (method, id, secret) = if let Some(b64) = basic {
        if body_secret.is_some() {
            return Err(OAuthError::bad(
                "invalid_request",
                "more than one client authentication method",
            ));
        }
        let decoded = STANDARD
            .decode(b64)
            .or_else(|_| STANDARD_NO_PAD.decode(b64))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials", true))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials", true))?;
        let (id, secret) = (form_decode(id), form_decode(secret));
        if body_id.is_some_and(|b| b != id) {
            return Err(OAuthError::bad(
                "invalid_request",
                "client_id differs from the Basic credentials",
            ));
        }
        if auth.opts.quirks.basic_needs_client_id_in_body && body_id.is_none() {
            return Err(OAuthError::invalid_client(
                "client_id is required in the request body",
                true,
            ));
        }
        ("client_secret_basic", id, Some(secret))
    } else if let Some(secret) = body_secret {
        let id = body_id.ok_or_else(|| OAuthError::invalid_client("missing client_id", false))?;
        ("client_secret_post", id.to_owned(), Some(secret.to_owned()))
    } else {
        let id = body_id.ok_or_else(|| OAuthError::invalid_client("missing client_id", false))?;
        ("none", id.to_owned(), None)
    };
    let basic_used = method == "client_secret_basic";
    let client = auth
        .store()
        .client(&id, auth.opts.cimd)
        .ok_or_else(|| OAuthError::invalid_client("unknown client", basic_used))?;
    if !auth
        .opts
        .token_endpoint_auth_methods
        .iter()
        .any(|m| m == method)
    {
        return Err(OAuthError::invalid_client(
            format!("authentication method {method} is not supported"),
            basic_used,
        ));
    }
    let quirk = &auth.opts.quirks.refused_auth_method;
    if quirk.as_deref() == Some(method) {
        return Err(OAuthError::invalid_client(
            format!("{method} is not accepted here after all"),
            basic_used,
        ));
    }
    if client.method != method && quirk.is_none() {
        return Err(OAuthError::invalid_client(
            format!(
                "client registered for {}, authenticated with {method}",
                client.method
            ),
            basic_used,
        ));
    }
    if method != "none" && client.secret != secret {
        return Err(OAuthError::invalid_client(
            "wrong client secret",
            basic_used,
        ));
    }
    Ok(client)
}

/// Verifies the DPoP proof of a token request: the key thumbprint, or None
/// when DPoP is off or (not required and) no proof was sent.
fn token_proof(auth: &AuthServer, parts: &Parts) -> Result<Option<String>, OAuthError> {
    if !auth.dpop {
        return Ok(None);
    }
    let invalid = |why: String| OAuthError::bad("invalid_dpop_proof", why);
    let jwt = match dpop::header(&parts.headers) {
        Ok(Some(jwt)) => jwt,
        Ok(None) if auth.opts.dpop.required => {
            return Err(invalid("a DPoP proof is required".into()))
        }
        Ok(None) => return Ok(None),
        Err(ProofError::Invalid(why)) => return Err(invalid(why)),
        Err(ProofError::Nonce) => return Err(invalid("bad DPoP header".into())),
    };
    let mut htus = vec![auth.endpoint("/token")];
    htus.extend(host_url(parts));
    let expect = Expect {
        htm: "POST",
        htus: &htus,
        access_token: None,
        nonce: auth.opts.dpop.nonce.then_some(auth.as_nonce.as_str()),
    };
    match dpop::check(auth, jwt, &expect) {
        Ok(proof) => Ok(Some(proof.jkt)),
        Err(ProofError::Nonce) => Err(OAuthError::bad(
            "use_dpop_nonce",
            "the DPoP proof must carry the nonce in the DPoP-Nonce header",
        )
        .header(HeaderName::from_static("dpop-nonce"), auth.as_nonce.clone())),
        Err(ProofError::Invalid(why)) => Err(invalid(why)),
    }
}

/// Issues an access token (and maybe a refresh token) for a grant.
fn mint(
    auth: &AuthServer,
    store: &mut Store,
    grant: u64,
    client_id: &str,
    scopes: Vec<String>,
    jkt: Option<String>,
    refresh: bool,
) -> Value {
    store.prune();
    let ttl = auth.opts.access_token_ttl_secs;
    let access = auth.random_token();
    let token_type = if jkt.is_some() { "DPoP" } else { "Bearer" };
    let scope = scopes.join(" ");
    store.access.insert(
        access.clone(),
        AccessToken {
            grant,
            client_id: client_id.to_owned(),
            scopes,
            resource: auth.resource.clone(),
            expires: Instant::now() + Duration::from_secs(ttl),
            jkt,
            revoked: false,
        },
    );
    let q = &auth.opts.quirks;
    let mut v = json!({
        "access_token": access,
        "token_type": q.token_type_spelling.as_deref().unwrap_or(token_type),
        "expires_in": if q.expires_in_as_string { json!(ttl.to_string()) } else { json!(ttl) },
        "scope": scope,
    });
    if refresh {
        let rt = auth.random_token();
        store.refresh.insert(
            rt.clone(),
            RefreshToken {
                grant,
                active: true,
            },
        );
        v["refresh_token"] = json!(rt);
    }
    v
}

fn invalid_grant(why: impl Into<String>) -> OAuthError {
    OAuthError::bad("invalid_grant", why)
}

fn code_grant(
    auth: &AuthServer,
    client: &Client,
    form: &Form,
    jkt: Option<String>,
) -> Result<Value, OAuthError> {
    let code = form.required("code")?;
    let redirect_uri = form.one("redirect_uri")?;
    let verifier = form.one("code_verifier")?;
    let mut store = auth.store();
    let Some(c) = store.codes.get_mut(code) else {
        return Err(invalid_grant("unknown authorization code"));
    };
    if c.used {
        // A replay: revoke whatever the first exchange issued.
        let grant = c.grant;
        if let Some(g) = grant {
            store.revoke_grant(g);
        }
        store.stats.code_replays_detected += 1;
        return Err(invalid_grant("authorization code already used"));
    }
    // Spent by any exchange attempt, successful or not.
    c.used = true;
    let req = c.req.clone();
    let expired = Instant::now() >= c.expires;
    if req.client_id != client.id {
        return Err(invalid_grant("authorization code issued to another client"));
    }
    if expired {
        return Err(invalid_grant("authorization code expired"));
    }
    if redirect_uri != Some(req.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    let Some(verifier) = verifier else {
        return Err(OAuthError::bad("invalid_request", "missing code_verifier"));
    };
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed || sha256_b64(verifier.as_bytes()) != req.challenge {
        return Err(invalid_grant("PKCE verification failed"));
    }
    // The code's resource (if any) names this resource, so the request's
    // must too; it may be left out only when the code has none.
    auth.check_resources(form, req.resource.is_none())?;
    if let Some(bound) = &req.dpop_jkt {
        if jkt.as_ref() != Some(bound) {
            return Err(OAuthError::bad(
                "invalid_dpop_proof",
                "the proof key differs from the dpop_jkt of the authorization request",
            ));
        }
    }
    let grant_jkt = if client.is_public() {
        jkt.clone()
    } else {
        None
    };
    let grant = store.new_grant(&client.id, &req.scopes, grant_jkt);
    if let Some(c) = store.codes.get_mut(code) {
        c.grant = Some(grant);
    }
    Ok(mint(
        auth,
        &mut store,
        grant,
        &client.id,
        req.scopes,
        jkt,
        auth.opts.issue_refresh_tokens,
    ))
}

fn refresh_grant(
    auth: &AuthServer,
    client: &Client,
    form: &Form,
    jkt: Option<String>,
) -> Result<Value, OAuthError> {
    let presented = form.required("refresh_token")?;
    let mut store = auth.store();
    let Some(rt) = store.refresh.get(presented) else {
        return Err(invalid_grant("unknown refresh token"));
    };
    let (grant_id, active) = (rt.grant, rt.active);
    let Some(grant) = store.grants.get(&grant_id) else {
        return Err(invalid_grant("unknown refresh token"));
    };
    if grant.client_id != client.id {
        return Err(invalid_grant("refresh token issued to another client"));
    }
    if grant.revoked {
        return Err(invalid_grant("refresh token revoked"));
    }
    let (granted, bound) = (grant.scopes.clone(), grant.jkt.clone());
    if !active {
        // A rotated token presented again: someone holds a copy.
        store.revoke_grant(grant_id);
        store.stats.refresh_replays_detected += 1;
        return Err(invalid_grant("refresh token already used; grant revoked"));
    }
    drop(store);
    auth.check_resources(form, true)?;
    let scopes = match form.one("scope")? {
        None => granted,
        Some(s) => {
            let asked = super::split_scopes(s);
            if let Some(bad) = asked.iter().find(|a| !granted.contains(a)) {
                return Err(OAuthError::bad(
                    "invalid_scope",
                    format!("scope {bad} was not granted"),
                ));
            }
            asked
        }
    };
    if let Some(bound) = bound {
        if jkt.as_ref() != Some(&bound) {
            return Err(OAuthError::bad(
                "invalid_dpop_proof",
                "refresh requires a proof with the key the tokens are bound to",
            ));
        }
    }
    let mut store = auth.store();
    if !store.grant_live(grant_id) {
        return Err(invalid_grant("refresh token revoked"));
    }
    let rotate = auth.opts.rotate_refresh_tokens;
    if rotate {
        if let Some(rt) = store.refresh.get_mut(presented) {
            rt.active = false;
        }
    }
    Ok(mint(
        auth, &mut store, grant_id, &client.id, scopes, jkt, rotate,
    ))
}

fn client_credentials(
    auth: &AuthServer,
    client: &Client,
    form: &Form,
    jkt: Option<String>,
) -> Result<Value, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::bad(
            "unauthorized_client",
            "client_credentials needs a confidential client",
        ));
    }
    auth.check_resources(form, true)?;
    let scopes = auth
        .requested_scopes(form.one("scope")?)
        .map_err(|bad| OAuthError::bad("invalid_scope", format!("unknown scope {bad}")))?;
    let mut store = auth.store();
    let grant = store.new_grant(&client.id, &scopes, None);
    Ok(mint(
        auth, &mut store, grant, &client.id, scopes, jkt, false,
    ))
}

fn device_grant(
    auth: &AuthServer,
    client: &Client,
    form: &Form,
    jkt: Option<String>,
) -> Result<Value, OAuthError> {
    let device_code = form.required("device_code")?;
    let mut store = auth.store();
    let now = Instant::now();
    let Some(d) = store.devices.get_mut(device_code) else {
        return Err(invalid_grant("unknown device code"));
    };
    if d.client_id != client.id {
        return Err(invalid_grant("device code issued to another client"));
    }
    if d.done {
        return Err(invalid_grant("device code already used"));
    }
    if now >= d.expires {
        return Err(OAuthError::bad("expired_token", "device code expired"));
    }
    let interval = Duration::from_secs(DEVICE_INTERVAL).saturating_sub(POLL_SLACK);
    let too_soon = d
        .last_poll
        .is_some_and(|last| now.saturating_duration_since(last) < interval);
    d.last_poll = Some(now);
    if too_soon {
        return Err(OAuthError::bad("slow_down", "polling too fast"));
    }
    if !d.approved {
        return Err(OAuthError::bad(
            "authorization_pending",
            "the user has not approved the device yet",
        ));
    }
    d.done = true;
    let scopes = d.scopes.clone();
    let grant_jkt = if client.is_public() {
        jkt.clone()
    } else {
        None
    };
    let grant = store.new_grant(&client.id, &scopes, grant_jkt);
    Ok(mint(
        auth,
        &mut store,
        grant,
        &client.id,
        scopes,
        jkt,
        auth.opts.issue_refresh_tokens,
    ))
}

/// `POST {issuer}/revoke` (RFC 7009): 200 whether or not the token was known.
pub(crate) async fn revoke(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, form) = match read_form(&shared, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    let result = authenticate(auth, &parts.headers, &form).and_then(|client| {
        let token = form.required("token")?;
        let mut store = auth.store();
        store.stats.revocations += 1;
        if let Some(t) = store.access.get_mut(token) {
            if t.client_id == client.id {
                t.revoked = true;
            }
        } else if let Some(rt) = store.refresh.get(token) {
            let grant = rt.grant;
            let mine = store
                .grants
                .get(&grant)
                .is_some_and(|g| g.client_id == client.id);
            if mine {
                store.revoke_grant(grant);
            }
        }
        Ok(())
    });
    super::persist::save(auth);
    match result {
        Ok(()) => {
            let mut resp = crate::http::empty(StatusCode::OK);
            no_store(&mut resp);
            resp
        }
        Err(e) => e.response(),
    }
}

/// `POST {issuer}/introspect` (RFC 7662), for resource servers in other processes (the Go
/// interop servers) that must check this server's opaque access tokens. An access token that
/// is known, unexpired, unrevoked and of a live grant is `active`, with its `scope`,
/// `client_id`, `token_type`, `exp`, `aud` (its resource), `iss` and, when DPoP-bound,
/// `cnf.jkt`; anything else (refresh tokens included) is `{"active": false}`. A test server:
/// the caller need not authenticate.
pub(crate) async fn introspect(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (_parts, form) = match read_form(&shared, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    let token = match form.required("token") {
        Ok(t) => t,
        Err(e) => return e.response(),
    };
    let v = {
        let store = auth.store();
        let now = Instant::now();
        match store.access.get(token) {
            Some(t) if !t.revoked && store.grant_live(t.grant) && now < t.expires => {
                // Rounded up: the token is active now, so `exp` is not in the past.
                let left = t.expires.saturating_duration_since(now);
                let left = left.as_secs() + u64::from(left.subsec_nanos() > 0);
                let mut v = json!({
                    "active": true,
                    "scope": t.scopes.join(" "),
                    "client_id": t.client_id,
                    "token_type": if t.jkt.is_some() { "DPoP" } else { "Bearer" },
                    "exp": now_secs() + left,
                    "aud": t.resource,
                    "iss": auth.issuer,
                });
                if let Some(jkt) = &t.jkt {
                    v["cnf"] = json!({ "jkt": jkt });
                }
                v
            }
            _ => json!({ "active": false }),
        }
    };
    let mut resp = json_response(StatusCode::OK, &v);
    no_store(&mut resp);
    resp
}
