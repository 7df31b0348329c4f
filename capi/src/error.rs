//! The error model: result codes, the failure a call body returns, and the error object.

use std::ffi::{c_char, CString};

use super::catch::boundary_value;
use super::registry::Registry;

static ERRORS: Registry = Registry::new();

/// The result of every fallible call. Codes are grouped by range and never renumbered:
/// 0 success; 100-199 bad arguments; 200-299 transport; 300-399 protocol; 400-499 JSON-RPC
/// errors from the server; 500-599 timeouts and cancellation; 600-699 authorization;
/// 700-799 the client's state; 900-999 bugs.
#[repr(i32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mcp_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101,
    /// An argument or the configuration is invalid (a bad URL, a non-object where a JSON
    /// object is required, an OAuth call on a client without OAuth).
    InvalidArgument = 102,
    /// A JSON argument does not parse.
    InvalidJson = 103,
    /// The server could not be reached, or the connection or the stdio process failed.
    Transport = 200,
    /// The server broke the HTTP, SSE or JSON-RPC contract (or no common protocol version).
    Protocol = 300,
    /// The server answered with a JSON-RPC error: see `mcp_error_rpc_code`.
    Rpc = 400,
    /// The request did not complete in time.
    Timeout = 500,
    /// The request was cancelled with `mcp_cancel`.
    Cancelled = 501,
    /// Authorization is needed or failed: see `mcp_error_oauth_error`.
    Auth = 600,
    /// The client was closed.
    Closed = 700,
    /// A blocking call was made from inside a callback or a runtime thread.
    Reentrant = 701,
    /// The call needs a connected client (see `mcp_client_create` and `mcp_connect`).
    NotConnected = 702,
    /// A panic inside the library was caught at the boundary (a bug: please report it).
    Panic = 900,
    /// An unexpected condition inside the library (a bug: please report it).
    Internal = 901,
}

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

/// The details of a failure: its code, a message, and, where they apply, the OAuth `error`
/// and `error_description`, the JSON-RPC error code and data, the HTTP status. Owned by the
/// caller; freed with `mcp_error_free`. Strings read from it live as long as it does.
pub struct mcp_error {
    code: mcp_result,
    message: CString,
    oauth_error: Option<CString>,
    oauth_error_description: Option<CString>,
    rpc_code: Option<i64>,
    rpc_data: Option<CString>,
    http_status: u16,
}

fn c_string(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let mut v = e.into_vec();
        v.retain(|b| *b != 0);
        CString::new(v).unwrap_or_default()
    })
}

impl mcp_error {
    pub(crate) fn boxed(f: Failure) -> *mut mcp_error {
        let p = Box::into_raw(Box::new(mcp_error {
            code: f.code,
            message: c_string(f.message),
            oauth_error: f.oauth_error.map(c_string),
            oauth_error_description: f.oauth_error_description.map(c_string),
            rpc_code: f.rpc_code,
            rpc_data: f.rpc_data.map(c_string),
            http_status: f.http_status,
        }));
        ERRORS.insert(p);
        p
    }
}

