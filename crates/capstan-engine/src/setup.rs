//! First-time setup: saving environments (settings in the cache database, secrets in the
//! secret store), "Test connection" with a step-by-step diagnosis, and the secret store's
//! keyring-or-encrypted-file choice.

use capstan_common::Secret;
use capstan_diagnose::{PaletteTarget, PrismTarget, StepData};
use capstan_ipc::diagnosis::Diagnosis;
use capstan_ipc::setup::*;
use capstan_ipc::types::{EnvironmentKind, EnvironmentList};
use capstan_ipc::{ErrorCode, IpcError};

use crate::connection::{self, ResolvedSecrets, SECRET_NAMES, invalid};
use crate::{Engine, SANDBOX_ID};

impl Engine {
    /// Saved secrets of an environment (an unavailable store reads as none saved).
    pub(crate) async fn saved_secrets(&self, id: &str) -> Result<ResolvedSecrets, IpcError> {
        let vault = &self.inner.vault;
        let mut out = ResolvedSecrets::default();
        for name in SECRET_NAMES {
            let value = vault.get(id, name).await?;
            match name {
                capstan_secrets::names::PALETTE_API_KEY => out.palette_api_key = value,
                capstan_secrets::names::PRISM_PASSWORD => out.prism_password = value,
                connection::PRISM_API_KEY => out.prism_api_key = value,
                _ => out.sysadmin_password = value,
            }
        }
        Ok(out)
    }

    pub async fn environment_get(&self, id: &str) -> Result<EnvironmentDetail, IpcError> {
        if id == SANDBOX_ID {
            return Err(IpcError::new(
                ErrorCode::InvalidInput,
                "The sandbox has no settings to edit: it is built in. Add a real environment instead.",
            ));
        }
        let config = self.inner.environments.real(id).ok_or_else(|| {
            IpcError::new(
                ErrorCode::NotFound,
                format!("There is no environment with id \"{id}\"."),
            )
        })?;
        let saved = match self.saved_secrets(id).await {
            Ok(s) => s,
            Err(e) if e.code == ErrorCode::KeyringUnavailable => ResolvedSecrets::default(),
            Err(e) => return Err(e),
        };
        Ok(detail(config, &saved))
    }

    pub async fn environment_save(
        &self,
        request: SaveEnvironmentRequest,
    ) -> Result<EnvironmentDetail, IpcError> {
        let mut config = normalise(request.config)?;
        if config.id.is_empty() {
            config.id = self.new_environment_id(&config.name);
        } else if config.id == SANDBOX_ID {
            return Err(invalid(
                "id",
                "The sandbox cannot be overwritten. Save this as a new environment.",
            ));
        }
        // Refuse settings that cannot work (bad CA file, bad fingerprint, bad proxy) before
        // anything is written.
        connection::for_config(&config, &ResolvedSecrets::default())?;
        let typed = ResolvedSecrets::typed(&request.secrets);
        // Secrets first: when the store is unavailable nothing is saved, so the UI can offer
        // the encrypted file and retry without a half-saved environment.
        for (name, value) in typed.entries() {
            self.inner
                .vault
                .set(&config.id, name, value.clone())
                .await?;
        }
        self.inner.cache.save_environment(&config).await?;
        self.inner.environments.upsert(config.clone());
        tracing::info!(environment = %config.id, name = %config.name, "environment saved");
        if request.activate {
            self.activate(&config.id).await?;
        }
        // The settings are saved; a secret store that cannot be read now (no keyring, a
        // locked file) reads as "nothing saved" rather than failing a save that happened.
        let saved = match self.saved_secrets(&config.id).await {
            Ok(s) => s,
            Err(e) if e.code == ErrorCode::KeyringUnavailable => ResolvedSecrets::default(),
            Err(e) => return Err(e),
        };
        Ok(detail(config, &saved))
    }

    pub async fn environment_delete(&self, id: &str) -> Result<EnvironmentList, IpcError> {
        if id == SANDBOX_ID {
            return Err(invalid(
                "id",
                "The sandbox is built in and cannot be deleted.",
            ));
        }
        let was_active = self.inner.environments.active_id() == id;
        if !self.inner.environments.remove(id) {
            return Err(IpcError::new(
                ErrorCode::NotFound,
                format!("There is no environment with id \"{id}\"."),
            ));
        }
        for name in SECRET_NAMES {
            if let Err(e) = self.inner.vault.delete(id, name).await {
                tracing::warn!(
                    environment = id,
                    code = e.code.as_str(),
                    "a secret could not be deleted: {}",
                    e.message
                );
            }
        }
        self.inner.cache.delete_environment(id).await?;
        tracing::info!(environment = id, "environment deleted");
        if was_active {
            self.activate(SANDBOX_ID).await?;
        }
        Ok(self.inner.environments.list())
    }

