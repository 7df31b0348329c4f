//! The panic boundary every `extern "C"` body runs inside, the failure value the bodies return,
//! and the conversions of C arguments (NULL checks, UTF-8, JSON).

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::error::{mcp_error, mcp_result};

/// Why a C call failed: a code and what `mcp_error` shows of it.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub code: mcp_result,
    pub message: String,
    pub oauth_error: Option<String>,
    pub oauth_error_description: Option<String>,
    pub rpc_code: Option<i64>,
    pub rpc_data: Option<String>,
    pub http_status: u16,
}

impl Failure {
    pub fn new(code: mcp_result, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            oauth_error: None,
            oauth_error_description: None,
            rpc_code: None,
            rpc_data: None,
            http_status: 0,
        }
    }

    pub fn null(name: &str) -> Self {
        Failure::new(mcp_result::NullArgument, format!("`{name}` is NULL"))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Failure::new(mcp_result::InvalidArgument, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Failure::new(mcp_result::Internal, message)
    }
}

impl From<mcp::Error> for Failure {
    fn from(e: mcp::Error) -> Self {
        use mcp::ErrorKind;
        let code = match e.kind() {
            ErrorKind::InvalidArgument => mcp_result::InvalidArgument,
            ErrorKind::Transport => mcp_result::Transport,
            ErrorKind::Protocol => mcp_result::Protocol,
            ErrorKind::Rpc => mcp_result::Rpc,
            ErrorKind::Timeout => mcp_result::Timeout,
            ErrorKind::Cancelled => mcp_result::Cancelled,
            ErrorKind::Auth => mcp_result::Auth,
            ErrorKind::Closed => mcp_result::Closed,
            _ => mcp_result::Internal,
        };
        let mut f = Failure::new(code, e.to_string());
        if let Some(o) = e.oauth() {
            f.oauth_error = o.oauth_error().map(str::to_owned);
            f.oauth_error_description = o.oauth_error_description().map(str::to_owned);
        }
        if let Some(r) = e.rpc() {
            f.rpc_code = Some(r.code);
            f.rpc_data = r.data.as_ref().map(|d| d.to_string());
        }
        f.http_status = e.http_status().unwrap_or(0);
        f
    }
}

impl From<mcp::oauth::OAuthError> for Failure {
    fn from(e: mcp::oauth::OAuthError) -> Self {
        Failure::from(mcp::Error::OAuth(e))
    }
}

/// What a C call body returns.
pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panic inside mcp-client: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panic inside mcp-client: {s}")
    } else {
        "panic inside mcp-client".to_owned()
    }
}

/// The boundary of every fallible C call: runs `body` under `catch_unwind`; a failure or a
/// panic becomes its code, and its details go to `*error_out` when `error_out` is not NULL.
/// `body` writes its out-parameters itself, and only on success.
pub(crate) fn boundary(
    error_out: *mut *mut mcp_error,
    body: impl FnOnce() -> FfiResult,
) -> mcp_result {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return mcp_result::Ok,
        Ok(Err(f)) => f,
        Err(payload) => Failure::new(mcp_result::Panic, panic_message(payload.as_ref())),
    };
    let code = failure.code;
    if !error_out.is_null() {
        // Building the error allocates; a panic there must not cross the boundary either.
        if let Ok(e) = catch_unwind(AssertUnwindSafe(|| mcp_error::boxed(failure))) {
            // SAFETY: the caller passes a writable `mcp_error **` or NULL (checked above).
            unsafe { *error_out = e };
        }
    }
    code
}

/// The boundary of C calls that return a value rather than a code (accessors, `_free`,
/// constructors): a panic yields `fallback`.
pub(crate) fn boundary_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// A required string argument, borrowed for the call.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| {
        Failure::new(
            mcp_result::InvalidUtf8,
            format!("`{name}` is not valid UTF-8 (byte {})", e.valid_up_to()),
        )
    })
}

/// An optional string argument (NULL: `None`).
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(p: *const c_char, name: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(p, name) }.map(Some)
    }
}

