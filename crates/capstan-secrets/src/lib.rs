//! Where Capstan keeps credentials (Palette API keys, Prism passwords).
//!
//! * [`KeyringStore`] — the OS keyring: macOS Keychain, Windows Credential Manager, and on
//!   Linux the freedesktop Secret Service (gnome-keyring, KWallet). The `keyring` crate is
//!   built with explicit platform features: on Linux `sync-secret-service` (persists across
//!   reboots), never `linux-native` alone (kernel keyutils, lost on reboot) and never with no
//!   Linux feature (that silently gives an in-memory mock).
//! * [`EncryptedFileStore`] — an opt-in fallback for desktops without a Secret Service: one
//!   file, XChaCha20-Poly1305, key derived from a passphrase with Argon2id.
//! * [`MemoryStore`] — for tests and e2e runs, chosen explicitly.
//!
//! [`choose_store`] picks the keyring only when [`KeyringStore::probe`] passes. Otherwise it
//! returns [`StoreChoice::NeedsFallback`] so the UI can explain and ask; this crate never
//! falls back to a file or to plaintext on its own.
//!
//! Values are [`capstan_common::Secret`]; no type here prints a value in `Debug` or an error.

mod choose;
mod error;
mod file_store;
mod keyring_store;
mod memory;

use std::fmt;

pub use capstan_common::Secret;
pub use choose::{FileFallback, STORE_ENV_VAR, StoreChoice, StorePreference, choose_store};
pub use error::{Result, SecretsError};
pub use file_store::{EncryptedFileStore, KdfParams, MIN_PASSPHRASE_CHARS, write_private_file};
pub use keyring_store::KeyringStore;
pub use memory::MemoryStore;

/// Names of the credentials Capstan stores, one per environment.
pub mod names {
    pub const PALETTE_API_KEY: &str = "palette_api_key";
    pub const PRISM_PASSWORD: &str = "prism_password";
    pub const PALETTE_SYSADMIN_PASSWORD: &str = "palette_sysadmin_password";
}

/// Which secret `get`/`set`/`delete` address: a credential `name` within an environment.
///
/// Both parts are restricted to a small alphabet without `/`, so the keyring account
/// `"{environment_id}/{name}"` maps back to exactly one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretKey {
    environment_id: String,
    name: String,
}

impl SecretKey {
    const MAX_ENVIRONMENT_ID: usize = 128;
    const MAX_NAME: usize = 64;

    pub fn new(environment_id: impl Into<String>, name: impl Into<String>) -> Result<Self> {
        let environment_id = environment_id.into();
        let name = name.into();
        let env_ok = !environment_id.is_empty()
            && environment_id.len() <= Self::MAX_ENVIRONMENT_ID
            && environment_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !env_ok {
            return Err(SecretsError::InvalidKey {
                field: "environment_id",
                value: truncate_for_message(&environment_id),
                rule: "use 1 to 128 characters from A-Z, a-z, 0-9, '-', '_' and '.'",
            });
        }
        let name_ok = name.len() <= Self::MAX_NAME
            && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(SecretsError::InvalidKey {
                field: "name",
                value: truncate_for_message(&name),
                rule: "use snake_case: a lowercase letter, then up to 63 of a-z, 0-9 and '_'",
            });
        }
        Ok(Self {
            environment_id,
            name,
        })
    }

    pub fn environment_id(&self) -> &str {
        &self.environment_id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The account/user string used in the keyring and as the entry key in the file store.
    pub fn account(&self) -> String {
        format!("{}/{}", self.environment_id, self.name)
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.environment_id, self.name)
    }
}

fn truncate_for_message(value: &str) -> String {
    value.chars().take(80).collect()
}

/// Build channel whose keyring namespace a store uses, so a debug build never reads or
/// overwrites the credentials of the installed release app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Release,
    Debug,
}

impl Channel {
    /// The channel of the running binary.
    pub fn current() -> Self {
        if cfg!(debug_assertions) {
            Self::Debug
        } else {
            Self::Release
        }
    }
}

/// The keyring "service" every Capstan credential is filed under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceName(String);

impl ServiceName {
    pub const RELEASE: &'static str = "dev.capstan.app";
    pub const DEBUG: &'static str = "dev.capstan.app.debug";

    pub fn for_channel(channel: Channel) -> Self {
        Self(
            match channel {
                Channel::Release => Self::RELEASE,
                Channel::Debug => Self::DEBUG,
            }
            .to_owned(),
        )
    }

