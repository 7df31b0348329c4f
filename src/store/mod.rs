//! Where OAuth credentials live between runs: the OS keyring, a private file, memory, Redis
//! (shared by hosts on many machines; cargo feature `redis`), or a store of the host's own; and
//! the cross-process lock that makes a refresh single-flight across processes sharing one
//! store.
//!
//! A store only moves text: one entry per key. What an entry holds and how it is read
//! (`crate::oauth::stored`) is the OAuth engine's business.

mod chunks;
mod fallback;
mod file;
mod keyring_store;
mod memory;
mod redis_options;
#[cfg(feature = "redis")]
mod redis_store;
mod seal;

use std::path::PathBuf;
use std::sync::Arc;

pub use file::FileStore;
pub use keyring_store::{KeyringBackend, KeyringStore};
pub use memory::MemoryStore;
pub use redis_options::RedisOptions;
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use seal::{SealKey, KEY_ENV, KEY_FILE_ENV};

/// The environment variable operators use to override the store: `keyring`, `file`,
/// `kernel-keyring`, `memory`, `file:<dir>`, or a `redis://` / `rediss://` URL.
pub const STORE_ENV: &str = "MCP_CLIENT_STORE";

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The keyring refused or is unreachable.
    #[error("keyring: {0}")]
    Keyring(String),
    /// A file operation failed (permissions, full disk…).
    #[error("credential file {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The host's store failed.
    #[error("credential store: {0}")]
    Custom(String),
    /// A store the engine cannot do without (Redis) is unreachable, too slow, or misconfigured.
    #[error("credential store {store} unavailable: {reason}")]
    Unavailable {
        /// The store, as `name()` shows it (never with a password).
        store: String,
        /// What failed.
        reason: String,
    },
    /// Entry encryption: a bad or missing key, or an entry that does not decrypt.
    #[error("credential encryption: {0}")]
    Encryption(String),
}

/// What [`CredentialStore::save_versioned`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// The entry was written.
    Written,
    /// Refused: the stored entry is at this generation, the same as or past the one offered.
    Stale {
        /// The stored entry's generation.
        stored: u64,
    },
}

/// A store of credentials. Calls block (a file, a keyring that may wait for the user to
/// unlock it, a host's callback); the engine never makes them on a thread other tasks need
/// (see `runtime::blocking`), and waits for a lock at most a bounded time.
pub trait CredentialStore: Send + Sync + 'static {
    /// The raw entry for `key`, if any.
    fn load(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Replace the entry for `key`.
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Replace the entry for `key` with `value`, the entry's `generation`, unless the store
    /// holds that generation or a later one already (then nothing is written). Stores that
    /// keep no generation write it (the default).
    fn save_versioned(
        &self,
        key: &str,
        value: &str,
        _generation: u64,
    ) -> Result<Saved, StoreError> {
        self.save(key, value).map(|()| Saved::Written)
    }
    /// Remove the entry for `key` (absent is fine).
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Take the cross-process lock for `key`, waiting for it; released when the guard drops.
    /// The default takes none (single-process stores).
    fn lock(&self, _key: &str) -> Result<StoreLock, StoreError> {
        Ok(StoreLock::none())
    }
    /// A short name for status and logs (`keyring`, `file`, `memory`, …).
    fn name(&self) -> String;
    /// The keys of every entry, when the store can list them (`None`: it cannot).
    fn keys(&self) -> Result<Option<Vec<String>>, StoreError> {
        Ok(None)
    }
    /// Whether the engine must stop when this store fails, rather than go on with what it
    /// holds in memory: true for a store many hosts share (Redis), where a host refreshing
    /// without the lock, or signing in without the stored credential, could use a refresh
    /// token twice and have the whole grant revoked.
    fn required(&self) -> bool {
        false
    }
}

/// A held cross-process lock: whatever keeps it held (a locked file, a lease), released when
/// dropped.
pub struct StoreLock {
    _held: Option<Box<dyn Send>>,
}

impl StoreLock {
    /// No lock.
    pub fn none() -> Self {
        StoreLock { _held: None }
    }

    /// A lock kept as long as `held` lives.
    pub fn holding(held: impl Send + 'static) -> Self {
        StoreLock {
            _held: Some(Box::new(held)),
        }
    }
}

/// A shared store.
pub type Store = Arc<dyn CredentialStore>;

