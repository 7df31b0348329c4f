//! The default store: the OS keyring, and the file store for an entry the keyring refuses
//! when saving (too large for it, locked, gone away): said once, then kept there. Loads look
//! in the keyring first, then in the file store (where an earlier run may have moved it).

use std::sync::atomic::{AtomicBool, Ordering};

use super::{CredentialStore, FileStore, Store, StoreError, StoreLock};

/// The keyring, with the file store behind it.
pub(crate) struct KeyringOrFile {
    keyring: Store,
    file: FileStore,
    /// Whether the keyring refused a save (from then on entries go to the file store).
    moved: AtomicBool,
}

impl KeyringOrFile {
    pub(crate) fn new(keyring: Store, file: FileStore) -> Self {
        KeyringOrFile {
            keyring,
            file,
            moved: AtomicBool::new(false),
        }
    }
}

impl CredentialStore for KeyringOrFile {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        if !self.moved.load(Ordering::Acquire) {
            match self.keyring.load(key) {
                Ok(Some(v)) => return Ok(Some(v)),
                Ok(None) => {}
                Err(e) => tracing::debug!(error = %e, "the keyring could not read the entry"),
            }
        }
        self.file.load(key)
    }

    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        if !self.moved.load(Ordering::Acquire) {
            match self.keyring.save(key, value) {
                Ok(()) => {
                    // A copy an earlier fallback left in the file store is now stale.
                    let _ = self.file.delete(key);
                    return Ok(());
                }
                Err(e) => {
                    if !self.moved.swap(true, Ordering::AcqRel) {
                        tracing::warn!(
                            error = %e,
                            dir = %self.file.dir().display(),
                            "the OS keyring refused the credential; keeping it in the file store (mode 0600)"
                        );
                    }
                }
            }
        }
        self.file.save(key, value)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let k = self.keyring.delete(key);
        let f = self.file.delete(key);
        if self.moved.load(Ordering::Acquire) {
            f
        } else {
            k.and(f)
        }
    }

    fn lock(&self, key: &str) -> Result<StoreLock, StoreError> {
        self.file.lock(key)
    }

    fn name(&self) -> String {
        if self.moved.load(Ordering::Acquire) {
            format!("{} (the keyring refused an entry)", self.file.name())
        } else {
            self.keyring.name()
        }
    }

    fn keys(&self) -> Result<Option<Vec<String>>, StoreError> {
        let mut keys = self.keyring.keys().ok().flatten().unwrap_or_default();
        keys.extend(self.file.keys()?.unwrap_or_default());
        keys.sort();
        keys.dedup();
        Ok(Some(keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use std::sync::Arc;

    /// A keyring that reads and deletes but refuses to save (Credential Manager and a
    /// too-large entry, a locked keyring).
    struct Refusing(MemoryStore);

    impl CredentialStore for Refusing {
        fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
            self.0.load(key)
        }
        fn save(&self, _key: &str, _value: &str) -> Result<(), StoreError> {
            Err(StoreError::Keyring("the credential is too large".into()))
        }
        fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.0.delete(key)
        }
        fn name(&self) -> String {
            "keyring".into()
        }
    }

    #[test]
    fn sec_a_save_the_keyring_refuses_falls_back_to_the_file_store() {
        let dir = std::env::temp_dir().join(format!("mcp-client-fallback-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let s = KeyringOrFile::new(
            Arc::new(Refusing(MemoryStore::default())),
            FileStore::new(dir.clone()).unwrap(),
        );
        assert_eq!(s.name(), "keyring");
        s.save("k", "{\"big\":true}")
            .expect("kept in the file store");
        assert_eq!(s.load("k").unwrap().as_deref(), Some("{\"big\":true}"));
        assert!(s.name().starts_with("file ("), "{}", s.name());
        assert_eq!(s.keys().unwrap(), Some(vec![]));
        s.delete("k").unwrap();
        assert_eq!(s.load("k").unwrap(), None);

        // A working keyring keeps entries there, and removes a stale file copy.
        let dir2 = dir.join("second");
        let file = FileStore::new(dir2.clone()).unwrap();
        file.save("k", "old").unwrap();
        let ok = KeyringOrFile::new(Arc::new(MemoryStore::default()), file);
        ok.save("k", "new").unwrap();
        assert_eq!(ok.load("k").unwrap().as_deref(), Some("new"));
        assert_eq!(ok.file.load("k").unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
