//! The asyncio bridge: each awaitable call runs on the shared runtime and settles its asyncio
//! future on the loop's own thread.
//!
//! A finished call never takes the GIL on a runtime thread. Its outcome goes into the bridge's
//! queue, and the first outcome after a drain writes one byte to a pipe the loop watches
//! (`loop.add_reader`, in `mcp_client/_aio.py`); the loop then drains every outcome queued
//! meanwhile in one go. Cancelling the awaiting task fires the call's token: the core stops the
//! request and tells the server (`notifications/cancelled`).

use std::future::Future;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mcp::{CancellationToken, Client, Error, ProgressToken, RequestOptions, Task};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::client::{progress_token_arg, request_options, url_arg, ListKind, NativeClient};
use crate::errors::{to_py, CallbackFailure};
use crate::values;

/// What a call ended with.
enum Outcome {
    /// A string result (a URL).
    Text(String),
    /// A JSON result, made into Python objects on the loop.
    Json(String),
    /// Items of a list.
    Items(Vec<serde_json::Value>),
    /// A JSON value.
    Value(serde_json::Value),
    /// A task's state.
    Task(Task),
    /// Tasks.
    Tasks(Vec<Task>),
    Unit,
    Failed(Error, Option<CallbackFailure>),
}

struct Settled {
    fut: Py<PyAny>,
    outcome: Outcome,
}

struct Shared {
    queue: Mutex<Vec<Settled>>,
    /// A wake-up byte is in the pipe and the loop has not drained since.
    armed: AtomicBool,
    /// The pipe's write end. Both ends are the bridge's and close when the last call in flight
    /// and the Python side are done with it, so no late outcome ever writes to a descriptor
    /// that was closed and reused.
    wake: OwnedFd,
    _read: OwnedFd,
}

impl Shared {
    fn push(&self, fut: Py<PyAny>, outcome: Outcome) {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Settled { fut, outcome });
        if !self.armed.swap(true, Ordering::AcqRel) {
            // SAFETY: writing one byte from a live buffer to a descriptor; a full pipe
            // (EAGAIN) already holds a wake-up.
            unsafe {
                libc_write(self.wake.as_raw_fd());
            }
        }
    }
}

/// `write(fd, "x", 1)`.
unsafe fn libc_write(fd: RawFd) {
    extern "C" {
        fn write(fd: i32, buf: *const u8, count: usize) -> isize;
    }
    let byte = b"x";
    // SAFETY: the caller's descriptor; one byte from a static buffer.
    let _ = unsafe { write(fd, byte.as_ptr(), 1) };
}

/// A call in flight: `cancel()` stops it.
#[pyclass(frozen, module = "mcp_client._native")]
pub(crate) struct Pending {
    token: CancellationToken,
}

#[pymethods]
impl Pending {
    /// Cancel the call (the server is told); its future is left to the caller.
    fn cancel(&self) {
        self.token.cancel();
    }
}

/// The bridge of one event loop (see the module docs).
#[pyclass(frozen, module = "mcp_client._native")]
pub(crate) struct AsyncBridge {
    shared: Arc<Shared>,
}

