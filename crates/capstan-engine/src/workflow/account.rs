//! Step 3: the Nutanix cloud account. The form is built from the keys registered in step 1
//! and pre-filled from Setup; the credentials are checked against Prism Central before the
//! account is saved; nothing is created while the PCG is not Running.

use std::collections::BTreeMap;

use capstan_common::Secret;
use capstan_ipc::setup::TlsMode;
use capstan_ipc::workflow::*;
use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::{
    ApiErrorKind, CustomAccountEntity, Overlord, PaletteClient, PaletteError, Scope,
};
use capstan_prism::{PrismAuth, PrismClient, PrismConfig, PrismError};
use serde_json::{Value, json};

use super::{CLOUD_TYPE, nutanix_pcgs, palette_error};
use crate::Engine;
use crate::connection::{Connection, invalid};
use crate::environments::ActiveTarget;

/// A key whose value is a secret: a password field, never pre-filled.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    let plain = ["ENDPOINT", "PORT", "USER", "INSECURE"]
        .iter()
        .any(|p| k.contains(p));
    let secret = ["PASSWORD", "SECRET", "TOKEN", "KEY"]
        .iter()
        .any(|s| k.contains(s));
    secret && !plain
}

fn is_api_key(key: &str) -> bool {
    let k = key.to_ascii_uppercase().replace(['_', '-'], "");
    k.contains("APIKEY")
}

fn label_and_help(key: &str) -> (String, String) {
    let (label, help) = match key {
        "NUTANIX_ENDPOINT" => (
            "Prism Central address",
            "Host name or IP of Prism Central, without https:// or port (the PCG connects to it).",
        ),
        "NUTANIX_PORT" => (
            "Prism Central port",
            "9440 unless your Prism Central uses another port; must match the cluster template.",
        ),
        "NUTANIX_USER" => (
            "Prism Central user",
            "A Prism Central user with the Prism Admin role.",
        ),
        "NUTANIX_PASSWORD" => (
            "Prism Central password",
            "Leave blank to use the password saved in Setup.",
        ),
        "NUTANIX_INSECURE" => (
            "Skip certificate verification",
            "\"true\" only when Prism Central's certificate cannot be verified; must match the cluster template.",
        ),
        other => {
            return (
                other.to_owned(),
                format!("The value Palette passes to the templates as ${{{other}}}."),
            );
        }
    };
    (label.to_owned(), help.to_owned())
}

/// Non-secret values from Setup, and which secrets Setup saved.
struct SetupValues {
    host: String,
    port: u16,
    user: Option<String>,
    insecure: bool,
    password: Option<Secret>,
    api_key: Option<Secret>,
}

impl SetupValues {
    fn prefill(&self, key: &str) -> Option<String> {
        match key {
            "NUTANIX_ENDPOINT" => Some(self.host.clone()).filter(|h| !h.is_empty()),
            "NUTANIX_PORT" => Some(self.port.to_string()),
            "NUTANIX_USER" => self.user.clone(),
            "NUTANIX_INSECURE" => Some(self.insecure.to_string()),
            _ => None,
        }
    }

    fn saved_secret(&self, key: &str) -> Option<&Secret> {
        if is_api_key(key) {
            self.api_key.as_ref()
        } else {
            self.password.as_ref()
        }
    }
}

fn overlord_option(o: &Overlord) -> PcgOption {
    PcgOption {
        uid: o.metadata.uid.clone().unwrap_or_default(),
        name: o.metadata.name.clone().unwrap_or_default(),
        state: o.status.state.clone().unwrap_or_else(|| "Unknown".into()),
    }
}

