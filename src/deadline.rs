//! Request timeouts without a runtime timer per request.
//!
//! `tokio::time::timeout` registers every request in the runtime's one timer wheel, which sits
//! behind one lock that each request takes twice (insert, remove). With many requests in
//! flight on few cores, that lock costs more than the rest of the client's work per request
//! (measured: `benches/transport.rs`). Here each client keeps its deadlines in a few sharded
//! lists, and one sweeper task per client wakes every [`TICK`] while requests are pending, fires
//! the expired ones and drops the finished ones. A timeout therefore fires up to one tick late,
//! which is immaterial for request timeouts; the sweeper sleeps when nothing is pending.
//!
//! Time a request spends authorizing (a sign-in in the browser can take minutes) does not
//! count against its timeout: the auth layer suspends the current request's deadline
//! ([`suspend_current`]), and the full timeout starts again when it resumes. Authorization has
//! timeouts of its own.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
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
pub(crate) struct Flag {
    fired: AtomicBool,
    waker: AtomicWaker,
    /// The deadline, in milliseconds after the owning [`Deadlines`]' base instant.
    at_ms: AtomicU64,
    /// The request's timeout, to restart it after a suspension.
    timeout_ms: u64,
    /// How many suspensions are active (authorization in progress).
    suspended: AtomicU32,
    base: Instant,
}

impl Flag {
    fn now_ms(&self) -> u64 {
        self.base.elapsed().as_millis() as u64
    }
}

tokio::task_local! {
    /// The deadline of the request this task is running.
    static CURRENT: Arc<Flag>;
}

/// Run `fut` as the request whose deadline is `flag`.
pub(crate) async fn scope<F: Future>(flag: Arc<Flag>, fut: F) -> F::Output {
    CURRENT.scope(flag, fut).await
}

/// Suspends the current request's deadline until dropped, then restarts its full timeout.
pub(crate) struct Suspended(Option<Arc<Flag>>);

/// Suspend the deadline of the request this task runs, if any.
pub(crate) fn suspend_current() -> Suspended {
    let flag = CURRENT.try_with(Arc::clone).ok();
    if let Some(f) = &flag {
        f.suspended.fetch_add(1, Ordering::AcqRel);
    }
    Suspended(flag)
}

impl Drop for Suspended {
    fn drop(&mut self) {
        if let Some(f) = &self.0 {
            f.at_ms.store(f.now_ms() + f.timeout_ms, Ordering::Release);
            f.suspended.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

struct Entry {
    flag: Weak<Flag>,
}

/// The deadlines of one client's requests.
pub(crate) struct Deadlines {
    shards: Box<[Mutex<Vec<Entry>>]>,
    active: AtomicBool,
    wake: Notify,
    base: Instant,
}

impl Deadlines {
    /// Empty, with its sweeper running until `stop` fires.
    pub(crate) fn start(stop: CancellationToken) -> Arc<Self> {
        let d = Arc::new(Deadlines {
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
            active: AtomicBool::new(false),
            wake: Notify::new(),
            base: Instant::now(),
        });
        tokio::spawn(sweep(Arc::downgrade(&d), stop));
        d
    }

    /// Track a deadline for request `id`; the returned flag fires when `timeout` has passed.
    pub(crate) fn register(&self, id: u64, timeout: Duration) -> Arc<Flag> {
        let timeout_ms = timeout.as_millis() as u64;
        let flag = Arc::new(Flag {
            fired: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            at_ms: AtomicU64::new(self.base.elapsed().as_millis() as u64 + timeout_ms),
            timeout_ms,
            suspended: AtomicU32::new(0),
            base: self.base,
        });
        self.shards[id as usize % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Entry {
                flag: Arc::downgrade(&flag),
            });
        if !self.active.load(Ordering::Acquire) && !self.active.swap(true, Ordering::AcqRel) {
            self.wake.notify_one();
        }
        flag
    }

    /// Fire expired entries, drop finished ones; whether any remain.
    fn sweep_once(&self, now: Instant) -> bool {
        let now = now.saturating_duration_since(self.base).as_millis() as u64;
        let mut pending = false;
        for shard in self.shards.iter() {
            let mut entries = shard.lock().unwrap_or_else(|p| p.into_inner());
            entries.retain(|e| {
                let Some(flag) = e.flag.upgrade() else {
                    return false; // the request finished
                };
                if flag.suspended.load(Ordering::Acquire) == 0
                    && flag.at_ms.load(Ordering::Acquire) <= now
                {
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
    async fn suspension_stops_the_clock_and_restarts_it() {
        let stop = CancellationToken::new();
        let d = Deadlines::start(stop.clone());
        let flag = d.register(1, Duration::from_millis(40));
        let f2 = flag.clone();
        let t0 = Instant::now();
        scope(flag.clone(), async move {
            let g = suspend_current();
            tokio::time::sleep(Duration::from_millis(120)).await;
            assert!(!f2.fired.load(Ordering::Acquire), "fired while suspended");
            drop(g);
            Expired(&f2).await;
        })
        .await;
        // 120 ms suspended, then the full 40 ms again.
        assert!(
            t0.elapsed() >= Duration::from_millis(160),
            "{:?}",
            t0.elapsed()
        );
        // Outside a request, suspending is a no-op.
        drop(suspend_current());
        stop.cancel();
    }

    #[tokio::test]
    async fn fires_after_the_deadline_and_not_before() {
        let stop = CancellationToken::new();
        let d = Deadlines::start(stop.clone());
        let t0 = Instant::now();
        let flag = d.register(1, Duration::from_millis(50));
        let later = d.register(2, Duration::from_secs(60));
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
            drop(d.register(id, Duration::from_secs(60)));
        }
        tokio::time::sleep(TICK * 5).await;
        assert!(!d.active.load(Ordering::Acquire));
        assert!(d.shards.iter().all(|s| s.lock().unwrap().is_empty()));
        // And it wakes up again for new work.
        let f = d.register(7, Duration::from_millis(20));
        tokio::time::timeout(Duration::from_secs(2), Expired(&f))
            .await
            .expect("fires after idling");
        stop.cancel();
    }
}
