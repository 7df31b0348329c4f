//! Python callables as the core's hooks: the presenter of the sign-in URL and the device code,
//! the credential store, server-request handlers, and (through one ordered dispatch thread per
//! client) notifications and auth events.
//!
//! The Python half (`mcp_client/_callbacks.py`) hands every hook over as a plain synchronous
//! callable taking and returning text (coroutines are run on the asyncio loop there), so this
//! side only calls, on a thread that may wait: the runtime never waits for the GIL.

use std::sync::mpsc;
use std::sync::Arc;

use mcp::error::RpcError;
use mcp::handler::{NotificationHandler, RequestHandler};
use mcp::jsonrpc::Notification;
use mcp::oauth::{
    AuthEvent, AuthorizationPresenter, AuthorizationRequest, DeviceAuthorization, OAuthError,
    Presenter,
};
use mcp::store::{CredentialStore, StoreError};
use mcp::BoxFuture;
use pyo3::prelude::*;
use serde_json::Value;
use url::Url;

use crate::errors::{log_exception, CallbackFailure};

/// The Python interpreter is gone (the process is exiting).
const NO_PYTHON: &str = "the Python interpreter is shutting down";

/// `f` on a thread of the runtime's blocking pool (a Python callable may wait for its user).
async fn on_blocking_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
    lost: impl FnOnce(String) -> T,
) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => lost(e.to_string()),
    }
}

/// The host's presenter: `present(url, redirect_uri) -> Optional[str]` (the redirect URL it
/// received itself, or None for the built-in loopback listener), and optionally
/// `show_device(json)` for a device-flow code (else `inner` shows it).
pub(crate) struct PyPresenter {
    pub present: Option<Py<PyAny>>,
    pub show_device: Option<Py<PyAny>>,
    pub inner: Presenter,
    pub failure: CallbackFailure,
}

/// What a presenter returned, or why not (the exception kept for the caller).
fn call_present(
    f: &Py<PyAny>,
    url: &str,
    redirect_uri: &str,
    failure: &CallbackFailure,
) -> Result<Option<Url>, OAuthError> {
    Python::try_attach(|py| {
        let out = f.call1(py, (url, redirect_uri)).and_then(|r| {
            r.extract::<Option<String>>(py)
                .map_err(|_| invalid_return("a str or None"))
        });
        match out {
            Ok(None) => Ok(None),
            Ok(Some(s)) => Url::parse(&s).map(Some).map_err(|e| {
                OAuthError::Presenter(format!(
                    "the redirect URL from the presenter does not parse: {e}"
                ))
            }),
            Err(e) => {
                let text = format!("the presenter raised {}", e.value(py));
                failure.set(e);
                Err(OAuthError::Presenter(text))
            }
        }
    })
    .unwrap_or_else(|| Err(OAuthError::Presenter(NO_PYTHON.into())))
}

/// A `TypeError` for a callback that returned the wrong type.
fn invalid_return(wanted: &str) -> PyErr {
    pyo3::exceptions::PyTypeError::new_err(format!("the callback must return {wanted}"))
}

impl AuthorizationPresenter for PyPresenter {
    fn present<'a>(
        &'a self,
        request: &'a AuthorizationRequest,
    ) -> BoxFuture<'a, Result<Option<Url>, OAuthError>> {
        let Some(f) = &self.present else {
            return self.inner.present(request);
        };
        let f = Python::try_attach(|py| f.clone_ref(py));
        let (url, redirect) = (request.url.to_string(), request.redirect_uri.to_string());
        let failure = self.failure.clone();
        Box::pin(async move {
            let f = f.ok_or_else(|| OAuthError::Presenter(NO_PYTHON.into()))?;
            on_blocking_thread(
                move || call_present(&f, &url, &redirect, &failure),
                |e| Err(OAuthError::Presenter(format!("the presenter failed: {e}"))),
            )
            .await
        })
    }

    fn present_device<'a>(
        &'a self,
        device: &'a DeviceAuthorization,
    ) -> BoxFuture<'a, Result<(), OAuthError>> {
        let Some(f) = &self.show_device else {
            return self.inner.present_device(device);
        };
        let f = Python::try_attach(|py| f.clone_ref(py));
        let json = serde_json::json!({
            "verification_uri": device.verification_uri,
            "verification_uri_complete": device.verification_uri_complete,
            "user_code": device.user_code,
            "expires_in": device.expires_in,
        })
        .to_string();
        let failure = self.failure.clone();
        Box::pin(async move {
            let f = f.ok_or_else(|| OAuthError::Presenter(NO_PYTHON.into()))?;
            let show = move || {
                Python::try_attach(|py| match f.call1(py, (json,)) {
                    Ok(_) => Ok(()),
                    Err(e) => {
                        let text = format!("the device code display raised {}", e.value(py));
                        failure.set(e);
                        Err(OAuthError::Presenter(text))
                    }
                })
                .unwrap_or_else(|| Err(OAuthError::Presenter(NO_PYTHON.into())))
            };
            on_blocking_thread(show, |e| {
                Err(OAuthError::Presenter(format!(
                    "the device code display failed: {e}"
                )))
            })
            .await
        })
    }
}

