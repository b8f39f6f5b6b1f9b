//! Where the engine keeps credentials: the OS keyring when it works; otherwise nothing is
//! saved until the user chooses the passphrase-protected file (and that choice is
//! remembered). Tests pick the memory store explicitly through [`EngineConfig`].
//!
//! The keyring probe talks to D-Bus, so the store is chosen lazily, on the blocking pool,
//! the first time something needs it — never while the window is painting.
//!
//! [`EngineConfig`]: crate::EngineConfig

use std::path::PathBuf;
use std::sync::Arc;

use capstan_ipc::setup::{SecretBackend, SecretStoreState, SecretStoreStatus};
use capstan_ipc::{ErrorCode, IpcError};
use capstan_secrets::{
    FileFallback, Secret, SecretKey, SecretStore, SecretsError, ServiceName, StoreChoice,
    StoreKind, StorePreference, choose_store,
};
use parking_lot::Mutex;

pub(crate) const FILE_NAME: &str = "secrets.enc";

enum State {
    Unchosen,
    Ready(Arc<dyn SecretStore>),
    NeedsFallback { reason: String, file: FileFallback },
    Locked { file: FileFallback },
}

pub(crate) struct Vault {
    preference: StorePreference,
    service: ServiceName,
    file_path: PathBuf,
    state: Mutex<State>,
}

impl Vault {
    pub(crate) fn new(
        preference: StorePreference,
        service: ServiceName,
        file_path: PathBuf,
    ) -> Self {
        Self {
            preference,
            service,
            file_path,
            state: Mutex::new(State::Unchosen),
        }
    }

    /// Chooses the store on first use (the keyring probe may block on D-Bus).
    async fn ensure_chosen(self: &Arc<Self>) {
        if !matches!(*self.state.lock(), State::Unchosen) {
            return;
        }
        let vault = Arc::clone(self);
        let choice = tokio::task::spawn_blocking(move || {
            choose_store(
                vault.preference,
                vault.service.clone(),
                vault.file_path.clone(),
            )
        })
        .await;
        let mut state = self.state.lock();
        if !matches!(*state, State::Unchosen) {
            return;
        }
        *state = match choice {
            Ok(StoreChoice::Ready(store)) => {
                tracing::info!(store = store.kind().as_str(), "secret store ready");
                State::Ready(Arc::from(store))
            }
            Ok(StoreChoice::NeedsFallback { reason, file }) => {
                tracing::warn!(code = reason.code(), detail = ?reason.detail(), "the OS keyring cannot be used: {reason}");
                State::NeedsFallback {
                    reason: reason.to_string(),
                    file,
                }
            }
            Ok(StoreChoice::NeedsPassphrase { file }) => State::Locked { file },
            Err(e) => State::NeedsFallback {
                reason: format!("The keyring check did not finish ({e})."),
                file: FileFallback {
                    exists: self.file_path.exists(),
                    path: self.file_path.clone(),
                },
            },
        };
    }

    pub(crate) async fn status(self: &Arc<Self>) -> SecretStoreStatus {
        self.ensure_chosen().await;
        let state = self.state.lock();
        let base = SecretStoreStatus {
            state: SecretStoreState::Ready,
            backend: None,
            persistent: false,
            reason: None,
            file_path: self.file_path.display().to_string(),
            file_exists: self.file_path.exists(),
            min_passphrase_chars: capstan_secrets::MIN_PASSPHRASE_CHARS as u32,
        };
        match &*state {
            State::Ready(store) => SecretStoreStatus {
                backend: Some(match store.kind() {
                    StoreKind::Keyring => SecretBackend::Keyring,
                    StoreKind::EncryptedFile => SecretBackend::EncryptedFile,
                    StoreKind::Memory => SecretBackend::Memory,
                }),
                persistent: store.kind().is_persistent(),
                ..base
            },
            State::NeedsFallback { reason, .. } => SecretStoreStatus {
                state: SecretStoreState::NeedsFallback,
                reason: Some(reason.clone()),
                ..base
            },
            State::Locked { .. } | State::Unchosen => SecretStoreStatus {
                state: SecretStoreState::Locked,
                ..base
            },
        }
    }