/// The user's state directory for mcp-client: `$XDG_STATE_HOME/mcp-client`, else
/// `~/.local/state/mcp-client`, else (Windows) `%LOCALAPPDATA%\mcp-client`, else a directory
/// of this user's own in the temp dir (`mcp-client-<uid>`; the file store refuses it unless
/// it is a private directory this user owns).
pub fn default_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|d| !d.is_empty());
    if let Some(d) = var("XDG_STATE_HOME") {
        return PathBuf::from(d).join("mcp-client");
    }
    if let Some(h) = var("HOME") {
        return PathBuf::from(h).join(".local/state/mcp-client");
    }
    if let Some(d) = var("LOCALAPPDATA") {
        return PathBuf::from(d).join("mcp-client");
    }
    #[cfg(unix)]
    // SAFETY: getuid has no preconditions and cannot fail.
    let user = unsafe { libc::getuid() }.to_string();
    #[cfg(not(unix))]
    let user = var("USERNAME")
        .map(|u| u.to_string_lossy().into_owned())
        .unwrap_or_else(|| "user".into());
    std::env::temp_dir().join(format!("mcp-client-{user}"))
}

/// Which store to use.
#[derive(Clone, Default)]
pub enum StoreChoice {
    /// The OS keyring, else the file store with one warning (the default).
    #[default]
    Auto,
    /// The OS keyring only (errors if unusable).
    Keyring,
    /// The Linux kernel keyring (keyutils); entries last until the user's persistent keyring
    /// expires (days unused) or a reboot.
    KernelKeyring,
    /// A file store in this directory (default: [`default_dir`]).
    File(Option<PathBuf>),
    /// Memory only: nothing outlives the process.
    Memory,
    /// The host's own.
    Custom(Store),
    /// Redis (or Valkey), shared by hosts on many machines (opening it needs the cargo
    /// feature `redis`).
    Redis(Box<RedisOptions>),
}

impl std::fmt::Debug for StoreChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreChoice::Auto => f.write_str("Auto"),
            StoreChoice::Keyring => f.write_str("Keyring"),
            StoreChoice::KernelKeyring => f.write_str("KernelKeyring"),
            StoreChoice::File(d) => write!(f, "File({d:?})"),
            StoreChoice::Memory => f.write_str("Memory"),
            StoreChoice::Custom(s) => write!(f, "Custom({})", s.name()),
            StoreChoice::Redis(o) => write!(f, "Redis({})", o.shown()),
        }
    }
}

impl StoreChoice {
    /// The choice from [`STORE_ENV`], when set to something (set but empty counts as unset,
    /// so `MCP_CLIENT_STORE=` never overrides a configured store).
    pub fn from_env() -> Option<StoreChoice> {
        let v = std::env::var(STORE_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())?;
        Some(StoreChoice::parse(&v).unwrap_or_else(|| {
            tracing::warn!(value = %v, "unknown {STORE_ENV}; using the default store");
            StoreChoice::Auto
        }))
    }

    /// Parse a store name as `MCP_CLIENT_STORE` and the CLI's `--store` take it: `auto`,
    /// `keyring`, `kernel-keyring`, `file`, `file:<dir>`, `memory`, `redis://…`, `rediss://…`.
    /// `None`: not a store name. A Redis URL that cannot be used still parses, and opening it
    /// reports why (see [`StoreChoice::parse_checked`] to learn it now).
    pub fn parse(s: &str) -> Option<StoreChoice> {
        let s = s.trim();
        if is_redis_url(s) {
            return Some(StoreChoice::Redis(Box::new(
                RedisOptions::from_url_or_error(s),
            )));
        }
        Some(match s {
            "auto" | "" => StoreChoice::Auto,
            "keyring" => StoreChoice::Keyring,
            "kernel-keyring" => StoreChoice::KernelKeyring,
            "memory" => StoreChoice::Memory,
            "file" => StoreChoice::File(None),
            other => StoreChoice::File(Some(PathBuf::from(other.strip_prefix("file:")?))),
        })
    }

    /// [`StoreChoice::parse`], with the reason when `s` is not a usable store.
    pub fn parse_checked(s: &str) -> Result<StoreChoice, StoreError> {
        if is_redis_url(s.trim()) {
            return RedisOptions::from_url(s).map(|o| StoreChoice::Redis(Box::new(o)));
        }
        StoreChoice::parse(s).ok_or_else(|| StoreError::Unavailable {
            store: s.trim().to_owned(),
            reason: "not a store (auto, keyring, kernel-keyring, file, file:<dir>, memory, redis://…, rediss://…)".into(),
        })
    }

