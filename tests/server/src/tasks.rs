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
//! `rpc: true`, a JSON-RPC error).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::mcp::{code, is_error, ok, respond, schema, text, Ctx, RpcError};
use crate::session::{lock, Session};

/// The `pollInterval` suggested to requestors, in milliseconds.
pub(crate) const POLL_MS: u64 = 50;
/// The longest `ttl` granted.
const MAX_TTL_MS: u64 = 3_600_000;
/// The `ttl` when the requestor asks for none.
const DEFAULT_TTL_MS: u64 = 60_000;
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
        (Some(task), Some("required" | "optional")) => Some(create(ctx, name, args, task)),
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

/// A task's state.
pub(crate) struct Entry {
    id: String,
    created: SystemTime,
    started: Instant,
    ttl_ms: u64,
    state: Mutex<State>,
    /// Bumped on every change, for `tasks/result` to wait on.
    changed: watch::Sender<u64>,
    /// Stops the work (`tasks/cancel`, the session's end).
    cancel: CancellationToken,
}

struct State {
    status: &'static str,
    message: Option<String>,
    updated: SystemTime,
    /// The underlying request's outcome, once terminal.
    outcome: Option<Result<Value, RpcError>>,
    /// A request for the client, waiting for `tasks/result` to deliver it.
    input: Option<Input>,
}

/// A request the task needs the client to answer.
struct Input {
    method: &'static str,
    params: Value,
    reply: oneshot::Sender<Result<Value, Value>>,
}

fn terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

impl Entry {
    fn expired(&self) -> bool {
        self.started.elapsed() > Duration::from_millis(self.ttl_ms)
    }

    /// The `Task` object.
    fn json(&self) -> Value {
        let s = lock(&self.state);
        let mut t = json!({
            "taskId": self.id,
            "status": s.status,
            "createdAt": iso8601(self.created),
            "lastUpdatedAt": iso8601(s.updated),
            "ttl": self.ttl_ms,
            "pollInterval": POLL_MS,
        });
        if let Some(m) = &s.message {
            t["statusMessage"] = Value::from(m.as_str());
        }
        t
    }

    /// Moves to `status` (never out of a terminal one) and tells the client.
    fn set(
        &self,
        session: &Session,
        status: &'static str,
        message: Option<String>,
        outcome: Option<Result<Value, RpcError>>,
    ) -> bool {
        {
            let mut s = lock(&self.state);
            if terminal(s.status) {
                return false;
            }
            s.status = status;
            s.message = message;
            s.updated = SystemTime::now();
            if outcome.is_some() {
                s.outcome = outcome;
            }
            if terminal(status) {
                s.input = None;
            }
        }
        self.changed.send_modify(|n| *n += 1);
        session.send_standalone(json!({
            "jsonrpc": "2.0", "method": "notifications/tasks/status", "params": self.json(),
        }));
        true
    }
}

/// The tasks of one session.
#[derive(Default)]
pub(crate) struct Store {
    tasks: Mutex<HashMap<String, Arc<Entry>>>,
}

impl Store {
    /// A live task by id: `-32602` when unknown or expired (an expired one is forgotten).
    fn get(&self, params: Option<&Value>) -> Result<Arc<Entry>, RpcError> {
        let id = params
            .and_then(|p| p.get("taskId"))
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::new(code::INVALID_PARAMS, "missing taskId"))?;
        let mut tasks = lock(&self.tasks);
        let entry = tasks.get(id).cloned().ok_or_else(|| {
            RpcError::new(
                code::INVALID_PARAMS,
                "Failed to retrieve task: Task not found",
            )
        })?;
        if entry.expired() {
            tasks.remove(id);
            entry.cancel.cancel();
            return Err(RpcError::new(
                code::INVALID_PARAMS,
                "Failed to retrieve task: Task has expired",
            ));
        }
        Ok(entry)
    }

    /// Every live task, oldest first (expired ones are forgotten).
    fn live(&self) -> Vec<Arc<Entry>> {
        let mut tasks = lock(&self.tasks);
        tasks.retain(|_, e| {
            let keep = !e.expired();
            if !keep {
                e.cancel.cancel();
            }
            keep
        });
        let mut all: Vec<Arc<Entry>> = tasks.values().cloned().collect();
        all.sort_by_key(|e| e.started);
        all
    }

    /// Stops every task (the session ended).
    pub(crate) fn close(&self) {
        for (_, e) in lock(&self.tasks).drain() {
            e.cancel.cancel();
        }
    }
}

