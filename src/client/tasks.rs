//! Tasks (protocol 2025-11-25): task-augmented `tools/call`, polling with `tasks/get` at the
//! server's `pollInterval`, `tasks/result`, `tasks/list`, `tasks/cancel`.
//!
//! A tool whose `execution.taskSupport` is `required` (learnt from `tools/list`, or from the
//! server's refusal of a plain call when the tool was never listed) is called as a task by
//! [`Client::call_tool`] and friends: the caller gets the final result, and the server's
//! `notifications/tasks/status` reach the notification hook as every notification does. The
//! call's timeout bounds the whole wait and its cancellation token cancels the task
//! (`tasks/cancel`). Requests the server sends while a task is `input_required` (elicitation,
//! sampling) carry the task's `io.modelcontextprotocol/related-task` metadata; the host's
//! handlers answer them and the answer carries it back (`super::answer_server_request`).
//!
//! Tasks are only used with a server that declares `tasks.requests.tools.call`, and only on
//! the stateful revisions (2026-07-28 moved tasks to an extension this client does not speak).
//! The client runs no tasks for the server's requests, so it declares no `tasks` capability.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Client, Params, RequestOptions};
use crate::error::{Error, ErrorKind, Result, RpcError};
use crate::types::{decode, decode_list, CreateTaskResult, Task, TaskStatus, TaskSupport};

/// The `_meta` key tying a message to its task.
pub(crate) const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";
/// The polling interval when the server suggests none.
const DEFAULT_POLL: Duration = Duration::from_secs(1);
/// The shortest polling interval, whatever the server suggests.
const MIN_POLL: Duration = Duration::from_millis(10);
/// JSON-RPC "invalid request" (a server may refuse a plain call with it).
const INVALID_REQUEST: i64 = -32600;

/// The `execution.taskSupport` of the tools listed so far, by name; emptied when the server
/// says its tools changed.
pub(crate) type TaskSupportCache = Arc<RwLock<HashMap<String, TaskSupport>>>;

/// How one `tools/call` goes out.
enum Mode {
    /// A plain request.
    Plain,
    /// A task.
    Task,
    /// A plain request, retried as a task if the server says the tool needs one.
    Probe,
}

/// Whether a refused plain `tools/call` means "call this tool as a task": `-32601` (what the
/// spec prescribes), or `-32600` / `-32602` saying so (what some servers answer).
fn demands_task(e: &RpcError) -> bool {
    match e.code {
        RpcError::METHOD_NOT_FOUND => true,
        INVALID_REQUEST | RpcError::INVALID_PARAMS => {
            e.message.to_ascii_lowercase().contains("task augmentation")
        }
        _ => false,
    }
}

/// Put what a `tools/list` page says about task support in the cache.
pub(crate) fn remember_task_support(cache: &TaskSupportCache, tools: &[Value], replace: bool) {
    let mut map = cache.write().unwrap_or_else(|p| p.into_inner());
    if replace {
        map.clear();
    }
    for t in tools {
        if let Some(name) = t.get("name").and_then(Value::as_str) {
            map.insert(name.to_owned(), TaskSupport::of_tool(t));
        }
    }
}

/// The error for a wait that ran out or was cancelled, named after the whole call (`method`
/// with the timeout `total`) rather than the step it stopped in.
fn as_call_error(e: Error, method: &str, total: Duration) -> Error {
    match e.kind() {
        ErrorKind::Timeout => Error::Timeout {
            method: method.into(),
            after: total,
        },
        ErrorKind::Cancelled => Error::Cancelled {
            method: method.into(),
        },
        _ => e,
    }
}

/// The pause before the next `tasks/get`: the server's `pollInterval`, within bounds.
fn poll_pause(task: &Task) -> Duration {
    task.poll_interval
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_POLL)
        .max(MIN_POLL)
}

/// Per-request options for one step of a task's wait: what is left of the whole call's time.
fn step_options(deadline: Instant, cancel: Option<&CancellationToken>) -> RequestOptions {
    let left = deadline.saturating_duration_since(Instant::now());
    RequestOptions {
        timeout: Some(left.max(Duration::from_millis(1))),
        cancel: cancel.cloned(),
        progress_token: None,
    }
}

