//! Tasks (protocol 2025-11-25, when [`crate::ServerOptions::tasks`] is on): task-augmented
//! `tools/call`, `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel` and
//! `notifications/tasks/status`.
//!
//! Tasks belong to the session that created them (its authorization context, when auth is
//! on: a session is bound to its token's grant) and their ids are 128 random bits. A task is
//! kept for its `ttl` (at most an hour; a minute when none is asked for), then forgotten.
//!
//! The task tools: `report` (required; works `ms` milliseconds), `convert` (optional;
//! upper-cases `text`), `quick` (forbidden), `confirm` (required; asks the user through
//! elicitation while `input_required`) and `crash` (required; fails, as a tool error or, with
//! `rpc: true`, a JSON-RPC error), `draft` (required; asks the client's model through
//! sampling while `input_required`). `report` sends progress when the request carries a
//! `progressToken`, after the `CreateTaskResult` as the spec allows, until the task ends.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::rpc::{code, is_error, ok, respond, schema, text, RpcError};
use crate::session::{Ctx, Session};
use crate::sync::lock;
use crate::task_store::{terminal, Entry, Input};
/// The longest `ttl` granted.
const MAX_TTL_MS: u64 = 3_600_000;
/// The `ttl` when the requestor asks for none.
const DEFAULT_TTL_MS: u64 = 60_000;
/// The progress notifications `report` sends.
const REPORT_STEPS: u64 = 4;
/// Tasks per `tasks/list` page.
const PAGE_SIZE: usize = 3;
/// How long `tasks/result` waits for the client to answer a task's request.
const INPUT_TIMEOUT: Duration = Duration::from_secs(120);
/// The `_meta` key tying a message to its task.
pub(crate) const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

/// The server's `tasks` capability.
pub(crate) fn capability() -> Value {
    json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}})
}

/// The task tools, listed after the others when tasks are on.
pub(crate) fn tools() -> &'static [Value] {
    static TOOLS: OnceLock<Vec<Value>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let exec = |s: &str| json!({"taskSupport": s});
        vec![
            json!({"name": "report", "title": "Report", "execution": exec("required"),
                "description": "Works `ms` milliseconds (default 200) as a task, then reports.",
                "inputSchema": schema(json!({"ms": {"type": "integer", "minimum": 0}}), &[])}),
            json!({"name": "convert", "title": "Convert", "execution": exec("optional"),
                "description": "Upper-cases `text`, as a task or not.",
                "inputSchema": schema(json!({"text": {"type": "string"}}), &["text"])}),
            json!({"name": "quick", "title": "Quick", "execution": exec("forbidden"),
                "description": "Answers at once; never a task.",
                "inputSchema": schema(json!({}), &[])}),
            json!({"name": "confirm", "title": "Confirm", "execution": exec("required"),
                "description": "Asks the user (elicitation, while input_required), then reports the answer.",
                "inputSchema": schema(json!({"message": {"type": "string"}}), &["message"])}),
            json!({"name": "draft", "title": "Draft", "execution": exec("required"),
                "description": "Asks the client's model (sampling, while input_required) to write about `topic`.",
                "inputSchema": schema(json!({"topic": {"type": "string"}}), &["topic"])}),
            json!({"name": "crash", "title": "Crash", "execution": exec("required"),
                "description": "Fails: a tool error, or a JSON-RPC error with `rpc: true`.",
                "inputSchema": schema(json!({"rpc": {"type": "boolean"}}), &[])}),
        ]
    })
}

/// A tool's `execution.taskSupport` (`None` for the tools without one: forbidden).
fn support(name: &str) -> Option<&'static str> {
    tools()
        .iter()
        .find(|t| t["name"] == name)
        .and_then(|t| t["execution"]["taskSupport"].as_str())
}

