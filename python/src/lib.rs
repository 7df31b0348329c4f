//! The native half of the `mcp_client` Python package: the Rust core behind a few small
//! classes. The Python half (`mcp_client/*.py`) gives them their shape (keyword arguments,
//! context managers, dicts, the exception tree); behaviour lives in the core, not here.
//!
//! - `config`: what a client is made of (`NativeConfig`, from the Python keyword arguments);
//! - `client`: the blocking calls (`NativeClient`), on the calling thread's own runtime;
//! - `aio`: the asyncio bridge (`AsyncBridge`), calls on the shared runtime settled on the loop;
//! - `callbacks`: Python callables as the core's presenter, store, handlers and event hook;
//! - `errors`: core errors as the exceptions of `mcp_client.errors`;
//! - `log`: the core's `tracing` events into Python's `logging`;
//! - `values`: Python objects to JSON text and back, in Rust.

use pyo3::prelude::*;

mod aio;
mod callbacks;
mod client;
mod config;
mod errors;
mod log;
mod run;
mod values;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<config::NativeConfig>()?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<aio::AsyncBridge>()?;
    m.add_class::<aio::Pending>()?;
    m.add_function(wrap_pyfunction!(log::set_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(log::flush_logs, m)?)?;
    m.add("VERSION", mcp::VERSION)?;
    log::install();
    run::note_main_thread(m.py())?;
    Ok(())
}