impl Client {
    /// Whether the server accepts task-augmented `tools/call` (it declares
    /// `tasks.requests.tools.call`, on a stateful revision).
    pub fn supports_tool_tasks(&self) -> bool {
        self.inner
            .tool_tasks
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// A tool's `execution.taskSupport`, as the last `tools/list` gave it (`None` when the tool
    /// has not been listed since the client connected or the server's tools changed).
    pub fn tool_task_support(&self, name: &str) -> Option<TaskSupport> {
        self.inner
            .task_support
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .copied()
    }

    fn tool_mode(&self, name: &str) -> Mode {
        if !self.supports_tool_tasks() {
            return Mode::Plain; // the spec's MUST NOT
        }
        match self.tool_task_support(name) {
            Some(TaskSupport::Required) => Mode::Task,
            Some(_) => Mode::Plain,
            None => Mode::Probe,
        }
    }

    /// `tools/call` as the tool needs it: plainly, or as a task waited for to the end.
    pub(super) async fn call_tool_any(
        &self,
        name: &str,
        params: Params<'_>,
        opts: &RequestOptions,
    ) -> Result<Box<RawValue>> {
        match self.tool_mode(name) {
            Mode::Plain => self.dispatch("tools/call", params, opts).await,
            Mode::Task => self.call_as_task(name, params, opts).await,
            Mode::Probe => {
                let started = Instant::now();
                match self.dispatch("tools/call", params, opts).await {
                    Err(Error::Rpc(e)) if demands_task(&e) => {
                        tracing::debug!(tool = name, error = %e, "the tool needs a task; calling it as one");
                        let total = opts.timeout.unwrap_or(self.config().request_timeout);
                        let opts = RequestOptions {
                            timeout: Some(total.saturating_sub(started.elapsed())),
                            ..opts.clone()
                        };
                        let out = self.call_as_task(name, params, &opts).await;
                        if !matches!(&out, Err(Error::Rpc(e)) if demands_task(e)) {
                            // The server took it as a task: remember that it needs one.
                            self.inner
                                .task_support
                                .write()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(name.to_owned(), TaskSupport::Required);
                        }
                        out
                    }
                    other => other,
                }
            }
        }
    }

    /// Call a tool as a task and wait for its result, within `opts` as a whole; a wait that
    /// runs out or is cancelled cancels the task.
    async fn call_as_task(
        &self,
        name: &str,
        params: Params<'_>,
        opts: &RequestOptions,
    ) -> Result<Box<RawValue>> {
        let total = opts.timeout.unwrap_or(self.config().request_timeout);
        let deadline = Instant::now() + total;
        let cancel = opts.cancel.as_ref();
        // The progress token goes with the request that creates the task, and only with it.
        let create = RequestOptions {
            progress_token: opts.progress_token.clone(),
            ..step_options(deadline, cancel)
        };
        let created = self
            .create_task(params, None, &create)
            .await
            .map_err(|e| as_call_error(e, "tools/call", total))?;
        let task_id = created.task.task_id.clone();
        tracing::debug!(tool = name, task = %task_id, "tool task created");
        match self.wait_until_done(created.task, deadline, cancel).await {
            Err(e) if matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Cancelled) => {
                self.abandon_task(&task_id);
                Err(as_call_error(e, "tools/call", total))
            }
            other => other,
        }
    }

    /// Send a task-augmented `tools/call` and read the `CreateTaskResult`.
    async fn create_task(
        &self,
        params: Params<'_>,
        ttl: Option<Duration>,
        opts: &RequestOptions,
    ) -> Result<CreateTaskResult> {
        let mut map = params.into_map("tools/call")?;
        let mut task = serde_json::Map::new();
        if let Some(ttl) = ttl {
            let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
            task.insert("ttl".into(), Value::from(ms));
        }
        map.insert("task".into(), Value::Object(task));
        let p = Value::Object(map);
        let raw = self
            .dispatch("tools/call", Params::Value(Some(&p)), opts)
            .await?;
        let v: Value = serde_json::from_str(raw.get())
            .map_err(|e| Error::MalformedMessage(format!("result of `tools/call`: {e}")))?;
        decode("tools/call", "CreateTaskResult", v)
    }

