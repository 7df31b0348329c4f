//! The C ABI of mcp-client (`include/mcp_client.h`, generated from this crate by cbindgen):
//! `libmcp_client.so` and `libmcp_client.a` over the `mcp-client` core crate.
//!
//! Conventions (see `include/mcp_client.h` for the contract as C hosts read it):
//! - every fallible call returns [`mcp_result`] and takes an optional `mcp_error **`;
//!   out-parameters are written only on success;
//! - strings in are borrowed UTF-8 for the call; strings out are owned by the caller and freed
//!   with [`mcp_string_free`]; MCP payloads are JSON text;
//! - every `extern "C"` body runs inside one `catch_unwind` boundary (`boundary.rs`): a panic is
//!   `MCP_RESULT_PANIC`, never an abort;
//! - blocking calls run the shared runtime's `block_on` on the caller's thread, and return
//!   `MCP_RESULT_REENTRANT` from a callback or a runtime thread;
//! - callbacks come with user data and a free function run exactly once (`foreign.rs`).

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod boundary;
pub mod call_options;
pub mod callbacks;
pub mod client;
pub mod error;
mod foreign;
pub mod log;
pub mod options;
mod registry;
pub mod strings;
#[cfg(test)]
mod tests;

use std::ffi::c_char;

pub use call_options::mcp_call_options;
pub use callbacks::{
    mcp_auth_event_fn, mcp_free_fn, mcp_notification_fn, mcp_presenter_fn, mcp_request_fn,
    mcp_store_load_fn, mcp_store_remove_fn, mcp_store_save_fn,
};
pub use client::mcp_client;
pub use error::{mcp_error, mcp_result};
pub use log::{mcp_log_fn, mcp_log_level};
pub use options::{mcp_auth_mode, mcp_grant, mcp_options, mcp_store_kind};
pub use strings::{mcp_string_dup, mcp_string_free, mcp_string_new};

/// The major version of the library this header belongs to.
pub const MCP_VERSION_MAJOR: u32 = 0;
/// The minor version.
pub const MCP_VERSION_MINOR: u32 = 1;
/// The patch version.
pub const MCP_VERSION_PATCH: u32 = 0;

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0u32;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

// The header's version macros must follow Cargo.toml: a release that bumps one and not the
// other does not build.
const _: () = assert!(parse_u32(env!("CARGO_PKG_VERSION_MAJOR")) == MCP_VERSION_MAJOR);
const _: () = assert!(parse_u32(env!("CARGO_PKG_VERSION_MINOR")) == MCP_VERSION_MINOR);
const _: () = assert!(parse_u32(env!("CARGO_PKG_VERSION_PATCH")) == MCP_VERSION_PATCH);

/// The library's version, e.g. `"0.1.0"` (static; never freed). Compare with
/// `MCP_VERSION_MAJOR`/`MINOR`/`PATCH` to check that the library matches the header.
#[no_mangle]
pub extern "C" fn mcp_version() -> *const c_char {
    boundary::boundary_value(c"".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}
