//! An in-process store for tests and e2e runs. Nothing survives the process; callers choose
//! it explicitly (`CAPSTAN_SECRET_STORE=memory` or [`StorePreference::Memory`]) and it is
//! never used as a fallback.
//!
//! [`StorePreference::Memory`]: crate::StorePreference::Memory

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use crate::{Result, Secret, SecretKey, SecretStore, StoreKind, refuse_empty};

#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<BTreeMap<SecretKey, Secret>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<SecretKey, Secret>> {
        // A panic in another test thread must not make every later call panic too.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are not secret, but the count is all a log needs.
        f.debug_struct("MemoryStore")
            .field("entries", &self.len())
            .finish()
    }
}

impl SecretStore for MemoryStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }

    fn get(&self, key: &SecretKey) -> Result<Option<Secret>> {
        Ok(self.lock().get(key).cloned())
    }

    fn set(&self, key: &SecretKey, value: &Secret) -> Result<()> {
        refuse_empty(key, value)?;
        self.lock().insert(key.clone(), value.clone());
        Ok(())
    }

    fn delete(&self, key: &SecretKey) -> Result<bool> {
        Ok(self.lock().remove(key).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names;

    fn key(env: &str, name: &str) -> SecretKey {
        SecretKey::new(env, name).unwrap()
    }

    #[test]
    fn set_get_replace_delete() {
        let store = MemoryStore::new();
        let k = key("env-a", names::PALETTE_API_KEY);
        assert_eq!(store.get(&k).unwrap(), None);
        store.set(&k, &Secret::new("first")).unwrap();
        assert_eq!(store.get(&k).unwrap().unwrap().expose(), "first");
        store.set(&k, &Secret::new("second")).unwrap();
        assert_eq!(store.get(&k).unwrap().unwrap().expose(), "second");
        assert_eq!(store.len(), 1);
        assert!(store.delete(&k).unwrap());
        assert!(!store.delete(&k).unwrap());
        assert_eq!(store.get(&k).unwrap(), None);
        assert!(store.is_empty());
        assert_eq!(store.kind(), StoreKind::Memory);
        assert!(!store.kind().is_persistent());
    }

    #[test]
    fn keys_are_isolated_per_environment_and_name() {
        let store = MemoryStore::new();
        let a = key("env-a", names::PRISM_PASSWORD);
        let b = key("env-b", names::PRISM_PASSWORD);
        let c = key("env-a", names::PALETTE_SYSADMIN_PASSWORD);
        store.set(&a, &Secret::new("pa")).unwrap();
        store.set(&b, &Secret::new("pb")).unwrap();
        assert_eq!(store.get(&a).unwrap().unwrap().expose(), "pa");
        assert_eq!(store.get(&b).unwrap().unwrap().expose(), "pb");
        assert_eq!(store.get(&c).unwrap(), None);
        store.delete(&a).unwrap();
        assert_eq!(store.get(&b).unwrap().unwrap().expose(), "pb");
    }

    #[test]
    fn refuses_empty_values() {
        let store = MemoryStore::new();
        let k = key("env-a", names::PRISM_PASSWORD);
        let err = store.set(&k, &Secret::new("")).unwrap_err();
        assert_eq!(err.code(), "empty_secret");
        assert!(store.is_empty());
    }

    #[test]
    fn debug_never_shows_values() {
        let store = MemoryStore::new();
        let planted = "planted-memory-secret-7f3a";
        store
            .set(&key("env-a", names::PALETTE_API_KEY), &Secret::new(planted))
            .unwrap();
        let text = format!("{store:?} {store:#?}");
        assert!(!text.contains(planted), "{text}");
        assert!(text.contains("entries: 1"), "{text}");
    }
}
