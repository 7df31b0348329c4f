//! The authorization endpoint: validation, auto-approval or a consent page (behind a login
//! form when [`super::AuthOptions::login`] is set, see [`super::login`]), and the redirect back
//! to the client (with RFC 9207 `iss` per [`IssMode`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, Response, StatusCode};

use super::store::{AuthzRequest, Code};
use super::{
    auth_off, escape, html, login, method_not_allowed, no_store, read_form, AuthServer, Form,
    IssMode,
};
use crate::Shared;

/// How long an authorization code lives.
const CODE_TTL: Duration = Duration::from_secs(60);
/// Why a request was refused.
enum Refused {
    /// The client or redirect URI cannot be trusted: a 400 page, no redirect.
    Page(String),
    /// An error sent back to the redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

/// `GET {issuer}/authorize`.
pub(crate) async fn authorize(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, _) = req.into_parts();
    shared.recorder.record(&parts, None);
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    auth.store().stats.authorize_requests += 1;
    if parts.method != Method::GET {
        return method_not_allowed();
    }
    let query = Form::parse(parts.uri.query().unwrap_or_default().as_bytes());
    let login = auth.opts.login.is_some();
    match validate(auth, &query) {
        Ok(req) if login && !login::signed_in(auth, &parts.headers) => login::login_page(auth, req),
        Ok(req) if auth.opts.auto_approve && !login => approve(auth, req),
        Ok(req) => login::consent_page(auth, req),
        Err(Refused::Page(msg)) => html(
            StatusCode::BAD_REQUEST,
            "Authorization request refused",
            &format!("<p>{}</p>", escape(&msg)),
        ),
        Err(Refused::Redirect {
            redirect_uri,
            state,
            error,
            description,
        }) => redirect(
            auth,
            &redirect_uri,
            &[("error", error), ("error_description", &description)],
            state.as_deref(),
        ),
    }
}

/// Validates an authorization request.
fn validate(auth: &AuthServer, q: &Form) -> Result<AuthzRequest, Refused> {
    let page = |e: super::OAuthError| Refused::Page(e.description().to_owned());
    let client_id = q
        .one("client_id")
        .map_err(page)?
        .ok_or_else(|| Refused::Page("missing client_id".into()))?;
    let client = auth
        .store()
        .client(client_id, auth.opts.cimd)
        .ok_or_else(|| Refused::Page(format!("unknown client_id {client_id}")))?;
    let redirect_uri = q
        .one("redirect_uri")
        .map_err(page)?
        .ok_or_else(|| Refused::Page("missing redirect_uri".into()))?;
    if !client.accepts_redirect(redirect_uri) {
        return Err(Refused::Page(format!(
            "redirect_uri {redirect_uri} is not registered for this client"
        )));
    }
    let state = q.one("state").ok().flatten().map(str::to_owned);
    let fail = |error: &'static str, description: String| Refused::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error,
        description,
    };
    let one = |name: &str| {
        q.one(name)
            .map_err(|_| fail("invalid_request", format!("parameter {name} repeated")))
    };
    match one("response_type")? {
        Some("code") => {}
        Some(other) => {
            return Err(fail(
                "unsupported_response_type",
                format!("response_type {other} is not supported"),
            ))
        }
        None => return Err(fail("invalid_request", "missing response_type".into())),
    }
    let challenge = one("code_challenge")?
        .ok_or_else(|| fail("invalid_request", "PKCE code_challenge is required".into()))?;
    if one("code_challenge_method")? != Some("S256") {
        return Err(fail(
            "invalid_request",
            "code_challenge_method must be S256".into(),
        ));
    }
    let valid_challenge = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_challenge {
        return Err(fail(
            "invalid_request",
            "code_challenge is not a base64url SHA-256".into(),
        ));
    }
    if let Err(e) = auth.check_resources(q, false) {
        return Err(fail("invalid_target", e.description().to_owned()));
    }
    let resource = q.all("resource").first().map(|r| (*r).to_owned());
    let scopes = auth
        .requested_scopes(one("scope")?)
        .map_err(|bad| fail("invalid_scope", format!("unknown scope {bad}")))?;
    let dpop_jkt = one("dpop_jkt")?.map(str::to_owned);
    Ok(AuthzRequest {
        client_id: client.id,
        redirect_uri: redirect_uri.to_owned(),
        state,
        challenge: challenge.to_owned(),
        resource,
        scopes,
        dpop_jkt,
    })
}

/// Issues a code and redirects to the client.
fn approve(auth: &AuthServer, req: AuthzRequest) -> Response<Body> {
    let code = auth.random_token();
    let (redirect_uri, state) = (req.redirect_uri.clone(), req.state.clone());
    {
        let mut store = auth.store();
        store.prune();
        store.codes.insert(
            code.clone(),
            Code {
                req,
                expires: Instant::now() + CODE_TTL,
                used: false,
                grant: None,
            },
        );
    }
    redirect(auth, &redirect_uri, &[("code", &code)], state.as_deref())
}

/// A 302 to `redirect_uri` with `params`, `state` and (per the mode) `iss`.
fn redirect(
    auth: &AuthServer,
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
) -> Response<Body> {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return html(
            StatusCode::BAD_REQUEST,
            "Authorization request refused",
            "<p>unusable redirect_uri</p>",
        );
    };
    {
        let mut q = url.query_pairs_mut();
        for (n, v) in params {
            q.append_pair(n, v);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
        match auth.opts.iss {
            IssMode::Advertised => {
                q.append_pair("iss", &auth.issuer);
            }
            IssMode::Wrong => {
                q.append_pair("iss", "http://evil.example");
            }
            IssMode::Silent | IssMode::Missing => {}
        }
    }
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    no_store(&mut resp);
    resp
}

/// `POST {issuer}/authorize/consent`: `request_id` and `decision`
/// (`approve` or anything else to deny).
pub(crate) async fn consent(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, form) = match read_form(&shared, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    if auth.opts.login.is_some() && !login::signed_in(auth, &parts.headers) {
        return html(
            StatusCode::FORBIDDEN,
            "Not signed in",
            "<p>sign in before deciding on a request</p>",
        );
    }
    let id = form.one("request_id").ok().flatten().unwrap_or_default();
    let pending = auth.store().pending.remove(id);
    let Some(pending) = pending.filter(|p| Instant::now() < p.expires) else {
        return html(
            StatusCode::BAD_REQUEST,
            "Authorization request refused",
            "<p>unknown or expired request</p>",
        );
    };
    if form.one("decision").ok().flatten() == Some("approve") {
        approve(auth, pending.req)
    } else {
        redirect(
            auth,
            &pending.req.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied access"),
            ],
            pending.req.state.as_deref(),
        )
    }
}
