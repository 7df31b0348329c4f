//! The OS credential store through the `keyring` crate: Secret Service on Linux (or the
//! kernel keyring, on request), Keychain on macOS, Credential Manager on Windows. Keyrings
//! have no locks of their own, so the cross-process lock is an advisory file lock in the
//! state directory.

use std::path::PathBuf;

use super::chunks::{self, Slots};
use super::file::{create_private_dir, lock_file};
use super::{CredentialStore, StoreError, StoreLock};

const SERVICE: &str = "mcp-client";
/// An entry listing the keys of the others (keyrings cannot be enumerated portably).
const INDEX: &str = "mcp-client-index";

/// Which keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringBackend {
    /// The platform's persistent store (Secret Service, Keychain, Credential Manager).
    Platform,
    /// The Linux kernel keyring (keyutils): needs no daemon; entries live in the session
    /// keyring and are linked into the user's persistent keyring, which the kernel expires
    /// after a few days unused; all of it ends at a reboot.
    KernelKeyring,
}

/// Credentials in the OS keyring.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    backend: KeyringBackend,
    lock_dir: PathBuf,
    /// The longest value one keyring entry takes, in UTF-16 units; longer ones are split
    /// across entries (see `chunks`).
    max_len: usize,
}

/// Credential Manager keeps at most 2,560 bytes per credential, which keyring stores as
/// UTF-16: a full entry (metadata, registration, tokens, a DPoP key) does not fit in one.
#[cfg(windows)]
const PLATFORM_MAX_LEN: usize = 1200;
/// Other keyrings take entries of any practical size.
#[cfg(not(windows))]
const PLATFORM_MAX_LEN: usize = usize::MAX;

fn kerr(e: impl std::fmt::Display) -> StoreError {
    StoreError::Keyring(e.to_string())
}

impl KeyringStore {
    /// Open `backend`, checking that it works (a probe entry is written, read and removed),
    /// with locks in `lock_dir`.
    pub fn new(backend: KeyringBackend, lock_dir: PathBuf) -> Result<Self, StoreError> {
        let s = KeyringStore {
            backend,
            lock_dir,
            max_len: PLATFORM_MAX_LEN,
        };
        let probe = format!("probe-{}", std::process::id());
        let e = s.entry(&probe)?;
        e.set_password("probe").map_err(kerr)?;
        let back = e.get_password().map_err(kerr)?;
        let _ = e.delete_credential();
        if back != "probe" {
            return Err(StoreError::Keyring(
                "the keyring did not return what was stored".into(),
            ));
        }
        Ok(s)
    }

    fn entry(&self, key: &str) -> Result<keyring::Entry, StoreError> {
        match self.backend {
            KeyringBackend::Platform => keyring::Entry::new(SERVICE, key).map_err(kerr),
            KeyringBackend::KernelKeyring => {
                #[cfg(target_os = "linux")]
                {
                    let c =
                        keyring::keyutils::KeyutilsCredential::new_with_target(None, SERVICE, key)
                            .map_err(kerr)?;
                    Ok(keyring::Entry::new_with_credential(Box::new(c)))
                }
                #[cfg(not(target_os = "linux"))]
                {
                    Err(StoreError::Keyring(
                        "the kernel keyring exists only on Linux".into(),
                    ))
                }
            }
        }
    }
}

impl KeyringStore {
    fn index(&self) -> Vec<String> {
        self.entry(INDEX)
            .ok()
            .and_then(|e| e.get_password().ok())
            .and_then(|raw| serde_json::from_str(&raw).ok())
            .unwrap_or_default()
    }

    /// Keep the index of keys (best effort: the entries themselves are the truth).
    fn update_index(&self, key: &str, present: bool) {
        let mut keys = self.index();
        let had = keys.iter().any(|k| k == key);
        if had == present {
            return;
        }
        if present {
            keys.push(key.to_owned());
            keys.sort();
        } else {
            keys.retain(|k| k != key);
        }
        if let (Ok(e), Ok(raw)) = (self.entry(INDEX), serde_json::to_string(&keys)) {
            let _ = e.set_password(&raw);
        }
    }
}

impl Slots for KeyringStore {
    fn get(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.entry(name)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(kerr(e)),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.entry(name)?.set_password(value).map_err(kerr)
    }

    fn remove(&self, name: &str) -> Result<(), StoreError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(kerr(e)),
        }
    }
}

impl CredentialStore for KeyringStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        chunks::load(self, key)
    }

    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        chunks::save(self, key, value, self.max_len)?;
        self.update_index(key, true);
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        chunks::delete(self, key)?;
        self.update_index(key, false);
        Ok(())
    }

    fn keys(&self) -> Result<Option<Vec<String>>, StoreError> {
        Ok(Some(self.index()))
    }

    fn lock(&self, key: &str) -> Result<StoreLock, StoreError> {
        create_private_dir(&self.lock_dir)?;
        lock_file(&self.lock_dir, key)
    }

    fn name(&self) -> String {
        match self.backend {
            KeyringBackend::Platform => "keyring".into(),
            KeyringBackend::KernelKeyring => "kernel keyring".into(),
        }
    }
}
