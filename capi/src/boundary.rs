//! The panic boundary every fallible `extern "C"` body runs inside (a failure or a panic
//! becomes a code and an `mcp_error`), and the conversions of C arguments (NULL checks,
//! UTF-8, JSON).

use std::ffi::{c_char, CStr};

use super::catch::{catch, panic_message};
use super::error::{mcp_error, mcp_result, Failure, FfiResult};

/// The boundary of every fallible C call: runs `body` under `catch_unwind`; a failure or a
/// panic becomes its code, and its details go to `*error_out` when `error_out` is not NULL.
/// `body` writes its out-parameters itself, and only on success.
pub(crate) fn boundary(
    error_out: *mut *mut mcp_error,
    body: impl FnOnce() -> FfiResult,
) -> mcp_result {
    let failure = match catch(body) {
        Ok(Ok(())) => return mcp_result::Ok,
        Ok(Err(f)) => f,
        Err(payload) => Failure::new(mcp_result::Panic, panic_message(payload.as_ref())),
    };
    let code = failure.code;
    if !error_out.is_null() {
        // Building the error allocates; a panic there must not cross the boundary either.
        if let Ok(e) = catch(|| mcp_error::boxed(failure)) {
            // SAFETY: the caller passes a writable `mcp_error **` or NULL (checked above).
            unsafe { *error_out = e };
        }
    }
    code
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
        assert_eq!(
            super::super::catch::boundary_value(7, || panic!("again")),
            7
        );
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
