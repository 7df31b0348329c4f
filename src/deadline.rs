//! Request timeouts without a runtime timer per request.
//!
//! `tokio::time::timeout` registers every request in the runtime's one timer wheel, which sits
//! behind one lock that each request takes twice (insert, remove). With many requests in
//! flight on few cores, that lock costs more than the rest of the client's work per request
//! (measured: `benches/transport.rs`). Here each client keeps its deadlines in a few sharded
//! lists, and one sweeper task per client wakes every [`TICK`] while requests are pending, fires
//! the expired ones and drops the finished ones. A timeout therefore fires up to one tick late,
//! which is immaterial for request timeouts; the sweeper sleeps when nothing is pending.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often pending deadlines are checked.
pub(crate) const TICK: Duration = Duration::from_millis(10);

const SHARDS: usize = 16;

/// The expiry flag of one request.
#[derive(Default)]
pub(crate) struct Flag {
    fired: AtomicBool,
    waker: AtomicWaker,
}

struct Entry {
    at: Instant,
    flag: Weak<Flag>,
}

/// The deadlines of one client's requests.
pub(crate) struct Deadlines {
    shards: Box<[Mutex<Vec<Entry>>]>,
    active: AtomicBool,
    wake: Notify,
}

impl Deadlines {
    /// Empty, with its sweeper running until `stop` fires.
    pub(crate) fn start(stop: CancellationToken) -> Arc<Self> {
        let d = Arc::new(Deadlines {
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
            active: AtomicBool::new(false),
            wake: Notify::new(),
        });
        tokio::spawn(sweep(Arc::downgrade(&d), stop));
        d
    }

    /// Track a deadline for request `id`; the returned flag fires when `at` has passed.
    pub(crate) fn register(&self, id: u64, at: Instant) -> Arc<Flag> {
        let flag = Arc::new(Flag::default());
        self.shards[id as usize % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Entry {
                at,
                flag: Arc::downgrade(&flag),
            });
        if !self.active.load(Ordering::Acquire) && !self.active.swap(true, Ordering::AcqRel) {
            self.wake.notify_one();
        }
        flag
    }

    /// Fire expired entries, drop finished ones; whether any remain.
    fn sweep_once(&self, now: Instant) -> bool {
        let mut pending = false;
        for shard in self.shards.iter() {
            let mut entries = shard.lock().unwrap_or_else(|p| p.into_inner());
            entries.retain(|e| {
                let Some(flag) = e.flag.upgrade() else {
                    return false; // the request finished
                };
                if e.at <= now {
                    flag.fired.store(true, Ordering::Release);
                    flag.waker.wake();
                    return false;
                }
                true
            });
            pending |= !entries.is_empty();
        }
        pending
    }
}

/// The sweeper: holds the deadlines weakly, so it ends with the client (or with `stop`).
async fn sweep(deadlines: Weak<Deadlines>, stop: CancellationToken) {
    loop {
        let Some(d) = deadlines.upgrade() else { return };
        if !d.active.load(Ordering::Acquire) {
            // Holding `d` while idle is fine: the client cancels `stop` when it goes away.
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = d.wake.notified() => continue,
            }
        }
        drop(d);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(TICK) => {}
        }
        let Some(d) = deadlines.upgrade() else { return };
        if !d.sweep_once(Instant::now()) {
            d.active.store(false, Ordering::Release);
            // A registration that raced with the store above re-arms us.
            if d.sweep_once(Instant::now()) {
                d.active.store(true, Ordering::Release);
            }
        }
    }
}

/// Completes when the flag fires.
pub(crate) struct Expired<'a>(pub(crate) &'a Flag);

impl Future for Expired<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.fired.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.0.waker.register(cx.waker());
        if self.0.fired.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_after_the_deadline_and_not_before() {
        let stop = CancellationToken::new();
        let d = Deadlines::start(stop.clone());
        let t0 = Instant::now();
        let flag = d.register(1, t0 + Duration::from_millis(50));
        let later = d.register(2, t0 + Duration::from_secs(60));
        Expired(&flag).await;
        let waited = t0.elapsed();
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
        assert!(waited < Duration::from_millis(50) + TICK * 20, "{waited:?}");
        assert!(!later.fired.load(Ordering::Acquire));
        stop.cancel();
    }

    #[tokio::test]
    async fn finished_requests_are_forgotten_and_the_sweeper_idles() {
        let stop = CancellationToken::new();
        let d = Deadlines::start(stop.clone());
        for id in 0..100 {
            drop(d.register(id, Instant::now() + Duration::from_secs(60)));
        }
        tokio::time::sleep(TICK * 5).await;
        assert!(!d.active.load(Ordering::Acquire));
        assert!(d.shards.iter().all(|s| s.lock().unwrap().is_empty()));
        // And it wakes up again for new work.
        let f = d.register(7, Instant::now() + Duration::from_millis(20));
        tokio::time::timeout(Duration::from_secs(2), Expired(&f))
            .await
            .expect("fires after idling");
        stop.cancel();
    }
}