/// SAFETY (shared by the accessors): `e` is NULL or a live `mcp_error` from this library.
unsafe fn get<'a>(e: *const mcp_error) -> Option<&'a mcp_error> {
    // SAFETY: see above.
    unsafe { e.as_ref() }
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// The code of the failure (`MCP_RESULT_NULL_ARGUMENT` for a NULL `error`).
#[no_mangle]
pub unsafe extern "C" fn mcp_error_code(error: *const mcp_error) -> mcp_result {
    boundary_value(mcp_result::Panic, || {
        // SAFETY: accessor contract.
        unsafe { get(error) }.map_or(mcp_result::NullArgument, |e| e.code)
    })
}

/// A human-readable message, never NULL (empty for a NULL `error`). It names endpoints and
/// the server's words, never a token or a secret.
#[no_mangle]
pub unsafe extern "C" fn mcp_error_message(error: *const mcp_error) -> *const c_char {
    boundary_value(c"".as_ptr(), || {
        // SAFETY: accessor contract.
        unsafe { get(error) }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// The OAuth `error` code the authorization server gave (e.g. `invalid_grant`,
/// `access_denied`), or NULL.
#[no_mangle]
pub unsafe extern "C" fn mcp_error_oauth_error(error: *const mcp_error) -> *const c_char {
    boundary_value(std::ptr::null(), || {
        // SAFETY: accessor contract.
        unsafe { get(error) }.map_or(std::ptr::null(), |e| opt_ptr(&e.oauth_error))
    })
}

/// The OAuth `error_description` the authorization server gave, or NULL.
#[no_mangle]
pub unsafe extern "C" fn mcp_error_oauth_error_description(
    error: *const mcp_error,
) -> *const c_char {
    boundary_value(std::ptr::null(), || {
        // SAFETY: accessor contract.
        unsafe { get(error) }.map_or(std::ptr::null(), |e| opt_ptr(&e.oauth_error_description))
    })
}

/// Whether the failure is a JSON-RPC error from the server; if so, and `code_out` is not
/// NULL, its code (e.g. -32601) is written there.
#[no_mangle]
pub unsafe extern "C" fn mcp_error_rpc_code(error: *const mcp_error, code_out: *mut i64) -> bool {
    boundary_value(false, || {
        // SAFETY: accessor contract.
        match unsafe { get(error) }.and_then(|e| e.rpc_code) {
            Some(c) => {
                if !code_out.is_null() {
                    // SAFETY: the caller passes a writable pointer or NULL.
                    unsafe { code_out.write(c) };
                }
                true
            }
            None => false,
        }
    })
}

/// The `data` member of the server's JSON-RPC error, as JSON text, or NULL.
#[no_mangle]
pub unsafe extern "C" fn mcp_error_rpc_data(error: *const mcp_error) -> *const c_char {
    boundary_value(std::ptr::null(), || {
        // SAFETY: accessor contract.
        unsafe { get(error) }.map_or(std::ptr::null(), |e| opt_ptr(&e.rpc_data))
    })
}

/// The HTTP status behind the failure, or 0.
#[no_mangle]
pub unsafe extern "C" fn mcp_error_http_status(error: *const mcp_error) -> u16 {
    boundary_value(0, || {
        // SAFETY: accessor contract.
        unsafe { get(error) }.map_or(0, |e| e.http_status)
    })
}

/// Free an error. NULL is fine, and so is a second free of the same pointer (ignored, while
/// the address has not been reused).
#[no_mangle]
pub unsafe extern "C" fn mcp_error_free(error: *mut mcp_error) {
    boundary_value((), || {
        if !error.is_null() && ERRORS.remove(error) {
            // SAFETY: `error` came from `mcp_error::boxed` and is freed once (checked above).
            drop(unsafe { Box::from_raw(error) });
        }
    })
}

/// A short static description of a result code (never NULL, never to be freed).
#[no_mangle]
pub extern "C" fn mcp_result_str(code: i32) -> *const c_char {
    boundary_value(c"".as_ptr(), || result_str(code).as_ptr())
}

fn result_str(code: i32) -> &'static std::ffi::CStr {
    let s: &'static std::ffi::CStr = match code {
        0 => c"success",
        100 => c"a required pointer argument is NULL",
        101 => c"a string argument is not valid UTF-8",
        102 => c"invalid argument",
        103 => c"invalid JSON argument",
        200 => c"transport error",
        300 => c"protocol error",
        400 => c"the server answered with a JSON-RPC error",
        500 => c"timed out",
        501 => c"cancelled",
        600 => c"authorization needed or failed",
        700 => c"the client is closed",
        701 => c"blocking call from inside a callback or a runtime thread",
        702 => c"the client is not connected",
        900 => c"panic inside the library",
        901 => c"internal error",
        _ => c"unknown result code",
    };
    s
}
