//! DTOs of the offline-first cache, the inventory sync and the topology view.
//!
//! The topology graph types are produced directly by `capstan-inventory`'s model, so the
//! wire shape is the model's shape (no mapping layer to drift).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::error::ErrorCode;

// ---- topology ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Palette,
    Project,
    Pcg,
    PrismCentral,
    PrismElement,
    Cluster,
    Pool,
    VmGroup,
    Vm,
    Subnet,
    Image,
}

/// A node's colour: the worst of what it and (for groups) its members report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    Ok,
    Unknown,
    Pending,
    Warn,
    Error,
}

impl NodeStatus {
    /// The more alarming of two statuses (error > warn > pending > unknown > ok).
    pub fn worst(self, other: NodeStatus) -> NodeStatus {
        self.max(other)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    Contains,
    Manages,
    Deploys,
    RunsOn,
    BootsFrom,
    Attached,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NodeCounts {
    #[ts(type = "number")]
    pub vms: u64,
    #[ts(type = "number")]
    pub powered_on: u64,
    #[ts(type = "number")]
    pub powered_off: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NodeLink {
    pub label: String,
    /// An `https://` address (opened in the browser) or `node:<id>` (jump to that node).
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopologyNode {
    pub id: String,
    pub kind: NodeKind,
    pub label: String,
    pub status: NodeStatus,
    /// The enclosing node (a VM's pool or group, a pool's cluster, a PE's Prism Central).
    pub parent: Option<String>,
    /// Inspector fields (camelCase keys).
    pub detail: BTreeMap<String, Value>,
    pub counts: Option<NodeCounts>,
    pub links: Vec<NodeLink>,
    /// Groups only: whether the VMs inside are left out of this graph.
    pub collapsed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopologyEdge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// Aggregated edges (a group to a subnet): how many VMs it stands for.
    #[ts(type = "number | null")]
    pub count: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopologyGraph {
    pub nodes: Vec<TopologyNode>,
    pub edges: Vec<TopologyEdge>,
}

impl TopologyGraph {
    pub fn node(&self, id: &str) -> Option<&TopologyNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a TopologyNode> + 'a {
        self.nodes
            .iter()
            .filter(move |n| n.parent.as_deref() == Some(id))
    }

    pub fn has_edge(&self, from: &str, to: &str, kind: EdgeKind) -> bool {
        self.edges
            .iter()
            .any(|e| e.from == from && e.to == to && e.kind == kind)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub node_id: String,
    pub kind: NodeKind,
    pub label: String,
    /// The group to expand so the node appears (`None` when it is already in the graph).
    pub expand: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopologyRequest {
    /// Ids of `vm_group` nodes whose VMs should be drawn.
    #[serde(default)]
    pub expanded: Vec<String>,
    /// Groups with at most this many VMs are drawn expanded anyway (default 25).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline_limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopologyView {
    pub environment_id: String,
    pub graph: TopologyGraph,
    /// VMs in the cache (drawn or inside collapsed groups).
    #[ts(type = "number")]
    pub vm_count: u64,
    /// Freshness of what the graph was drawn from.
    pub freshness: Freshness,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopologySearchRequest {
    pub text: String,
    #[serde(default)]
    pub expanded: Vec<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TopologySearchResult {
    pub hits: Vec<SearchHit>,
}

// ---- cache and sync ---------------------------------------------------------------------

/// What the cache holds. Prism Central kinds first, then Palette kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    PeCluster,
    Subnet,
    Image,
    Vm,
    Host,
    Project,
    CloudType,
    Pcg,
    CloudAccount,
    Profile,
    PaletteCluster,
    MachinePool,
    Node,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::PeCluster => "pe_cluster",
            EntityKind::Subnet => "subnet",
            EntityKind::Image => "image",
            EntityKind::Vm => "vm",
            EntityKind::Host => "host",
            EntityKind::Project => "project",
            EntityKind::CloudType => "cloud_type",
            EntityKind::Pcg => "pcg",
            EntityKind::CloudAccount => "cloud_account",
            EntityKind::Profile => "profile",
            EntityKind::PaletteCluster => "palette_cluster",
            EntityKind::MachinePool => "machine_pool",
            EntityKind::Node => "node",
        }
    }
}

/// How old the cached data is: the UI marks it stale past a threshold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// When the oldest kind shown was last synced completely (RFC 3339), if ever.
    pub synced_at: Option<String>,
    /// Age of that sync in seconds when this answer was made.
    #[ts(type = "number | null")]
    pub age_seconds: Option<u64>,
    /// True when nothing has been synced yet for this environment.
    pub empty: bool,
    /// True when the data is older than the stale threshold (or a sync failed since).
    pub stale: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KindSyncStatus {
    Never,
    Running,
    Completed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KindCacheSummary {
    pub kind: EntityKind,
    #[ts(type = "number")]
    pub count: u64,
    pub status: KindSyncStatus,
    /// Last complete sync (RFC 3339).
    pub synced_at: Option<String>,
    #[ts(type = "number | null")]
    pub age_seconds: Option<u64>,
    /// Why the last run failed (redacted), when it did.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CacheSummary {
    pub environment_id: String,
    /// The SQLite file (or `:memory:` when the file could not be opened).
    pub database: String,
    pub kinds: Vec<KindCacheSummary>,
    pub freshness: Freshness,
    /// The sync now running, if any.
    pub sync: Option<SyncEvent>,
    /// A cache problem the user should know about (opened in memory after a failure, ...).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncModeDto {
    /// Re-list everything.
    #[default]
    Full,
    /// Skip kinds synced recently.
    Incremental,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncStartRequest {
    #[serde(default)]
    pub mode: SyncModeDto,
    /// Kinds to sync; empty or absent means all.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<EntityKind>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncEventPhase {
    /// The run began (or an interrupted one is continued).
    Started,
    /// A kind made progress (`kind`, `done`, `total`).
    Progress,
    /// The whole run finished; the cache holds fresh data.
    Completed,
    /// The run stopped on an error; the cache keeps what it had. `error` says why.
    Failed,
    /// The user cancelled; the cache keeps what it had and the next run resumes.
    Cancelled,
}

/// `capstan://sync`: progress of the one inventory sync that runs at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncEvent {
    #[ts(type = "number")]
    pub run_id: u64,
    pub environment_id: String,
    pub phase: SyncEventPhase,
    /// The kind being synced (absent on run-level phases).
    pub kind: Option<EntityKind>,
    /// Kinds finished so far in this run, and how many the run covers.
    pub kinds_done: u32,
    pub kinds_total: u32,
    /// Rows of `kind` written so far, and how many there are (once the first page told).
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    pub started_at: String,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    pub error: Option<SyncFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncFailure {
    pub code: ErrorCode,
    pub message: String,
    /// True when starting the sync again continues where this one stopped.
    pub resumable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncStarted {
    #[ts(type = "number")]
    pub run_id: u64,
    /// False when a sync was already running: `runId` is that run.
    pub started: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncCancelled {
    /// False when no sync was running.
    pub cancelled: bool,
}

// ---- inventory lists ----------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum InventorySort {
    #[default]
    Name,
    State,
    Parent,
    LastSeen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InventoryQuery {
    pub kind: EntityKind,
    /// Matches the name (anywhere), the id or an IP (prefix).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// The owning PE (uuid) for VMs and subnets, the cluster for pools and nodes.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Power state for VMs, status for Palette objects.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default)]
    pub sort: InventorySort,
    #[serde(default)]
    pub descending: bool,
    #[serde(default)]
    pub offset: u32,
    /// Page size (default 200, at most 1000).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InventoryRow {
    pub id: String,
    pub name: String,
    /// Parent id (PE uuid, cluster uid, PCG uid) and its name when known.
    pub parent: Option<String>,
    pub parent_name: Option<String>,
    pub state: Option<String>,
    pub ips: Vec<String>,
    /// Kind-specific columns for the list (vCPUs, memory, CIDR, version, ...).
    pub columns: BTreeMap<String, Value>,
    /// When the last sync saw it (RFC 3339).
    pub last_seen_at: String,
    /// The topology node that shows it, when there is one.
    pub node_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InventoryPage {
    pub kind: EntityKind,
    #[ts(type = "number")]
    pub total: u64,
    pub offset: u32,
    pub rows: Vec<InventoryRow>,
    pub freshness: Freshness,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InventoryGetRequest {
    pub kind: EntityKind,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InventoryItem {
    pub row: InventoryRow,
    /// The cached API object (secrets redacted by the cache).
    pub raw: Value,
}

/// A Kubernetes cluster as the Clusters page lists it: Palette's record joined with what
/// Prism Central shows of its VMs (clusters found only in Prism are listed too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRow {
    /// The topology node id (`cluster:<name>`).
    pub id: String,
    pub name: String,
    /// Palette's uid when Palette manages it.
    pub palette_uid: Option<String>,
    /// Palette's state (`Running`, `Provisioning`, ...) or, without Palette, from the VMs.
    pub state: Option<String>,
    pub health: Option<String>,
    pub status: NodeStatus,
    /// The kube-vip API endpoint.
    pub endpoint: Option<String>,
    pub kubernetes_version: Option<String>,
    /// Prism Element clusters hosting its VMs.
    pub prism_elements: Vec<String>,
    pub control_plane_nodes: u32,
    pub worker_nodes: u32,
    pub powered_on: u32,
    pub pools: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClusterList {
    pub clusters: Vec<ClusterRow>,
    pub freshness: Freshness,
}