impl AsyncBridge {
    /// Spawn `work` on the shared runtime; its outcome settles `fut`.
    fn start<F>(&self, fut: Py<PyAny>, token: CancellationToken, work: F) -> PyResult<Pending>
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let rt = mcp::runtime::shared()
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the runtime: {e}")))?;
        let shared = self.shared.clone();
        rt.spawn(async move {
            let outcome = work.await;
            shared.push(fut, outcome);
        });
        Ok(Pending { token })
    }

    /// A request on `client`, cancellable through the returned handle.
    fn request<T, F>(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        timeout: Option<f64>,
        make: impl FnOnce(Client, RequestOptions) -> F,
        done: fn(T) -> Outcome,
    ) -> PyResult<Pending>
    where
        F: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        self.request_with_progress(py, client, fut, timeout, None, make, done)
    }

    /// `request`, carrying `progress` as the request's `_meta.progressToken`.
    #[allow(clippy::too_many_arguments)]
    fn request_with_progress<T, F>(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        timeout: Option<f64>,
        progress: Option<ProgressToken>,
        make: impl FnOnce(Client, RequestOptions) -> F,
        done: fn(T) -> Outcome,
    ) -> PyResult<Pending>
    where
        F: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let core = client.parts.client(py)?;
        let token = CancellationToken::new();
        let mut opts = request_options(timeout)?;
        opts.cancel = Some(token.clone());
        opts.progress_token = progress;
        let failure = client.parts.failure.clone();
        let work = make(core, opts);
        self.start(fut, token, async move {
            match work.await {
                Ok(v) => done(v),
                Err(e) => Outcome::Failed(e, Some(failure)),
            }
        })
    }

    /// Work of the OAuth engine (bounded and cancellable as a whole).
    fn oauth<T, F>(
        &self,
        client: &NativeClient,
        fut: Py<PyAny>,
        timeout: Option<f64>,
        make: impl FnOnce(Arc<mcp::oauth::OAuthEngine>) -> F,
        done: fn(T) -> Outcome,
    ) -> PyResult<Pending>
    where
        F: Future<Output = Result<T, mcp::OAuthError>> + Send + 'static,
        T: Send + 'static,
    {
        let engine = client.parts.oauth()?;
        let token = CancellationToken::new();
        let mut opts = request_options(timeout)?;
        opts.cancel = Some(token.clone());
        let failure = client.parts.failure.clone();
        let work = make(engine);
        self.start(fut, token, async move {
            let bounded = opts
                .bound("authorize", async { work.await.map_err(Error::OAuth) })
                .await;
            match bounded {
                Ok(v) => done(v),
                Err(e) => Outcome::Failed(e, Some(failure)),
            }
        })
    }
}

fn text(s: String) -> Outcome {
    Outcome::Text(s)
}

fn unit(_: ()) -> Outcome {
    Outcome::Unit
}

fn created(c: mcp::CreateTaskResult) -> Outcome {
    Outcome::Task(c.task)
}

#[pymethods]
impl AsyncBridge {
    /// A bridge that wakes its loop by writing to `write_fd`, the write end of a non-blocking
    /// pipe whose read end `read_fd` the loop watches. The bridge owns both from now on.
    #[new]
    fn new(read_fd: RawFd, write_fd: RawFd) -> PyResult<Self> {
        if read_fd < 0 || write_fd < 0 || read_fd == write_fd {
            return Err(crate::errors::invalid(
                "two distinct open descriptors are needed",
            ));
        }
        // SAFETY: the caller hands over two open descriptors it will not close (the Python
        // side never does), so each has exactly one owner from here on.
        let (read, wake) = unsafe {
            (
                OwnedFd::from_raw_fd(read_fd),
                OwnedFd::from_raw_fd(write_fd),
            )
        };
        Ok(AsyncBridge {
            shared: Arc::new(Shared {
                queue: Mutex::new(Vec::new()),
                armed: AtomicBool::new(false),
                wake,
                _read: read,
            }),
        })
    }

