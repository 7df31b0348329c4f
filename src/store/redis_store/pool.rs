//! Connections to Redis: an r2d2 pool of blocking connections that connects within the
//! store's timeout, bounds every read and write by it, and drops a connection that failed
//! (redis-rs marks it closed), so the next use reconnects: a restarted Redis is picked up again
//! without the host doing anything.

use std::sync::Arc;
use std::time::Duration;

/// A pooled connection, set aside for good after any failure: a command that timed out may
/// still be answered later, and that stray reply must never be read as another command's.
pub(super) struct Conn {
    /// The connection.
    pub(super) con: redis::Connection,
    /// An operation on it failed: close it rather than reuse it.
    pub(super) poisoned: bool,
}

/// Makes and checks the pool's connections.
pub(super) struct Manager {
    client: redis::Client,
    timeout: Duration,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = redis::RedisError;

    fn connect(&self) -> Result<Conn, redis::RedisError> {
        Ok(Conn {
            con: connect(&self.client, self.timeout)?,
            poisoned: false,
        })
    }

    fn is_valid(&self, c: &mut Conn) -> Result<(), redis::RedisError> {
        redis::cmd("PING").query::<String>(&mut c.con).map(|_| ())
    }

    fn has_broken(&self, c: &mut Conn) -> bool {
        c.poisoned || !redis::ConnectionLike::is_open(&c.con)
    }
}

/// A connection to `client` within `timeout`, whose reads and writes are bounded by it too.
pub(super) fn connect(
    client: &redis::Client,
    timeout: Duration,
) -> Result<redis::Connection, redis::RedisError> {
    let c = client.get_connection_with_timeout(timeout)?;
    c.set_read_timeout(Some(timeout))?;
    c.set_write_timeout(Some(timeout))?;
    Ok(c)
}

/// The pool.
pub(super) type Pool = r2d2::Pool<Manager>;

/// A pool for `client`: up to four connections, none made before the first use, each checked
/// with a PING when taken (a connection Redis closed is replaced, not handed out).
pub(super) fn pool(client: redis::Client, timeout: Duration) -> Pool {
    r2d2::Pool::builder()
        .max_size(4)
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .test_on_check_out(true)
        .idle_timeout(Some(Duration::from_secs(60)))
        // One housekeeping thread, not r2d2's default three: this pool is small and mostly idle.
        .thread_pool(Arc::new(scheduled_thread_pool::ScheduledThreadPool::new(1)))
        // Failures reach the caller as errors (and the log, once, from there).
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build_unchecked(Manager { client, timeout })
}