/// A credential store written in Python: an object with `load(key) -> Optional[str]`,
/// `save(key, value)` and `delete(key)`. The engine calls it where blocking is allowed.
pub(crate) struct PyStore {
    pub obj: Py<PyAny>,
    pub name: String,
}

impl PyStore {
    fn call<T>(
        &self,
        method: &str,
        args: impl for<'py> pyo3::call::PyCallArgs<'py>,
        convert: impl FnOnce(Python<'_>, Py<PyAny>) -> PyResult<T>,
    ) -> Result<T, StoreError> {
        Python::try_attach(|py| {
            let out = self
                .obj
                .call_method1(py, method, args)
                .and_then(|r| convert(py, r));
            out.map_err(|e| {
                log_exception(py, &format!("the credential store's {method}()"), &e);
                StoreError::Custom(format!("{method}() raised {}", e.value(py)))
            })
        })
        .unwrap_or_else(|| Err(StoreError::Custom(NO_PYTHON.into())))
    }
}

impl CredentialStore for PyStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.call("load", (key,), |py, r| {
            r.extract::<Option<String>>(py)
                .map_err(|_| invalid_return("a str or None from load()"))
        })
    }

    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.call("save", (key, value), |_, _| Ok(()))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.call("delete", (key,), |_, _| Ok(()))
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

/// A server-request handler: `handle(method, params_json) -> result_json`. An exception is
/// logged with its traceback and answered with a JSON-RPC internal error that does not repeat
/// its text (it may hold what the server must not see); an `mcp_client.RpcError` raised on
/// purpose is answered with its own code and message.
pub(crate) struct PyHandler(pub Arc<Py<PyAny>>);

fn handle_blocking(f: &Py<PyAny>, method: &str, params: &Value) -> Result<Value, RpcError> {
    Python::try_attach(|py| {
        let out = f
            .call1(py, (method, params.to_string()))
            .and_then(|r| r.extract::<String>(py));
        match out {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                RpcError::new(-32603, format!("the handler's result is not JSON: {e}"))
            }),
            Err(e) => Err(rpc_error_from(py, method, &e)),
        }
    })
    .unwrap_or_else(|| Err(RpcError::new(-32603, NO_PYTHON)))
}

/// The JSON-RPC error for a handler's exception.
fn rpc_error_from(py: Python<'_>, method: &str, e: &PyErr) -> RpcError {
    let value = e.value(py);
    let chosen = (|| -> PyResult<Option<RpcError>> {
        let rpc_cls = py.import("mcp_client.errors")?.getattr("RpcError")?;
        if !value.is_instance(&rpc_cls)? {
            return Ok(None);
        }
        let code: Option<i64> = value.getattr("code")?.extract()?;
        let message: Option<String> = value.getattr("rpc_message")?.extract()?;
        Ok(code.map(|c| RpcError::new(c, message.unwrap_or_else(|| "error".into()))))
    })();
    match chosen {
        Ok(Some(rpc)) => rpc,
        _ => {
            log_exception(py, &format!("the handler for {method}"), e);
            RpcError::new(-32603, "the client's handler failed")
        }
    }
}

impl RequestHandler for PyHandler {
    fn handle(&self, method: &str, params: Value) -> BoxFuture<'static, Result<Value, RpcError>> {
        let f = self.0.clone();
        let method = method.to_owned();
        Box::pin(on_blocking_thread(
            move || handle_blocking(&f, &method, &params),
            |e| Err(RpcError::new(-32603, format!("the handler failed: {e}"))),
        ))
    }
}

/// One job for the dispatch thread.
type Job = Box<dyn FnOnce(Python<'_>) + Send>;

/// Delivers notifications and auth events to Python in the order they happened, on a thread of
/// its own, so no runtime worker waits for the GIL. The thread ends when the last sender (held
/// by the client's hooks) is dropped.
#[derive(Clone)]
pub(crate) struct Dispatcher(mpsc::Sender<Job>);

impl Dispatcher {
    /// A dispatcher and its thread.
    pub fn start() -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("mcp-client-py-events".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    if Python::try_attach(job).is_none() {
                        return;
                    }
                }
            })?;
        Ok(Dispatcher(tx))
    }

    /// Call `f(args...)`; an exception is logged with its traceback.
    fn call(&self, what: &'static str, f: Arc<Py<PyAny>>, a: String, b: Option<String>) {
        let _ = self.0.send(Box::new(move |py| {
            let out = match b {
                Some(b) => f.call1(py, (a, b)),
                None => f.call1(py, (a,)),
            };
            if let Err(e) = out {
                log_exception(py, what, &e);
            }
        }));
    }
}

/// Notifications to `f(method, params_json)`.
pub(crate) struct PyNotifications {
    pub f: Arc<Py<PyAny>>,
    pub to: Dispatcher,
}

impl NotificationHandler for PyNotifications {
    fn on_notification(&self, n: &Notification) {
        let params = n.params.to_string();
        self.to.call(
            "the notification handler",
            self.f.clone(),
            n.method.clone(),
            Some(params),
        );
    }
}

/// Auth events to `f(event_json)`.
pub(crate) fn event_hook(
    f: Arc<Py<PyAny>>,
    to: Dispatcher,
) -> impl Fn(&AuthEvent) + Send + Sync + 'static {
    move |event| to.call("the auth event handler", f.clone(), event.to_json(), None)
}
