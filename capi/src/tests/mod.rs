//! Tests of the C ABI driven from Rust: the committed header against cbindgen's output, and
//! the grants without a browser through the extern functions.

mod grants;
mod header;
