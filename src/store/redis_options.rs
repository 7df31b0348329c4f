//! How to reach a Redis (or Valkey) credential store and how it behaves, from a `redis://` or
//! `rediss://` URL (as `--store` and `MCP_CLIENT_STORE` take it) or built in code.
//!
//! The URL is Redis's own (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS)
//! plus the store's settings as query parameters:
//!
//! | parameter | meaning | default |
//! |---|---|---|
//! | `prefix` | namespace of every key (`<prefix>:cred:<hash>`) | `mcp-client` |
//! | `lease_ms` | lease of a refresh lock; renewed while its holder works | 10000 |
//! | `timeout_ms` | bound on each Redis operation and on connecting | 2000 |
//! | `lock_wait_ms` | bound on waiting for another host's refresh | 45000 |
//! | `fallback` | a local store to use, with one warning, when Redis is unreachable at start (`file`, `file:<dir>`, `keyring`, `memory`) | none: an error |
//! | `key_file` | a file holding the entry encryption key (see `store::seal`) | [`super::seal::KEY_ENV`] / [`super::seal::KEY_FILE_ENV`] |

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::seal::SealKey;
use super::{StoreChoice, StoreError};

/// Settings of a Redis credential store. Built from a URL ([`RedisOptions::from_url`]) and
/// adjusted with the builder methods.
#[derive(Clone)]
pub struct RedisOptions {
    url: Option<url::Url>,
    invalid: Option<String>,
    shown: String,
    prefix: String,
    lease: Duration,
    op_timeout: Duration,
    lock_wait: Duration,
    fallback: Option<Box<StoreChoice>>,
    key_file: Option<PathBuf>,
    key: Option<Arc<SealKey>>,
}

impl std::fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisOptions")
            .field("url", &self.shown)
            .field("prefix", &self.prefix)
            .field("lease", &self.lease)
            .field(
                "encrypted",
                &(self.key.is_some() || self.key_file.is_some()),
            )
            .finish_non_exhaustive()
    }
}

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "mcp-client";

fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::Unavailable {
        store: "redis".into(),
        reason: reason.into(),
    }
}

