//! A credential store on Redis (or Valkey), shared by hosts on many machines acting for one
//! user or service account: one entry per server, a lease lock that makes a refresh
//! single-flight across all of them, and a generation compared-and-set on every write so a
//! newer credential is never overwritten by an older one.
//!
//! Keys, for a server whose store key hashes to `<h>` (the file store's hash):
//! `<prefix>:cred:<h>` (a hash: `gen`, the entry's generation, and `val`, the entry, sealed
//! when a key is set), `<prefix>:lock:<h>` (the lease: a random owner token with an expiry)
//! and the channel `<prefix>:chan:<h>` (a write or a release is published there, so waiters
//! wake at once instead of polling).

mod lease;
mod pool;

use std::sync::Arc;
use std::time::Duration;

use super::file::file_stem;
use super::redis_options::RedisOptions;
use super::seal::SealKey;
use super::{CredentialStore, StoreError, StoreLock};

/// Write an entry unless the one stored has this generation or a later one; publish it.
/// KEYS: entry, channel. ARGV: generation (0: write whatever is stored), value, whether the
/// value is sealed (1/0). Returns -1 when written, -2 when refused because a sealed entry would
/// be replaced by a plaintext one (a host without the fleet's key), else the stored generation
/// that won. Anything but a hash at the entry's key (a hand edit) is replaced.
const SAVE: &str = r"
local t = redis.call('TYPE', KEYS[1])['ok']
local cur = 0
if t == 'hash' then
  cur = tonumber(redis.call('HGET', KEYS[1], 'gen')) or 0
  local old = redis.call('HGET', KEYS[1], 'val')
  if ARGV[3] == '0' and old and string.sub(old, 1, 14) == 'mcp-sealed-v1:' then
    return -2
  end
elseif t ~= 'none' then
  redis.call('DEL', KEYS[1])
end
local gen = tonumber(ARGV[1]) or 0
if gen > 0 and cur >= gen then
  return cur
end
if gen == 0 then
  gen = cur
end
redis.call('HSET', KEYS[1], 'gen', gen, 'val', ARGV[2])
redis.call('PUBLISH', KEYS[2], gen)
return -1
";

/// Credentials in Redis.
pub struct RedisStore {
    inner: Arc<Inner>,
}

/// What the store and its leases share.
struct Inner {
    opts: RedisOptions,
    client: redis::Client,
    pool: pool::Pool,
    seal: Option<Arc<SealKey>>,
    name: String,
    save: redis::Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.inner.name)
    }
}

impl RedisStore {
    /// Open the store and check that Redis answers (within the operation timeout): an
    /// unreachable Redis is an error here, naming the store.
    pub fn open(opts: &RedisOptions) -> Result<Self, StoreError> {
        crate::runtime::install_crypto_provider();
        let url = opts.url()?;
        let seal = opts.resolve_key()?;
        let name = format!(
            "redis ({}, prefix {}{})",
            opts.shown(),
            opts.prefix_str(),
            if seal.is_some() { ", encrypted" } else { "" }
        );
        let unavailable = |reason: String| StoreError::Unavailable {
            store: name.clone(),
            reason,
        };
        let client = redis::Client::open(url.as_str())
            .map_err(|e| unavailable(format!("bad Redis URL: {}", describe(&e))))?;
        let pool = pool::pool(client.clone(), opts.op_timeout_time());
        let store = RedisStore {
            inner: Arc::new(Inner {
                opts: opts.clone(),
                client,
                pool,
                seal,
                name: name.clone(),
                save: redis::Script::new(SAVE),
            }),
        };
        store
            .inner
            .run("reaching Redis", |c| redis::cmd("PING").query::<String>(c))?;
        Ok(store)
    }

    /// The options it was opened with.
    pub fn options(&self) -> &RedisOptions {
        &self.inner.opts
    }
}

/// A Redis error in words: what redis-rs says, which never includes the password.
fn describe(e: &redis::RedisError) -> String {
    if e.is_timeout() {
        format!("no answer within the timeout ({e})")
    } else if e.is_connection_refusal() {
        format!("connection refused ({e})")
    } else {
        e.to_string()
    }
}

/// Hash-entry names for one store key.
struct Names {
    entry: String,
    lock: String,
    channel: String,
}

impl Inner {
    fn names(&self, key: &str) -> Names {
        let (p, h) = (self.opts.prefix_str(), file_stem(key));
        Names {
            entry: format!("{p}:cred:{h}"),
            lock: format!("{p}:lock:{h}"),
            channel: format!("{p}:chan:{h}"),
        }
    }

    fn unavailable(&self, what: &str, reason: String) -> StoreError {
        StoreError::Unavailable {
            store: self.name.clone(),
            reason: format!("{what}: {reason}"),
        }
    }