/// A `tools/call` when tasks are on: a task created, a negotiation error, or a plain result of
/// a task tool; `None` for the other tools called plainly (the caller runs them).
pub(crate) fn tools_call(
    ctx: &Ctx<'_>,
    name: &str,
    args: &Map<String, Value>,
    params: &Value,
) -> Option<Result<Value, RpcError>> {
    let task = params.get("task").filter(|t| !t.is_null());
    match (task, support(name)) {
        (Some(task), Some("required" | "optional")) => Some(create(ctx, name, args, params, task)),
        (Some(_), _) => Some(Err(RpcError::new(
            code::METHOD_NOT_FOUND,
            format!("Tool {name} does not support task augmentation (taskSupport: 'forbidden')"),
        ))),
        (None, Some("required")) => Some(Err(RpcError::new(
            code::METHOD_NOT_FOUND,
            format!("Tool {name} requires task augmentation (taskSupport: 'required')"),
        ))),
        (None, Some(_)) => Some(plain(name, args)),
        (None, None) => None,
    }
}

/// A task tool that may run plainly.
fn plain(name: &str, args: &Map<String, Value>) -> Result<Value, RpcError> {
    match name {
        "convert" => convert(args),
        _ => Ok(text("quick ok")),
    }
}

fn convert(args: &Map<String, Value>) -> Result<Value, RpcError> {
    args.get("text")
        .and_then(Value::as_str)
        .map(|t| text(t.to_uppercase()))
        .ok_or_else(|| RpcError::new(code::INVALID_PARAMS, "argument `text` must be a string"))
}

/// Creates a task for a `tools/call` and starts its work; the `CreateTaskResult`.
fn create(
    ctx: &Ctx<'_>,
    name: &str,
    args: &Map<String, Value>,
    params: &Value,
    task: &Value,
) -> Result<Value, RpcError> {
    if name == "convert" {
        convert(args)?; // bad arguments fail the call, not the task
    }
    let ttl_ms = task
        .get("ttl")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_TTL_MS)
        .clamp(1, MAX_TTL_MS);
    let entry = Arc::new(Entry::new(
        task_id(),
        ttl_ms,
        ctx.session.token.child_token(),
    ));
    ctx.session.tasks.insert(entry.clone());
    let result = json!({
        "task": entry.json(),
        "_meta": {"io.modelcontextprotocol/model-immediate-response":
            format!("`{name}` is running as task {}", entry.id)},
    });
    let progress = progress_token(params);
    let work = Work {
        entry,
        session: ctx.session.clone(),
        name: name.to_owned(),
        args: args.clone(),
        progress,
    };
    tokio::spawn(work.run());
    Ok(result)
}

/// A task's work, and where it reports.
struct Work {
    entry: Arc<Entry>,
    session: Arc<Session>,
    name: String,
    args: Map<String, Value>,
    /// The `progressToken` of the request that created the task: its progress notifications
    /// carry it until the task ends.
    progress: Option<Value>,
}