/// `redis://host:port/db` with the user name and password left out (for logs and status).
fn shown(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

fn millis(name: &str, v: &str, min: u64) -> Result<Duration, StoreError> {
    match v.parse::<u64>() {
        Ok(n) if n >= min => Ok(Duration::from_millis(n)),
        _ => Err(invalid(format!(
            "`{name}={v}`: give a whole number of milliseconds, at least {min}"
        ))),
    }
}

impl RedisOptions {
    /// Settings from a `redis://` or `rediss://` URL with the store's query parameters (see
    /// the module docs). Errors name what is wrong, never the password.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let mut u =
            url::Url::parse(url.trim()).map_err(|e| invalid(format!("not a Redis URL ({e})")))?;
        if !matches!(u.scheme(), "redis" | "rediss") {
            return Err(invalid(format!(
                "a Redis URL starts with redis:// or rediss://, not {}://",
                u.scheme()
            )));
        }
        if u.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the Redis URL has no host"));
        }
        let mut o = RedisOptions::defaults(shown(&u));
        let mut rest = Vec::new();
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "prefix" => o = o.prefix(&v)?,
                "lease_ms" => o.lease = millis("lease_ms", &v, 100)?,
                "timeout_ms" => o.op_timeout = millis("timeout_ms", &v, 10)?,
                "lock_wait_ms" => o.lock_wait = millis("lock_wait_ms", &v, 0)?,
                "key_file" => o.key_file = Some(PathBuf::from(v.as_ref())),
                "fallback" => {
                    let f = StoreChoice::parse(&v)
                        .filter(|c| {
                            matches!(
                                c,
                                StoreChoice::File(_) | StoreChoice::Keyring | StoreChoice::Memory
                            )
                        })
                        .ok_or_else(|| {
                            invalid(format!(
                                "`fallback={v}`: use file, file:<dir>, keyring or memory"
                            ))
                        })?;
                    o.fallback = Some(Box::new(f));
                }
                _ => rest.push((k.into_owned(), v.into_owned())),
            }
        }
        // Redis's own parameters (e.g. `protocol`) stay for the Redis client.
        if rest.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(rest);
        }
        o.url = Some(u);
        Ok(o)
    }

    /// Settings for `url`; a URL that cannot be used is kept as the error opening the store
    /// will report (so a mistyped `MCP_CLIENT_STORE` fails loudly instead of falling back).
    pub(crate) fn from_url_or_error(url: &str) -> Self {
        RedisOptions::from_url(url).unwrap_or_else(|e| {
            let mut o = RedisOptions::defaults("redis (invalid URL)".into());
            o.invalid = Some(e.to_string());
            o
        })
    }

    fn defaults(shown: String) -> Self {
        RedisOptions {
            url: None,
            invalid: None,
            shown,
            prefix: DEFAULT_PREFIX.into(),
            lease: Duration::from_secs(10),
            op_timeout: Duration::from_secs(2),
            lock_wait: Duration::from_secs(45),
            fallback: None,
            key_file: None,
            key: None,
        }
    }

    /// Namespace every key with `prefix` (letters, digits and `-_.:`; hosts sharing a prefix
    /// share credentials, hosts with different prefixes never see each other's).
    pub fn prefix(mut self, prefix: &str) -> Result<Self, StoreError> {
        let ok = !prefix.is_empty()
            && prefix.len() <= 128
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !ok {
            return Err(invalid(format!(
                "prefix `{prefix}`: use 1-128 letters, digits and -_.:"
            )));
        }
        self.prefix = prefix.to_owned();
        Ok(self)
    }

    /// How long a refresh lock lasts unless its holder renews it (it does, every third of
    /// this, while it works): how soon another host takes over from one that died.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// The bound on each Redis operation and on connecting.
    pub fn op_timeout(mut self, timeout: Duration) -> Self {
        self.op_timeout = timeout.max(Duration::from_millis(10));
        self
    }

    /// The bound on waiting for another host's refresh (past it the refresh fails with an
    /// error naming the store).
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// When Redis cannot be reached at start, use this local store instead (said once, as a
    /// warning) rather than failing.
    pub fn fallback(mut self, local: StoreChoice) -> Self {
        self.fallback = Some(Box::new(local));
        self
    }

    /// Encrypt entries with `key` (overrides the environment and `key_file`).
    pub fn encryption_key(mut self, key: SealKey) -> Self {
        self.key = Some(Arc::new(key));
        self
    }

    /// Encrypt entries with the key in this file (read when the store opens).
    pub fn key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.key_file = Some(path.into());
        self
    }

    /// The URL without credentials, for logs and status.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The key prefix.
    pub fn prefix_str(&self) -> &str {
        &self.prefix
    }

    /// The lease of a refresh lock.
    pub fn lease_time(&self) -> Duration {
        self.lease
    }

    /// The bound on each operation.
    pub fn op_timeout_time(&self) -> Duration {
        self.op_timeout
    }

    /// The bound on waiting for another host's refresh.
    pub fn lock_wait_time(&self) -> Duration {
        self.lock_wait
    }

    /// The local store to fall back to, if any.
    pub fn fallback_choice(&self) -> Option<&StoreChoice> {
        self.fallback.as_deref()
    }

    /// The URL for the Redis client (with credentials), or why there is none.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn url(&self) -> Result<&url::Url, StoreError> {
        match (&self.url, &self.invalid) {
            (Some(u), None) => Ok(u),
            (_, Some(e)) => Err(invalid(e.clone())),
            (None, None) => Err(invalid("no Redis URL")),
        }
    }

    /// The encryption key: the one given, else `key_file`'s, else the environment's.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn resolve_key(&self) -> Result<Option<Arc<SealKey>>, StoreError> {
        if let Some(k) = &self.key {
            return Ok(Some(k.clone()));
        }
        if let Some(p) = &self.key_file {
            return SealKey::from_file(p).map(|k| Some(Arc::new(k)));
        }
        Ok(SealKey::from_env()?.map(Arc::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters_are_the_stores_and_the_rest_are_redis() {
        let o = RedisOptions::from_url(
            "redis://u:pw@127.0.0.1:6390/2?prefix=team-a&lease_ms=500&fallback=file:/tmp/x&protocol=resp3",
        )
        .unwrap();
        assert_eq!(o.prefix_str(), "team-a");
        assert_eq!(o.lease_time(), Duration::from_millis(500));
        assert!(matches!(
            o.fallback_choice(),
            Some(StoreChoice::File(Some(_)))
        ));
        assert_eq!(o.shown(), "redis://127.0.0.1:6390/2");
        let u = o.url().unwrap();
        assert_eq!(u.password(), Some("pw"));
        assert_eq!(u.query(), Some("protocol=resp3"));
        assert!(!format!("{o:?}").contains("pw"));
    }

    #[test]
    fn bad_urls_say_why_without_the_password() {
        for (url, says) in [
            ("http://h/0", "redis://"),
            ("redis://h/0?prefix=a b", "prefix"),
            ("redis://h/0?lease_ms=5", "lease_ms"),
            ("redis://h/0?fallback=redis://x", "fallback"),
            ("redis:///0", "no host"),
        ] {
            let e = RedisOptions::from_url(url).unwrap_err().to_string();
            assert!(e.contains(says), "{url}: {e}");
        }
        let o = RedisOptions::from_url_or_error("redis://u:secret@h/0?lease_ms=x");
        let e = o.url().unwrap_err().to_string();
        assert!(e.contains("lease_ms") && !e.contains("secret"), "{e}");
    }
}