fn prism_failure(e: PrismError, address: &str) -> IpcError {
    let (code, what) = match &e {
        PrismError::Unauthorized { .. } => (
            ErrorCode::Unauthorized,
            "Prism Central rejected these credentials".to_owned(),
        ),
        PrismError::Forbidden { .. } => (
            ErrorCode::Forbidden,
            "Prism Central accepted the user but refused access".to_owned(),
        ),
        PrismError::Transport(t) => (
            crate::health::transport_code(t),
            format!("Prism Central at {address} could not be reached"),
        ),
        _ => (
            ErrorCode::Upstream,
            format!("Prism Central at {address} could not check the credentials"),
        ),
    };
    IpcError::new(
        code,
        format!("{what}: {e}. Nothing was created in Palette; correct the values and try again."),
    )
    .with_details(json!({"field": "NUTANIX_PASSWORD", "prismCode": e.code()}))
}

impl Engine {
    /// Prism Central values from the active environment's setup.
    async fn setup_values(&self, conn: &Connection) -> SetupValues {
        let endpoint = capstan_common::Endpoint::parse(&conn.prism.address, 9440).ok();
        let (host, port) = endpoint.map_or((String::new(), 9440), |e| (e.host, e.port));
        match self.inner.environments.active_target() {
            ActiveTarget::Real(config) => {
                let saved = self.saved_secrets(&config.id).await.unwrap_or_default();
                SetupValues {
                    host,
                    port,
                    user: config.prism.username.clone(),
                    insecure: config.prism.tls.mode == TlsMode::Insecure,
                    password: saved.prism_password,
                    api_key: saved.prism_api_key,
                }
            }
            ActiveTarget::Sandbox {
                prism_user,
                prism_password,
                ..
            } => SetupValues {
                host,
                port,
                user: Some(prism_user),
                // The sandbox's certificate is pinned, not ignored.
                insecure: false,
                password: Some(prism_password),
                api_key: None,
            },
            ActiveTarget::SandboxStopped => SetupValues {
                host,
                port,
                user: None,
                insecure: false,
                password: None,
                api_key: None,
            },
        }
    }

    pub async fn cloud_account_form(&self) -> Result<CloudAccountForm, IpcError> {
        let (conn, client) = self.workflow_palette().await?;
        let palette = client.with_scope(Scope::Tenant);
        let setup = self.setup_values(&conn).await;
        let (keys, pcgs, accounts) = tokio::join!(
            palette.cloud_account_keys(CLOUD_TYPE),
            palette.overlords(None),
            palette.cloud_accounts(CLOUD_TYPE),
        );
        let (keys, registered) = match keys {
            Ok(k) => (k, true),
            Err(e) if e.is_not_found() => (Vec::new(), false),
            Err(e) => return Err(palette_error("Reading the cloud account keys failed", e)),
        };
        let pcgs = nutanix_pcgs(
            pcgs.map_err(|e| palette_error("Reading the PCGs from Palette failed", e))?,
        );
        let existing = match accounts {
            Ok(list) => list
                .iter()
                .map(|a| PcgOption {
                    uid: a.metadata.uid.clone().unwrap_or_default(),
                    name: a.metadata.name.clone().unwrap_or_default(),
                    state: a
                        .status
                        .as_ref()
                        .and_then(|s| s.state.clone())
                        .unwrap_or_default(),
                })
                .collect(),
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(palette_error("Reading the cloud accounts failed", e)),
        };
        let sandbox = self.sandbox_active();
        let fields = keys
            .iter()
            .map(|key| {
                let secret = is_secret_key(key);
                let (label, help) = label_and_help(key);
                AccountField {
                    key: key.clone(),
                    label,
                    secret,
                    value: if secret { None } else { setup.prefill(key) },
                    saved_secret_available: secret
                        && (sandbox || setup.saved_secret(key).is_some()),
                    help,
                }
            })
            .collect();
        // The PCG step 2 worked on, if its draft names one; else the Running one.
        let drafted = self.draft_data(WorkflowStepId::Pcg).await;
        let drafted_uid = drafted
            .as_ref()
            .and_then(|d| d.get("uid").or_else(|| d.get("pcgUid")))
            .and_then(Value::as_str);
        let default_pcg = pcgs
            .iter()
            .find(|o| o.is_running() && o.metadata.uid.as_deref() == drafted_uid)
            .or_else(|| pcgs.iter().find(|o| o.is_running()))
            .and_then(|o| o.metadata.uid.clone());
        let blocked_reason = if !registered {
            Some("The nutanix cloud type is not registered yet: finish step 1 first.".to_owned())
        } else if keys.is_empty() {
            Some(
                "The nutanix cloud type has no cloud account keys: finish step 1 (it registers them)."
                    .to_owned(),
            )
        } else if default_pcg.is_none() {
            Some(match pcgs.first() {
                Some(o) => format!(
                    "PCG {} is {}: the account can be added once a PCG is Running (step 2).",
                    o.metadata.name.as_deref().unwrap_or(""),
                    o.status.state.as_deref().unwrap_or("not Running")
                ),
                None => "No PCG exists yet: create one in step 2 and wait until it is Running."
                    .to_owned(),
            })
        } else {
            None
        };
        Ok(CloudAccountForm {
            fields,
            pcgs: pcgs.iter().map(overlord_option).collect(),
            default_pcg,
            blocked_reason,
            existing,
        })
    }