    /// Poll a task until it needs input or ends, then fetch its result with `tasks/result`
    /// (which also carries the server's requests while the task needs input).
    async fn wait_until_done(
        &self,
        mut task: Task,
        deadline: Instant,
        cancel: Option<&CancellationToken>,
    ) -> Result<Box<RawValue>> {
        while !task.status.is_terminal() && task.status != TaskStatus::InputRequired {
            let pause =
                tokio::time::sleep_until((Instant::now() + poll_pause(&task)).min(deadline));
            match cancel {
                Some(token) => tokio::select! {
                    biased;
                    () = token.cancelled() => {
                        return Err(Error::Cancelled { method: "tasks/get".into() })
                    }
                    () = pause => {}
                },
                None => pause.await,
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    method: "tasks/get".into(),
                    after: Duration::ZERO,
                });
            }
            let p = json!({ "taskId": task.task_id });
            let raw = self
                .dispatch(
                    "tasks/get",
                    Params::Value(Some(&p)),
                    &step_options(deadline, cancel),
                )
                .await?;
            task = decode_task("tasks/get", &raw)?;
        }
        let p = json!({ "taskId": task.task_id });
        self.dispatch(
            "tasks/result",
            Params::Value(Some(&p)),
            &step_options(deadline, cancel),
        )
        .await
    }

    /// Tell the server a task's result will not be fetched (when it supports `tasks/cancel`).
    fn abandon_task(&self, task_id: &str) {
        if !self
            .inner
            .task_cancel
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return;
        }
        let client = self.clone();
        let task_id = task_id.to_owned();
        self.inner.home.spawn(async move {
            if let Err(e) = client.cancel_task(&task_id).await {
                tracing::debug!(error = %e, task = %task_id, "could not cancel an abandoned task");
            }
        });
    }

    // ---- the explicit API ---------------------------------------------------------------

    /// Start a tool as a task (a `tools/call` with a `task` field) and return at once with the
    /// task: follow it with [`Client::task_status`], [`Client::wait_task`] or
    /// [`Client::task_result`]. `ttl` asks the server to keep the task that long from its
    /// creation (it may keep it for less).
    ///
    /// An [`Error::InvalidArgument`] when the server does not accept tool tasks
    /// ([`Client::supports_tool_tasks`]) or the tool is listed as `forbidden`.
    pub async fn start_tool_task(
        &self,
        name: &str,
        arguments: Value,
        ttl: Option<Duration>,
        opts: RequestOptions,
    ) -> Result<CreateTaskResult> {
        if !self.supports_tool_tasks() {
            return Err(Error::InvalidArgument(
                "the server does not accept task-augmented tool calls".into(),
            ));
        }
        if self.tool_task_support(name) == Some(TaskSupport::Forbidden) {
            return Err(Error::InvalidArgument(format!(
                "the tool `{name}` cannot be called as a task"
            )));
        }
        self.create_task(Params::Tool(name, &arguments), ttl, &opts)
            .await
    }

    /// `tasks/get`: the task's current state.
    pub async fn task_status(&self, task_id: &str) -> Result<Task> {
        self.task_status_with(task_id, RequestOptions::default())
            .await
    }

    /// [`Client::task_status`] with per-request options.
    pub async fn task_status_with(&self, task_id: &str, opts: RequestOptions) -> Result<Task> {
        let p = task_params(task_id)?;
        let raw = self
            .dispatch("tasks/get", Params::Value(Some(&p)), &opts)
            .await?;
        decode_task("tasks/get", &raw)
    }

    /// `tasks/result`: the result of the task's request (a `CallToolResult` for a tool), or
    /// its JSON-RPC error as [`Error::Rpc`]. The server holds the answer until the task ends,
    /// delivering its requests for the host's handlers meanwhile; the default timeout applies.
    pub async fn task_result(&self, task_id: &str) -> Result<Value> {
        self.task_result_with(task_id, RequestOptions::default())
            .await
    }

    /// [`Client::task_result`] with per-request options.
    pub async fn task_result_with(&self, task_id: &str, opts: RequestOptions) -> Result<Value> {
        self.request_with("tasks/result", Some(task_params(task_id)?), opts)
            .await
    }

    /// Wait for a task the host started: poll `tasks/get` at the server's `pollInterval` until
    /// it needs input or ends, then return [`Client::task_result`]. `opts` bounds the whole
    /// wait; a wait that runs out or is cancelled leaves the task running (cancel it with
    /// [`Client::cancel_task`]).
    pub async fn wait_task(&self, task_id: &str, opts: RequestOptions) -> Result<Value> {
        let total = opts.timeout.unwrap_or(self.config().request_timeout);
        let deadline = Instant::now() + total;
        let cancel = opts.cancel.as_ref();
        let task = self
            .task_status_with(task_id, step_options(deadline, cancel))
            .await?;
        let raw = self
            .wait_until_done(task, deadline, cancel)
            .await
            .map_err(|e| as_call_error(e, "tasks/result", total))?;
        serde_json::from_str(raw.get())
            .map_err(|e| Error::MalformedMessage(format!("result of `tasks/result`: {e}")))
    }

    /// `tasks/cancel`: the task in its new (`cancelled`) state. Cancelling a task that already
    /// ended is the server's `-32602` error.
    pub async fn cancel_task(&self, task_id: &str) -> Result<Task> {
        self.cancel_task_with(task_id, RequestOptions::default())
            .await
    }

    /// [`Client::cancel_task`] with per-request options.
    pub async fn cancel_task_with(&self, task_id: &str, opts: RequestOptions) -> Result<Task> {
        let p = task_params(task_id)?;
        let raw = self
            .dispatch("tasks/cancel", Params::Value(Some(&p)), &opts)
            .await?;
        decode_task("tasks/cancel", &raw)
    }

    /// Every task the server keeps for this client (`tasks/list`, following `nextCursor`).
    pub async fn list_tasks(&self) -> Result<Vec<Task>> {
        self.list_tasks_with(RequestOptions::default()).await
    }

    /// [`Client::list_tasks`] with per-request options (for each page).
    pub async fn list_tasks_with(&self, opts: RequestOptions) -> Result<Vec<Task>> {
        let tasks = self.collect_pages("tasks/list", "tasks", &opts).await?;
        decode_list("tasks/list", "Task", tasks)
    }
}

