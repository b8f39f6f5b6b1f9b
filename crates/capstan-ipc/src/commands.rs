//! The command table: every command the UI can call, with its request and response type.
//! This is the one place commands are declared; the backend dispatcher and the generated
//! TypeScript `Commands` map both come from it.

use crate::deploy::*;
use crate::inventory::*;
use crate::preflight::PreflightReport;
use crate::profile::*;
use crate::setup::*;
use crate::types::*;
use crate::workflow::*;
use serde::{Serialize, de::DeserializeOwned};

pub trait Command {
    const NAME: &'static str;
    type Request: DeserializeOwned + Serialize + ts_rs::TS;
    type Response: DeserializeOwned + Serialize + ts_rs::TS;
}

macro_rules! commands {
    ($( $(#[$doc:meta])* $ty:ident = $name:literal : $req:ty => $resp:ty ;)*) => {
        $( $(#[$doc])* pub struct $ty; impl Command for $ty { const NAME: &'static str = $name; type Request = $req; type Response = $resp; } )*

        /// Every command name, in declaration order.
        pub const NAMES: &[&str] = &[$($name),*];

        /// `(name, request type name, response type name)` for the TypeScript generator.
        pub fn signatures() -> Vec<(&'static str, String, String)> {
            let cfg = ts_rs::Config::default();
            vec![$( ($name, <$req as ts_rs::TS>::name(&cfg), <$resp as ts_rs::TS>::name(&cfg)) ),*]
        }

        /// Exports the TypeScript declaration of every request and response type (and the
        /// types they reference) into `dir`.
        pub fn export_types(dir: &std::path::Path) -> Result<(), ts_rs::ExportError> {
            let cfg = ts_rs::Config::default().with_out_dir(dir);
            $( <$req as ts_rs::TS>::export_all(&cfg)?; <$resp as ts_rs::TS>::export_all(&cfg)?; )*
            Ok(())
        }
    };
}

commands! {
    /// Name, version and where the app keeps its files.
    AppInfoCmd = "app_info": Empty => AppInfo;
    /// The active environment and the last known health of its services.
    StatusGet = "status_get": Empty => Status;
    /// Re-checks the connection to Palette and Prism Central now.
    StatusRefresh = "status_refresh": Empty => Status;
    /// All configured environments and which one is active.
    EnvironmentsList = "environments_list": Empty => EnvironmentList;
    /// Makes an environment the active one (starting the sandbox if it is the sandbox).
    EnvironmentActivate = "environment_activate": ActivateEnvironmentRequest => Status;
    /// Recent Activity entries, newest last.
    ActivityList = "activity_list": ActivityQuery => ActivityPage;
    SettingsGet = "settings_get": Empty => Settings;
    SettingsUpdate = "settings_update": Settings => Settings;

    /// What the local cache holds for the active environment, how fresh, and any sync running.
    CacheSummaryGet = "cache_summary": Empty => CacheSummary;
    /// Deletes and recreates the cache database (the escape hatch for a damaged file).
    CacheRebuild = "cache_rebuild": Empty => CacheSummary;
    /// Starts an inventory sync of the active environment in the background; progress comes
    /// as `capstan://sync` events.
    SyncStart = "sync_start": SyncStartRequest => SyncStarted;
    /// Cancels the running sync; the cache keeps what it had and the next sync resumes.
    SyncCancel = "sync_cancel": Empty => SyncCancelled;
    /// The topology graph drawn from the cache, with the given groups expanded.
    TopologyGet = "topology_get": TopologyRequest => TopologyView;
    /// Finds nodes (VMs inside collapsed groups included) by name, IP or id.
    TopologySearch = "topology_search": TopologySearchRequest => TopologySearchResult;
    /// One page of cached objects of a kind, searched, filtered and sorted.
    InventoryList = "inventory_list": InventoryQuery => InventoryPage;
    /// One cached object with its raw API record.
    InventoryGet = "inventory_get": InventoryGetRequest => InventoryItem;
    /// Kubernetes clusters (Palette's and those found in Prism Central).
    ClustersList = "clusters_list": Empty => ClusterList;

    /// One environment's settings and which secrets are saved (never their values).
    EnvironmentGet = "environment_get": EnvironmentIdRequest => EnvironmentDetail;
    /// Creates or updates a real environment; secrets go to the secret store.
    EnvironmentSave = "environment_save": SaveEnvironmentRequest => EnvironmentDetail;
    /// Deletes a real environment, its secrets and its cached data.
    EnvironmentDelete = "environment_delete": EnvironmentIdRequest => EnvironmentList;
    /// "Test connection": a step-by-step diagnosis of Palette or Prism Central.
    ConnectionTest = "connection_test": ConnectionTestRequest => ConnectionTestResult;
    /// Whether secrets can be saved: the OS keyring, or the encrypted file and its state.
    SecretStoreStatusGet = "secret_store_status": Empty => SecretStoreStatus;
    /// The user chose the encrypted file: create it (or open it) with this passphrase.
    SecretStoreUnlock = "secret_store_unlock": UnlockSecretFileRequest => SecretStoreStatus;

    /// The five steps' live state read from the environment, and the architecture diagram.
    WorkflowStateGet = "workflow_state": Empty => WorkflowState;
    /// A step's saved draft, if any.
    DraftGet = "draft_get": DraftKey => DraftReply;
    /// Saves a step's draft (as the user types; survives a crash or restart).
    DraftSave = "draft_save": DraftPut => DraftReply;
    DraftDelete = "draft_delete": DraftKey => DraftReply;
    /// Step 1: the three Palette templates (split and patched, or shipped), the
    /// infrastructure-components check, the logo check and what differs from Palette.
    CloudTypePlanGet = "cloud_type_plan": CloudTypeInput => CloudTypePlan;
    /// Step 1: registers or updates the `nutanix` cloud type (only what differs).
    CloudTypeRegister = "cloud_type_register": CloudTypeInput => CloudTypeResult;
    /// Step 2: creates the self-hosted PCG (or finds the one of that name).
    PcgCreate = "pcg_create": PcgCreateRequest => PcgStatus;
    /// Step 2: the PCG's state, heartbeat, conditions and advice.
    PcgStatusGet = "pcg_status": PcgUidRequest => PcgStatus;
    /// Step 2: the kubeconfig contexts the PCG commands can be applied to.
    KubeContextsList = "kube_contexts": Empty => KubeContexts;
    /// Step 2: applies the PCG's manifests to a context, in order.
    PcgApply = "pcg_apply": PcgApplyRequest => PcgApplyResult;
    /// Step 3: the account form built from the registered keys, pre-filled from setup.
    CloudAccountFormGet = "cloud_account_form": Empty => CloudAccountForm;
    /// Step 3: checks the credentials against Prism Central, then creates the account
    /// (or keeps the one of that name).
    CloudAccountCreate = "cloud_account_create": CloudAccountCreateRequest => CloudAccountResult;
    /// Step 4: the pack registries (Palette's and the custom ones).
    PackRegistriesList = "pack_registries": Empty => PackRegistryList;
    /// Step 4: the packs of one layer offered for the `nutanix` cloud type, with versions.
    PacksByLayer = "packs_by_layer": PacksQuery => PackList;
    /// Step 4: a pack version's default values YAML.
    PackValuesGet = "pack_values": PackValuesRequest => PackDefaults;
    /// Step 4: whether a profile name and version are free (checked as the user types).
    ProfileNameCheckCmd = "profile_name_check": ProfileNameRequest => ProfileNameCheck;
    /// Step 4: creates (and publishes) the cluster profile, or keeps the one of that name
    /// and version.
    ProfileCreate = "profile_create": ProfileCreateRequest => ProfileCreateResult;
    /// Step 4: the `nutanix` cluster profiles with their versions.
    ProfilesList = "profiles_list": Empty => ProfileList;
    /// Step 4: one profile version with its layers.
    ProfileGet = "profile_get": ProfileUidRequest => ProfileDetail;
    /// Step 4: a new version of an existing profile (same name, new version).
    ProfileNewVersion = "profile_new_version": ProfileNewVersionRequest => ProfileCreateResult;

    /// Step 5: accounts, profiles, Prism Elements (live), SSH keys and defaults for the form.
    DeployOptionsGet = "deploy_options": Empty => DeployOptions;
    /// Step 5: a Prism Element's subnets and images (live) and free VIP addresses.
    DeployPlacement = "deploy_placement": PlacementRequest => PlacementOptions;
    /// Step 5: the cluster and pool YAML generated from the form.
    DeployRenderCmd = "deploy_render": DeploySpec => DeployRender;
    /// Step 5: an edited pool YAML carried back into the form where it maps.
    DeployYamlReadBack = "deploy_yaml_read_back": YamlReadBackRequest => YamlReadBack;
    /// Step 5: every preflight check against live Prism Central, in parallel, of exactly what
    /// would be deployed (the form, or the hand-edited YAML read back).
    DeployPreflight = "deploy_preflight": DeployRequest => PreflightReport;
    /// Step 5: runs the preflight again and, if it passes, creates the cluster (or finds the
    /// one of that name: a retried create never makes two).
    ClusterDeploy = "cluster_deploy": DeployRequest => DeployResult;
    /// A Palette cluster read live: phase, pools and nodes with VMs and IPs, events.
    ClusterDetailGet = "cluster_detail": ClusterUidRequest => ClusterDetail;
    /// Saves the cluster's kubeconfig (mode 0600).
    KubeconfigSave = "kubeconfig_save": KubeconfigSaveRequest => KubeconfigSaved;
    /// Day-2: sets a pool's node count.
    ClusterScale = "cluster_scale": ClusterScaleRequest => ClusterDetail;
    /// Day-2: what moving to another profile version changes.
    ClusterProfilePlan = "cluster_profile_plan": ProfileUpdateRequest => ProfileUpdatePlan;
    /// Day-2: moves the cluster to another version of its profile.
    ClusterProfileUpdate = "cluster_profile_update": ProfileUpdateRequest => ClusterDetail;
    /// Day-2: deletes the cluster (force: remove the record now, leave the VMs).
    ClusterDelete = "cluster_delete": ClusterDeleteRequest => ClusterDetail;
}