/// What a task's work ends with: status, status message, the request's outcome.
type Ending = (&'static str, Option<String>, Result<Value, RpcError>);

impl Work {
    /// Runs until the work ends or the task is cancelled.
    async fn run(self) {
        tokio::select! {
            () = self.entry.cancel.cancelled() => {}
            (status, message, outcome) = self.work() => {
                set_status(&self.entry, &self.session, status, message, Some(outcome));
            }
        }
    }

    async fn work(&self) -> Ending {
        match self.name.as_str() {
            "report" => self.report().await,
            "convert" => ("completed", None, convert(&self.args)),
            "confirm" => self.confirm().await,
            "draft" => self.draft().await,
            "crash" if self.args.get("rpc").and_then(Value::as_bool) == Some(true) => (
                "failed",
                Some("Tool execution failed: the job crashed".to_owned()),
                Err(RpcError::new(code::INTERNAL_ERROR, "the job crashed")),
            ),
            _ => (
                "failed",
                Some("Tool execution failed: the job failed".to_owned()),
                Ok(is_error("the job failed")),
            ),
        }
    }

    /// `report`: `ms` milliseconds of work in four steps, each reported as progress.
    async fn report(&self) -> Ending {
        let ms = self.args.get("ms").and_then(Value::as_u64).unwrap_or(200);
        for step in 1..=REPORT_STEPS {
            tokio::time::sleep(Duration::from_millis(ms / REPORT_STEPS)).await;
            self.progress(step, REPORT_STEPS);
        }
        let done = text(format!("report ready after {ms} ms"));
        ("completed", None, Ok(done))
    }

    /// Sends `notifications/progress` when the request asked for progress.
    fn progress(&self, progress: u64, total: u64) {
        if let Some(token) = &self.progress {
            self.session.send_standalone(json!({
                "jsonrpc": "2.0", "method": "notifications/progress",
                "params": {"progressToken": token, "progress": progress, "total": total,
                    "message": format!("step {progress} of {total}")},
            }));
        }
    }

    /// `confirm`: an elicitation while `input_required`, then the answer as the result.
    async fn confirm(&self) -> Ending {
        let message = self
            .args
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("Confirm?");
        let params = json!({
            "mode": "form",
            "message": message,
            "requestedSchema": {"type": "object",
                "properties": {"ok": {"type": "boolean", "title": "OK"}}},
        });
        match self.ask("elicitation/create", params).await {
            Ok(answer) => ("completed", None, Ok(text(format!("confirmed: {answer}")))),
            Err(ending) => ending,
        }
    }

    /// `draft`: asks the client's model (sampling) while `input_required`, then returns what
    /// it wrote.
    async fn draft(&self) -> Ending {
        let topic = self
            .args
            .get("topic")
            .and_then(Value::as_str)
            .unwrap_or("anything");
        let params = json!({
            "messages": [{"role": "user",
                "content": {"type": "text", "text": format!("Write about {topic}")}}],
            "maxTokens": 100,
        });
        match self.ask("sampling/createMessage", params).await {
            Ok(answer) => {
                let written = answer
                    .pointer("/content/text")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                ("completed", None, Ok(text(format!("draft: {written}"))))
            }
            Err(ending) => ending,
        }
    }

    /// Puts the task in `input_required` with a request for `tasks/result` to deliver; the
    /// client's answer (the task back to `working`), or how the task ends without one.
    async fn ask(&self, method: &'static str, mut params: Value) -> Result<Value, Ending> {
        params["_meta"] = json!({RELATED_TASK: {"taskId": self.entry.id}});
        let (reply, rx) = oneshot::channel();
        lock(&self.entry.state).input = Some(Input {
            method,
            params,
            reply,
        });
        let waiting = Some("Waiting for the user".into());
        set_status(&self.entry, &self.session, "input_required", waiting, None);
        match rx.await {
            Ok(Ok(answer)) => {
                set_status(&self.entry, &self.session, "working", None, None);
                Ok(answer)
            }
            Ok(Err(e)) => Err((
                "failed",
                Some(format!("the client refused: {e}")),
                Ok(is_error(format!("the client refused: {e}"))),
            )),
            Err(_) => Err((
                "failed",
                Some("no answer".into()),
                Ok(is_error("no answer")),
            )),
        }
    }
}

/// Moves a task to `status` and tells the client (`notifications/tasks/status`), unless the
/// task had ended already.
fn set_status(
    entry: &Entry,
    session: &Session,
    status: &'static str,
    message: Option<String>,
    outcome: Option<Result<Value, RpcError>>,
) {
    if entry.set(status, message, outcome) {
        session.send_standalone(json!({
            "jsonrpc": "2.0", "method": "notifications/tasks/status", "params": entry.json(),
        }));
    }
}

/// The request's `_meta.progressToken`, when it is a string or a number.
fn progress_token(params: &Value) -> Option<Value> {
    params
        .pointer("/_meta/progressToken")
        .filter(|t| t.is_string() || t.is_number())
        .cloned()
}

/// `tasks/get`.
pub(crate) fn get(ctx: &Ctx<'_>, params: Option<&Value>) -> Result<Value, RpcError> {
    Ok(ctx.session.tasks.get(params)?.json())
}

/// `tasks/list`.
pub(crate) fn list(ctx: &Ctx<'_>, params: Option<&Value>) -> Result<Value, RpcError> {
    let all = ctx.session.tasks.live();
    let start = match params.and_then(|p| p.get("cursor")) {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => c
            .parse::<usize>()
            .ok()
            .filter(|n| *n < all.len())
            .ok_or_else(|| RpcError::new(code::INVALID_PARAMS, format!("invalid cursor: {c}")))?,
        Some(_) => return Err(RpcError::new(code::INVALID_PARAMS, "invalid cursor")),
    };
    let end = (start + PAGE_SIZE).min(all.len());
    let tasks: Vec<Value> = all[start..end].iter().map(|e| e.json()).collect();
    let mut result = json!({ "tasks": tasks });
    if end < all.len() {
        result["nextCursor"] = Value::String(end.to_string());
    }
    Ok(result)
}

/// `tasks/cancel`.
pub(crate) fn cancel(ctx: &Ctx<'_>, params: Option<&Value>) -> Result<Value, RpcError> {
    let entry = ctx.session.tasks.get(params)?;
    let done = lock(&entry.state).status;
    if terminal(done) {
        return Err(RpcError::new(
            code::INVALID_PARAMS,
            format!("Cannot cancel task: already in terminal status '{done}'"),
        ));
    }
    set_status(
        &entry,
        ctx.session,
        "cancelled",
        Some("The task was cancelled by request.".into()),
        None,
    );
    entry.cancel.cancel();
    Ok(entry.json())
}

/// `tasks/result`: waits for a terminal status, delivering the task's requests for the client
/// on the way; `None` when the request is cancelled.
pub(crate) async fn result(ctx: &Ctx<'_>, id: &Value, params: Option<&Value>) -> Option<Value> {
    let entry = match ctx.session.tasks.get(params) {
        Ok(e) => e,
        Err(e) => return Some(respond(id, Err(e))),
    };
    let guard = ctx.session.track(id);
    let mut changes = entry.changed.subscribe();
    loop {
        let input = {
            let mut s = lock(&entry.state);
            if terminal(s.status) {
                return Some(final_answer(id, &entry.id, s.status, s.outcome.clone()));
            }
            s.input.take()
        };
        if let Some(input) = input {
            let answer = deliver(ctx, &guard.token, &entry.id, &input).await?;
            let _ = input.reply.send(answer);
            continue;
        }
        tokio::select! {
            () = guard.token.cancelled() => return None,
            r = changes.changed() => if r.is_err() { return None },
        }
    }
}

/// The response to `tasks/result` for a terminal task: the underlying request's own answer,
/// tied to the task.
fn final_answer(
    id: &Value,
    task_id: &str,
    status: &str,
    outcome: Option<Result<Value, RpcError>>,
) -> Value {
    match outcome {
        Some(Ok(mut result)) => {
            result["_meta"] = json!({RELATED_TASK: {"taskId": task_id}});
            ok(id, result)
        }
        Some(Err(e)) => respond(id, Err(e)),
        None => respond(
            id,
            Err(RpcError::new(
                code::REQUEST_CANCELLED,
                format!("The task was {status} before it produced a result"),
            )),
        ),
    }
}

/// Sends a task's request to the client on the `tasks/result` stream and waits for the
/// answer: `Ok(result)`, `Err(error object)`; `None` when `tasks/result` is cancelled.
async fn deliver(
    ctx: &Ctx<'_>,
    cancelled: &CancellationToken,
    task_id: &str,
    input: &Input,
) -> Option<Result<Value, Value>> {
    let rid = Value::from(ctx.session.next_request_id());
    let rx = ctx.session.expect_response(&rid);
    let msg = json!({"jsonrpc": "2.0", "id": rid, "method": input.method, "params": input.params});
    if !ctx.out.send(msg) {
        ctx.session.forget_response(&rid);
        return Some(Err(json!({"message": "no stream to send the request on"})));
    }
    let answer = tokio::select! {
        () = cancelled.cancelled() => {
            ctx.session.forget_response(&rid);
            return None;
        }
        r = tokio::time::timeout(INPUT_TIMEOUT, rx) => r,
    };
    let Ok(Ok(msg)) = answer else {
        ctx.session.forget_response(&rid);
        return Some(Err(json!({"message": "the client did not answer"})));
    };
    if let Some(err) = msg.get("error") {
        return Some(Err(err.clone()));
    }
    let result = msg.get("result").cloned().unwrap_or(Value::Null);
    let related = result
        .pointer(&format!(
            "/_meta/{}/taskId",
            RELATED_TASK.replace('/', "~1")
        ))
        .and_then(Value::as_str);
    if related != Some(task_id) {
        return Some(Err(
            json!({"message": "the answer does not carry the task's related-task metadata"}),
        ));
    }
    Some(Ok(result))
}

/// 128 random bits, hex: unguessable task ids.
fn task_id() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        return crate::session::random_id();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}
