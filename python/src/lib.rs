//! The native half of the `mcp_client` Python package: the Rust core's client behind a small
//! class whose blocking calls release the GIL and run on the calling thread's own runtime
//! (see `mcp_client::runtime`). Parameters and results cross as JSON text; the Python half
//! (`mcp_client/__init__.py`) turns them into dicts and raises the exception tree of
//! `mcp_client/errors.py`. No behaviour lives here that the core does not have.

use std::sync::Mutex;
use std::time::Duration;

use mcp::{Client, ClientBuilder, Error, ErrorKind, RequestOptions, StdioCommand};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde_json::value::RawValue;

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

/// A core error as the Python exception of its class, carrying the server's fields.
fn to_py(py: Python<'_>, e: &Error) -> PyErr {
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
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|import_failed| import_failed)
}

/// Run `fut` with the GIL released: requests on this thread's own runtime, connecting and
/// closing on the shared one (where the client's background work lives).
fn block<T: Send>(
    py: Python<'_>,
    home: bool,
    fut: impl std::future::Future<Output = Result<T, Error>> + Send,
) -> PyResult<T> {
    let out = py.detach(|| {
        if home {
            match mcp::runtime::shared() {
                Ok(rt) => Ok(rt.block_on(fut)),
                Err(e) => Err(e),
            }
        } else {
            mcp::runtime::block_on_thread(fut)
        }
    });
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(py, &e)),
        Err(e) => Err(PyRuntimeError::new_err(format!(
            "cannot start the runtime: {e}"
        ))),
    }
}

fn request_options(timeout: Option<f64>) -> PyResult<RequestOptions> {
    match timeout {
        None => Ok(RequestOptions::default()),
        Some(t) if t.is_finite() && t > 0.0 => {
            Ok(RequestOptions::timeout(Duration::from_secs_f64(t)))
        }
        Some(t) => Err(PyValueError::new_err(format!(
            "timeout must be a positive number of seconds, not {t}"
        ))),
    }
}

fn raw(json: &str, what: &str) -> PyResult<Box<RawValue>> {
    RawValue::from_string(json.to_owned())
        .map_err(|e| PyValueError::new_err(format!("{what} is not JSON: {e}")))
}

/// A connected client (the Python `Client` wraps it).
#[pyclass(frozen, module = "mcp_client._native")]
struct NativeClient {
    core: Mutex<Option<Client>>,
}

impl NativeClient {
    fn core(&self, py: Python<'_>) -> PyResult<Client> {
        let guard = self.core.lock().unwrap_or_else(|p| p.into_inner());
        guard.clone().ok_or_else(|| to_py(py, &Error::Closed))
    }
}

#[pymethods]
impl NativeClient {
    /// Connect to `url` (Streamable HTTP, else the legacy HTTP+SSE transport) or start
    /// `command` (stdio).
    #[new]
    #[pyo3(signature = (url=None, *, command=None, bearer=None, headers=None, timeout=None))]
    fn new(
        py: Python<'_>,
        url: Option<&str>,
        command: Option<&str>,
        bearer: Option<&str>,
        headers: Option<Vec<(String, String)>>,
        timeout: Option<f64>,
    ) -> PyResult<Self> {
        let mut b = match (url, command) {
            (Some(u), None) => ClientBuilder::http(u).map_err(|e| to_py(py, &e))?,
            (None, Some(c)) => {
                ClientBuilder::stdio(StdioCommand::parse(c).map_err(|e| to_py(py, &e))?)
            }
            _ => return Err(PyValueError::new_err("give exactly one of url and command")),
        };
        if let Some(t) = bearer {
            b = b.bearer(t);
        }
        for (k, v) in headers.unwrap_or_default() {
            b = b.header(&k, &v);
        }
        if let Some(t) = request_options(timeout)?.timeout {
            b = b.request_timeout(t);
        }
        let config = b.build();
        let client = block(py, true, async move {
            Client::connect_with(config, &RequestOptions::default()).await
        })?;
        Ok(NativeClient {
            core: Mutex::new(Some(client)),
        })
    }

    /// Any request: params and result as JSON text.
    #[pyo3(signature = (method, params_json=None, timeout=None))]
    fn call(
        &self,
        py: Python<'_>,
        method: String,
        params_json: Option<&str>,
        timeout: Option<f64>,
    ) -> PyResult<String> {
        let core = self.core(py)?;
        let params = params_json.map(|p| raw(p, "params")).transpose()?;
        let opts = request_options(timeout)?;
        let out = block(py, false, async move {
            core.request_raw(&method, params.as_deref(), opts).await
        })?;
        Ok(out.get().to_owned())
    }

    /// `tools/call`: arguments and result as JSON text.
    #[pyo3(signature = (name, arguments_json, timeout=None))]
    fn call_tool(
        &self,
        py: Python<'_>,
        name: String,
        arguments_json: &str,
        timeout: Option<f64>,
    ) -> PyResult<String> {
        let core = self.core(py)?;
        let args = raw(arguments_json, "arguments")?;
        let opts = request_options(timeout)?;
        let out = block(py, false, async move {
            core.call_tool_raw(&name, &args, opts).await
        })?;
        Ok(out.get().to_owned())
    }

    /// Every item of `kind` (`tools`, `resources` or `prompts`), pagination followed by the
    /// core, as a JSON array.
    #[pyo3(signature = (kind, timeout=None))]
    fn list(&self, py: Python<'_>, kind: &str, timeout: Option<f64>) -> PyResult<String> {
        let core = self.core(py)?;
        let opts = request_options(timeout)?;
        let items = match kind {
            "tools" => block(py, false, async move { core.list_tools_with(opts).await })?,
            "resources" => block(
                py,
                false,
                async move { core.list_resources_with(opts).await },
            )?,
            "prompts" => block(py, false, async move { core.list_prompts_with(opts).await })?,
            other => {
                return Err(PyValueError::new_err(format!(
                    "nothing to list called `{other}`"
                )))
            }
        };
        serde_json::to_string(&items).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The negotiated protocol version.
    fn protocol_version(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.core(py)?.protocol_version())
    }

    /// Close the session (idempotent).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let core = self.core.lock().unwrap_or_else(|p| p.into_inner()).take();
        match core {
            Some(c) => block(py, true, async move { c.close().await }),
            None => Ok(()),
        }
    }
}

impl Drop for NativeClient {
    /// A client Python forgot to close: dropped inside the shared runtime's context (its
    /// tasks, pools and child process are tokio objects), which also stops a stdio server.
    fn drop(&mut self) {
        let core = self
            .core
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let (Some(c), Ok(rt)) = (core, mcp::runtime::shared()) {
            let _in_runtime = rt.enter();
            drop(c);
        }
    }
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeClient>()?;
    Ok(())
}
