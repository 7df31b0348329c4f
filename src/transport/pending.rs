//! Requests in flight on transports whose responses arrive on a shared stream (stdio and the
//! legacy HTTP+SSE transport), matched back to their callers by JSON-RPC id.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::value::RawValue;
use tokio::sync::oneshot;

use crate::error::{Error, Result, RpcError};

type Outcome = std::result::Result<Box<RawValue>, RpcError>;

/// The map of requests in flight. The lock is held only to insert or remove one entry.
#[derive(Default)]
pub(crate) struct Pending {
    map: Mutex<HashMap<u64, oneshot::Sender<Outcome>>>,
    closed: Mutex<Option<String>>,
}

/// Removes its entry when the waiting request is dropped (timeout, cancellation).
pub(crate) struct Waiter<'a> {
    pending: &'a Pending,
    id: u64,
    rx: oneshot::Receiver<Outcome>,
}

impl Pending {
    /// Register request `id` before it is sent.
    pub(crate) fn register(&self, id: u64) -> Result<Waiter<'_>> {
        if let Some(why) = self.lock_closed().clone() {
            return Err(Error::Process(why));
        }
        let (tx, rx) = oneshot::channel();
        self.lock_map().insert(id, tx);
        Ok(Waiter {
            pending: self,
            id,
            rx,
        })
    }

    /// Deliver a response. Returns `false` when no request has that id.
    pub(crate) fn complete(&self, id: u64, outcome: Outcome) -> bool {
        match self.lock_map().remove(&id) {
            Some(tx) => {
                let _ = tx.send(outcome);
                true
            }
            None => false,
        }
    }

    /// The stream ended: fail every request in flight and refuse new ones.
    pub(crate) fn close(&self, why: &str) {
        *self.lock_closed() = Some(why.to_owned());
        self.lock_map().clear();
    }

    fn lock_map(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Outcome>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_closed(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.closed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Waiter<'_> {
    /// Wait for the response. `method` names the request in errors.
    pub(crate) async fn wait(mut self, method: &str) -> Result<Box<RawValue>> {
        match (&mut self.rx).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Error::Rpc(e)),
            Err(_) => Err(match self.pending.lock_closed().clone() {
                Some(why) => Error::Process(why),
                None => Error::StreamClosed {
                    method: method.to_owned(),
                },
            }),
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.pending.lock_map().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn complete_and_close() {
        let p = Pending::default();
        let w = p.register(1).unwrap();
        assert!(p.complete(1, Ok(crate::jsonrpc::raw_null())));
        assert_eq!(w.wait("m").await.unwrap().get(), "null");
        assert!(!p.complete(2, Ok(crate::jsonrpc::raw_null())));

        let w = p.register(3).unwrap();
        p.close("exited");
        assert!(matches!(w.wait("m").await, Err(Error::Process(_))));
        assert!(p.register(4).is_err());
    }

    #[tokio::test]
    async fn dropped_waiters_leave_no_entry() {
        let p = Pending::default();
        drop(p.register(9).unwrap());
        assert!(!p.complete(9, Ok(crate::jsonrpc::raw_null())));
    }
}
