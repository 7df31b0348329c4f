//! Catching panics before they cross into C: the bottom of the C ABI, used by every boundary.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `body`, catching a panic (its payload, for [`panic_message`]).
pub(crate) fn catch<T>(body: impl FnOnce() -> T) -> Result<T, Box<dyn Any + Send>> {
    catch_unwind(AssertUnwindSafe(body))
}

/// What a caught panic said, for the error message.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panic inside mcp-client: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panic inside mcp-client: {s}")
    } else {
        "panic inside mcp-client".to_owned()
    }
}

/// The boundary of C calls that return a value rather than a code (accessors, `_free`,
/// constructors): a panic yields `fallback`.
pub(crate) fn boundary_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch(body).unwrap_or(fallback)
}
