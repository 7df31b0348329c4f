//! The live handles of one type, so that a second `_free` of the same pointer is recognised
//! and ignored instead of freeing twice (while the address has not been reused by a newer
//! handle). Calls other than `_free` do not consult it: passing a freed handle to them is
//! undefined behaviour, as in any C library.
//!
//! Addresses are kept bit-inverted, so that leak checkers (LeakSanitizer, valgrind), which scan
//! memory for anything that looks like a pointer, still report a handle the host never freed.

use std::collections::HashSet;
use std::sync::Mutex;

pub(crate) struct Registry {
    live: Mutex<Option<HashSet<usize>>>,
}

impl Registry {
    pub const fn new() -> Self {
        Registry {
            live: Mutex::new(None),
        }
    }

    pub fn insert<T>(&self, p: *const T) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.get_or_insert_with(HashSet::new).insert(!(p as usize));
    }

    /// Whether `p` was live (it is not any more).
    pub fn remove<T>(&self, p: *const T) -> bool {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.as_mut().is_some_and(|l| l.remove(&!(p as usize)))
    }
}