/// Creates a task for a `tools/call` and starts its work; the `CreateTaskResult`.
fn create(
    ctx: &Ctx<'_>,
    name: &str,
    args: &Map<String, Value>,
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
    let now = SystemTime::now();
    let (changed, _) = watch::channel(0);
    let entry = Arc::new(Entry {
        id: task_id(),
        created: now,
        started: Instant::now(),
        ttl_ms,
        state: Mutex::new(State {
            status: "working",
            message: Some("The operation is now in progress.".into()),
            updated: now,
            outcome: None,
            input: None,
        }),
        changed,
        cancel: ctx.session.token.child_token(),
    });
    lock(&ctx.session.tasks.tasks).insert(entry.id.clone(), entry.clone());
    let result = json!({
        "task": entry.json(),
        "_meta": {"io.modelcontextprotocol/model-immediate-response":
            format!("`{name}` is running as task {}", entry.id)},
    });
    tokio::spawn(run(
        entry,
        ctx.session.clone(),
        name.to_owned(),
        args.clone(),
    ));
    Ok(result)
}

/// A task's work, until it ends or is cancelled.
async fn run(entry: Arc<Entry>, session: Arc<Session>, name: String, args: Map<String, Value>) {
    let work = async {
        match name.as_str() {
            "report" => {
                let ms = args.get("ms").and_then(Value::as_u64).unwrap_or(200);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                (
                    "completed",
                    None,
                    Ok(text(format!("report ready after {ms} ms"))),
                )
            }
            "convert" => ("completed", None, convert(&args)),
            "confirm" => confirm(&entry, &session, &args).await,
            "crash" if args.get("rpc").and_then(Value::as_bool) == Some(true) => (
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
    };
    tokio::select! {
        () = entry.cancel.cancelled() => {}
        (status, message, outcome) = work => {
            entry.set(&session, status, message, Some(outcome));
        }
    }
}

/// `confirm`: `input_required` with an elicitation for `tasks/result` to deliver, then the
/// answer as the result.
async fn confirm(
    entry: &Entry,
    session: &Session,
    args: &Map<String, Value>,
) -> (&'static str, Option<String>, Result<Value, RpcError>) {
    let message = args
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("Confirm?");
    let (tx, rx) = oneshot::channel();
    lock(&entry.state).input = Some(Input {
        method: "elicitation/create",
        params: json!({
            "mode": "form",
            "message": message,
            "requestedSchema": {"type": "object",
                "properties": {"ok": {"type": "boolean", "title": "OK"}}},
            "_meta": {RELATED_TASK: {"taskId": entry.id}},
        }),
        reply: tx,
    });
    entry.set(
        session,
        "input_required",
        Some("Waiting for the user".into()),
        None,
    );
    match rx.await {
        Ok(Ok(answer)) => {
            entry.set(session, "working", None, None);
            ("completed", None, Ok(text(format!("confirmed: {answer}"))))
        }
        Ok(Err(e)) => (
            "failed",
            Some(format!("the client refused: {e}")),
            Ok(is_error(format!("the client refused: {e}"))),
        ),
        Err(_) => (
            "failed",
            Some("no answer".into()),
            Ok(is_error("no answer")),
        ),
    }
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
    entry.set(
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

/// An RFC 3339 UTC timestamp with milliseconds.
fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        let t = UNIX_EPOCH + Duration::from_millis(1_764_066_600_123);
        assert_eq!(iso8601(t), "2025-11-25T10:30:00.123Z");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
