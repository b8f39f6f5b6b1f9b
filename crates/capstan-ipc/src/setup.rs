//! DTOs of first-time setup: environments with their non-secret settings, the secrets
//! typed into the form (never sent back), the secret store's state, and "Test connection".

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::diagnosis::Diagnosis;
use crate::types::EnvironmentKind;

/// How a service's certificate is trusted. "Insecure" exists only as an explicit choice the
/// UI shows in red; nothing picks it by itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// The operating system's trusted roots.
    #[default]
    System,
    /// A PEM bundle of CA certificates (`caBundlePath`).
    CaBundle,
    /// Exactly the certificate whose SHA-256 is `pinnedSha256` (what "Trust this
    /// certificate" after a test connection saves).
    Pinned,
    /// No verification at all.
    Insecure,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TlsChoice {
    pub mode: TlsMode,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle_path: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_sha256: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ProxyMode {
    /// HTTPS_PROXY / NO_PROXY from the environment, if set.
    #[default]
    System,
    /// Connect directly.
    None,
    /// `proxyUrl`.
    Explicit,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProxySettings {
    pub mode: ProxyMode,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PaletteSettings {
    /// `https://api.spectrocloud.com` (SaaS) or a self-hosted address.
    pub url: String,
    /// The project the workflow works in (uid), chosen from the list a test returns.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_uid: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    /// Self-hosted only: the system console admin for step 1 (the password is a secret).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysadmin_username: Option<String>,
    #[serde(default)]
    pub tls: TlsChoice,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PrismAuthKind {
    /// Username and password.
    #[default]
    Basic,
    /// A Prism Central API key (service account).
    ApiKey,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PrismSettings {
    /// Host name or IP of Prism Central (not a Prism Element).
    pub address: String,
    #[serde(default = "default_prism_port")]
    pub port: u16,
    #[serde(default)]
    pub auth: PrismAuthKind,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default)]
    pub tls: TlsChoice,
}

fn default_prism_port() -> u16 {
    9440
}

impl Default for PrismSettings {
    fn default() -> Self {
        Self {
            address: String::new(),
            port: default_prism_port(),
            auth: PrismAuthKind::Basic,
            username: None,
            tls: TlsChoice::default(),
        }
    }
}

/// An environment's settings, without secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentConfig {
    /// Empty for a new environment (the backend makes one from the name).
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub palette: PaletteSettings,
    pub prism: PrismSettings,
    #[serde(default)]
    pub proxy: ProxySettings,
}

/// Secrets typed into the form. Absent or empty means "keep what is saved".
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SecretsInput {
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub palette_api_key: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prism_password: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prism_api_key: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sysadmin_password: Option<String>,
}

impl std::fmt::Debug for SecretsInput {
    // Never prints a value: only which fields were filled.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let filled = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        f.debug_struct("SecretsInput")
            .field("palette_api_key", &filled(&self.palette_api_key))
            .field("prism_password", &filled(&self.prism_password))
            .field("prism_api_key", &filled(&self.prism_api_key))
            .field("sysadmin_password", &filled(&self.sysadmin_password))
            .finish()
    }
}

/// Which secrets are saved for an environment (never their values).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SavedSecrets {
    pub palette_api_key: bool,
    pub prism_password: bool,
    pub prism_api_key: bool,
    pub sysadmin_password: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentDetail {
    pub kind: EnvironmentKind,
    pub config: EnvironmentConfig,
    pub saved: SavedSecrets,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentIdRequest {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SaveEnvironmentRequest {
    pub config: EnvironmentConfig,
    #[serde(default)]
    pub secrets: SecretsInput,
    /// Make it the active environment after saving.
    #[serde(default)]
    pub activate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ServiceName {
    Palette,
    PrismCentral,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionTestRequest {
    pub service: ServiceName,
    pub config: EnvironmentConfig,
    /// Typed secrets; absent ones are read from the secret store (for a saved environment).
    #[serde(default)]
    pub secrets: SecretsInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionTestResult {
    pub diagnosis: Diagnosis,
    /// Palette projects the key can see (uid and name), for the project picker.
    pub projects: Vec<ProjectOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectOption {
    pub uid: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SecretBackend {
    /// The OS keyring (Secret Service, Keychain, Credential Manager).
    Keyring,
    /// The passphrase-protected file the user chose.
    EncryptedFile,
    /// In memory only, chosen explicitly for tests (`CAPSTAN_SECRET_STORE=memory`).
    Memory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SecretStoreState {
    /// Secrets can be saved and read.
    Ready,
    /// No usable keyring: the user must choose the encrypted file (and a passphrase).
    NeedsFallback,
    /// The encrypted file was chosen before: it needs its passphrase.
    Locked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SecretStoreStatus {
    pub state: SecretStoreState,
    /// The store in use once ready.
    pub backend: Option<SecretBackend>,
    /// Whether secrets survive a restart with this store.
    pub persistent: bool,
    /// Why the keyring cannot be used, in words, when it cannot.
    pub reason: Option<String>,
    /// Where the encrypted file is (or would be) and whether it exists.
    pub file_path: String,
    pub file_exists: bool,
    /// The minimum passphrase length for a new file.
    pub min_passphrase_chars: u32,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UnlockSecretFileRequest {
    pub passphrase: String,
}

impl std::fmt::Debug for UnlockSecretFileRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnlockSecretFileRequest { passphrase: <redacted> }")
    }
}