    pub fn current() -> Self {
        Self::for_channel(Channel::current())
    }

    /// A namespace below the app's, e.g. for tests that must not touch real credentials:
    /// `ServiceName::scoped("test.1234")` → `dev.capstan.app.debug.test.1234`.
    pub fn scoped(suffix: &str) -> Result<Self> {
        let ok = !suffix.is_empty()
            && suffix.len() <= 64
            && suffix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !ok {
            return Err(SecretsError::InvalidKey {
                field: "service suffix",
                value: truncate_for_message(suffix),
                rule: "use 1 to 64 characters from A-Z, a-z, 0-9, '-', '_' and '.'",
            });
        }
        Ok(Self(format!("{}.{suffix}", Self::DEBUG)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which kind of store is in use, for the UI ("saved in the system keyring").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    Keyring,
    EncryptedFile,
    Memory,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyring => "keyring",
            Self::EncryptedFile => "file",
            Self::Memory => "memory",
        }
    }

    /// Whether secrets survive the process exiting.
    pub fn is_persistent(self) -> bool {
        !matches!(self, Self::Memory)
    }
}

/// A place credentials live. Implementations are safe to share between threads and never
/// print values in `Debug`.
pub trait SecretStore: Send + Sync + fmt::Debug {
    fn kind(&self) -> StoreKind;

    /// The stored value, or `None` when nothing is stored under `key`.
    fn get(&self, key: &SecretKey) -> Result<Option<Secret>>;

    /// Stores `value`, replacing any previous value. Empty values are refused.
    fn set(&self, key: &SecretKey, value: &Secret) -> Result<()>;

    /// Removes the value; returns whether there was one.
    fn delete(&self, key: &SecretKey) -> Result<bool>;
}

pub(crate) fn refuse_empty(key: &SecretKey, value: &Secret) -> Result<()> {
    if value.is_empty() {
        return Err(SecretsError::EmptySecret {
            name: key.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_accept_the_known_names_and_reject_separators() {
        let key = SecretKey::new("env-1", names::PALETTE_API_KEY).unwrap();
        assert_eq!(key.account(), "env-1/palette_api_key");
        assert_eq!(key.to_string(), "env-1/palette_api_key");
        for (env, name) in [
            ("", "prism_password"),
            ("a/b", "prism_password"),
            ("env", "Prism"),
            ("env", "a/b"),
            ("env", ""),
            ("env", "1abc"),
            ("env ", "prism_password"),
        ] {
            let err = SecretKey::new(env, name).unwrap_err();
            assert_eq!(err.code(), "invalid_key", "{env:?} {name:?}");
        }
        assert!(SecretKey::new("x".repeat(129), "n").is_err());
        assert!(SecretKey::new("x".repeat(128), "n").is_ok());
    }

    #[test]
    fn service_names_are_per_channel() {
        assert_eq!(
            ServiceName::for_channel(Channel::Release).as_str(),
            "dev.capstan.app"
        );
        assert_eq!(
            ServiceName::for_channel(Channel::Debug).as_str(),
            "dev.capstan.app.debug"
        );
        assert_eq!(
            ServiceName::scoped("test.42").unwrap().as_str(),
            "dev.capstan.app.debug.test.42"
        );
        assert_eq!(
            ServiceName::scoped("a/b").unwrap_err().code(),
            "invalid_key"
        );
        let expected = if cfg!(debug_assertions) {
            ServiceName::DEBUG
        } else {
            ServiceName::RELEASE
        };
        assert_eq!(ServiceName::current().as_str(), expected);
    }

    #[test]
    fn error_messages_say_what_to_do_and_codes_are_stable() {
        let err = SecretsError::KeyringUnavailable {
            detail: "D-Bus: no bus".into(),
        };
        assert_eq!(err.code(), "keyring_unavailable");
        assert_eq!(
            err.to_string(),
            "No Secret Service is running on this desktop (gnome-keyring or KWallet). Start \
             one, or use an encrypted file protected by a passphrase."
        );
        assert_eq!(err.detail(), Some("D-Bus: no bus"));
        assert!(err.suggests_file_fallback());
        let locked = SecretsError::KeyringLocked {
            detail: String::new(),
        };
        assert_eq!(locked.code(), "keyring_locked");
        assert!(locked.to_string().contains("Unlock it"));
        let wrong = SecretsError::WrongPassphrase {
            path: "/tmp/x".into(),
        };
        assert_eq!(wrong.code(), "wrong_passphrase");
        assert!(!wrong.suggests_file_fallback());
    }
}
