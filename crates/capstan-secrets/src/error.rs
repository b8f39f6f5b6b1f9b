//! One error type for every store. Each variant has a stable snake_case [`SecretsError::code`]
//! the UI branches on, and a `Display` message written for the person at the keyboard: what
//! is wrong and what to do. No variant carries a secret value or a passphrase, and platform
//! detail text is kept out of `Display` (it goes to `Debug` / [`SecretsError::detail`] for
//! logs), so a message can be shown or logged as is.

use std::path::PathBuf;

/// What the message offers when the OS keyring cannot be used.
const FILE_FALLBACK_HINT: &str = "or use an encrypted file protected by a passphrase";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// No Secret Service / D-Bus session (headless Linux, a desktop without gnome-keyring or
    /// KWallet), or the platform keychain is missing.
    #[error(
        "No Secret Service is running on this desktop (gnome-keyring or KWallet). Start one, \
         {FILE_FALLBACK_HINT}."
    )]
    KeyringUnavailable { detail: String },

    /// The keyring exists but is locked, or has no default (login) keyring to write to.
    #[error(
        "The system keyring is locked or has no default keyring. Unlock it (log in to the \
         desktop session, or open your keyring manager such as Seahorse and unlock the \
         \"Login\" keyring) and try again, {FILE_FALLBACK_HINT}."
    )]
    KeyringLocked { detail: String },

    /// The user dismissed the unlock prompt, or the platform refused access to this app.
    #[error(
        "Access to the system keyring was denied (the unlock prompt was dismissed, or Capstan \
         is not allowed to use it). Allow access and try again, {FILE_FALLBACK_HINT}."
    )]
    KeyringDenied { detail: String },

    /// Any other keyring failure.
    #[error(
        "The system keyring reported an unexpected error. Try again; if it keeps failing, \
         restart your keyring service, {FILE_FALLBACK_HINT}."
    )]
    KeyringFailed { detail: String },

    /// The file store's passphrase does not open the file (key check failed).
    #[error(
        "The passphrase does not unlock the secrets file {path}. Check it (it is case \
         sensitive) and try again."
    )]
    WrongPassphrase { path: PathBuf },

    /// The file is damaged: bad magic, truncated, or its contents fail authentication.
    #[error(
        "The secrets file {path} is damaged ({reason}). Capstan has not changed it. Restore it \
         from a backup, or move it aside and enter your credentials again."
    )]
    Corrupt { path: PathBuf, reason: String },

    /// The file was written by a newer Capstan with a format this build cannot read.
    #[error(
        "The secrets file {path} uses format version {found}, which this version of Capstan \
         cannot read (it reads version {supported}). Update Capstan."
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u8,
        supported: u8,
    },

    #[error(
        "A secrets file already exists at {path}. Unlock it with its passphrase instead of \
         creating a new one."
    )]
    FileExists { path: PathBuf },

    #[error("There is no secrets file at {path}. Create one with a new passphrase first.")]
    FileNotFound { path: PathBuf },

    #[error(
        "Could not {action} the secrets file {path}: {source}. Check that the folder exists \
         and that you can write to it."
    )]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "The passphrase is too short: use at least {min_chars} characters (a few unrelated \
         words work well)."
    )]
    PassphraseTooShort { min_chars: usize },

    /// A key that cannot be stored (bad characters, too long). The key names an environment
    /// and a credential kind, never a value, so it may be shown.
    #[error("Invalid secret key {field} \"{value}\": {rule}.")]
    InvalidKey {
        field: &'static str,
        value: String,
        rule: &'static str,
    },

    #[error("Refusing to store an empty value for \"{name}\". Enter the credential, or delete it.")]
    EmptySecret { name: String },

    /// `CAPSTAN_SECRET_STORE` (or a settings value) names no known store.
    #[error(
        "Unknown secret store \"{value}\" in {source_name}. Use one of: keyring, file, memory."
    )]
    InvalidStoreSetting {
        source_name: &'static str,
        value: String,
    },
}

impl SecretsError {
    /// Stable machine code, for the UI and telemetry.
    pub fn code(&self) -> &'static str {
        match self {
            Self::KeyringUnavailable { .. } => "keyring_unavailable",
            Self::KeyringLocked { .. } => "keyring_locked",
            Self::KeyringDenied { .. } => "keyring_denied",
            Self::KeyringFailed { .. } => "keyring_error",
            Self::WrongPassphrase { .. } => "wrong_passphrase",
            Self::Corrupt { .. } => "corrupt",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::FileExists { .. } => "file_exists",
            Self::FileNotFound { .. } => "file_not_found",
            Self::Io { .. } => "file_io",
            Self::PassphraseTooShort { .. } => "passphrase_too_short",
            Self::InvalidKey { .. } => "invalid_key",
            Self::EmptySecret { .. } => "empty_secret",
            Self::InvalidStoreSetting { .. } => "invalid_store_setting",
        }
    }

    /// Platform detail for logs (e.g. the D-Bus error). Never contains a secret value: the
    /// keyring store scrubs it before building the error.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::KeyringUnavailable { detail }
            | Self::KeyringLocked { detail }
            | Self::KeyringDenied { detail }
            | Self::KeyringFailed { detail } => Some(detail),
            _ => None,
        }
    }

    /// True when the OS keyring cannot be used and the UI should offer the encrypted file.
    pub fn suggests_file_fallback(&self) -> bool {
        matches!(
            self,
            Self::KeyringUnavailable { .. }
                | Self::KeyringLocked { .. }
                | Self::KeyringDenied { .. }
                | Self::KeyringFailed { .. }
        )
    }
}

pub type Result<T, E = SecretsError> = std::result::Result<T, E>;
