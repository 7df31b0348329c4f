//! A store in memory: nothing outlives the process.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{CredentialStore, StoreError};

/// Credentials in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, String>>,
}

impl CredentialStore for MemoryStore {
    fn load(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned())
    }

    fn save(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
        Ok(())
    }

    fn name(&self) -> String {
        "memory".into()
    }

    fn keys(&self) -> Result<Option<Vec<String>>, StoreError> {
        let mut k: Vec<String> = self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        k.sort();
        Ok(Some(k))
    }
}
