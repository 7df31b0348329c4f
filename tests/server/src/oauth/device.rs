//! The device authorization grant (RFC 8628): `/device_authorization` and
//! the verification page `/device`, whose `?user_code=` approves the device.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, Response, StatusCode};
use serde_json::json;

use super::store::Device;
use super::token::{authenticate, DEVICE_INTERVAL};
use super::{
    auth_off, escape, html, json_response, no_store, read_form, AuthServer, Form, OAuthError,
};
use crate::Shared;

/// How long a device code lives.
const DEVICE_TTL: Duration = Duration::from_secs(600);
/// Letters of user codes (no vowels, no look-alikes).
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// `POST {issuer}/device_authorization`.
pub(crate) async fn device_authorization(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Response<Body> {
    let (parts, form) = match read_form(&shared, req).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    let result = authenticate(auth, &parts.headers, &form).and_then(|client| {
        auth.check_resources(&form, true)?;
        let scopes = auth
            .requested_scopes(form.one("scope")?)
            .map_err(|bad| OAuthError::bad("invalid_scope", format!("unknown scope {bad}")))?;
        let device_code = auth.random_token();
        let user_code = user_code(auth);
        let verification_uri = auth.endpoint("/device");
        let complete = format!("{verification_uri}?user_code={user_code}");
        let mut store = auth.store();
        store.prune();
        store.devices.insert(
            device_code.clone(),
            Device {
                user_code: user_code.clone(),
                client_id: client.id,
                scopes,
                expires: Instant::now() + DEVICE_TTL,
                approved: false,
                last_poll: None,
                done: false,
            },
        );
        store.stats.device_authorizations += 1;
        Ok(json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": complete,
            "expires_in": DEVICE_TTL.as_secs(),
            "interval": DEVICE_INTERVAL,
        }))
    });
    match result {
        Ok(v) => {
            let mut resp = json_response(StatusCode::OK, &v);
            no_store(&mut resp);
            resp
        }
        Err(e) => e.response(),
    }
}

/// `XXXX-XXXX` from [`USER_CODE_ALPHABET`].
fn user_code(auth: &AuthServer) -> String {
    let bytes = auth.random_bytes(8);
    let mut out = String::with_capacity(9);
    for (i, b) in bytes.iter().enumerate() {
        if i == 4 {
            out.push('-');
        }
        let idx = usize::from(*b) % USER_CODE_ALPHABET.len();
        out.push(char::from(USER_CODE_ALPHABET[idx]));
    }
    out
}

/// Uppercase without dashes or spaces, for comparing user codes.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// `GET {issuer}/device[?user_code=…]`: approves the device with that code,
/// or shows a form asking for it.
pub(crate) async fn verify(State(shared): State<Arc<Shared>>, req: Request) -> Response<Body> {
    let (parts, _) = req.into_parts();
    shared.recorder.record(&parts, None);
    let Some(auth) = shared.auth.as_ref() else {
        return auth_off();
    };
    if parts.method != Method::GET {
        return super::method_not_allowed();
    }
    let query = Form::parse(parts.uri.query().unwrap_or_default().as_bytes());
    let Some(code) = query.one("user_code").ok().flatten() else {
        let form = format!(
            "<form method=\"get\" action=\"{}\"><input name=\"user_code\" placeholder=\"XXXX-XXXX\">\
             <button>Approve</button></form>",
            escape(&auth.endpoint("/device"))
        );
        return html(StatusCode::OK, "Connect a device", &form);
    };
    let wanted = normalize(code);
    let now = Instant::now();
    let mut store = auth.store();
    let device = store
        .devices
        .values_mut()
        .find(|d| normalize(&d.user_code) == wanted && now < d.expires && !d.done);
    match device {
        Some(d) => {
            d.approved = true;
            html(
                StatusCode::OK,
                "Device approved",
                "<p>You can return to your device.</p>",
            )
        }
        None => html(
            StatusCode::NOT_FOUND,
            "Unknown code",
            &format!("<p>No pending device has the code {}.</p>", escape(code)),
        ),
    }
}
