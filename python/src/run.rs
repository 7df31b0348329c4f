//! Waiting for the core with the GIL released, and Ctrl-C while waiting.

use std::future::Future;
use std::sync::OnceLock;
use std::thread::ThreadId;
use std::time::Duration;

use mcp::{CancellationToken, Error};
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

/// Python's main thread (where signal handlers run), noted when the module is imported there.
static MAIN_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Note the calling thread as Python's main thread, if it is.
pub(crate) fn note_main_thread(py: Python<'_>) -> PyResult<()> {
    let threading = py.import("threading")?;
    let main = threading.call_method0("main_thread")?;
    let current = threading.call_method0("current_thread")?;
    if main.is(&current) {
        let _ = MAIN_THREAD.set(std::thread::current().id());
    }
    Ok(())
}

/// How often the main thread looks for a signal (Ctrl-C) while it waits.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// Run `fut` with the GIL released and turn its error into the Python exception. On Python's
/// main thread, a signal whose handler raises (Ctrl-C's `KeyboardInterrupt`) while waiting fires
/// `cancel` (the core stops the work and tells the server), waits for the work to end, and
/// raises the handler's exception.
pub(crate) fn block<T: Send>(
    py: Python<'_>,
    on: On,
    failure: Option<&CallbackFailure>,
    cancel: Option<&CancellationToken>,
    fut: impl Future<Output = Result<T, Error>> + Send,
) -> PyResult<T> {
    let main = MAIN_THREAD.get() == Some(&std::thread::current().id());
    let cancel = cancel.filter(|_| main).cloned();
    let watched = async move {
        let Some(token) = cancel else {
            return (fut.await, None);
        };
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return (out, None),
                () = tokio::time::sleep(SIGNAL_POLL) => {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        token.cancel();
                        return (fut.await, Some(e));
                    }
                }
            }
        }
    };
    let out = py.detach(|| match on {
        On::Home => mcp::runtime::shared().map(|rt| rt.block_on(watched)),
        On::Thread => mcp::runtime::block_on_thread(watched),
    });
    match out {
        Ok((_, Some(interrupted))) => Err(interrupted),
        Ok((Ok(v), None)) => Ok(v),
        Ok((Err(e), None)) => Err(to_py(py, &e, failure)),
        Err(e) => Err(PyRuntimeError::new_err(format!(
            "cannot start the runtime: {e}"
        ))),
    }
}
