//! The host's callbacks, as the core's traits: the authorization URL presenter, the credential
//! store, the notification handler and the server-request handler.

use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use serde_json::Value;
use url::Url;

use super::foreign::Slot;
use super::strings::take_host_string;
use mcp::error::RpcError;
use mcp::handler::{NotificationHandler, RequestHandler};
use mcp::jsonrpc::Notification;
use mcp::oauth::{
    AuthEvent, AuthEventHook, AuthorizationPresenter, AuthorizationRequest, DeviceAuthorization,
    OAuthError, Presenter,
};
use mcp::store::{CredentialStore, StoreError};
use mcp::BoxFuture;

/// Frees the user data given with a callback; runs exactly once, on any thread, when the
/// library no longer needs the user data.
#[allow(non_camel_case_types)]
pub type mcp_free_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Shows the authorization URL to the user. Return 0 once it is shown. To hand back the
/// redirect yourself, set `*redirect_out` to the full redirect URL (the URL the browser was
/// sent to, with `code` and `state`) in a string made with `mcp_string_dup` (the library
/// frees it); leave it NULL to let the built-in loopback listener at
/// `redirect_uri` receive the redirect (it starts listening when the callback returns, so do
/// not block waiting for the browser). A non-zero return fails the authorization with
/// `MCP_RESULT_AUTH`.
#[allow(non_camel_case_types)]
pub type mcp_presenter_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        url: *const c_char,
        redirect_uri: *const c_char,
        redirect_out: *mut *mut c_char,
    ) -> i32,
>;

/// Shows a device-flow sign-in (`MCP_GRANT_DEVICE_CODE`): the user visits `verification_uri`
/// (or `verification_uri_complete`, NULL when the server gives none, which has the code
/// filled in) and enters `user_code` within `expires_in` seconds; the library polls meanwhile.
/// Return 0 once shown (do not wait for the user); non-zero fails the sign-in with
/// `MCP_RESULT_AUTH`. Without this callback the instructions are printed on stderr.
#[allow(non_camel_case_types)]
pub type mcp_device_code_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        verification_uri: *const c_char,
        verification_uri_complete: *const c_char,
        user_code: *const c_char,
        expires_in: u64,
    ) -> i32,
>;

/// Receives one server notification: its method and its params as JSON text (`null` when
/// absent).
#[allow(non_camel_case_types)]
pub type mcp_notification_fn = Option<
    unsafe extern "C" fn(user_data: *mut c_void, method: *const c_char, params_json: *const c_char),
>;

/// Receives one authorization event as a JSON object whose `event` member names it:
/// `sign_in_required`, `browser_opened`, `signed_in`, `token_refreshed`, `token_adopted`,
/// `step_up`, `refresh_failed`, `store_selected`, `logged_out` (more may come; ignore the
/// others). Its other members are the server, issuer, scopes, expiry, grant or store; never a
/// token, code or secret. For a host to show what authorization is doing.
#[allow(non_camel_case_types)]
pub type mcp_auth_event_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event_json: *const c_char)>;

/// Answers one server request (`elicitation/create`, `sampling/createMessage`, `roots/list`,
/// or another method): its method and params as JSON text. Return 0 and set `*result_out` to
/// the JSON result in a string made with `mcp_string_dup` (NULL: `{}`); or return a non-zero
/// JSON-RPC error code (e.g. -32601) and optionally set `*result_out` to the error message
/// (also from `mcp_string_dup`). The library frees `*result_out`.
#[allow(non_camel_case_types)]
pub type mcp_request_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        method: *const c_char,
        params_json: *const c_char,
        result_out: *mut *mut c_char,
    ) -> i32,
>;

/// Loads the entry for `key`: return 0 and set `*value_out` to a copy of the entry made with
/// `mcp_string_dup` (the library frees it), or leave it NULL when there is none; return
/// non-zero on failure.
#[allow(non_camel_case_types)]
pub type mcp_store_load_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        key: *const c_char,
        value_out: *mut *mut c_char,
    ) -> i32,
>;

/// Replaces the entry for `key` with `value` (copy it); 0 on success.
#[allow(non_camel_case_types)]
pub type mcp_store_save_fn = Option<
    unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char, value: *const c_char) -> i32,
>;

/// Removes the entry for `key` (absent is fine); 0 on success.
#[allow(non_camel_case_types)]
pub type mcp_store_remove_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char) -> i32>;

pub(crate) type PresenterFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut *mut c_char) -> i32;
pub(crate) type NotificationFn = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char);
pub(crate) type AuthEventFn = unsafe extern "C" fn(*mut c_void, *const c_char);
pub(crate) type DeviceFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *const c_char, u64) -> i32;
pub(crate) type RequestFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut *mut c_char) -> i32;

/// The three store functions, sharing one user data.
#[derive(Clone, Copy)]
pub(crate) struct StoreFns {
    pub load: unsafe extern "C" fn(*mut c_void, *const c_char, *mut *mut c_char) -> i32,
    pub save: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> i32,
    pub remove: unsafe extern "C" fn(*mut c_void, *const c_char) -> i32,
}