    pub async fn cloud_account_create(
        &self,
        request: CloudAccountCreateRequest,
    ) -> Result<CloudAccountResult, IpcError> {
        let name = request.name.trim().to_owned();
        if name.is_empty() {
            return Err(invalid(
                "name",
                "Give the cloud account a name, e.g. \"nutanix-prod\".",
            ));
        }
        let (conn, client) = self.workflow_palette().await?;
        let palette = client.with_scope(Scope::Tenant);

        // Idempotent by name: an account that exists is kept as it is.
        if let Some(existing) = self.account_by_name(&palette, &name).await? {
            return Ok(CloudAccountResult {
                uid: existing,
                name,
                created: false,
                prism_check: "Not checked: the account exists already and was kept as it is."
                    .into(),
            });
        }

        let keys = match palette.cloud_account_keys(CLOUD_TYPE).await {
            Ok(k) if !k.is_empty() => k,
            Ok(_) => {
                return Err(invalid(
                    "name",
                    "The nutanix cloud type has no cloud account keys: finish step 1 first.",
                ));
            }
            Err(e) if e.is_not_found() => {
                return Err(invalid(
                    "name",
                    "The nutanix cloud type is not registered yet: finish step 1 first.",
                ));
            }
            Err(e) => return Err(palette_error("Reading the cloud account keys failed", e)),
        };

        // The PCG must be Running (Palette's SDK refuses otherwise).
        let pcg = palette.overlord(&request.pcg_uid).await.map_err(|e| {
            if e.is_not_found() {
                invalid(
                    "pcgUid",
                    "The chosen PCG does not exist in Palette any more. Pick another one or create it in step 2.",
                )
            } else {
                palette_error("Reading the PCG failed", e)
            }
        })?;
        if !pcg.is_running() {
            let mut e = invalid(
                "pcgUid",
                &format!(
                    "PCG {} is {}, not Running: the account can be added once it is Running. Finish step 2 and wait.",
                    pcg.metadata.name.as_deref().unwrap_or(&request.pcg_uid),
                    pcg.status.state.as_deref().unwrap_or("not ready")
                ),
            );
            e.details = Some(json!({"field": "pcgUid", "blockedBy": "pcg"}));
            return Err(e);
        }

        // The values: typed, else from Setup (secrets included), never logged.
        let setup = self.setup_values(&conn).await;
        let mut credentials = BTreeMap::new();
        let mut missing = Vec::new();
        for key in &keys {
            let typed = request
                .values
                .get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            let value = if is_secret_key(key) {
                typed.or_else(|| setup.saved_secret(key).map(|s| s.expose().to_owned()))
            } else {
                typed.or_else(|| setup.prefill(key))
            };
            match value {
                Some(v) => {
                    credentials.insert(key.clone(), v);
                }
                None => missing.push(key.clone()),
            }
        }
        if !missing.is_empty() {
            return Err(invalid(
                &missing[0],
                &format!(
                    "Fill in {} (no value is saved in Setup for it).",
                    missing.join(", ")
                ),
            ));
        }

        let prism_check = self.check_prism(&conn, &credentials).await?;

        let entity = CustomAccountEntity::new(&name, &request.pcg_uid, credentials);
        let (uid, created) = match palette.create_cloud_account(CLOUD_TYPE, &entity).await {
            Ok(uid) => (uid, true),
            // Made meanwhile under this name: keep that one.
            Err(PaletteError::Api {
                kind: ApiErrorKind::Conflict,
                ..
            }) => match self.account_by_name(&palette, &name).await? {
                Some(uid) => (uid, false),
                None => {
                    return Err(IpcError::new(
                        ErrorCode::Conflict,
                        format!(
                            "Palette says an account named {name} exists, but it cannot be found. Choose another name."
                        ),
                    ));
                }
            },
            Err(e) => return Err(palette_error("Creating the cloud account failed", e)),
        };
        tracing::info!(account = %name, created, "Nutanix cloud account ready");
        Ok(CloudAccountResult {
            uid,
            name,
            created,
            prism_check,
        })
    }

