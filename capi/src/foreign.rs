//! Host callbacks as the library holds them: the function, its user data, and the user data's
//! free function, run exactly once when the last holder lets go.
//!
//! An options object holds one [`Foreign`] per callback it was given (behind an `Arc`); every
//! client built from it gets its own [`Slot`] holding another reference. The core calls back
//! through the slot: freeing a client empties its slots (waiting for callbacks of that client
//! still running on other threads), so no callback of a freed client starts or runs after
//! `mcp_client_free` returns; the user data is freed when the options and every client built
//! from them have let go and no call through it is running.

use std::cell::Cell;
use std::ffi::c_void;
use std::sync::{Arc, Condvar, Mutex};

/// `void (*)(void *user_data)`.
pub(crate) type FreeFn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// A host callback (or a set of them sharing one user data).
pub(crate) struct Foreign<F> {
    pub f: F,
    pub user_data: *mut c_void,
    free: FreeFn,
}

// SAFETY: the header's contract: user data given with a callback may be used from any thread
// (callbacks run on runtime threads), and its free function may run on any thread.
unsafe impl<F: Send> Send for Foreign<F> {}
// SAFETY: as above; the library never touches the user data itself, it only passes it on.
unsafe impl<F: Sync> Sync for Foreign<F> {}

impl<F> Foreign<F> {
    pub fn new(f: F, user_data: *mut c_void, free: FreeFn) -> Arc<Self> {
        Arc::new(Foreign { f, user_data, free })
    }
}

impl<F> Drop for Foreign<F> {
    fn drop(&mut self) {
        if let Some(free) = self.free.take() {
            // SAFETY: the host's free function, given with this user data, run exactly once.
            unsafe { free(self.user_data) };
        }
    }
}

thread_local! {
    /// How many host callbacks this thread is inside (blocking calls there are refused, and a
    /// client freed there does not wait for its own callbacks).
    static IN_CALLBACK: Cell<u32> = const { Cell::new(0) };
}

/// Whether this thread is running a host callback.
pub(crate) fn in_callback() -> bool {
    IN_CALLBACK.with(|c| c.get() > 0)
}

/// Marks the thread as inside a host callback while alive.
pub(crate) struct CallbackScope(());

impl CallbackScope {
    pub fn enter() -> Self {
        IN_CALLBACK.with(|c| c.set(c.get().saturating_add(1)));
        CallbackScope(())
    }
}

impl Drop for CallbackScope {
    fn drop(&mut self) {
        IN_CALLBACK.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

struct SlotState<F> {
    callback: Option<Arc<Foreign<F>>>,
    running: usize,
}

/// One client's reference to a callback.
pub(crate) struct Slot<F> {
    state: Mutex<SlotState<F>>,
    idle: Condvar,
}

impl<F> Slot<F> {
    pub fn new(callback: Arc<Foreign<F>>) -> Arc<Self> {
        Arc::new(Slot {
            state: Mutex::new(SlotState {
                callback: Some(callback),
                running: 0,
            }),
            idle: Condvar::new(),
        })
    }

    /// Call through the slot: `None` when the client was freed.
    pub fn call<R>(&self, f: impl FnOnce(&Foreign<F>) -> R) -> Option<R> {
        let cb = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let cb = s.callback.clone()?;
            s.running += 1;
            cb
        };
        struct Done<'a, F>(&'a Slot<F>);
        impl<F> Drop for Done<'_, F> {
            fn drop(&mut self) {
                let mut s = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
                s.running = s.running.saturating_sub(1);
                if s.running == 0 {
                    self.0.idle.notify_all();
                }
            }
        }
        let done = Done(self);
        let out = {
            let _scope = CallbackScope::enter();
            f(&cb)
        };
        // Let go of the callback before the call counts as finished, so that a `revoke`
        // waiting for it is the one that drops the last reference (the user data is freed
        // before `mcp_client_free` returns). If the client was freed from inside this very
        // callback, the user data is freed here, after the call.
        drop(cb);
        drop(done);
        Some(out)
    }
}

/// What a client does with its slots when it is freed.
pub(crate) trait Revoke: Send + Sync {
    /// Empty the slot; with `wait`, also wait until no call through it is running.
    fn revoke(&self, wait: bool);
}

impl<F: Send + Sync> Revoke for Slot<F> {
    fn revoke(&self, wait: bool) {
        let taken = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let taken = s.callback.take();
            if wait {
                while s.running > 0 {
                    s = self.idle.wait(s).unwrap_or_else(|p| p.into_inner());
                }
            }
            taken
        };
        // Outside the lock: this may run the host's free function.
        drop(taken);
    }
}
