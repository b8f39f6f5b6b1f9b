//! The OS keyring, through `keyring` 3.x. One keyring entry per secret: service =
//! [`ServiceName`] (per build channel), account = `"{environment_id}/{name}"`.

use std::fmt;

use crate::file_store::random_bytes;
use crate::{
    Result, Secret, SecretKey, SecretStore, SecretsError, ServiceName, StoreKind, refuse_empty,
};

/// Account of the throwaway entry [`KeyringStore::probe`] writes and deletes. It contains no
/// `/`, so it can never collide with a [`SecretKey::account`].
const PROBE_ACCOUNT: &str = "capstan-keyring-probe";

pub struct KeyringStore {
    service: ServiceName,
}

impl KeyringStore {
    /// A store filed under `service`. Creating it does not touch the keyring; call
    /// [`Self::probe`] (or use [`crate::choose_store`]) to find out whether it works.
    pub fn new(service: ServiceName) -> Self {
        Self { service }
    }

    pub fn service(&self) -> &ServiceName {
        &self.service
    }

    /// Checks that the keyring can store, read back and delete an entry, leaving nothing
    /// behind. Errors are classified: `keyring_unavailable` (no D-Bus session or no Secret
    /// Service), `keyring_locked`, `keyring_denied` (prompt dismissed / access refused),
    /// `keyring_error` (anything else).
    ///
    /// On a desktop whose login keyring is locked, the desktop may show its own unlock
    /// prompt here, as it would for any keyring use; the probe blocks until it is answered.
    pub fn probe(&self) -> Result<()> {
        let entry = self.entry(PROBE_ACCOUNT)?;
        let nonce = random_bytes::<16>().map_err(|err| SecretsError::KeyringFailed {
            detail: err.to_string(),
        })?;
        let value = hex_lower(&nonce);
        entry
            .set_password(&value)
            .map_err(|err| classify(err, Some(&value)))?;
        let read = entry.get_password();
        // Delete before judging the read, so a failed probe does not leave an entry behind.
        let deleted = entry.delete_credential();
        match read {
            Ok(found) if found == value => {}
            Ok(_) => {
                return Err(SecretsError::KeyringFailed {
                    detail: "the keyring returned a different value from the one just stored"
                        .into(),
                });
            }
            Err(err) => return Err(classify(err, Some(&value))),
        }
        match deleted {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(classify(err, Some(&value))),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        build_entry(self.service.as_str(), account).map_err(|err| classify(err, None))
    }
}

/// On Linux, build the Secret Service credential explicitly instead of going through
/// `keyring`'s process-global default builder, which any code in the process could replace
/// (e.g. with the mock) via `set_default_credential_builder`.
#[cfg(target_os = "linux")]
fn build_entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
    let credential =
        keyring::secret_service::SsCredential::new_with_target(None, service, account)?;
    Ok(keyring::Entry::new_with_credential(Box::new(credential)))
}

#[cfg(not(target_os = "linux"))]
fn build_entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(service, account)
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringStore")
            .field("service", &self.service.as_str())
            .finish()
    }
}

