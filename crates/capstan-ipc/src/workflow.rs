//! DTOs of the guided workflow: the five steps' live state, the architecture diagram that
//! goes with them, drafts, and the actions of steps 1–3 (cloud type, PCG, cloud account).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

// ---- the stepper and the diagram ----------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStepId {
    CloudType,
    Pcg,
    CloudAccount,
    Profile,
    Cluster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Done,
    InProgress,
    /// Waiting on an earlier step (`blockedBy`).
    Blocked,
    NotStarted,
    /// The last attempt failed or the object is in an error state (`summary` says why).
    Failed,
    /// The state could not be read (Palette unreachable); `summary` says why.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStep {
    pub id: WorkflowStepId,
    pub title: String,
    pub status: StepStatus,
    pub blocked_by: Option<WorkflowStepId>,
    /// One line: what is there ("PCG edge-pcg is Running") or what is missing.
    pub summary: String,
    /// The Palette object the step made or found (uid and name), when there is one.
    pub object_uid: Option<String>,
    pub object_name: Option<String>,
    /// A draft is saved for this step.
    pub has_draft: bool,
}

/// A box of the architecture diagram the Workflow page draws beside the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DiagramPart {
    Palette,
    PcgHostCluster,
    Pcg,
    PrismCentral,
    PrismElement,
    WorkloadCluster,
    KubeVip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    Ok,
    Pending,
    Error,
    Unknown,
    /// Not created yet.
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DiagramBox {
    pub part: DiagramPart,
    pub label: String,
    pub state: PartState,
    /// Short facts for the box (address, version, counts).
    pub detail: Vec<String>,
    /// The steps that act on this part (highlighted while the step is selected).
    pub steps: Vec<WorkflowStepId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowState {
    pub environment_id: String,
    pub steps: Vec<WorkflowStep>,
    pub diagram: Vec<DiagramBox>,
    /// RFC 3339.
    pub checked_at: String,
    /// Why the state is partial (Palette unreachable, no credentials), if it is.
    pub problem: Option<String>,
}

// ---- drafts -------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DraftKey {
    pub step: WorkflowStepId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DraftPut {
    pub step: WorkflowStepId,
    /// The step's form as the UI keeps it (never secrets: the UI leaves them out).
    pub data: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    pub step: WorkflowStepId,
    pub data: Value,
    /// RFC 3339.
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DraftReply {
    pub draft: Option<Draft>,
}

// ---- step 1: the Nutanix cloud type ---------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    /// Capstan's own known-good templates for the chosen CAPX line.
    Shipped,
    /// The user's upstream `cluster-template.yaml`, split and patched.
    Upstream,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CloudTypeInput {
    /// e.g. `v1.5.0`.
    pub capx_version: String,
    pub source: TemplateSource,
    /// Upstream `cluster-template.yaml` (source `upstream`).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_template: Option<String>,
    /// `infrastructure-components.yaml` of that CAPX release (always from the user).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_components: Option<String>,
    /// Palette VerteX: add `rotate-server-certificates` to the kubelet args.
    #[serde(default)]
    pub vertex: bool,
    /// Cloud account keys to register (default: the five NUTANIX_* keys).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_keys: Option<Vec<String>>,
    /// Logo image (PNG/SVG/JPEG), base64.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<LogoInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LogoInput {
    pub file_name: String,
    pub base64: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    /// Stable code, e.g. `namespace_placeholder_left`.
    pub code: String,
    pub message: String,
    /// Where (file, object, path), when known.
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlannedTemplate {
    /// `clusterTemplate`, `controlPlanePoolTemplate` or `workerPoolTemplate`.
    pub name: String,
    pub file_name: String,
    pub yaml: String,
    /// What it was made from (the upstream file, or empty for shipped templates), for the diff.
    pub original: String,
    /// Each patch applied, in words.
    pub changes: Vec<String>,
    pub findings: Vec<Finding>,
    /// What Palette has now, when the cloud type is registered (for "what differs").
    pub registered: Option<String>,
    pub differs_from_registered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ComponentsCheck {
    /// The exact address to download `infrastructure-components.yaml` from.
    pub download_url: String,
    pub provided: bool,
    /// The version the file declares, when it does.
    pub declared_version: Option<String>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CloudTypePlan {
    pub capx_version: String,
    pub templates: Vec<PlannedTemplate>,
    pub components: ComponentsCheck,
    pub logo_findings: Vec<Finding>,
    /// Whether `nutanix` is registered already, and what an upload would change.
    pub registered: bool,
    pub changes_needed: Vec<String>,
    /// Everything that stops an upload (errors in any finding), in words; empty = can register.
    pub blockers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CloudTypeResult {
    /// What was done, in order ("Registered the cloud type nutanix", "Uploaded clusterTemplate",
    /// "workerPoolTemplate is unchanged").
    pub actions: Vec<String>,
    pub plan: CloudTypePlan,
}

// ---- step 2: the self-hosted PCG -------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PcgCreateRequest {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PcgUidRequest {
    pub uid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PcgCondition {
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PcgStatus {
    pub uid: String,
    pub name: String,
    /// `Pending`, `Running`, ...
    pub state: String,
    pub running: bool,
    /// The commands to run on the host cluster, in order.
    pub kubectl_commands: Vec<String>,
    /// False when a PCG of this name existed and was reused.
    pub created: bool,
    /// Seconds since Capstan first saw it Pending (or created it).
    #[ts(type = "number | null")]
    pub pending_seconds: Option<u64>,
    pub health: Option<String>,
    pub agent_version: Option<String>,
    pub last_heartbeat: Option<String>,
    pub conditions: Vec<PcgCondition>,
    /// When Pending lasts too long: what to check, in order.
    pub advice: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KubeContext {
    pub name: String,
    pub cluster: String,
    pub server: String,
    pub user: String,
    pub current: bool,
    /// A stand-in host cluster the sandbox provides (no real Kubernetes needed).
    pub simulated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KubeContexts {
    /// The kubeconfig files read (KUBECONFIG, else ~/.kube/config).
    pub files: Vec<String>,
    pub contexts: Vec<KubeContext>,
    /// Why none could be read, when none could.
    pub problem: Option<String>,
    /// Whether `kubectl` was found on PATH (needed for real contexts).
    pub kubectl_found: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PcgApplyRequest {
    pub uid: String,
    pub context: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppliedCommand {
    pub command: String,
    pub ok: bool,
    /// kubectl's output (or what went wrong), trimmed.
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PcgApplyResult {
    pub results: Vec<AppliedCommand>,
    pub status: PcgStatus,
}

// ---- step 3: the Nutanix cloud account ---------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccountField {
    /// The registered key, e.g. `NUTANIX_ENDPOINT`.
    pub key: String,
    pub label: String,
    /// Password input; never pre-filled from the keyring into the page.
    pub secret: bool,
    /// Pre-filled from setup (Prism Central address, port, user, TLS).
    pub value: Option<String>,
    /// A secret that setup saved and that will be used if the field is left blank.
    pub saved_secret_available: bool,
    pub help: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PcgOption {
    pub uid: String,
    pub name: String,
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CloudAccountForm {
    pub fields: Vec<AccountField>,
    pub pcgs: Vec<PcgOption>,
    /// The PCG to pre-select (the one step 2 made, else the only Running one).
    pub default_pcg: Option<String>,
    /// Why the account cannot be created now (no cloud type keys, PCG not Running).
    pub blocked_reason: Option<String>,
    /// Existing Nutanix accounts (name, uid), so a re-run can see it is done.
    pub existing: Vec<PcgOption>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CloudAccountCreateRequest {
    pub name: String,
    pub pcg_uid: String,
    /// Key → value as typed; blank secret fields use the secret saved in setup.
    pub values: BTreeMap<String, String>,
}

// `Debug` names the keys only: the values hold the Prism Central password.
impl std::fmt::Debug for CloudAccountCreateRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudAccountCreateRequest")
            .field("name", &self.name)
            .field("pcg_uid", &self.pcg_uid)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CloudAccountResult {
    pub uid: String,
    pub name: String,
    /// False when an account of this name existed and was kept.
    pub created: bool,
    /// The Prism Central check made before saving.
    pub prism_check: String,
}

impl std::fmt::Display for WorkflowStepId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WorkflowStepId::CloudType => "cloud_type",
            WorkflowStepId::Pcg => "pcg",
            WorkflowStepId::CloudAccount => "cloud_account",
            WorkflowStepId::Profile => "profile",
            WorkflowStepId::Cluster => "cluster",
        })
    }
}
