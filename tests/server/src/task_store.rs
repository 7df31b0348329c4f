//! The tasks of one session: each task's state, its status changes, and the store that keeps
//! tasks for their `ttl` and forgets them after. Data only: the task tools and the `tasks/*`
//! methods that drive it are in `tasks.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::rpc::{code, RpcError};
use crate::sync::lock;

/// The `pollInterval` suggested to requestors, in milliseconds.
pub(crate) const POLL_MS: u64 = 50;

/// A task's state.
pub(crate) struct Entry {
    pub(crate) id: String,
    created: SystemTime,
    started: Instant,
    ttl_ms: u64,
    pub(crate) state: Mutex<State>,
    /// Bumped on every change, for `tasks/result` to wait on.
    pub(crate) changed: watch::Sender<u64>,
    /// Stops the work (`tasks/cancel`, the session's end).
    pub(crate) cancel: CancellationToken,
}

/// What changes over a task's life.
pub(crate) struct State {
    pub(crate) status: &'static str,
    message: Option<String>,
    updated: SystemTime,
    /// The underlying request's outcome, once terminal.
    pub(crate) outcome: Option<Result<Value, RpcError>>,
    /// A request for the client, waiting for `tasks/result` to deliver it.
    pub(crate) input: Option<Input>,
}

/// A request the task needs the client to answer.
pub(crate) struct Input {
    pub(crate) method: &'static str,
    pub(crate) params: Value,
    pub(crate) reply: oneshot::Sender<Result<Value, Value>>,
}

/// Whether a status is final.
pub(crate) fn terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

impl Entry {
    /// A new `working` task that ends with `cancel`.
    pub(crate) fn new(id: String, ttl_ms: u64, cancel: CancellationToken) -> Self {
        let now = SystemTime::now();
        let (changed, _) = watch::channel(0);
        Entry {
            id,
            created: now,
            started: Instant::now(),
            ttl_ms,
            state: Mutex::new(State {
                status: "working",
                message: Some("The operation is now in progress.".into()),
                updated: now,
                outcome: None,
                input: None,
            }),
            changed,
            cancel,
        }
    }

    fn expired(&self) -> bool {
        self.started.elapsed() > Duration::from_millis(self.ttl_ms)
    }

    /// The `Task` object.
    pub(crate) fn json(&self) -> Value {
        let s = lock(&self.state);
        let mut t = json!({
            "taskId": self.id,
            "status": s.status,
            "createdAt": iso8601(self.created),
            "lastUpdatedAt": iso8601(s.updated),
            "ttl": self.ttl_ms,
            "pollInterval": POLL_MS,
        });
        if let Some(m) = &s.message {
            t["statusMessage"] = Value::from(m.as_str());
        }
        t
    }

    /// Moves to `status` (never out of a terminal one); false when it was terminal already.
    pub(crate) fn set(
        &self,
        status: &'static str,
        message: Option<String>,
        outcome: Option<Result<Value, RpcError>>,
    ) -> bool {
        {
            let mut s = lock(&self.state);
            if terminal(s.status) {
                return false;
            }
            s.status = status;
            s.message = message;
            s.updated = SystemTime::now();
            if outcome.is_some() {
                s.outcome = outcome;
            }
            if terminal(status) {
                s.input = None;
            }
        }
        self.changed.send_modify(|n| *n += 1);
        true
    }
}

/// The tasks of one session.
#[derive(Default)]
pub(crate) struct Store {
    tasks: Mutex<HashMap<String, Arc<Entry>>>,
}

impl Store {
    /// A live task by id: `-32602` when unknown or expired (an expired one is forgotten).
    pub(crate) fn get(&self, params: Option<&Value>) -> Result<Arc<Entry>, RpcError> {
        let id = params
            .and_then(|p| p.get("taskId"))
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::new(code::INVALID_PARAMS, "missing taskId"))?;
        let mut tasks = lock(&self.tasks);
        let entry = tasks.get(id).cloned().ok_or_else(|| {
            RpcError::new(
                code::INVALID_PARAMS,
                "Failed to retrieve task: Task not found",
            )
        })?;
        if entry.expired() {
            tasks.remove(id);
            entry.cancel.cancel();
            return Err(RpcError::new(
                code::INVALID_PARAMS,
                "Failed to retrieve task: Task has expired",
            ));
        }
        Ok(entry)
    }

    /// Every live task, oldest first (expired ones are forgotten).
    pub(crate) fn live(&self) -> Vec<Arc<Entry>> {
        let mut tasks = lock(&self.tasks);
        tasks.retain(|_, e| {
            let keep = !e.expired();
            if !keep {
                e.cancel.cancel();
            }
            keep
        });
        let mut all: Vec<Arc<Entry>> = tasks.values().cloned().collect();
        all.sort_by_key(|e| e.started);
        all
    }

    /// Keeps a new task.
    pub(crate) fn insert(&self, entry: Arc<Entry>) {
        lock(&self.tasks).insert(entry.id.clone(), entry);
    }

    /// Stops every task (the session ended).
    pub(crate) fn close(&self) {
        for (_, e) in lock(&self.tasks).drain() {
            e.cancel.cancel();
        }
    }
}

/// An RFC 3339 UTC timestamp with milliseconds.
fn iso8601(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        let t = UNIX_EPOCH + Duration::from_millis(1_764_066_600_123);
        assert_eq!(iso8601(t), "2025-11-25T10:30:00.123Z");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
