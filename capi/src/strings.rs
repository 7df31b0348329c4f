//! Strings that cross the boundary. Every string the library hands out, and every string a
//! host hands back from a callback, lives in the library's C heap: the library allocates with
//! its `malloc` and frees with its `free`. Hosts whose C runtime may differ from the
//! library's (Windows, some embedders), Go and ctypes make returned strings with
//! `mcp_string_new` / `mcp_string_dup` and free the library's with `mcp_string_free`.

use std::ffi::{c_char, CStr};

use super::catch::boundary_value;
use super::error::{Failure, FfiResult};

/// `bytes` (no NUL among them) as a new NUL-terminated string in the library's heap.
fn alloc(bytes: &[u8]) -> *mut c_char {
    // SAFETY: a fresh allocation of len + 1 bytes, filled before it is returned.
    unsafe {
        let p = libc::malloc(bytes.len() + 1).cast::<u8>();
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            *p.add(bytes.len()) = 0;
        }
        p.cast()
    }
}

/// A string handed to the host, to be freed with `mcp_string_free`.
pub(crate) fn out_string(s: impl AsRef<[u8]>) -> FfiResult<*mut c_char> {
    let bytes = s.as_ref();
    if bytes.contains(&0) {
        return Err(Failure::internal("a returned string contains a NUL byte"));
    }
    let p = alloc(bytes);
    if p.is_null() {
        return Err(Failure::internal("out of memory"));
    }
    Ok(p)
}

/// Take a string a host callback handed back: copy it and free it. NULL: `None`; `Err` when
/// it is not UTF-8.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string from `mcp_string_new` / `mcp_string_dup` (or the
/// same `malloc`), not used by the host afterwards.
pub(crate) unsafe fn take_host_string(p: *mut c_char) -> Option<Result<String, ()>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: NUL-terminated by contract.
    let s = unsafe { CStr::from_ptr(p) }
        .to_str()
        .map(str::to_owned)
        .map_err(|_| ());
    // SAFETY: from the library's heap by contract, and ours now.
    unsafe { libc::free(p.cast()) };
    Some(s)
}

/// A new string holding the `len` bytes at `bytes` and a terminating NUL, for a callback to
/// hand back (a redirect URL, a store entry, a request's result). NULL when `bytes` is NULL
/// (with `len` > 0), when the bytes hold a NUL, or when memory runs out. The library frees it
/// when a callback hands it back; otherwise free it with `mcp_string_free`.
#[no_mangle]
pub unsafe extern "C" fn mcp_string_new(bytes: *const c_char, len: usize) -> *mut c_char {
    boundary_value(std::ptr::null_mut(), || {
        let slice: &[u8] = if len == 0 {
            &[]
        } else if bytes.is_null() {
            return std::ptr::null_mut();
        } else {
            // SAFETY: `len` readable bytes at `bytes` (contract).
            unsafe { std::slice::from_raw_parts(bytes.cast::<u8>(), len) }
        };
        out_string(slice).unwrap_or(std::ptr::null_mut())
    })
}

/// A copy of the NUL-terminated string `s` (NULL for NULL), for a callback to hand back; see
/// `mcp_string_new`.
#[no_mangle]
pub unsafe extern "C" fn mcp_string_dup(s: *const c_char) -> *mut c_char {
    boundary_value(std::ptr::null_mut(), || {
        if s.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: NUL-terminated by contract.
        alloc(unsafe { CStr::from_ptr(s) }.to_bytes())
    })
}

/// Free a string the library returned, or one made with `mcp_string_new` / `mcp_string_dup`
/// that was not handed back. NULL is fine. Never pass a string from anywhere else.
#[no_mangle]
pub unsafe extern "C" fn mcp_string_free(s: *mut c_char) {
    boundary_value((), || {
        if !s.is_null() {
            // SAFETY: from the library's heap (contract), freed once.
            unsafe { libc::free(s.cast()) };
        }
    })
}
