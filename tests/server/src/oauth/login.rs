//! The pages a person meets at `/authorize`: the consent page (when `auto_approve` is off, or
//! after a login) and, for the interactive sign-in ([`super::AuthOptions::login`]), a login
//! form in front of it and the session cookie a correct login sets.
//!
//! `GET /authorize` without a live session answers the login form; its POST to
//! `/authorize/login` keeps the validated request server-side (a [`Pending`] record named by
//! a hidden `request_id`). A correct user and password set an `HttpOnly` session cookie and
//! show the consent page; a wrong one shows the form again with an error and issues nothing.
//! The consent page's POST needs the session.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};

use super::store::{AuthzRequest, Pending};
use super::{auth_off, escape, html, read_form, AuthServer};
use crate::Shared;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "mcp_test_session";
/// How long a session lives.
const SESSION_TTL: Duration = Duration::from_secs(600);
/// How long a login form waits for its answer.
const LOGIN_TTL: Duration = Duration::from_secs(600);

/// The user name and password the login form accepts ([`super::AuthOptions::login`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl Login {
    /// A login accepting `user` and `password`.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }

    /// Parses `user:password` (the password may hold colons).
    pub fn parse(s: &str) -> Option<Self> {
        let (user, password) = s.split_once(':')?;
        (!user.is_empty() && !password.is_empty()).then(|| Self::new(user, password))
    }
}

/// Whether the request carries the cookie of a live session.
pub(crate) fn signed_in(auth: &AuthServer, headers: &HeaderMap) -> bool {
    let now = Instant::now();
    let store = auth.store();
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .any(|(_, id)| store.sessions.get(id).is_some_and(|exp| now < *exp))
}

/// Keeps `req` waiting for a login and answers the form.
pub(crate) fn login_page(auth: &AuthServer, req: AuthzRequest) -> Response<Body> {
    let id = auth.random_token();
    let name = auth.client_name(&req.client_id);
    {
        let mut store = auth.store();
        store.prune();
        store.pending.insert(
            id.clone(),
            Pending {
                req,
                expires: Instant::now() + LOGIN_TTL,
            },
        );
    }
    form(auth, &id, &name, None)
}

/// The login form for the pending request `id`, with an error when a try failed.
fn form(auth: &AuthServer, id: &str, client: &str, error: Option<&str>) -> Response<Body> {
    let error = error
        .map(|e| {
            format!(
                "<p id=\"error\" role=\"alert\" style=\"color:#b00\">{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let text = format!(
        "<p><b id=\"client\">{}</b> wants to use this server on your behalf. Sign in to continue.</p>\
         {error}\
         <form method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{}\">\
         <p><label>User name <input id=\"username\" name=\"username\" autocomplete=\"username\" required></label></p>\
         <p><label>Password <input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label></p>\
         <p><button id=\"sign-in\" type=\"submit\">Sign in</button></p></form>",
        escape(client),
        escape(&auth.endpoint("/authorize/login")),
        escape(id),
    );
    html(StatusCode::OK, "Sign in to mcp-test-server", &text)
}

/// `POST {issuer}/authorize/login`: `request_id`, `username` and `password`.
pub(crate) async fn login(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (_, f) = match read_form(&shared, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    let Some(login) = auth.opts.login.as_ref() else {
        return auth_off();
    };
    let id = f.one("request_id").ok().flatten().unwrap_or_default();
    let client_id = {
        let store = auth.store();
        store
            .pending
            .get(id)
            .filter(|p| Instant::now() < p.expires)
            .map(|p| p.req.client_id.clone())
    };
    let Some(client_id) = client_id else {
        return html(
            StatusCode::BAD_REQUEST,
            "Authorization request refused",
            "<p>unknown or expired request</p>",
        );
    };
    let user = f.one("username").ok().flatten().unwrap_or_default();
    let password = f.one("password").ok().flatten().unwrap_or_default();
    let ok = constant_time_eq(user.as_bytes(), login.user.as_bytes())
        & constant_time_eq(password.as_bytes(), login.password.as_bytes());
    if !ok {
        auth.store().stats.login_failures += 1;
        let name = auth.client_name(&client_id);
        return form(auth, id, &name, Some("Wrong user name or password."));
    }
    let Some(pending) = auth.store().pending.remove(id) else {
        return html(
            StatusCode::BAD_REQUEST,
            "Authorization request refused",
            "<p>unknown or expired request</p>",
        );
    };
    let session = auth.random_token();
    auth.store()
        .sessions
        .insert(session.clone(), Instant::now() + SESSION_TTL);
    let mut resp = consent_page(auth, pending.req);
    let cookie = format!("{COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How long a consent page waits for a decision.
const CONSENT_TTL: Duration = Duration::from_secs(600);

/// The consent page (when `auto_approve` is off, or after a login).
pub(super) fn consent_page(auth: &AuthServer, req: AuthzRequest) -> Response<Body> {
    let id = auth.random_token();
    let text = format!(
        "<p>Client <b id=\"client\">{}</b> (<code>{}</code>) asks for <code id=\"scopes\">{}</code>; \
         you will be sent back to <code>{}</code>.</p>\
         <form method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{}\">\
         <button id=\"allow\" name=\"decision\" value=\"approve\">Allow</button> \
         <button id=\"deny\" name=\"decision\" value=\"deny\">Deny</button></form>",
        escape(&auth.client_name(&req.client_id)),
        escape(&req.client_id),
        escape(&req.scopes.join(" ")),
        escape(&req.redirect_uri),
        escape(&auth.endpoint("/authorize/consent")),
        escape(&id),
    );
    {
        let mut store = auth.store();
        store.prune();
        store.pending.insert(
            id,
            Pending {
                req,
                expires: Instant::now() + CONSENT_TTL,
            },
        );
    }
    html(StatusCode::OK, "Authorize mcp-test-server access", &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_parses_user_and_password() {
        assert_eq!(
            Login::parse("ada:s3cr:et"),
            Some(Login::new("ada", "s3cr:et"))
        );
        assert_eq!(Login::parse("ada"), None);
        assert_eq!(Login::parse(":pw"), None);
        assert_eq!(Login::parse("ada:"), None);
    }

    #[test]
    fn comparison_needs_equal_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