    async fn account_by_name(
        &self,
        palette: &PaletteClient,
        name: &str,
    ) -> Result<Option<String>, IpcError> {
        match palette.cloud_account_by_name(CLOUD_TYPE, name).await {
            Ok(found) => Ok(found.and_then(|a| a.metadata.uid)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(palette_error("Reading the cloud accounts failed", e)),
        }
    }

    /// `GET /users/me` on the Prism Central the account names, with the environment's TLS
    /// policy and proxy. A rejection stops the step before anything is created.
    async fn check_prism(
        &self,
        conn: &Connection,
        credentials: &BTreeMap<String, String>,
    ) -> Result<String, IpcError> {
        let host = credentials
            .get("NUTANIX_ENDPOINT")
            .cloned()
            .unwrap_or_default();
        if host.is_empty() {
            return Ok("Not checked: the account has no NUTANIX_ENDPOINT.".into());
        }
        let port = credentials
            .get("NUTANIX_PORT")
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or(9440);
        let secret_of = |pred: fn(&str) -> bool| {
            credentials
                .iter()
                .find(|(k, _)| is_secret_key(k) && pred(k))
                .map(|(_, v)| Secret::new(v.clone()))
        };
        let auth = match (
            credentials.get("NUTANIX_USER").filter(|u| !u.is_empty()),
            secret_of(|k| !is_api_key(k)),
            secret_of(is_api_key),
        ) {
            (Some(user), Some(password), _) => PrismAuth::Basic {
                username: user.clone(),
                password,
            },
            (_, _, Some(key)) => PrismAuth::ApiKey(key),
            _ => return Ok("Not checked: the account has no user and password.".into()),
        };
        let address = format!("{host}:{port}");
        // Prism Central speaks HTTPS; only a sandbox started with plain HTTP does not.
        let scheme = capstan_common::Endpoint::parse(&conn.prism.address, 9440)
            .map_or_else(|_| "https".to_owned(), |e| e.scheme);
        let prism = PrismClient::new(PrismConfig {
            http: conn.prism.http("prism-central-check"),
            ..PrismConfig::new(format!("{scheme}://{address}"), auth)
        })
        .map_err(|e| {
            invalid(
                "NUTANIX_ENDPOINT",
                &format!("{address} is not a usable address: {e}."),
            )
        })?;
        prism
            .users_me()
            .await
            .map_err(|e| prism_failure(e, &address))?;
        let who = credentials
            .get("NUTANIX_USER")
            .filter(|u| !u.is_empty())
            .map_or_else(|| "the API key".to_owned(), |u| format!("user {u}"));
        Ok(format!("Prism Central at {address} accepted {who}."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_recognised_by_name() {
        for k in [
            "NUTANIX_PASSWORD",
            "NUTANIX_API_KEY",
            "CLIENT_SECRET",
            "ACCESS_TOKEN",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "NUTANIX_ENDPOINT",
            "NUTANIX_PORT",
            "NUTANIX_USER",
            "NUTANIX_INSECURE",
            "REGION",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
