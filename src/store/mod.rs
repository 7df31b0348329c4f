//! Where OAuth credentials live between runs: the OS keyring, a private file, memory, or a
//! store of the host's own; and the cross-process lock that makes a refresh single-flight
//! across processes sharing one store.
//!
//! One entry per MCP server (keyed by its URL) holds the discovered metadata (with the time it
//! was fetched), the client registrations (one per issuer), the tokens (with their issuer and
//! absolute expiry) and the DPoP key bound to them. Entries are versioned JSON: an entry this
//! version cannot read (older format, corrupt, truncated) is treated as absent, never as an
//! error that stops the client, and is left in place until a fresh authorization replaces it.

mod file;
mod keyring_store;
mod memory;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use file::FileStore;
pub use keyring_store::{KeyringBackend, KeyringStore};
pub use memory::MemoryStore;

use crate::oauth::discovery::{AuthServerMetadata, ResourceMetadata};
use crate::oauth::registration::Registration;
use crate::oauth::token::TokenSet;

/// The entry format this version writes and reads.
pub const FORMAT: u32 = 1;

/// The environment variable operators use to override the store: `keyring`, `file`,
/// `kernel-keyring`, `memory`, or `file:<dir>`.
pub const STORE_ENV: &str = "MCP_CLIENT_STORE";

/// Everything kept for one MCP server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCredential {
    /// The entry format ([`FORMAT`]).
    pub format: u32,
    /// The MCP server URL this entry is for.
    pub server: String,
    /// Bumped on every save (lets a reader tell which of two entries is newer).
    #[serde(default)]
    pub generation: u64,
    /// When it was saved (seconds since the epoch).
    #[serde(default)]
    pub saved_at: u64,
    /// The resource identifier used in token requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The protected resource metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_metadata: Option<ResourceMetadata>,
    /// The authorization server metadata in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_server: Option<AuthServerMetadata>,
    /// When the metadata was fetched (seconds since the epoch).
    #[serde(default)]
    pub discovered_at: u64,
    /// Client registrations, by issuer.
    #[serde(default)]
    pub registrations: BTreeMap<String, Registration>,
    /// The tokens, and the issuer that granted them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<StoredTokens>,
}

/// What `mcp-client auth status` shows of an entry: never a secret.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialSummary {
    /// The MCP server.
    pub server: String,
    /// The authorization server of the tokens (or of the metadata, without tokens).
    pub issuer: Option<String>,
    /// The client id used with it.
    pub client_id: Option<String>,
    /// How the client was registered.
    pub registration: Option<String>,
    /// `Bearer` or `DPoP`, when a token is held.
    pub token_type: Option<String>,
    /// Access token expiry (seconds since the epoch).
    pub expires_at: Option<u64>,
    /// Whether the access token has expired.
    pub expired: bool,
    /// Whether a refresh token is held.
    pub has_refresh_token: bool,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When the entry was saved.
    pub saved_at: u64,
}

impl StoredCredential {
    /// The entry without its secrets.
    pub fn summary(&self) -> CredentialSummary {
        let t = self.tokens.as_ref();
        let issuer = t
            .map(|t| t.issuer.clone())
            .or_else(|| self.auth_server.as_ref().map(|m| m.issuer.clone()));
        let reg = issuer.as_ref().and_then(|i| self.registrations.get(i));
        CredentialSummary {
            server: self.server.clone(),
            issuer,
            client_id: reg.map(|r| r.client_id.clone()),
            registration: reg.map(|r| r.kind.clone()),
            token_type: t.map(|t| t.tokens.token_type.clone()),
            expires_at: t.and_then(|t| t.tokens.expires_at),
            expired: t.is_some_and(|t| t.tokens.expires_within(0)),
            has_refresh_token: t.is_some_and(|t| t.tokens.refresh_token.is_some()),
            scopes: t.map(|t| t.tokens.scopes.clone()).unwrap_or_default(),
            saved_at: self.saved_at,
        }
    }
}

/// Tokens with the issuer that granted them and their DPoP key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    /// The issuer.
    pub issuer: String,
    /// The tokens.
    pub tokens: TokenSet,
    /// The DPoP key (PKCS#8, base64) the tokens are bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<crate::secret::Secret>,
}

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

/// A store of credentials. Calls are short and blocking (a file, a keyring call); the engine
/// makes them off the async threads where they could wait on another process.
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

/// The key of a server's entry: its URL without query or fragment.
pub fn key_for(server: &url::Url) -> String {
    crate::oauth::discovery::canonical_resource(server)
}

/// Decode an entry; anything unreadable is `None` (with a log line saying why).
pub fn decode(key: &str, raw: &str) -> Option<StoredCredential> {
    match serde_json::from_str::<StoredCredential>(raw) {
        Ok(c) if c.format == FORMAT && c.server == key => Some(c),
        Ok(c) if c.server != key => {
            tracing::warn!(key, found = %c.server, "stored credential is for another server; ignoring it");
            None
        }
        Ok(c) => {
            tracing::info!(
                key,
                format = c.format,
                "stored credential has another format; a new sign-in will replace it"
            );
            None
        }
        Err(e) => {
            tracing::warn!(key, error = %e, "stored credential is unreadable (corrupt or truncated); a new sign-in will replace it");
            None
        }
    }
}

/// The user's state directory for mcp-client (`$XDG_STATE_HOME/mcp-client`, else
/// `~/.local/state/mcp-client`, else the temp dir).
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("mcp-client");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(h).join(".local/state/mcp-client");
    }
    std::env::temp_dir().join("mcp-client")
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
    /// The choice from [`STORE_ENV`], when set.
    pub fn from_env() -> Option<StoreChoice> {
        let v = std::env::var(STORE_ENV).ok()?;
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
    /// (a host that supplies its store means it).
    pub fn open(&self) -> Result<Store, StoreError> {
        let choice = match self {
            StoreChoice::Custom(s) => StoreChoice::Custom(s.clone()),
            _ => StoreChoice::from_env().unwrap_or_else(|| self.clone()),
        };
        let file_dir = |d: &Option<PathBuf>| d.clone().unwrap_or_else(default_dir);
        Ok(match choice {
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
                Ok(k) => Arc::new(k),
                Err(e) => {
                    let dir = default_dir();
                    tracing::warn!(
                        "no usable OS keyring ({e}); storing credentials in {} (mode 0600)",
                        dir.display()
                    );
                    Arc::new(FileStore::new(dir)?)
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_refuses_other_formats_servers_and_garbage() {
        let c = StoredCredential {
            format: FORMAT,
            server: "https://a/mcp".into(),
            ..Default::default()
        };
        let raw = serde_json::to_string(&c).unwrap();
        assert_eq!(decode("https://a/mcp", &raw), Some(c.clone()));
        assert_eq!(decode("https://b/mcp", &raw), None);
        assert_eq!(decode("https://a/mcp", &raw[..raw.len() / 2]), None);
        let old = raw.replace("\"format\":1", "\"format\":0");
        assert_eq!(decode("https://a/mcp", &old), None);
    }
}