    /// Every outcome queued since the last drain, as `(future, ok, value)` tuples: `value` is
    /// the result (Python objects, a str or None) or the exception.
    fn drain<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.shared.armed.store(false, Ordering::Release);
        let done =
            std::mem::take(&mut *self.shared.queue.lock().unwrap_or_else(|p| p.into_inner()));
        let mut out = Vec::with_capacity(done.len());
        for s in done {
            let (ok, value): (bool, Py<PyAny>) = match s.outcome {
                Outcome::Text(t) => (true, t.into_pyobject(py)?.into_any().unbind()),
                Outcome::Json(t) => (true, values::from_json(py, &t)?.unbind()),
                Outcome::Items(items) => (true, values::to_py(py, &items)?.unbind()),
                Outcome::Value(v) => (true, values::to_py(py, &v)?.unbind()),
                Outcome::Task(t) => (true, values::to_py(py, &t)?.unbind()),
                Outcome::Tasks(t) => (true, values::to_py(py, &t)?.unbind()),
                Outcome::Unit => (true, py.None()),
                Outcome::Failed(e, failure) => (
                    false,
                    to_py(py, &e, failure.as_ref()).into_value(py).into_any(),
                ),
            };
            out.push(PyTuple::new(py, [s.fut, PyBool(ok).into(py), value])?);
        }
        Ok(out)
    }

    /// Connect `client` (nothing when connected already); `fut` gets None.
    #[pyo3(signature = (client, fut, timeout=None))]
    fn connect(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        let config = client.parts.to_connect(py)?;
        let token = CancellationToken::new();
        let mut opts = request_options(timeout)?;
        opts.cancel = Some(token.clone());
        let parts = client.parts.clone();
        self.start(fut, token, async move {
            let Some(config) = config else {
                return Outcome::Unit;
            };
            match Client::connect_with(config, &opts).await {
                Ok(c) => {
                    parts.connected(c);
                    Outcome::Unit
                }
                Err(e) => Outcome::Failed(e, Some(parts.failure.clone())),
            }
        })
    }

    /// Any request with `params` (a mapping or None), `progress_token` (a str, an int or None)
    /// as its `_meta.progressToken`; `fut` gets the result.
    #[pyo3(signature = (client, fut, method, params=None, timeout=None, progress_token=None))]
    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        method: String,
        params: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
        progress_token: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Pending> {
        let params = match params {
            Some(p) if !p.is_none() => Some(values::mapping_json(Some(p), "params")?),
            _ => None,
        };
        let progress = progress_token_arg(progress_token)?;
        self.request_with_progress(
            py,
            client,
            fut,
            timeout,
            progress,
            |c, opts| async move {
                let r = c.request_raw(&method, params.as_deref(), opts).await?;
                Ok(r.get().to_owned())
            },
            Outcome::Json,
        )
    }

    /// `tools/call` with `arguments` (a mapping or None) and `progress_token` (as for `call`);
    /// `fut` gets the result.
    #[pyo3(signature = (client, fut, name, arguments=None, timeout=None, progress_token=None))]
    #[allow(clippy::too_many_arguments)]
    fn call_tool(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        name: String,
        arguments: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
        progress_token: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Pending> {
        let args = values::mapping_json(arguments, "arguments")?;
        let progress = progress_token_arg(progress_token)?;
        self.request_with_progress(
            py,
            client,
            fut,
            timeout,
            progress,
            |c, opts| async move {
                let r = c.call_tool_raw(&name, &args, opts).await?;
                Ok(r.get().to_owned())
            },
            Outcome::Json,
        )
    }

    /// Every item of `kind`; `fut` gets a list of dicts.
    #[pyo3(signature = (client, fut, kind, timeout=None))]
    fn list(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        kind: &str,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        let kind = ListKind::parse(kind)?;
        self.request(
            py,
            client,
            fut,
            timeout,
            |c, opts| kind.fetch(c, opts),
            Outcome::Items,
        )
    }

    /// Tasks: start the tool `name` as a task (`ttl` in seconds, `progress_token` as for
    /// `call`); `fut` gets the created task.
    #[pyo3(signature = (client, fut, name, arguments=None, ttl=None, timeout=None,
        progress_token=None))]
    #[allow(clippy::too_many_arguments)]
    fn start_tool_task(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        name: String,
        arguments: Option<&Bound<'_, PyAny>>,
        ttl: Option<f64>,
        timeout: Option<f64>,
        progress_token: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Pending> {
        let args = values::mapping_value(arguments, "arguments")?;
        let ttl = crate::config::seconds("ttl", ttl)?;
        let progress = progress_token_arg(progress_token)?;
        self.request_with_progress(
            py,
            client,
            fut,
            timeout,
            progress,
            |c, opts| async move { c.start_tool_task(&name, args, ttl, opts).await },
            created,
        )
    }

    /// Tasks: `tasks/get`; `fut` gets the task.
    #[pyo3(signature = (client, fut, task_id, timeout=None))]
    fn task_status(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        task_id: String,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        self.request(
            py,
            client,
            fut,
            timeout,
            |c, opts| async move { c.task_status_with(&task_id, opts).await },
            Outcome::Task,
        )
    }

    /// Tasks: wait for the task to end, within `timeout` as a whole; `fut` gets its result.
    /// Cancelling the call stops the wait and leaves the task running.
    #[pyo3(signature = (client, fut, task_id, timeout=None))]
    fn task_result(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        task_id: String,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        self.request(
            py,
            client,
            fut,
            timeout,
            |c, opts| async move { c.wait_task(&task_id, opts).await },
            Outcome::Value,
        )
    }

    /// Tasks: `tasks/cancel`; `fut` gets the task in its new state.
    #[pyo3(signature = (client, fut, task_id, timeout=None))]
    fn cancel_task(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        task_id: String,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        self.request(
            py,
            client,
            fut,
            timeout,
            |c, opts| async move { c.cancel_task_with(&task_id, opts).await },
            Outcome::Task,
        )
    }

    /// Tasks: every task (`tasks/list`, all pages); `fut` gets a list of dicts.
    #[pyo3(signature = (client, fut, timeout=None))]
    fn list_tasks(
        &self,
        py: Python<'_>,
        client: &NativeClient,
        fut: Py<PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        self.request(
            py,
            client,
            fut,
            timeout,
            |c, opts| async move { c.list_tasks_with(opts).await },
            Outcome::Tasks,
        )
    }

    /// OAuth: sign in now.
    #[pyo3(signature = (client, fut, timeout=None))]
    fn authorize(
        &self,
        client: &NativeClient,
        fut: Py<PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        self.oauth(
            client,
            fut,
            timeout,
            |e| async move { e.authorize().await },
            unit,
        )
    }

    /// OAuth two-step, begin; `fut` gets the URL to send the user to.
    #[pyo3(signature = (client, fut, redirect_uri, timeout=None))]
    fn begin_authorization(
        &self,
        client: &NativeClient,
        fut: Py<PyAny>,
        redirect_uri: &str,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        let redirect = url_arg(redirect_uri, "redirect_uri")?;
        self.oauth(
            client,
            fut,
            timeout,
            |e| async move {
                e.begin_authorization(&redirect)
                    .await
                    .map(|u| u.to_string())
            },
            text,
        )
    }

    /// OAuth two-step, complete.
    #[pyo3(signature = (client, fut, redirect_url, timeout=None))]
    fn complete_authorization(
        &self,
        client: &NativeClient,
        fut: Py<PyAny>,
        redirect_url: &str,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        let redirect = url_arg(redirect_url, "redirect_url")?;
        self.oauth(
            client,
            fut,
            timeout,
            |e| async move { e.complete_authorization(&redirect).await },
            unit,
        )
    }

    /// OAuth: log out.
    #[pyo3(signature = (client, fut, timeout=None))]
    fn logout(
        &self,
        client: &NativeClient,
        fut: Py<PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        self.oauth(
            client,
            fut,
            timeout,
            |e| async move { e.logout().await },
            unit,
        )
    }

    /// Close `client` (idempotent).
    fn close(&self, client: &NativeClient, fut: Py<PyAny>) -> PyResult<Pending> {
        let core = client.parts.take();
        self.start(fut, CancellationToken::new(), async move {
            match core {
                Some(c) => match c.close().await {
                    Ok(()) => Outcome::Unit,
                    Err(e) => Outcome::Failed(e, None),
                },
                None => Outcome::Unit,
            }
        })
    }
}

/// A Python bool.
struct PyBool(bool);

impl PyBool {
    fn into(self, py: Python<'_>) -> Py<PyAny> {
        pyo3::types::PyBool::new(py, self.0)
            .to_owned()
            .into_any()
            .unbind()
    }
}
