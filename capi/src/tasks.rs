//! Tasks (protocol 2025-11-25): a tool call started as a task and followed step by step.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{boundary, non_null, object_arg, opt_str_arg, str_arg};
use super::call_options::mcp_call_options;
use super::client::{client_ref, give, mcp_client, run, to_json, On};
use super::error::{mcp_error, mcp_result};

/// One call about the task `task_id` of `client`, within `call_options`, its answer as JSON in
/// `*out` (named `out_name` in the NULL-argument error).
unsafe fn on_task<T, F, Fut>(
    client: *mut mcp_client,
    task_id: *const c_char,
    call_options: *const mcp_call_options,
    out: *mut *mut c_char,
    out_name: &str,
    error_out: *mut *mut mcp_error,
    f: F,
) -> mcp_result
where
    F: FnOnce(mcp::Client, String, mcp::RequestOptions) -> Fut,
    Fut: std::future::Future<Output = Result<T, mcp::Error>>,
    T: serde::Serialize,
{
    boundary(error_out, || {
        // SAFETY: C arguments, NULL-checked.
        let (c, id) = unsafe { (client_ref(client)?, str_arg(task_id, "task_id")?) };
        non_null(out, out_name)?;
        let core = c.connected()?;
        let id = id.to_owned();
        let v = run(c, On::Thread, call_options, |opts| f(core, id, opts))?;
        // SAFETY: checked non-NULL.
        unsafe { give(out, &to_json(&v)?) }
    })
}

/// Tasks: start the tool `tool_name` as a task with `arguments_json` (a JSON object; NULL:
/// `{}`) and return at once, before the tool is done. `ttl_ms` asks the server to keep the
/// task that many milliseconds from its creation (0: the server's default; it may keep it for
/// less). On success `*task_json_out` is the `CreateTaskResult`: `{"task": {"taskId": …,
/// "status": "working", "pollInterval": …, …}, "_meta": …}`; follow the task with its
/// `taskId` through `mcp_task_status`, `mcp_task_result` and `mcp_task_cancel`.
///
/// `MCP_RESULT_INVALID_ARGUMENT` when the server does not accept task-augmented tool calls
/// (it declares no `tasks.requests.tools.call`) or the tool is listed as `forbidden`.
/// `mcp_call_tool` is simpler when only the final result matters: it runs a tool whose
/// `taskSupport` is `required` as a task and waits for it.
#[no_mangle]
pub unsafe extern "C" fn mcp_task_start(
    client: *mut mcp_client,
    tool_name: *const c_char,
    arguments_json: *const c_char,
    ttl_ms: u64,
    call_options: *const mcp_call_options,
    task_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: C arguments, NULL-checked.
        let (c, name, args) = unsafe {
            (
                client_ref(client)?,
                str_arg(tool_name, "tool_name")?,
                opt_str_arg(arguments_json, "arguments_json")?,
            )
        };
        let args = object_arg(args, "arguments_json")?;
        non_null(task_json_out, "task_json_out")?;
        let ttl = (ttl_ms > 0).then(|| Duration::from_millis(ttl_ms));
        let core = c.connected()?;
        let created = run(c, On::Thread, call_options, |opts| async move {
            core.start_tool_task(name, args, ttl, opts).await
        })?;
        // SAFETY: checked non-NULL.
        unsafe { give(task_json_out, &to_json(&created)?) }
    })
}

/// Tasks: the current state of the task `task_id` (`tasks/get`), as the `Task` JSON object
/// (`taskId`, `status`: `working`, `input_required`, `completed`, `failed` or `cancelled`,
/// `statusMessage`, `createdAt`, `lastUpdatedAt`, `ttl`, `pollInterval`). Does not wait.
#[no_mangle]
pub unsafe extern "C" fn mcp_task_status(
    client: *mut mcp_client,
    task_id: *const c_char,
    call_options: *const mcp_call_options,
    task_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    // SAFETY: forwarded arguments.
    unsafe {
        on_task(
            client,
            task_id,
            call_options,
            task_json_out,
            "task_json_out",
            error_out,
            |c, id, o| async move { c.task_status_with(&id, o).await },
        )
    }
}

/// Tasks: wait for the task `task_id` to end, then return its result: `*result_json_out` is
/// what the tool call would have returned (the `CallToolResult`; a tool that failed is a
/// result with `"isError": true`), and a task whose request failed is that error
/// (`MCP_RESULT_RPC`). The wait polls at the server's `pollInterval`; requests the server
/// sends while the task needs input reach the client's request callback. `call_options`
/// (NULL: the client's request timeout) bound the whole wait: one that times out or is
/// cancelled leaves the task running (cancel it with `mcp_task_cancel`, or call again).
#[no_mangle]
pub unsafe extern "C" fn mcp_task_result(
    client: *mut mcp_client,
    task_id: *const c_char,
    call_options: *const mcp_call_options,
    result_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    // SAFETY: forwarded arguments.
    unsafe {
        on_task(
            client,
            task_id,
            call_options,
            result_json_out,
            "result_json_out",
            error_out,
            |c, id, o| async move { c.wait_task(&id, o).await },
        )
    }
}

/// Tasks: cancel the task `task_id` (`tasks/cancel`); `*task_json_out` is the task in its new
/// state (`"status": "cancelled"`). Cancelling a task that already ended is the server's
/// error (`MCP_RESULT_RPC`, JSON-RPC code -32602).
#[no_mangle]
pub unsafe extern "C" fn mcp_task_cancel(
    client: *mut mcp_client,
    task_id: *const c_char,
    call_options: *const mcp_call_options,
    task_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    // SAFETY: forwarded arguments.
    unsafe {
        on_task(
            client,
            task_id,
            call_options,
            task_json_out,
            "task_json_out",
            error_out,
            |c, id, o| async move { c.cancel_task_with(&id, o).await },
        )
    }
}

/// Tasks: every task the server keeps for this client (all pages of `tasks/list`), as a JSON
/// array of `Task` objects (see `mcp_task_status`).
#[no_mangle]
pub unsafe extern "C" fn mcp_task_list(
    client: *mut mcp_client,
    call_options: *const mcp_call_options,
    tasks_json_out: *mut *mut c_char,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        // SAFETY: NULL or a live client.
        let c = unsafe { client_ref(client) }?;
        non_null(tasks_json_out, "tasks_json_out")?;
        let core = c.connected()?;
        let tasks = run(c, On::Thread, call_options, |opts| async move {
            core.list_tasks_with(opts).await
        })?;
        // SAFETY: checked non-NULL.
        unsafe { give(tasks_json_out, &to_json(&tasks)?) }
    })
}
