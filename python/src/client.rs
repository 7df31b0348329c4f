//! The blocking client: each call releases the GIL and waits, requests on the calling
//! thread's own runtime, connecting, signing in and out and closing on the shared one.

use std::sync::{Arc, Mutex};

use mcp::oauth::OAuthEngine;
use mcp::{CancellationToken, Client, ClientConfig, Error, ProgressToken, RequestOptions};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyString};
use url::Url;

use crate::config::{seconds, Built, NativeConfig};
use crate::errors::{invalid, to_py, CallbackFailure};
use crate::run::{block, On};
use crate::values;

/// Per-call options: the timeout, in seconds.
pub(crate) fn request_options(timeout: Option<f64>) -> PyResult<RequestOptions> {
    Ok(RequestOptions {
        timeout: seconds("timeout", timeout)?,
        ..Default::default()
    })
}

/// A `progress_token` argument: None, a str, or an int within 64 bits. A bool (an int to
/// Python) is refused, as is any other type (`TypeError`); an int out of range is an
/// `InvalidArgumentError`.
pub(crate) fn progress_token_arg(
    token: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<ProgressToken>> {
    let Some(token) = token.filter(|t| !t.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = token.cast::<PyString>() {
        return Ok(Some(ProgressToken::from(s.to_cow()?.into_owned())));
    }
    if token.cast::<PyBool>().is_err() {
        if let Ok(i) = token.cast::<PyInt>() {
            return match i.extract::<i64>() {
                Ok(n) => Ok(Some(ProgressToken::from(n))),
                Err(_) => Err(invalid(format!(
                    "`progress_token` must be an int within 64 bits \
                     (-2**63 to 2**63 - 1), not {}",
                    i.str()?.to_cow()?
                ))),
            };
        }
    }
    let kind = token.get_type().name()?;
    Err(PyTypeError::new_err(format!(
        "`progress_token` must be a str or an int, not {kind}"
    )))
}

/// Per-call options with a cancellation token of their own (fired by Ctrl-C).
fn cancellable(timeout: Option<f64>) -> PyResult<(RequestOptions, CancellationToken)> {
    let mut opts = request_options(timeout)?;
    let token = CancellationToken::new();
    opts.cancel = Some(token.clone());
    Ok((opts, token))
}

/// A task id argument (refused when empty: no server has such a task).
/// A URL argument.
pub(crate) fn url_arg(text: &str, what: &str) -> PyResult<Url> {
    Url::parse(text).map_err(|e| invalid(format!("`{what}` does not parse: {e}")))
}

/// The state of one client: made, connected, or closed.
struct State {
    config: ClientConfig,
    core: Option<Client>,
    closed: bool,
}

/// What the Python `Client` and `AsyncClient` hold: the configuration, the core client once
/// connected, and the OAuth engine (usable before connecting: sign in first, or the two-step
/// flow).
pub(crate) struct Parts {
    state: Mutex<State>,
    pub oauth: Option<Arc<OAuthEngine>>,
    pub failure: CallbackFailure,
}

impl Parts {
    /// A client not connected yet.
    pub fn new(built: Built) -> Self {
        Parts {
            state: Mutex::new(State {
                config: built.config,
                core: None,
                closed: false,
            }),
            oauth: built.oauth,
            failure: built.failure,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connected client, or `ClosedError` (closed, or not connected yet).
    pub fn client(&self, py: Python<'_>) -> PyResult<Client> {
        let s = self.state();
        match &s.core {
            Some(c) => Ok(c.clone()),
            None if s.closed => Err(to_py(py, &Error::Closed, None)),
            None => Err(crate::errors::not_connected()),
        }
    }

    /// What `connect` needs: `None` when connected already, the configuration otherwise.
    pub fn to_connect(&self, py: Python<'_>) -> PyResult<Option<ClientConfig>> {
        let s = self.state();
        if s.closed {
            return Err(to_py(py, &Error::Closed, None));
        }
        Ok(s.core.is_none().then(|| s.config.clone()))
    }

    /// Keep the client `connect` made (the first, if two connects raced; a client closed
    /// meanwhile is closed again by dropping the new one).
    pub fn connected(&self, c: Client) {
        let mut s = self.state();
        if s.core.is_none() && !s.closed {
            s.core = Some(c);
        } else if let Ok(rt) = mcp::runtime::shared() {
            let _in_runtime = rt.enter();
            drop(c);
        }
    }

    /// The OAuth engine, or `InvalidArgumentError` for a client without OAuth.
    pub fn oauth(&self) -> PyResult<Arc<OAuthEngine>> {
        self.oauth
            .clone()
            .ok_or_else(|| invalid("this client does not use OAuth (give oauth=OAuth(...))"))
    }

    /// Mark closed and take the client out for closing (None when not connected).
    pub fn take(&self) -> Option<Client> {
        let mut s = self.state();
        s.closed = true;
        s.core.take()
    }
}

impl Drop for Parts {
    /// A client Python forgot to close: dropped inside the shared runtime's context (its tasks,
    /// pools and child process are tokio objects), which also stops a stdio server.
    fn drop(&mut self) {
        let core = self.state().core.take();
        if let (Some(c), Ok(rt)) = (core, mcp::runtime::shared()) {
            let _in_runtime = rt.enter();
            drop(c);
        }
    }
}

/// Refuse a blocking call made from inside the library's own threads (a callback of this
/// client calling it back), where waiting would deadlock or nest runtimes.
fn not_in_callback() -> PyResult<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(invalid(
            "a blocking Client call cannot be made from inside one of its callbacks",
        ));
    }
    Ok(())
}

/// A connected client (the Python `Client` wraps it).
#[pyclass(frozen, module = "mcp_client._native")]
pub(crate) struct NativeClient {
    pub parts: Arc<Parts>,
}

impl NativeClient {
    /// A request: `f` gets the client and the options (timeout, and the token Ctrl-C fires).
    fn run<T: Send, F>(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        f: impl FnOnce(Client, RequestOptions) -> F,
    ) -> PyResult<T>
    where
        F: std::future::Future<Output = Result<T, Error>> + Send,
    {
        self.run_with_progress(py, timeout, None, f)
    }

    /// `run`, the request carrying `progress` as its `_meta.progressToken`.
    fn run_with_progress<T: Send, F>(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        progress: Option<ProgressToken>,
        f: impl FnOnce(Client, RequestOptions) -> F,
    ) -> PyResult<T>
    where
        F: std::future::Future<Output = Result<T, Error>> + Send,
    {
        not_in_callback()?;
        let core = self.parts.client(py)?;
        let (mut opts, token) = cancellable(timeout)?;
        opts.progress_token = progress;
        block(
            py,
            On::Thread,
            Some(&self.parts.failure),
            Some(&token),
            f(core, opts),
        )
    }

    fn run_oauth<T: Send, F>(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        f: impl FnOnce(Arc<OAuthEngine>) -> F,
    ) -> PyResult<T>
    where
        F: std::future::Future<Output = Result<T, mcp::OAuthError>> + Send,
    {
        not_in_callback()?;
        let engine = self.parts.oauth()?;
        let (opts, token) = cancellable(timeout)?;
        let fut = f(engine);
        block(
            py,
            On::Home,
            Some(&self.parts.failure),
            Some(&token),
            async move {
                opts.bound("authorize", async { fut.await.map_err(Error::OAuth) })
                    .await
            },
        )
    }
}

#[pymethods]
impl NativeClient {
    /// A client made of `config` (used up by it); nothing is contacted until `connect`.
    #[new]
    fn new(config: &NativeConfig) -> PyResult<Self> {
        Ok(NativeClient {
            parts: Arc::new(Parts::new(config.take()?)),
        })
    }

    /// Connect (start the transport, `initialize`); nothing when connected already.
    #[pyo3(signature = (timeout=None))]
    fn connect(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        not_in_callback()?;
        let Some(config) = self.parts.to_connect(py)? else {
            return Ok(());
        };
        let (opts, token) = cancellable(timeout)?;
        let client = block(
            py,
            On::Home,
            Some(&self.parts.failure),
            Some(&token),
            async move { Client::connect_with(config, &opts).await },
        )?;
        self.parts.connected(client);
        Ok(())
    }

    /// Any request: `params` (a mapping or None) and the result as Python objects;
    /// `progress_token` (a str, an int or None) goes as `_meta.progressToken`.
    #[pyo3(signature = (method, params=None, timeout=None, progress_token=None))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        method: String,
        params: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
        progress_token: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let params = match params {
            Some(p) if !p.is_none() => Some(values::mapping_json(Some(p), "params")?),
            _ => None,
        };
        let progress = progress_token_arg(progress_token)?;
        let out = self.run_with_progress(py, timeout, progress, |c, opts| async move {
            c.request_raw(&method, params.as_deref(), opts).await
        })?;
        values::from_json(py, out.get())
    }

    /// `tools/call` with `arguments` (a mapping or None); the result as Python objects.
    /// `progress_token`: as for `call` (on the creating request only, for a tool run as a
    /// task).
    #[pyo3(signature = (name, arguments=None, timeout=None, progress_token=None))]
    fn call_tool<'py>(
        &self,
        py: Python<'py>,
        name: String,
        arguments: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
        progress_token: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = values::mapping_json(arguments, "arguments")?;
        let progress = progress_token_arg(progress_token)?;
        let out = self.run_with_progress(py, timeout, progress, |c, opts| async move {
            c.call_tool_raw(&name, &args, opts).await
        })?;
        values::from_json(py, out.get())
    }

    /// Every item of `kind` (`tools`, `resources` or `prompts`), pagination followed by the
    /// core, as a list of dicts.
    #[pyo3(signature = (kind, timeout=None))]
    fn list<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kind = ListKind::parse(kind)?;
        let items = self.run(py, timeout, |c, opts| kind.fetch(c, opts))?;
        values::to_py(py, &items)
    }

    /// Tasks: start the tool `name` as a task with `arguments` (a mapping or None), asking the
    /// server to keep it `ttl` seconds (None: the server's default); the created task as a dict,
    /// before the tool is done. `progress_token`: as for `call` (its notifications come until
    /// the task ends).
    #[pyo3(signature = (name, arguments=None, ttl=None, timeout=None, progress_token=None))]
    fn start_tool_task<'py>(
        &self,
        py: Python<'py>,
        name: String,
        arguments: Option<&Bound<'py, PyAny>>,
        ttl: Option<f64>,
        timeout: Option<f64>,
        progress_token: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = values::mapping_value(arguments, "arguments")?;
        let ttl = seconds("ttl", ttl)?;
        let progress = progress_token_arg(progress_token)?;
        let created = self.run_with_progress(py, timeout, progress, |c, opts| async move {
            c.start_tool_task(&name, args, ttl, opts).await
        })?;
        values::to_py(py, &created.task)
    }

    /// Tasks: the task's current state (`tasks/get`) as a dict; does not wait.
    #[pyo3(signature = (task_id, timeout=None))]
    fn task_status<'py>(
        &self,
        py: Python<'py>,
        task_id: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let task = self.run(py, timeout, |c, opts| async move {
            c.task_status_with(&task_id, opts).await
        })?;
        values::to_py(py, &task)
    }

    /// Tasks: wait for the task to end (polling at the server's `pollInterval`, the whole wait
    /// within `timeout`), then its result (`tasks/result`) as Python objects. A wait that
    /// times out or is interrupted leaves the task running.
    #[pyo3(signature = (task_id, timeout=None))]
    fn task_result<'py>(
        &self,
        py: Python<'py>,
        task_id: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let out = self.run(py, timeout, |c, opts| async move {
            c.wait_task(&task_id, opts).await
        })?;
        values::to_py(py, &out)
    }

    /// Tasks: cancel the task (`tasks/cancel`); the task in its new state as a dict.
    #[pyo3(signature = (task_id, timeout=None))]
    fn cancel_task<'py>(
        &self,
        py: Python<'py>,
        task_id: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let task = self.run(py, timeout, |c, opts| async move {
            c.cancel_task_with(&task_id, opts).await
        })?;
        values::to_py(py, &task)
    }

    /// Tasks: every task the server keeps for this client (`tasks/list`, pagination followed
    /// by the core), as a list of dicts.
    #[pyo3(signature = (timeout=None))]
    fn list_tasks<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let tasks = self.run(py, timeout, |c, opts| async move {
            c.list_tasks_with(opts).await
        })?;
        values::to_py(py, &tasks)
    }

    /// The negotiated protocol version.
    fn protocol_version(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.parts.client(py)?.protocol_version())
    }

    /// The server's `initialize` result.
    fn server_info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        values::to_py(py, &self.parts.client(py)?.server_info())
    }

    /// OAuth: sign in now (quick when a stored or refreshable token will do).
    #[pyo3(signature = (timeout=None))]
    fn authorize(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        self.run_oauth(py, timeout, |e| async move { e.authorize().await })
    }

    /// OAuth two-step, begin: the URL to send the user to, who comes back to `redirect_uri`.
    #[pyo3(signature = (redirect_uri, timeout=None))]
    fn begin_authorization(
        &self,
        py: Python<'_>,
        redirect_uri: &str,
        timeout: Option<f64>,
    ) -> PyResult<String> {
        let redirect = url_arg(redirect_uri, "redirect_uri")?;
        let url = self.run_oauth(py, timeout, |e| async move {
            e.begin_authorization(&redirect).await
        })?;
        Ok(url.to_string())
    }

    /// OAuth two-step, complete: the URL the browser was redirected to.
    #[pyo3(signature = (redirect_url, timeout=None))]
    fn complete_authorization(
        &self,
        py: Python<'_>,
        redirect_url: &str,
        timeout: Option<f64>,
    ) -> PyResult<()> {
        let redirect = url_arg(redirect_url, "redirect_url")?;
        self.run_oauth(py, timeout, |e| async move {
            e.complete_authorization(&redirect).await
        })
    }

    /// OAuth: revoke (when supported), forget and delete the stored tokens.
    #[pyo3(signature = (timeout=None))]
    fn logout(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        self.run_oauth(py, timeout, |e| async move { e.logout().await })
    }

    /// OAuth: what is held now, without secrets.
    fn auth_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        values::to_py(py, &self.parts.oauth()?.status())
    }

    /// Close the session (idempotent).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        not_in_callback()?;
        match self.parts.take() {
            Some(c) => block(py, On::Home, None, None, async move { c.close().await }),
            None => Ok(()),
        }
    }
}

/// What `list` lists.
#[derive(Clone, Copy)]
pub(crate) enum ListKind {
    Tools,
    Resources,
    Prompts,
}

impl ListKind {
    pub fn parse(kind: &str) -> PyResult<Self> {
        match kind {
            "tools" => Ok(Self::Tools),
            "resources" => Ok(Self::Resources),
            "prompts" => Ok(Self::Prompts),
            other => Err(invalid(format!("nothing to list called `{other}`"))),
        }
    }

    /// Every item, following pagination.
    pub async fn fetch(
        self,
        c: Client,
        opts: RequestOptions,
    ) -> Result<Vec<serde_json::Value>, Error> {
        match self {
            Self::Tools => c.list_tools_with(opts).await,
            Self::Resources => c.list_resources_with(opts).await,
            Self::Prompts => c.list_prompts_with(opts).await,
        }
    }
}
