//! The refresh lock every host shares: a lease in Redis (`SET NX PX` with a random owner
//! token), renewed by a thread while its holder works, released only by its owner (a script
//! compares the token first), and published on release so waiters try again at once.
//!
//! A holder that dies stops renewing: its lease runs out after the lease time and a waiter
//! takes over (waiters poll as well as listen, since a dead holder publishes nothing). A
//! Redis that goes away while a host waits is waited for, within the same bound.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use ring::rand::SecureRandom;

use super::{pool, Inner, POLL};
use crate::store::StoreError;

/// Extend the lease if it is still ours. KEYS: lock. ARGV: owner, lease in ms.
const EXTEND: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// Release the lease if it is still ours, and say so. KEYS: lock, channel. ARGV: owner.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], 'released')
  return 1
end
return 0
";

/// A held lease; released when dropped.
pub(super) struct Lease {
    store: Arc<Inner>,
    lock: String,
    channel: String,
    owner: String,
    stop: Option<mpsc::Sender<()>>,
    renewer: Option<std::thread::JoinHandle<()>>,
}

fn random_owner() -> Result<String, StoreError> {
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| StoreError::Custom("no randomness for a lease owner token".into()))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// What one try at the lease found.
enum Try {
    Taken,
    Held,
    Failed(String),
}

impl Lease {
    /// Take the lease on `lock`, waiting (within the store's `lock_wait`) while another host
    /// holds it or Redis cannot be reached.
    pub(super) fn acquire(
        store: Arc<Inner>,
        lock: String,
        channel: String,
    ) -> Result<Lease, StoreError> {
        let owner = random_owner()?;
        let wait = store.opts.lock_wait_time();
        let deadline = Instant::now() + wait;
        let mut last_failure = None;
        loop {
            // Listen before trying, so a release between the try and the wait is not missed.
            let mut con = pool::connect(&store.client, store.opts.op_timeout_time()).ok();
            let connected = con.is_some();
            let mut sub = con.as_mut().and_then(|c| {
                let mut p = c.as_pubsub();
                p.subscribe(&channel).ok().map(|()| p)
            });
            loop {
                match try_take(&store, &lock, &owner) {
                    Try::Taken => return Ok(Lease::held(store, lock, channel, owner)),
                    Try::Held => {}
                    Try::Failed(why) => last_failure = Some(why),
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(StoreError::Unavailable {
                        store: store.name.clone(),
                        reason: match last_failure {
                            Some(why) => format!(
                                "the refresh lock could not be taken within {wait:?}: {why}"
                            ),
                            None => {
                                format!("another host held the refresh lock for more than {wait:?}")
                            }
                        },
                    });
                }
                let pause = left.min(POLL * 3);
                match sub.as_mut() {
                    Some(p) => {
                        let woke = p
                            .set_read_timeout(Some(pause))
                            .and_then(|()| p.get_message().map(|_| ()));
                        match woke {
                            Ok(()) => {}
                            Err(e) if e.is_timeout() => {}
                            // The subscription broke (Redis restarting?): listen again.
                            Err(_) => break,
                        }
                    }
                    None => {
                        std::thread::sleep(left.min(POLL));
                        if !connected {
                            break;
                        }
                    }
                }
            }
        }
    }

    fn held(store: Arc<Inner>, lock: String, channel: String, owner: String) -> Lease {
        let (stop, stopped) = mpsc::channel();
        let renewer = {
            let (store, lock, owner) = (store.clone(), lock.clone(), owner.clone());
            std::thread::Builder::new()
                .name("mcp-client-lease".into())
                .spawn(move || renew(&store, &lock, &owner, &stopped))
                .ok()
        };
        if renewer.is_none() {
            tracing::warn!(store = %store.name, "cannot start the lease renewer; the lease lasts its lease time");
        }
        Lease {
            store,
            lock,
            channel,
            owner,
            stop: Some(stop),
            renewer,
        }
    }
}

/// One `SET NX PX`.
fn try_take(store: &Inner, lock: &str, owner: &str) -> Try {
    let lease_ms = store.opts.lease_time().as_millis() as u64;
    let r = store.run("taking the refresh lock", |c| {
        redis::cmd("SET")
            .arg(lock)
            .arg(owner)
            .arg("NX")
            .arg("PX")
            .arg(lease_ms)
            .query::<Option<String>>(c)
    });
    match r {
        Ok(Some(_)) => Try::Taken,
        Ok(None) => Try::Held,
        Err(StoreError::Unavailable { reason, .. }) => Try::Failed(reason),
        Err(e) => Try::Failed(e.to_string()),
    }
}

/// Extend the lease every third of its time until told to stop.
fn renew(store: &Inner, lock: &str, owner: &str, stopped: &mpsc::Receiver<()>) {
    let lease = store.opts.lease_time();
    let every = lease / 3;
    let script = redis::Script::new(EXTEND);
    loop {
        match stopped.recv_timeout(every) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let r = store.run("renewing the refresh lock", |c| {
            script
                .key(lock)
                .arg(owner)
                .arg(lease.as_millis() as u64)
                .invoke::<i64>(c)
        });
        match r {
            Ok(1) => {}
            Ok(_) => {
                tracing::warn!(store = %store.name, "the refresh lock was lost (it expired): another host may refresh too");
                return;
            }
            Err(e) => {
                tracing::warn!(store = %store.name, error = %e, "cannot renew the refresh lock")
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.renewer.take() {
            let _ = t.join();
        }
        let script = redis::Script::new(RELEASE);
        let r = self.store.run("releasing the refresh lock", |c| {
            script
                .key(&self.lock)
                .key(&self.channel)
                .arg(&self.owner)
                .invoke::<i64>(c)
        });
        if let Err(e) = r {
            // It runs out by itself after the lease time.
            tracing::warn!(store = %self.store.name, error = %e, "cannot release the refresh lock");
        }
    }
}