/// The params naming a task; an empty id (no server has one) is refused before any request.
fn task_params(task_id: &str) -> Result<Value> {
    if task_id.is_empty() {
        return Err(Error::InvalidArgument("the task id is empty".into()));
    }
    Ok(json!({ "taskId": task_id }))
}

fn decode_task(method: &str, raw: &RawValue) -> Result<Task> {
    serde_json::from_str(raw.get()).map_err(|e| {
        Error::MalformedMessage(format!("the `{method}` result is not a valid Task: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_that_ask_for_a_task() {
        assert!(demands_task(&RpcError::new(-32601, "Method not found")));
        assert!(demands_task(&RpcError::new(
            -32600,
            "Task augmentation required for tools/call requests"
        )));
        assert!(demands_task(&RpcError::new(
            -32602,
            "tool x requires task augmentation"
        )));
        assert!(!demands_task(&RpcError::new(-32602, "Unknown tool: task")));
        assert!(!demands_task(&RpcError::new(-32603, "task augmentation")));
    }

    #[test]
    fn polling_follows_the_server_within_bounds() {
        let task = |poll: Option<u64>| Task {
            task_id: "t".into(),
            status: TaskStatus::Working,
            status_message: None,
            created_at: String::new(),
            last_updated_at: String::new(),
            ttl: None,
            poll_interval: poll,
            meta: None,
            extra: Default::default(),
        };
        assert_eq!(poll_pause(&task(Some(250))), Duration::from_millis(250));
        assert_eq!(poll_pause(&task(Some(0))), MIN_POLL);
        assert_eq!(poll_pause(&task(None)), DEFAULT_POLL);
    }
}