impl SecretStore for KeyringStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Keyring
    }

    fn get(&self, key: &SecretKey) -> Result<Option<Secret>> {
        match self.entry(&key.account())?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(classify(err, None)),
        }
    }

    fn set(&self, key: &SecretKey, value: &Secret) -> Result<()> {
        refuse_empty(key, value)?;
        self.entry(&key.account())?
            .set_password(value.expose())
            .map_err(|err| classify(err, Some(value.expose())))
    }

    fn delete(&self, key: &SecretKey) -> Result<bool> {
        match self.entry(&key.account())?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(err) => Err(classify(err, None)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Unavailable,
    Locked,
    Denied,
    Other,
}

/// Maps a `keyring` error to ours. `scrub` is the value being written, if any: it is cut
/// out of the detail text in case a platform ever echoes it back.
fn classify(err: keyring::Error, scrub: Option<&str>) -> SecretsError {
    let (class, detail) = match &err {
        keyring::Error::PlatformFailure(source) => {
            let (class, name) = platform_class(source.as_ref());
            (
                class.unwrap_or(Class::Other),
                with_name(err.to_string(), name),
            )
        }
        keyring::Error::NoStorageAccess(source) => {
            let (class, name) = platform_class(source.as_ref());
            (
                class.unwrap_or(Class::Locked),
                with_name(err.to_string(), name),
            )
        }
        // The raw bytes are the secret: never format them.
        keyring::Error::BadEncoding(_) => (
            Class::Other,
            "the stored value is not valid UTF-8".to_owned(),
        ),
        keyring::Error::Ambiguous(found) => (
            Class::Other,
            format!(
                "{} keyring entries match this credential; remove the duplicates in your \
                 keyring manager",
                found.len()
            ),
        ),
        _ => (Class::Other, err.to_string()),
    };
    let detail = match scrub {
        Some(value) if !value.is_empty() => detail.replace(value, Secret::REDACTED),
        _ => detail,
    };
    match class {
        Class::Unavailable => SecretsError::KeyringUnavailable { detail },
        Class::Locked => SecretsError::KeyringLocked { detail },
        Class::Denied => SecretsError::KeyringDenied { detail },
        Class::Other => SecretsError::KeyringFailed { detail },
    }
}

/// Appends the D-Bus error name (e.g. `org.freedesktop.Secret.Error.IsLocked`) for logs.
fn with_name(detail: String, name: Option<String>) -> String {
    match name {
        Some(name) => format!("{detail} [{name}]"),
        None => detail,
    }
}

/// D-Bus error names that mean "there is no session bus, or nothing provides the Secret
/// Service on it".
#[cfg(target_os = "linux")]
const DBUS_UNAVAILABLE: &[&str] = &[
    "org.freedesktop.DBus.Error.NotSupported", // autolaunch refused: no $DISPLAY
    "org.freedesktop.DBus.Error.NoServer",
    "org.freedesktop.DBus.Error.BadAddress",
    "org.freedesktop.DBus.Error.FileNotFound",
    "org.freedesktop.DBus.Error.NoNetwork",
    "org.freedesktop.DBus.Error.Disconnected",
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    "org.freedesktop.DBus.Error.UnknownMethod", // a bus service that is not a Secret Service
    "org.freedesktop.DBus.Error.UnknownObject",
];

/// The class of a Secret Service error (`None`: not one we recognise) and its D-Bus error
/// name, if it has one.
#[cfg(target_os = "linux")]
fn platform_class(
    source: &(dyn std::error::Error + Send + Sync + 'static),
) -> (Option<Class>, Option<String>) {
    use dbus_secret_service::Error as SsError;
    let Some(ss_err) = source.downcast_ref::<SsError>() else {
        return (None, None);
    };
    let class = match ss_err {
        SsError::Locked | SsError::NoResult => Class::Locked,
        SsError::Prompt => Class::Denied,
        SsError::Unavailable => Class::Unavailable,
        SsError::Dbus(dbus_err) => {
            let name = dbus_err.name();
            let class = match name {
                Some("org.freedesktop.DBus.Error.AccessDenied") => Class::Denied,
                // gnome-keyring, when the unlock prompt could not be shown or was refused.
                Some("org.freedesktop.Secret.Error.IsLocked") => Class::Locked,
                Some(name)
                    if DBUS_UNAVAILABLE.contains(&name)
                        || name.starts_with("org.freedesktop.DBus.Error.Spawn") =>
                {
                    Class::Unavailable
                }
                _ => Class::Other,
            };
            return (Some(class), name.map(str::to_owned));
        }
        _ => Class::Other,
    };
    (Some(class), None)
}

/// macOS and Windows report "locked / denied" as `NoStorageAccess` (the caller's default)
/// and everything else as a platform failure.
#[cfg(not(target_os = "linux"))]
fn platform_class(
    _source: &(dyn std::error::Error + Send + Sync + 'static),
) -> (Option<Class>, Option<String>) {
    (None, None)
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_service_only() {
        let store = KeyringStore::new(ServiceName::scoped("unit").unwrap());
        assert_eq!(
            format!("{store:?}"),
            "KeyringStore { service: \"dev.capstan.app.debug.unit\" }"
        );
    }

    #[test]
    fn storage_access_errors_default_to_locked_and_keep_platform_detail_out_of_the_message() {
        let err = classify(
            keyring::Error::NoStorageAccess("the keychain is locked".into()),
            None,
        );
        assert_eq!(err.code(), "keyring_locked");
        assert!(err.detail().unwrap().contains("the keychain is locked"));
        assert!(!err.to_string().contains("the keychain is locked"));
    }

    #[test]
    fn bad_encoding_never_formats_the_stored_bytes() {
        let planted = "planted-bytes-91c2";
        let err = classify(
            keyring::Error::BadEncoding(planted.as_bytes().to_vec()),
            None,
        );
        assert_eq!(err.code(), "keyring_error");
        let text = format!("{err} {err:?}");
        assert!(!text.contains(planted), "{text}");
        // Not even as a byte list.
        assert!(!text.contains("112, 108, 97"), "{text}");
    }

    #[test]
    fn the_value_being_written_is_scrubbed_from_platform_detail() {
        let planted = "planted-echo-55d0";
        let err = classify(
            keyring::Error::PlatformFailure(format!("rejected item {planted}").into()),
            Some(planted),
        );
        let text = format!("{err} {err:?}");
        assert!(!text.contains(planted), "{text}");
        assert!(text.contains("rejected item ***"), "{text}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn secret_service_errors_are_classified() {
        use dbus_secret_service::Error as SsError;
        let cases: Vec<(SsError, &str)> = vec![
            (SsError::Locked, "keyring_locked"),
            (SsError::NoResult, "keyring_locked"),
            (SsError::Prompt, "keyring_denied"),
            (SsError::Unavailable, "keyring_unavailable"),
            (SsError::Parse, "keyring_error"),
        ];
        for (ss_err, code) in cases {
            let err = classify(keyring::Error::NoStorageAccess(Box::new(ss_err)), None);
            assert_eq!(err.code(), code, "{err:?}");
        }
        let service_unknown = dbus::Error::new_custom(
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "The name org.freedesktop.secrets was not provided by any .service files",
        );
        let err = classify(
            keyring::Error::PlatformFailure(Box::new(SsError::Dbus(service_unknown))),
            None,
        );
        assert_eq!(err.code(), "keyring_unavailable");
        let denied = dbus::Error::new_custom("org.freedesktop.DBus.Error.AccessDenied", "no");
        let err = classify(
            keyring::Error::PlatformFailure(Box::new(SsError::Dbus(denied))),
            None,
        );
        assert_eq!(err.code(), "keyring_denied");
        let locked = dbus::Error::new_custom(
            "org.freedesktop.Secret.Error.IsLocked",
            "Cannot create an item in a locked collection",
        );
        let err = classify(
            keyring::Error::PlatformFailure(Box::new(SsError::Dbus(locked))),
            None,
        );
        assert_eq!(err.code(), "keyring_locked");
        assert!(
            err.detail()
                .unwrap()
                .ends_with("[org.freedesktop.Secret.Error.IsLocked]"),
            "{err:?}"
        );
        let timeout = dbus::Error::new_custom("org.freedesktop.DBus.Error.NoReply", "slow");
        let err = classify(
            keyring::Error::PlatformFailure(Box::new(SsError::Dbus(timeout))),
            None,
        );
        assert_eq!(err.code(), "keyring_error");
    }
}