/// A C string for a callback argument (interior NUL bytes, impossible in URLs and JSON text,
/// are dropped rather than failing).
fn c_arg(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let mut v = e.into_vec();
        v.retain(|b| *b != 0);
        CString::new(v).unwrap_or_default()
    })
}

/// Run a callback trampoline so that no panic escapes into the core's tasks.
fn guarded<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// The host's presenter.
pub(crate) struct CPresenter {
    pub slot: Arc<Slot<PresenterFn>>,
}

fn present_blocking(
    slot: &Slot<PresenterFn>,
    url: &str,
    redirect_uri: &str,
) -> Result<Option<Url>, OAuthError> {
    let (url, redirect_uri) = (c_arg(url), c_arg(redirect_uri));
    let mut out: *mut c_char = std::ptr::null_mut();
    let rc = slot
        .call(|cb| {
            // SAFETY: the host's function with its user data; the arguments live for the call.
            unsafe { (cb.f)(cb.user_data, url.as_ptr(), redirect_uri.as_ptr(), &mut out) }
        })
        .ok_or_else(|| OAuthError::Presenter("the client was freed".into()))?;
    // SAFETY: `out` is NULL or the host's string from the library's allocator.
    let redirect = unsafe { take_host_string(out) };
    if rc != 0 {
        return Err(OAuthError::Presenter(format!(
            "the host's presenter callback returned {rc}"
        )));
    }
    match redirect {
        None => Ok(None),
        Some(Err(())) => Err(OAuthError::Presenter(
            "the redirect URL from the presenter callback is not UTF-8".into(),
        )),
        Some(Ok(s)) => Url::parse(&s).map(Some).map_err(|e| {
            OAuthError::Presenter(format!(
                "the redirect URL from the presenter callback does not parse: {e}"
            ))
        }),
    }
}

impl AuthorizationPresenter for CPresenter {
    fn present<'a>(
        &'a self,
        request: &'a AuthorizationRequest,
    ) -> BoxFuture<'a, Result<Option<Url>, OAuthError>> {
        let slot = self.slot.clone();
        let url = request.url.to_string();
        let redirect_uri = request.redirect_uri.to_string();
        Box::pin(async move {
            // A thread of the blocking pool: the host may wait for its user there without
            // stalling the runtime.
            let job = move || {
                guarded(
                    Err(OAuthError::Presenter(
                        "panic around the presenter callback".into(),
                    )),
                    || present_blocking(&slot, &url, &redirect_uri),
                )
            };
            tokio::task::spawn_blocking(job)
                .await
                .map_err(|e| OAuthError::Presenter(format!("the presenter callback failed: {e}")))?
        })
    }
}

/// A presenter whose device-flow codes go to the host's callback (URLs to `inner`).
pub(crate) struct CDevicePresenter {
    pub inner: Presenter,
    pub slot: Arc<Slot<DeviceFn>>,
}

fn show_device(slot: &Slot<DeviceFn>, d: &DeviceAuthorization) -> Result<(), OAuthError> {
    let (uri, code) = (c_arg(&d.verification_uri), c_arg(&d.user_code));
    let complete = d.verification_uri_complete.as_deref().map(c_arg);
    let complete_ptr = complete.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    let rc = slot
        .call(|cb| {
            // SAFETY: the host's function with its user data; the arguments live for the call.
            unsafe {
                (cb.f)(
                    cb.user_data,
                    uri.as_ptr(),
                    complete_ptr,
                    code.as_ptr(),
                    d.expires_in,
                )
            }
        })
        .ok_or_else(|| OAuthError::Presenter("the client was freed".into()))?;
    if rc == 0 {
        Ok(())
    } else {
        Err(OAuthError::Presenter(format!(
            "the host's device code callback returned {rc}"
        )))
    }
}

impl AuthorizationPresenter for CDevicePresenter {
    fn present<'a>(
        &'a self,
        request: &'a AuthorizationRequest,
    ) -> BoxFuture<'a, Result<Option<Url>, OAuthError>> {
        self.inner.present(request)
    }

    fn present_device<'a>(
        &'a self,
        device: &'a DeviceAuthorization,
    ) -> BoxFuture<'a, Result<(), OAuthError>> {
        let slot = self.slot.clone();
        let device = device.clone();
        Box::pin(async move {
            let job = move || {
                guarded(
                    Err(OAuthError::Presenter(
                        "panic around the device code callback".into(),
                    )),
                    || show_device(&slot, &device),
                )
            };
            tokio::task::spawn_blocking(job).await.map_err(|e| {
                OAuthError::Presenter(format!("the device code callback failed: {e}"))
            })?
        })
    }
}

/// The host's credential store.
pub(crate) struct CStore {
    pub slot: Arc<Slot<StoreFns>>,
}

fn store_failed(what: &str, rc: i32) -> StoreError {
    StoreError::Custom(format!("the host's {what} callback returned {rc}"))
}

fn freed() -> StoreError {
    StoreError::Custom("the client was freed".into())
}

