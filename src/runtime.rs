//! Process-wide pieces: the TLS crypto provider, the shared multi-threaded tokio runtime of the
//! blocking bindings, and each calling thread's own runtime for their requests.
//!
//! A blocking binding (C, Go, Python's sync client) waits on a thread of the host's. Were that
//! wait a `block_on` of the shared runtime, every request would be handed to a runtime thread
//! (which owns the connection) and its answer handed back: two thread wake-ups per call, most
//! of a call's cost. [`block_on_thread`] instead runs the request on a current-thread runtime
//! that belongs to the calling thread, with connections of its own (see
//! [`crate::http_client::HttpClient`]), so the thread that waits is the one that does the I/O.
//! Everything that outlives a call (the session's GET stream, server requests, timers, the
//! notice of a cancelled request) runs on the client's home runtime, never on a thread's.

use std::cell::{Cell, OnceCell};
use std::future::Future;
use std::sync::OnceLock;

/// Install rustls' ring provider once per process (reqwest needs one before its first client;
/// a provider the host installed first is kept).
pub(crate) fn install_crypto_provider() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The shared runtime of the blocking bindings (C, Go, Python's sync client).
pub fn shared() -> std::io::Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(rt) = RT.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mcp-client")
        .build()?;
    Ok(RT.get_or_init(|| rt))
}

thread_local! {
    /// This thread's runtime, made on its first [`block_on_thread`] and dropped when the
    /// thread ends (with the connections it opened).
    static THREAD_RT: OnceCell<tokio::runtime::Runtime> = const { OnceCell::new() };
    /// Whether this thread is inside [`block_on_thread`] now.
    static ON_THREAD_RT: Cell<bool> = const { Cell::new(false) };
}

/// Run `fut` to completion on the calling thread's own current-thread runtime (made on first
/// use). Fails when the runtime cannot be made or the thread is exiting.
///
/// The caller must not be inside a runtime already (tokio panics on nested `block_on`):
/// the bindings refuse such calls before they get here.
pub fn block_on_thread<F: Future>(fut: F) -> std::io::Result<F::Output> {
    /// Clears the flag however `block_on` ends.
    struct Active;
    impl Drop for Active {
        fn drop(&mut self) {
            let _ = ON_THREAD_RT.try_with(|f| f.set(false));
        }
    }
    THREAD_RT
        .try_with(|cell| {
            let rt = match cell.get() {
                Some(rt) => rt,
                None => {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    cell.get_or_init(|| rt)
                }
            };
            ON_THREAD_RT.with(|f| f.set(true));
            let _active = Active;
            Ok(rt.block_on(fut))
        })
        .map_err(|_| std::io::Error::other("the thread is exiting"))?
}

/// Whether the current code runs inside [`block_on_thread`] (so connections it opens must be
/// the thread's own).
pub(crate) fn on_thread_runtime() -> bool {
    ON_THREAD_RT.try_with(Cell::get).unwrap_or(false)
}

/// Run `f`, which may block for long (a keyring waiting for the user to unlock it, a host's
/// store callback, a file lock), from async code without stalling other tasks: on a
/// multi-threaded runtime the worker hands its other tasks over first
/// (`block_in_place`); on a current-thread runtime (a host thread's own, see
/// [`block_on_thread`]) or outside any runtime it simply runs, as only that caller waits.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}