    /// Open the store. The environment variable overrides `self`, except a host's own store
    /// (a host that supplies its store means it). Nothing is announced: see
    /// [`StoreChoice::open_with_reason`].
    pub fn open(&self) -> Result<Store, StoreError> {
        self.open_with_reason().map(|o| o.store)
    }

    /// Open the store, and say why it is not the one asked for: [`StoreChoice::Auto`] falls
    /// back to the file store when the OS keyring is unusable, and [`StoreChoice::Redis`] to
    /// its configured local store when Redis cannot be reached (without one, that is an
    /// error, [`StoreError::Unavailable`]). The caller announces the fallback when it first
    /// uses the store for a credential, so that runs which never need one say nothing.
    pub fn open_with_reason(&self) -> Result<OpenedStore, StoreError> {
        let choice = match self {
            StoreChoice::Custom(s) => StoreChoice::Custom(s.clone()),
            _ => StoreChoice::from_env().unwrap_or_else(|| self.clone()),
        };
        if let StoreChoice::Redis(o) = &choice {
            return open_redis(o);
        }
        if let StoreChoice::Auto = choice {
            return open_auto();
        }
        Ok(OpenedStore {
            store: choice.open_local()?,
            fallback: None,
        })
    }

    /// Open this store as it is (the environment not consulted), when it is one of this
    /// machine's or the host's own; `Auto` means the keyring backed by the file store.
    fn open_local(&self) -> Result<Store, StoreError> {
        let file_dir = |d: &Option<PathBuf>| d.clone().unwrap_or_else(default_dir);
        Ok(match self {
            StoreChoice::Memory => Arc::new(MemoryStore::default()),
            StoreChoice::Custom(s) => s.clone(),
            StoreChoice::File(d) => Arc::new(FileStore::new(file_dir(d))?),
            StoreChoice::Keyring => {
                Arc::new(KeyringStore::new(KeyringBackend::Platform, default_dir())?)
            }
            StoreChoice::KernelKeyring => Arc::new(KeyringStore::new(
                KeyringBackend::KernelKeyring,
                default_dir(),
            )?),
            StoreChoice::Auto => open_auto()?.store,
            StoreChoice::Redis(o) => {
                return Err(StoreError::Unavailable {
                    store: format!("redis ({})", o.shown()),
                    reason: "Redis cannot be its own fallback".into(),
                })
            }
        })
    }
}

/// The OS keyring (backed by the file store), else the file store, saying why.
fn open_auto() -> Result<OpenedStore, StoreError> {
    match KeyringStore::new(KeyringBackend::Platform, default_dir()) {
        // The file store behind it, when one can be had (else the keyring alone).
        Ok(k) => Ok(OpenedStore {
            store: match FileStore::new(default_dir()) {
                Ok(f) => Arc::new(fallback::KeyringOrFile::new(Arc::new(k), f)),
                Err(_) => Arc::new(k),
            },
            fallback: None,
        }),
        Err(e) => Ok(OpenedStore {
            store: Arc::new(FileStore::new(default_dir())?),
            fallback: Some(format!("no usable OS keyring ({e})")),
        }),
    }
}

/// A store as [`StoreChoice::open_with_reason`] opened it.
pub struct OpenedStore {
    /// The store.
    pub store: Store,
    /// Why this is a fallback rather than the store asked for (`None`: it is the one).
    pub fallback: Option<String>,
}

fn is_redis_url(s: &str) -> bool {
    let l = s.get(..9).unwrap_or(s).to_ascii_lowercase();
    l.starts_with("redis://") || l.starts_with("rediss://")
}

/// Open a Redis store; when Redis cannot be reached and a local fallback is configured, that
/// store instead, with the reason (announced once, as a warning, when first used).
fn open_redis(o: &RedisOptions) -> Result<OpenedStore, StoreError> {
    #[cfg(feature = "redis")]
    let opened = RedisStore::open(o).map(|s| Arc::new(s) as Store);
    #[cfg(not(feature = "redis"))]
    let opened: Result<Store, StoreError> = Err(StoreError::Unavailable {
        store: format!("redis ({})", o.shown()),
        reason: "this build has no Redis support (cargo feature `redis`)".into(),
    });
    match (opened, o.fallback_choice()) {
        (Ok(store), _) => Ok(OpenedStore {
            store,
            fallback: None,
        }),
        (Err(e @ StoreError::Unavailable { .. }), Some(local)) => {
            let local = local.open_local()?;
            Ok(OpenedStore {
                fallback: Some(format!("{e}; using the local store {}", local.name())),
                store: local,
            })
        }
        (Err(e), _) => Err(e),
    }
}