impl CredentialStore for CStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = c_arg(key);
        guarded(Err(StoreError::Custom("panic in load".into())), || {
            let mut out: *mut c_char = std::ptr::null_mut();
            let rc = self
                .slot
                .call(|cb| {
                    // SAFETY: the host's function; the arguments live for the call.
                    unsafe { (cb.f.load)(cb.user_data, key.as_ptr(), &mut out) }
                })
                .ok_or_else(freed)?;
            // SAFETY: NULL or the host's string from the library's allocator.
            let value = unsafe { take_host_string(out) };
            if rc != 0 {
                return Err(store_failed("load", rc));
            }
            match value {
                None => Ok(None),
                Some(Ok(v)) => Ok(Some(v)),
                Some(Err(())) => Err(StoreError::Custom(
                    "the entry from the load callback is not UTF-8".into(),
                )),
            }
        })
    }

    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (c_arg(key), c_arg(value));
        guarded(Err(StoreError::Custom("panic in save".into())), || {
            let rc = self
                .slot
                .call(|cb| {
                    // SAFETY: the host's function; the arguments live for the call.
                    unsafe { (cb.f.save)(cb.user_data, key.as_ptr(), value.as_ptr()) }
                })
                .ok_or_else(freed)?;
            if rc == 0 {
                Ok(())
            } else {
                Err(store_failed("save", rc))
            }
        })
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let key = c_arg(key);
        guarded(Err(StoreError::Custom("panic in remove".into())), || {
            let rc = self
                .slot
                .call(|cb| {
                    // SAFETY: the host's function; the argument lives for the call.
                    unsafe { (cb.f.remove)(cb.user_data, key.as_ptr()) }
                })
                .ok_or_else(freed)?;
            if rc == 0 {
                Ok(())
            } else {
                Err(store_failed("remove", rc))
            }
        })
    }

    fn name(&self) -> String {
        "custom".into()
    }
}

/// The host's notification callback.
pub(crate) struct CNotifications {
    pub slot: Arc<Slot<NotificationFn>>,
}

impl NotificationHandler for CNotifications {
    fn on_notification(&self, n: &Notification) {
        guarded((), || {
            let method = c_arg(&n.method);
            let params = c_arg(&n.params.to_string());
            self.slot.call(|cb| {
                // SAFETY: the host's function; the arguments live for the call.
                unsafe { (cb.f)(cb.user_data, method.as_ptr(), params.as_ptr()) }
            });
        })
    }
}

/// The host's authorization-event callback, as the engine's hook.
pub(crate) fn auth_event_hook(slot: Arc<Slot<AuthEventFn>>) -> AuthEventHook {
    AuthEventHook::new(move |event: &AuthEvent| {
        guarded((), || {
            let json = c_arg(&event.to_json());
            slot.call(|cb| {
                // SAFETY: the host's function; the argument lives for the call.
                unsafe { (cb.f)(cb.user_data, json.as_ptr()) }
            });
        })
    })
}

/// The host's server-request callback.
pub(crate) struct CRequests {
    pub slot: Arc<Slot<RequestFn>>,
}

fn answer_blocking(
    slot: &Slot<RequestFn>,
    method: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    let method_c = c_arg(method);
    let params_c = c_arg(&params.to_string());
    let mut out: *mut c_char = std::ptr::null_mut();
    let rc = slot
        .call(|cb| {
            // SAFETY: the host's function; the arguments live for the call.
            unsafe { (cb.f)(cb.user_data, method_c.as_ptr(), params_c.as_ptr(), &mut out) }
        })
        .ok_or_else(|| RpcError::new(RpcError::INTERNAL_ERROR, "the client is being freed"))?;
    // SAFETY: NULL or the host's string from the library's allocator.
    let text = unsafe { take_host_string(out) };
    if rc != 0 {
        let message = match text {
            Some(Ok(m)) if !m.is_empty() => m,
            _ => format!("the client refused `{method}`"),
        };
        return Err(RpcError::new(i64::from(rc), message));
    }
    match text {
        None => Ok(Value::Object(Default::default())),
        Some(Ok(t)) => serde_json::from_str(&t).map_err(|e| {
            RpcError::new(
                RpcError::INTERNAL_ERROR,
                format!("the client's answer to `{method}` is not JSON: {e}"),
            )
        }),
        Some(Err(())) => Err(RpcError::new(
            RpcError::INTERNAL_ERROR,
            format!("the client's answer to `{method}` is not UTF-8"),
        )),
    }
}

impl RequestHandler for CRequests {
    fn handle(&self, method: &str, params: Value) -> BoxFuture<'static, Result<Value, RpcError>> {
        let slot = self.slot.clone();
        let method = method.to_owned();
        Box::pin(async move {
            // A thread of the blocking pool: answering may wait for the user.
            let job = move || {
                guarded(
                    Err(RpcError::new(
                        RpcError::INTERNAL_ERROR,
                        "panic around the request callback",
                    )),
                    || answer_blocking(&slot, &method, &params),
                )
            };
            tokio::task::spawn_blocking(job).await.unwrap_or_else(|e| {
                Err(RpcError::new(
                    RpcError::INTERNAL_ERROR,
                    format!("the request callback failed: {e}"),
                ))
            })
        })
    }
}