    pub async fn connection_test(
        &self,
        request: ConnectionTestRequest,
    ) -> Result<ConnectionTestResult, IpcError> {
        let config = normalise(request.config)?;
        let typed = ResolvedSecrets::typed(&request.secrets);
        let saved = if !config.id.is_empty() && self.inner.environments.real(&config.id).is_some() {
            self.saved_secrets(&config.id).await.unwrap_or_default()
        } else {
            ResolvedSecrets::default()
        };
        let secrets = typed.or(saved);
        let conn = connection::for_config(&config, &secrets)?;
        let proxy = conn.prism.proxy.clone().filter(|p| !p.is_empty());
        let diagnosis: Diagnosis = match request.service {
            ServiceName::PrismCentral => {
                let auth = conn
                    .prism
                    .auth
                    .clone()
                    .ok_or_else(|| match config.prism.auth {
                        PrismAuthKind::Basic => invalid(
                            "prismPassword",
                            "Enter the Prism Central username and password to test the connection.",
                        ),
                        PrismAuthKind::ApiKey => invalid(
                            "prismApiKey",
                            "Enter the Prism Central API key to test the connection.",
                        ),
                    })?;
                capstan_diagnose::diagnose_prism(PrismTarget {
                    address: config.prism.address.clone(),
                    port: Some(config.prism.port),
                    auth,
                    tls: conn.prism.tls.clone(),
                    proxy,
                    // The workflow deploys with the CAPX line Palette pairs with by default
                    // (v1.5.x); an older Prism Central is reported before anything is created.
                    requirement: Some(capstan_diagnose::VersionRequirement::CapxLine {
                        line: capstan_diagnose::CapxLine::V1_5,
                    }),
                })
                .await
            }
            ServiceName::Palette => {
                let auth = conn.palette.auth.clone().ok_or_else(|| {
                    invalid(
                        "paletteApiKey",
                        "Enter the Palette API key to test the connection.",
                    )
                })?;
                capstan_diagnose::diagnose_palette(PaletteTarget {
                    url: config.palette.url.clone(),
                    auth,
                    project: config
                        .palette
                        .project_uid
                        .clone()
                        .or(config.palette.project_name.clone()),
                    tls: conn.palette.tls.clone(),
                    proxy,
                })
                .await
            }
        };
        tracing::info!(
            service = ?request.service,
            verdict = ?diagnosis.verdict,
            summary = %diagnosis.summary,
            "connection test finished"
        );
        let projects = diagnosis
            .steps
            .iter()
            .find_map(|s| match &s.data {
                Some(StepData::Projects { names, uids, .. }) => Some(
                    names
                        .iter()
                        .zip(uids)
                        .map(|(name, uid)| ProjectOption {
                            uid: uid.clone(),
                            name: name.clone(),
                        })
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
            .unwrap_or_default();
        Ok(ConnectionTestResult {
            diagnosis,
            projects,
        })
    }

    pub async fn secret_store_status(&self) -> SecretStoreStatus {
        self.inner.vault.status().await
    }

    pub async fn secret_store_unlock(
        &self,
        passphrase: String,
    ) -> Result<SecretStoreStatus, IpcError> {
        self.inner
            .vault
            .unlock_file(Secret::new(passphrase))
            .await?;
        self.inner.settings.set_secret_store_file(true);
        Ok(self.inner.vault.status().await)
    }

    /// `lab-frankfurt`, `lab-frankfurt-2`, ...: readable, unique and valid as a secret key.
    fn new_environment_id(&self, name: &str) -> String {
        let mut base: String = name
            .trim()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        while base.contains("--") {
            base = base.replace("--", "-");
        }
        let base = base.trim_matches('-').chars().take(48).collect::<String>();
        let base = if base.is_empty() || base == SANDBOX_ID {
            "environment".to_owned()
        } else {
            base
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.inner.environments.real(&id).is_some() {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

fn detail(config: EnvironmentConfig, saved: &ResolvedSecrets) -> EnvironmentDetail {
    EnvironmentDetail {
        kind: EnvironmentKind::Real,
        config,
        saved: SavedSecrets {
            palette_api_key: saved.palette_api_key.is_some(),
            prism_password: saved.prism_password.is_some(),
            prism_api_key: saved.prism_api_key.is_some(),
            sysadmin_password: saved.sysadmin_password.is_some(),
        },
    }
}

/// Trims what was typed and checks what must be there.
fn normalise(mut config: EnvironmentConfig) -> Result<EnvironmentConfig, IpcError> {
    config.name = config.name.trim().to_owned();
    config.palette.url = config.palette.url.trim().trim_end_matches('/').to_owned();
    config.prism.address = config.prism.address.trim().to_owned();
    config.prism.username = config
        .prism
        .username
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    if config.name.is_empty() {
        return Err(invalid(
            "name",
            "Give the environment a name, e.g. \"Lab Frankfurt\".",
        ));
    }
    if config.palette.url.is_empty() {
        return Err(invalid(
            "paletteUrl",
            "Enter the Palette address: https://api.spectrocloud.com for SaaS, or your self-hosted Palette's address.",
        ));
    }
    if config.prism.address.is_empty() {
        return Err(invalid(
            "prismAddress",
            "Enter the Prism Central address (host name or IP, without https://).",
        ));
    }
    if config.prism.port == 0 {
        return Err(invalid(
            "prismPort",
            "Enter the Prism Central port (9440 unless your Prism Central uses another).",
        ));
    }
    Ok(config)
}
