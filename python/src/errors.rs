//! Core errors as the exceptions of `mcp_client.errors`, carrying the server's fields, and the
//! Python exception a host callback raised, kept to become the `__cause__` of the error it led
//! to.

use std::sync::{Arc, Mutex};

use mcp::{Error, ErrorKind};
use pyo3::prelude::*;

/// The Python exception class for an error of `kind` (in `mcp_client.errors`).
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::Transport => "TransportError",
        ErrorKind::Protocol => "ProtocolError",
        ErrorKind::Rpc => "RpcError",
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::Cancelled => "CancelledError",
        ErrorKind::Auth => "AuthError",
        ErrorKind::Closed => "ClosedError",
        _ => "McpError",
    }
}

/// The exception a host callback (presenter, device display) raised last, until the error it
/// caused reaches the caller. One per client: the core reports such failures as
/// `OAuthError::Presenter` text, and this keeps the Python object that text came from.
#[derive(Clone, Default)]
pub(crate) struct CallbackFailure(Arc<Mutex<Option<PyErr>>>);

impl CallbackFailure {
    /// Keep `err` for the caller.
    pub fn set(&self, err: PyErr) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(err);
    }

    fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A core error as the Python exception of its class; an authorization error caused by a
/// callback's exception has it as `__cause__`.
pub(crate) fn to_py(py: Python<'_>, e: &Error, failure: Option<&CallbackFailure>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let errors = py.import("mcp_client.errors")?;
        let cls = errors.getattr(class_name(e.kind()))?;
        let exc = cls.call1((e.to_string(),))?;
        if let Some(rpc) = e.rpc() {
            exc.setattr("code", rpc.code)?;
            exc.setattr("rpc_message", rpc.message.clone())?;
            if let Some(d) = &rpc.data {
                exc.setattr("data_json", d.to_string())?;
            }
        }
        if let Some(status) = e.http_status() {
            exc.setattr("http_status", status)?;
        }
        if let Some(o) = e.oauth() {
            exc.setattr("oauth_error", o.oauth_error())?;
            exc.setattr("oauth_error_description", o.oauth_error_description())?;
        }
        let err = PyErr::from_value(exc);
        if e.kind() == ErrorKind::Auth {
            if let Some(cause) = failure.and_then(CallbackFailure::take) {
                err.set_cause(py, Some(cause));
            }
        }
        Ok(err)
    };
    build().unwrap_or_else(|import_failed| import_failed)
}

/// An `InvalidArgumentError` (also a `ValueError`) with `message`.
pub(crate) fn invalid(message: impl Into<String>) -> PyErr {
    Python::attach(|py| to_py(py, &Error::InvalidArgument(message.into()), None))
}

/// Log `err` with its traceback on the `mcp_client` logger (for a callback whose failure the
/// core answers for itself: a store, a handler), so no exception is swallowed unseen.
pub(crate) fn log_exception(py: Python<'_>, what: &str, err: &PyErr) {
    let logged = (|| -> PyResult<()> {
        let logger = py
            .import("logging")?
            .call_method1("getLogger", ("mcp_client",))?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("exc_info", err.clone_ref(py).into_value(py))?;
        logger.call_method("error", ("%s raised an exception", what), Some(&kwargs))?;
        Ok(())
    })();
    if logged.is_err() {
        err.clone_ref(py).print(py);
    }
}

/// A `ClosedError` for a client that was made with `connect=False` and not connected since.
pub(crate) fn not_connected() -> PyErr {
    Python::attach(|py| {
        let e = to_py(py, &Error::Closed, None);
        let _ = e.value(py).setattr(
            "args",
            ("the client is not connected yet (call connect())",),
        );
        e
    })
}
