//! Picking a store. The rule: the OS keyring when it works; otherwise tell the caller why and
//! let the *user* decide. Nothing here opens the file store or a memory store on its own.

use std::path::PathBuf;

use crate::{
    EncryptedFileStore, KeyringStore, MemoryStore, Result, Secret, SecretStore, SecretsError,
    ServiceName,
};

/// Environment variable that selects a store explicitly (tests, e2e): `keyring`, `file` or
/// `memory`.
pub const STORE_ENV_VAR: &str = "CAPSTAN_SECRET_STORE";

/// The store the user (settings) or the environment asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StorePreference {
    /// The OS keyring; the default.
    #[default]
    Keyring,
    /// The passphrase-protected file the user opted into.
    EncryptedFile,
    /// In-process only, for tests and e2e runs. Secrets are lost when the app exits.
    Memory,
}

impl StorePreference {
    /// Parses `keyring`, `file` or `memory`; `source_name` names where the value came from
    /// for the error message.
    pub fn parse(value: &str, source_name: &'static str) -> Result<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "keyring" => Ok(Self::Keyring),
            "file" => Ok(Self::EncryptedFile),
            "memory" => Ok(Self::Memory),
            _ => Err(SecretsError::InvalidStoreSetting {
                source_name,
                value: value.chars().take(40).collect(),
            }),
        }
    }

    /// The preference in [`STORE_ENV_VAR`], or `default` when it is unset or empty. A value
    /// that names no store is an error rather than being ignored.
    pub fn from_env_or(default: Self) -> Result<Self> {
        Self::from_env_value(std::env::var(STORE_ENV_VAR).ok().as_deref(), default)
    }

    fn from_env_value(value: Option<&str>, default: Self) -> Result<Self> {
        match value {
            Some(v) if !v.trim().is_empty() => Self::parse(v, STORE_ENV_VAR),
            _ => Ok(default),
        }
    }
}

/// Where the encrypted-file store lives, and whether a file is already there (so the UI asks
/// "unlock" rather than "choose a passphrase").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFallback {
    pub path: PathBuf,
    pub exists: bool,
}

impl FileFallback {
    fn at(path: PathBuf) -> Self {
        let exists = path.exists();
        Self { path, exists }
    }

    /// Call only after the user agreed and typed the passphrase: opens the file if it exists
    /// now, otherwise creates it.
    pub fn open_or_create(&self, passphrase: &Secret) -> Result<EncryptedFileStore> {
        if self.path.exists() {
            EncryptedFileStore::open(&self.path, passphrase)
        } else {
            EncryptedFileStore::create(&self.path, passphrase)
        }
    }
}

/// What [`choose_store`] decided.
#[derive(Debug)]
pub enum StoreChoice {
    /// A usable store: the keyring (probe passed) or the memory store (asked for explicitly).
    Ready(Box<dyn SecretStore>),
    /// The keyring was asked for but cannot be used. Show `reason` (its message says what to
    /// do) and offer the encrypted file at `file`; do not store anything until the user
    /// chooses.
    NeedsFallback {
        reason: SecretsError,
        file: FileFallback,
    },
    /// The user opted into the encrypted file earlier: ask for its passphrase, then call
    /// [`FileFallback::open_or_create`].
    NeedsPassphrase { file: FileFallback },
}

/// Picks the store for `preference`. `file_path` is where the encrypted file lives (or would).
pub fn choose_store(
    preference: StorePreference,
    service: ServiceName,
    file_path: PathBuf,
) -> StoreChoice {
    match preference {
        StorePreference::Keyring => {
            let keyring = KeyringStore::new(service);
            match keyring.probe() {
                Ok(()) => StoreChoice::Ready(Box::new(keyring)),
                Err(reason) => StoreChoice::NeedsFallback {
                    reason,
                    file: FileFallback::at(file_path),
                },
            }
        }
        StorePreference::EncryptedFile => StoreChoice::NeedsPassphrase {
            file: FileFallback::at(file_path),
        },
        StorePreference::Memory => StoreChoice::Ready(Box::new(MemoryStore::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreKind;

    #[test]
    fn preferences_parse_and_bad_values_are_errors() {
        assert_eq!(
            StorePreference::parse("keyring", "t").unwrap(),
            StorePreference::Keyring
        );
        assert_eq!(
            StorePreference::parse(" File ", "t").unwrap(),
            StorePreference::EncryptedFile
        );
        assert_eq!(
            StorePreference::parse("memory", "t").unwrap(),
            StorePreference::Memory
        );
        let err = StorePreference::parse("plaintext", STORE_ENV_VAR).unwrap_err();
        assert_eq!(err.code(), "invalid_store_setting");
        assert_eq!(
            err.to_string(),
            "Unknown secret store \"plaintext\" in CAPSTAN_SECRET_STORE. Use one of: keyring, \
             file, memory."
        );
    }

    #[test]
    fn env_value_overrides_the_default_only_when_set() {
        let default = StorePreference::Keyring;
        assert_eq!(
            StorePreference::from_env_value(None, default).unwrap(),
            default
        );
        assert_eq!(
            StorePreference::from_env_value(Some(""), default).unwrap(),
            default
        );
        assert_eq!(
            StorePreference::from_env_value(Some("memory"), default).unwrap(),
            StorePreference::Memory
        );
        assert!(StorePreference::from_env_value(Some("mem"), default).is_err());
    }

    #[test]
    fn memory_is_only_chosen_when_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.bin");
        match choose_store(
            StorePreference::Memory,
            ServiceName::scoped("unit").unwrap(),
            path.clone(),
        ) {
            StoreChoice::Ready(store) => {
                assert_eq!(store.kind(), StoreKind::Memory);
                let planted = "planted-choice-secret-0a4e";
                let key = crate::SecretKey::new("env", crate::names::PRISM_PASSWORD).unwrap();
                store.set(&key, &Secret::new(planted)).unwrap();
                let choice = StoreChoice::Ready(store);
                let text = format!("{choice:?} {choice:#?}");
                assert!(!text.contains(planted), "{text}");
            }
            other => panic!("expected the memory store, got {other:?}"),
        }
        assert!(!path.exists());
    }

    #[test]
    fn the_file_preference_asks_for_a_passphrase_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.bin");
        let choice = choose_store(
            StorePreference::EncryptedFile,
            ServiceName::scoped("unit").unwrap(),
            path.clone(),
        );
        let StoreChoice::NeedsPassphrase { file } = choice else {
            panic!("expected NeedsPassphrase, got {choice:?}");
        };
        assert_eq!(
            file,
            FileFallback {
                path: path.clone(),
                exists: false
            }
        );
        assert!(!path.exists(), "choosing must not create the file");
    }
}