    /// Run `f` on a pooled connection; a connection whose operation failed is closed, never
    /// reused.
    fn run<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        let mut c = self
            .pool
            .get()
            .map_err(|e| self.unavailable(what, format!("cannot connect ({e})")))?;
        match f(&mut c.con) {
            Ok(v) => Ok(v),
            Err(e) => {
                c.poisoned = true;
                Err(self.unavailable(what, describe(&e)))
            }
        }
    }

    /// The entry's text from what Redis holds, opened when sealed. A plaintext entry where
    /// entries are sealed counts as absent (said in the log; the next write seals it). A sealed
    /// entry this host cannot open is an error, not an absence: were it absent, this host would
    /// sign in and overwrite the fleet's credential with one the others cannot read.
    fn unseal(&self, entry: &str, raw: String) -> Result<Option<String>, StoreError> {
        match (&self.seal, SealKey::is_sealed(&raw)) {
            (Some(k), true) => k.open(entry, &raw).map(Some).map_err(|e| {
                self.unavailable(
                    "reading the credential",
                    format!("{e}; every host must use the fleet's key (MCP_CLIENT_STORE_KEY), or the entry be deleted (redis-cli DEL {entry})"),
                )
            }),
            (Some(_), false) => {
                tracing::warn!(store = %self.name, entry, "the credential entry is not encrypted; treating it as absent (the next save encrypts it)");
                Ok(None)
            }
            (None, true) => Err(self.unavailable(
                "reading the credential",
                "the entry is encrypted and this host has no key (set MCP_CLIENT_STORE_KEY or MCP_CLIENT_STORE_KEY_FILE, or key_file= in the URL)".into(),
            )),
            (None, false) => Ok(Some(raw)),
        }
    }

    fn seal(&self, entry: &str, value: &str) -> Result<String, StoreError> {
        match &self.seal {
            Some(k) => k.seal(entry, value),
            None => Ok(value.to_owned()),
        }
    }

    /// Write `value` at generation `generation` (0: unconditionally). `Ok(None)`: written;
    /// `Ok(Some(g))`: refused, the stored entry is at generation `g`.
    fn write(&self, key: &str, value: &str, generation: u64) -> Result<Option<u64>, StoreError> {
        let n = self.names(key);
        let sealed = self.seal(&n.entry, value)?;
        let r: i64 = self.run("saving the credential", |c| {
            self.save
                .key(&n.entry)
                .key(&n.channel)
                .arg(generation)
                .arg(&sealed)
                .arg(if self.seal.is_some() { "1" } else { "0" })
                .invoke(c)
        })?;
        if r == -2 {
            return Err(self.unavailable(
                "saving the credential",
                "the stored entry is encrypted and this host has no key: not replacing it with plaintext".into(),
            ));
        }
        Ok(u64::try_from(r).ok())
    }
}

impl CredentialStore for RedisStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        let s = &self.inner;
        let entry = s.names(key).entry;
        let raw = s.run("reading the credential", |c| {
            match redis::cmd("HGET").arg(&entry).arg("val").query(c) {
                // Not a hash (a hand edit): absent, and replaced by the next write.
                Err(e) if e.code() == Some("WRONGTYPE") => {
                    tracing::warn!(store = %s.name, entry, "the credential entry is not a Redis hash; treating it as absent");
                    Ok(None)
                }
                other => other,
            }
        })?;
        match raw {
            Some(raw) => s.unseal(&entry, raw),
            None => Ok(None),
        }
    }

    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.inner.write(key, value, 0).map(|_| ())
    }

    fn save_versioned(
        &self,
        key: &str,
        value: &str,
        generation: u64,
    ) -> Result<super::Saved, StoreError> {
        Ok(match self.inner.write(key, value, generation.max(1))? {
            None => super::Saved::Written,
            Some(stored) => super::Saved::Stale { stored },
        })
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let n = self.inner.names(key);
        self.inner.run("deleting the credential", |c| {
            redis::pipe()
                .cmd("DEL")
                .arg(&n.entry)
                .ignore()
                .cmd("PUBLISH")
                .arg(&n.channel)
                .arg("deleted")
                .ignore()
                .query::<()>(c)
        })
    }

    fn lock(&self, key: &str) -> Result<StoreLock, StoreError> {
        let n = self.inner.names(key);
        lease::Lease::acquire(self.inner.clone(), n.lock, n.channel).map(StoreLock::holding)
    }

    fn name(&self) -> String {
        self.inner.name.clone()
    }

    fn keys(&self) -> Result<Option<Vec<String>>, StoreError> {
        let s = &self.inner;
        let pattern = format!("{}:cred:*", s.opts.prefix_str());
        let entries: Vec<String> = s.run("listing credentials", |c| {
            redis::cmd("SCAN")
                .cursor_arg(0)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .clone()
                .iter(c)?
                .collect::<redis::RedisResult<Vec<String>>>()
        })?;
        let mut keys = Vec::new();
        for entry in entries {
            let raw: Option<String> = s
                .run("listing credentials", |c| {
                    redis::cmd("HGET").arg(&entry).arg("val").query(c)
                })
                .unwrap_or(None);
            let server = raw
                .and_then(|r| s.unseal(&entry, r).ok().flatten())
                .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
                .and_then(|v| v.get("server").and_then(|x| x.as_str()).map(str::to_owned));
            keys.extend(server);
        }
        keys.sort();
        Ok(Some(keys))
    }

    fn required(&self) -> bool {
        true
    }
}

/// How long a lease waiter sleeps between tries when it has no subscription to wake it.
const POLL: Duration = Duration::from_millis(100);