    /// The user chose the encrypted file: open it (or create it) with `passphrase`.
    pub(crate) async fn unlock_file(self: &Arc<Self>, passphrase: Secret) -> Result<(), IpcError> {
        self.ensure_chosen().await;
        let file = match &*self.state.lock() {
            State::Ready(store) if store.kind() != StoreKind::EncryptedFile => {
                return Err(IpcError::new(
                    ErrorCode::Conflict,
                    "Secrets are already saved in the system keyring; an encrypted file is not needed.",
                ));
            }
            State::NeedsFallback { file, .. } | State::Locked { file } => file.clone(),
            State::Ready(_) | State::Unchosen => FileFallback {
                exists: self.file_path.exists(),
                path: self.file_path.clone(),
            },
        };
        let opened = tokio::task::spawn_blocking(move || file.open_or_create(&passphrase))
            .await
            .map_err(|e| IpcError::internal(format!("Opening the secrets file failed: {e}.")))?
            .map_err(secrets_error)?;
        tracing::info!(path = %opened.path().display(), "encrypted secrets file unlocked");
        *self.state.lock() = State::Ready(Arc::new(opened));
        Ok(())
    }

    /// The store, or an error that tells the UI to offer the file fallback.
    pub(crate) async fn store(self: &Arc<Self>) -> Result<Arc<dyn SecretStore>, IpcError> {
        self.ensure_chosen().await;
        match &*self.state.lock() {
            State::Ready(store) => Ok(Arc::clone(store)),
            State::NeedsFallback { reason, .. } => {
                let mut e = IpcError::new(ErrorCode::KeyringUnavailable, reason.clone());
                e.details = Some(serde_json::json!({ "fallback": "encrypted_file" }));
                Err(e)
            }
            State::Locked { .. } | State::Unchosen => Err(IpcError::new(
                ErrorCode::KeyringUnavailable,
                "The encrypted secrets file is locked. Enter its passphrase in Setup to unlock it.",
            )),
        }
    }

    pub(crate) async fn get(
        self: &Arc<Self>,
        environment_id: &str,
        name: &str,
    ) -> Result<Option<Secret>, IpcError> {
        let store = self.store().await?;
        let key = SecretKey::new(environment_id, name).map_err(secrets_error)?;
        tokio::task::spawn_blocking(move || store.get(&key))
            .await
            .map_err(|e| IpcError::internal(format!("Reading a secret failed: {e}.")))?
            .map_err(secrets_error)
    }

    pub(crate) async fn set(
        self: &Arc<Self>,
        environment_id: &str,
        name: &str,
        value: Secret,
    ) -> Result<(), IpcError> {
        let store = self.store().await?;
        let key = SecretKey::new(environment_id, name).map_err(secrets_error)?;
        tokio::task::spawn_blocking(move || store.set(&key, &value))
            .await
            .map_err(|e| IpcError::internal(format!("Saving a secret failed: {e}.")))?
            .map_err(secrets_error)
    }

    pub(crate) async fn delete(
        self: &Arc<Self>,
        environment_id: &str,
        name: &str,
    ) -> Result<(), IpcError> {
        let store = self.store().await?;
        let key = SecretKey::new(environment_id, name).map_err(secrets_error)?;
        tokio::task::spawn_blocking(move || store.delete(&key))
            .await
            .map_err(|e| IpcError::internal(format!("Deleting a secret failed: {e}.")))?
            .map_err(secrets_error)
            .map(|_| ())
    }
}

pub(crate) fn secrets_error(e: SecretsError) -> IpcError {
    let code = match e.code() {
        "keyring_unavailable" | "keyring_locked" | "keyring_denied" | "keyring_error" => {
            ErrorCode::KeyringUnavailable
        }
        "wrong_passphrase" => ErrorCode::Unauthorized,
        "invalid_key" | "empty_secret" | "passphrase_too_short" => ErrorCode::InvalidInput,
        _ => ErrorCode::Storage,
    };
    let mut err = IpcError::new(code, e.to_string());
    err.details = Some(serde_json::json!({
        "secretsCode": e.code(),
        "fallback": if e.suggests_file_fallback() { Some("encrypted_file") } else { None },
    }));
    err
}
