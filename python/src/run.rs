//! Waiting for the core with the GIL released.

use std::future::Future;

use mcp::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::errors::{to_py, CallbackFailure};

/// Where a blocking call runs.
#[derive(Clone, Copy)]
pub(crate) enum On {
    /// The calling thread's own runtime: requests (the thread that waits does the I/O).
    Thread,
    /// The shared runtime: connecting, signing in and out, closing (work whose tasks outlive
    /// the call).
    Home,
}

/// Run `fut` with the GIL released and turn its error into the Python exception.
pub(crate) fn block<T: Send>(
    py: Python<'_>,
    on: On,
    failure: Option<&CallbackFailure>,
    fut: impl Future<Output = Result<T, Error>> + Send,
) -> PyResult<T> {
    let out = py.detach(|| match on {
        On::Home => mcp::runtime::shared().map(|rt| rt.block_on(fut)),
        On::Thread => mcp::runtime::block_on_thread(fut),
    });
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(py, &e, failure)),
        Err(e) => Err(PyRuntimeError::new_err(format!(
            "cannot start the runtime: {e}"
        ))),
    }
}