/// Parse JSON text given by the host.
pub(crate) fn json_arg(text: &str, name: &str) -> FfiResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| {
        Failure::new(
            mcp_result::InvalidJson,
            format!("`{name}` is not valid JSON: {e}"),
        )
    })
}

/// Validate JSON params (an object or `null`) and keep them as raw text.
pub(crate) fn raw_params_arg(
    text: Option<&str>,
    name: &str,
) -> FfiResult<Option<Box<serde_json::value::RawValue>>> {
    let Some(text) = text else { return Ok(None) };
    let raw = serde_json::value::RawValue::from_string(text.to_owned()).map_err(|e| {
        Failure::new(
            mcp_result::InvalidJson,
            format!("`{name}` is not valid JSON: {e}"),
        )
    })?;
    let t = raw.get().trim_start();
    if t.starts_with("null") {
        return Ok(None);
    }
    if !t.starts_with('{') {
        return Err(Failure::invalid(format!("`{name}` must be a JSON object")));
    }
    Ok(Some(raw))
}

/// A JSON object argument (NULL or `null`: an empty object).
pub(crate) fn object_arg(text: Option<&str>, name: &str) -> FfiResult<serde_json::Value> {
    match text {
        None => Ok(serde_json::Value::Object(Default::default())),
        Some(t) => match json_arg(t, name)? {
            serde_json::Value::Null => Ok(serde_json::Value::Object(Default::default())),
            v @ serde_json::Value::Object(_) => Ok(v),
            _ => Err(Failure::invalid(format!("`{name}` must be a JSON object"))),
        },
    }
}

/// Write an out-parameter (after checking it is not NULL, which the caller did first).
///
/// # Safety
/// `out` is a valid, writable pointer.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: by the caller's contract.
    unsafe { out.write(value) }
}

/// Fail with `NULL_ARGUMENT` when `p` is NULL.
pub(crate) fn non_null<T>(p: *const T, name: &str) -> FfiResult<()> {
    if p.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_code_and_an_error() {
        let mut err: *mut mcp_error = std::ptr::null_mut();
        let rc = boundary(&mut err, || panic!("boom"));
        assert_eq!(rc, mcp_result::Panic);
        assert!(!err.is_null());
        // SAFETY: the error just made.
        unsafe {
            assert_eq!(super::super::error::mcp_error_code(err), mcp_result::Panic);
            let msg = CStr::from_ptr(super::super::error::mcp_error_message(err));
            assert!(msg.to_string_lossy().contains("boom"));
            super::super::error::mcp_error_free(err);
        }
        assert_eq!(boundary_value(7, || panic!("again")), 7);
    }

    #[test]
    fn success_leaves_the_error_out_alone() {
        let mut err: *mut mcp_error = std::ptr::null_mut();
        assert_eq!(boundary(&mut err, || Ok(())), mcp_result::Ok);
        assert!(err.is_null());
        assert_eq!(
            boundary(std::ptr::null_mut(), || Err(Failure::null("x"))),
            mcp_result::NullArgument
        );
    }

    #[test]
    fn arguments_are_checked() {
        // SAFETY: NULL and static NUL-terminated strings.
        unsafe {
            assert_eq!(
                str_arg(std::ptr::null(), "a").unwrap_err().code,
                mcp_result::NullArgument
            );
            assert_eq!(
                str_arg(c"\xff".as_ptr(), "a").unwrap_err().code,
                mcp_result::InvalidUtf8
            );
            assert!(matches!(str_arg(c"ok".as_ptr(), "a"), Ok("ok")));
        }
        assert_eq!(
            raw_params_arg(Some("{"), "p").unwrap_err().code,
            mcp_result::InvalidJson
        );
        assert_eq!(
            raw_params_arg(Some("[1]"), "p").unwrap_err().code,
            mcp_result::InvalidArgument
        );
        assert!(matches!(raw_params_arg(Some(" null "), "p"), Ok(None)));
        assert!(matches!(raw_params_arg(Some("{}"), "p"), Ok(Some(_))));
        assert_eq!(object_arg(None, "a").ok(), Some(serde_json::json!({})));
    }
}
