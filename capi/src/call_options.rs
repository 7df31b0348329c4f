//! Per-call options: a timeout and a cancellation handle that belong to one call (or to a few
//! calls the host groups), so a Go `context.Context` or a C++ stop token can end its own call
//! without touching the client's others.

use std::os::raw::c_char;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::boundary::{boundary, opt_str_arg};
use super::catch::boundary_value;
use super::error::{mcp_result, Failure, FfiResult};
use super::registry::Registry;
use mcp::{ProgressToken, RequestOptions};

/// Options for one call: a timeout, and a cancellation handle any thread (or a callback) can
/// trigger with `mcp_call_options_cancel`. Pass the same options to the call they govern;
/// NULL instead means the client's defaults. Free them after the calls using them returned.
pub struct mcp_call_options {
    /// Milliseconds; 0: the client's default request timeout.
    timeout_ms: AtomicU64,
    /// Set by `mcp_call_options_cancel`, and the tokens of the calls running with these
    /// options (each a child of its client's token, so `mcp_cancel` ends it too).
    state: Mutex<Running>,
}

#[derive(Default)]
struct Running {
    cancelled: bool,
    /// Sent as `_meta.progressToken` by each call made with these options.
    progress_token: Option<ProgressToken>,
    next: u64,
    calls: Vec<(u64, CancellationToken)>,
}

static CALL_OPTIONS: Registry = Registry::new();

/// One call's registration with its options; ends it when dropped.
pub(crate) struct CallGuard<'a> {
    options: &'a mcp_call_options,
    id: u64,
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        let mut s = lock(&self.options.state);
        s.calls.retain(|(id, _)| *id != self.id);
    }
}

fn lock(m: &Mutex<Running>) -> std::sync::MutexGuard<'_, Running> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl mcp_call_options {
    /// The core's options for one call of a client whose `mcp_cancel` token is
    /// `client_token`: the call ends when either the client or these options are cancelled.
    /// Keep the guard until the call returns.
    pub(crate) fn begin_call<'a>(
        options: Option<&'a mcp_call_options>,
        client_token: &CancellationToken,
    ) -> (RequestOptions, Option<CallGuard<'a>>) {
        let Some(o) = options else {
            let opts = RequestOptions {
                cancel: Some(client_token.clone()),
                ..Default::default()
            };
            return (opts, None);
        };
        let token = client_token.child_token();
        let (id, progress_token) = {
            let mut s = lock(&o.state);
            if s.cancelled {
                token.cancel();
            }
            s.next += 1;
            let id = s.next;
            s.calls.push((id, token.clone()));
            (id, s.progress_token.clone())
        };
        let ms = o.timeout_ms.load(Ordering::Acquire);
        let opts = RequestOptions {
            timeout: (ms > 0).then(|| Duration::from_millis(ms)),
            cancel: Some(token),
            progress_token,
        };
        (opts, Some(CallGuard { options: o, id }))
    }
}

/// Borrow call options (NULL: none).
///
/// # Safety
/// `options` is NULL or live call options.
pub(crate) unsafe fn call_options_ref<'a>(
    options: *const mcp_call_options,
) -> Option<&'a mcp_call_options> {
    // SAFETY: by the caller's contract.
    unsafe { options.as_ref() }
}

/// New call options: the client's default timeout, not cancelled. Free with
/// `mcp_call_options_free`. NULL only if memory ran out.
#[no_mangle]
pub extern "C" fn mcp_call_options_new() -> *mut mcp_call_options {
    boundary_value(std::ptr::null_mut(), || {
        let p = Box::into_raw(Box::new(mcp_call_options {
            timeout_ms: AtomicU64::new(0),
            state: Mutex::new(Running::default()),
        }));
        CALL_OPTIONS.insert(p);
        p
    })
}

/// Free call options once no call using them is running. NULL and a second free are ignored.
#[no_mangle]
pub unsafe extern "C" fn mcp_call_options_free(options: *mut mcp_call_options) {
    boundary_value((), || {
        if !options.is_null() && CALL_OPTIONS.remove(options) {
            // SAFETY: live options from `mcp_call_options_new`, freed once (checked above).
            drop(unsafe { Box::from_raw(options) });
        }
    })
}

/// The timeout of calls made with these options, in milliseconds (0: the client's default).
/// For a request it bounds the request itself: time spent signing in does not count (see
/// `mcp_options_set_request_timeout_ms`). For `mcp_client_new`, `mcp_connect`,
/// `mcp_authorize*`, `mcp_logout` and `mcp_close` it bounds the whole operation.
#[no_mangle]
pub unsafe extern "C" fn mcp_call_options_set_timeout_ms(
    options: *mut mcp_call_options,
    timeout_ms: u64,
) -> mcp_result {
    boundary(std::ptr::null_mut(), || {
        let o = options_arg(options)?;
        o.timeout_ms.store(timeout_ms, Ordering::Release);
        Ok(())
    })
}

/// A progress token for calls made with these options (NULL: none, the default): each sends
/// it as `_meta.progressToken`, and the server's `notifications/progress` carrying it reach
/// the notification callback (for a tool run as a task, until the task ends). The string is
/// copied. Give calls in flight at the same time tokens of their own.
#[no_mangle]
pub unsafe extern "C" fn mcp_call_options_set_progress_token(
    options: *mut mcp_call_options,
    token: *const c_char,
) -> mcp_result {
    boundary(std::ptr::null_mut(), || {
        let o = options_arg(options)?;
        // SAFETY: NULL or a NUL-terminated string (the caller's contract).
        let token = unsafe { opt_str_arg(token, "token") }?;
        lock(&o.state).progress_token = token.map(ProgressToken::from);
        Ok(())
    })
}

/// Cancel the calls running with these options, and every later call made with them: each
/// returns `MCP_RESULT_CANCELLED` promptly, the server is told where the protocol allows, and
/// the client stays usable. Other calls of the same client are not affected. Never blocks:
/// callable from any thread, callbacks included.
#[no_mangle]
pub unsafe extern "C" fn mcp_call_options_cancel(options: *mut mcp_call_options) -> mcp_result {
    boundary(std::ptr::null_mut(), || {
        let mut s = lock(&options_arg(options)?.state);
        s.cancelled = true;
        for (_, token) in &s.calls {
            token.cancel();
        }
        Ok(())
    })
}

/// Whether `mcp_call_options_cancel` was called on these options (false for NULL).
#[no_mangle]
pub unsafe extern "C" fn mcp_call_options_is_cancelled(options: *const mcp_call_options) -> bool {
    boundary_value(false, || {
        // SAFETY: NULL or live options (contract).
        unsafe { call_options_ref(options) }.is_some_and(|o| lock(&o.state).cancelled)
    })
}

fn options_arg<'a>(options: *mut mcp_call_options) -> FfiResult<&'a mcp_call_options> {
    // SAFETY: NULL or live options (the caller's contract).
    unsafe { call_options_ref(options) }.ok_or_else(|| Failure::null("options"))
}
