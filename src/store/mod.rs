//! Where OAuth credentials live between runs: the OS keyring, a private file, memory, or a
//! store of the host's own; and the cross-process lock that makes a refresh single-flight
//! across processes sharing one store.
//!
//! A store only moves text: one entry per key. What an entry holds and how it is read
//! (`crate::oauth::stored`) is the OAuth engine's business.

mod chunks;
mod fallback;
mod file;
mod keyring_store;
mod memory;

use std::path::PathBuf;
use std::sync::Arc;

pub use file::FileStore;
pub use keyring_store::{KeyringBackend, KeyringStore};
pub use memory::MemoryStore;

/// The environment variable operators use to override the store: `keyring`, `file`,
/// `kernel-keyring`, `memory`, or `file:<dir>`.
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
}

/// A store of credentials. Calls block (a file, a keyring that may wait for the user to
/// unlock it, a host's callback); the engine never makes them on a thread other tasks need
/// (see `runtime::blocking`), and waits for a lock at most a bounded time.
pub trait CredentialStore: Send + Sync + 'static {
    /// The raw entry for `key`, if any.
    fn load(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Replace the entry for `key`.
    fn save(&self, key: &str, value: &str) -> Result<(), StoreError>;
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
}

/// A held cross-process lock.
pub struct StoreLock {
    _file: Option<std::fs::File>,
}

impl StoreLock {
    /// No lock.
    pub fn none() -> Self {
        StoreLock { _file: None }
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
    /// `keyring`, `kernel-keyring`, `file`, `file:<dir>`, `memory`. `None`: not a store name.
    pub fn parse(s: &str) -> Option<StoreChoice> {
        Some(match s.trim() {
            "auto" | "" => StoreChoice::Auto,
            "keyring" => StoreChoice::Keyring,
            "kernel-keyring" => StoreChoice::KernelKeyring,
            "memory" => StoreChoice::Memory,
            "file" => StoreChoice::File(None),
            other => StoreChoice::File(Some(PathBuf::from(other.strip_prefix("file:")?))),
        })
    }

    /// Open the store. The environment variable overrides `self`, except a host's own store
    /// (a host that supplies its store means it). Nothing is announced: see
    /// [`StoreChoice::open_with_reason`].
    pub fn open(&self) -> Result<Store, StoreError> {
        self.open_with_reason().map(|o| o.store)
    }

    /// Open the store, and say why it is not the one asked for: [`StoreChoice::Auto`] falls
    /// back to the file store when the OS keyring is unusable. The caller announces the
    /// fallback when it first uses the store for a credential, so that runs which never
    /// need one say nothing.
    pub fn open_with_reason(&self) -> Result<OpenedStore, StoreError> {
        let choice = match self {
            StoreChoice::Custom(s) => StoreChoice::Custom(s.clone()),
            _ => StoreChoice::from_env().unwrap_or_else(|| self.clone()),
        };
        let file_dir = |d: &Option<PathBuf>| d.clone().unwrap_or_else(default_dir);
        let store: Store = match choice {
            StoreChoice::Memory => Arc::new(MemoryStore::default()),
            StoreChoice::Custom(s) => s,
            StoreChoice::File(d) => Arc::new(FileStore::new(file_dir(&d))?),
            StoreChoice::Keyring => {
                Arc::new(KeyringStore::new(KeyringBackend::Platform, default_dir())?)
            }
            StoreChoice::KernelKeyring => Arc::new(KeyringStore::new(
                KeyringBackend::KernelKeyring,
                default_dir(),
            )?),
            StoreChoice::Auto => match KeyringStore::new(KeyringBackend::Platform, default_dir()) {
                // The file store behind it, when one can be had (else the keyring alone).
                Ok(k) => match FileStore::new(default_dir()) {
                    Ok(f) => Arc::new(fallback::KeyringOrFile::new(Arc::new(k), f)),
                    Err(_) => Arc::new(k),
                },
                Err(e) => {
                    return Ok(OpenedStore {
                        store: Arc::new(FileStore::new(default_dir())?),
                        fallback: Some(format!("no usable OS keyring ({e})")),
                    })
                }
            },
        };
        Ok(OpenedStore {
            store,
            fallback: None,
        })
    }
}

/// A store as [`StoreChoice::open_with_reason`] opened it.
pub struct OpenedStore {
    /// The store.
    pub store: Store,
    /// Why this is a fallback rather than the store asked for (`None`: it is the one).
    pub fallback: Option<String>,
}
