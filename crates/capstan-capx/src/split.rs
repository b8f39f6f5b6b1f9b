//! Split an upstream CAPX `cluster-template.yaml` into Palette's three templates and patch
//! them as palette-api.md §2.1 prescribes, recording every change for the UI diff.

use serde::Serialize;
use serde_norway::{Mapping, Value};

use crate::error::CapxError;
use crate::yaml::{self, get, kind_of, label_of, name_of};

/// Added to the kubeadm pre-commands: the nutanix-csi pack needs iscsid running.
pub const ISCSID_COMMAND: &str = "systemctl enable --now iscsid";
/// The kubelet argument VerteX needs (FIPS: kubelet serving certs rotated by the CSR flow).
pub const ROTATE_SERVER_CERTIFICATES: &str = "rotate-server-certificates";

/// Control-plane NutanixMachineTemplate name Palette's docs use.
pub const CP_MACHINE_TEMPLATE_NAME: &str = "${CLUSTER_NAME}-cp-0";
/// Control-plane providerID placeholder Palette's docs use.
pub const CP_PROVIDER_ID: &str = "nutanix://${CLUSTER_NAME}-m1-cp-0";
/// Worker providerID placeholder Palette's docs use.
pub const WORKER_PROVIDER_ID: &str = "nutanix://${CLUSTER_NAME}-m1-mt-0";

/// The three templates Palette's cloud type takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateFile {
    CloudCluster,
    ControlPlanePool,
    WorkerPool,
}

impl TemplateFile {
    pub const ALL: [TemplateFile; 3] = [
        TemplateFile::CloudCluster,
        TemplateFile::ControlPlanePool,
        TemplateFile::WorkerPool,
    ];

    /// The file name the Palette docs use.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::CloudCluster => "cloudClusterTemplate.yaml",
            Self::ControlPlanePool => "controlPlanePoolTemplate.yaml",
            Self::WorkerPool => "workerPoolTemplate.yaml",
        }
    }

    /// The last path segment of `PUT /v1/clouds/cloudTypes/{ct}/content/templates/{..}`.
    pub fn palette_template_name(self) -> &'static str {
        match self {
            Self::CloudCluster => "clusterTemplate",
            Self::ControlPlanePool => "controlPlanePoolTemplate",
            Self::WorkerPool => "workerPoolTemplate",
        }
    }

    /// The object kinds the file must hold, each exactly once.
    pub fn required_kinds(self) -> &'static [&'static str] {
        match self {
            Self::CloudCluster => &[
                "ConfigMap",
                "Secret",
                "Cluster",
                "MachineHealthCheck",
                "NutanixCluster",
            ],
            Self::ControlPlanePool => &["KubeadmControlPlane", "NutanixMachineTemplate"],
            Self::WorkerPool => &[
                "KubeadmConfigTemplate",
                "MachineDeployment",
                "NutanixMachineTemplate",
            ],
        }
    }
}

/// Palette's three template texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaletteTemplates {
    pub cloud_cluster: String,
    pub control_plane_pool: String,
    pub worker_pool: String,
}

impl PaletteTemplates {
    pub fn get(&self, file: TemplateFile) -> &str {
        match file {
            TemplateFile::CloudCluster => &self.cloud_cluster,
            TemplateFile::ControlPlanePool => &self.control_plane_pool,
            TemplateFile::WorkerPool => &self.worker_pool,
        }
    }
}

/// Options of the split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SplitOptions {
    /// Palette VerteX: add `rotate-server-certificates: "true"` under every `kubeletExtraArgs`.
    pub vertex: bool,
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    /// An object was copied into this file.
    KeptObject,
    /// A field was removed.
    RemovedField,
    /// A field was set (possibly replacing a value).
    SetField,
    /// An item was appended to a list.
    AppendedItem,
}

/// One change made by the split, for the UI diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub file: TemplateFile,
    /// `Kind/name` of the object (name as it is after the change).
    pub object: String,
    /// Dotted path inside the object (`spec.template.spec.providerID`); empty for whole objects.
    pub path: String,
    pub action: ChangeAction,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// An upstream object that went into none of the three files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedObject {
    pub object: String,
    pub reason: String,
}

/// Everything the split did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SplitReport {
    pub changes: Vec<Change>,
    pub dropped: Vec<DroppedObject>,
    /// Things the user should know that are not errors.
    pub notes: Vec<String>,
}

/// The kinds an upstream cluster template must contain.
pub const UPSTREAM_REQUIRED_KINDS: [&str; 9] = [
    "ConfigMap",
    "Secret",
    "Cluster",
    "MachineHealthCheck",
    "NutanixCluster",
    "KubeadmControlPlane",
    "KubeadmConfigTemplate",
    "MachineDeployment",
    "NutanixMachineTemplate",
];

/// Where a KubeadmControlPlane keeps its machine infrastructureRef: `v1beta1` has
/// `spec.machineTemplate.infrastructureRef`, `v1beta2` (CAPX >= 1.10 templates) nests it under `spec`.
pub fn kcp_infrastructure_ref_path(kcp: &Value) -> &'static [&'static str] {
    const V1BETA2: &[&str] = &["spec", "machineTemplate", "spec", "infrastructureRef"];
    const V1BETA1: &[&str] = &["spec", "machineTemplate", "infrastructureRef"];
    if get(kcp, V1BETA2).is_some() {
        V1BETA2
    } else {
        V1BETA1
    }
}

/// MachineDeployment's machine infrastructureRef.
pub const MD_INFRASTRUCTURE_REF: &[&str] = &["spec", "template", "spec", "infrastructureRef"];
/// MachineDeployment's bootstrap configRef.
pub const MD_BOOTSTRAP_REF: &[&str] = &["spec", "template", "spec", "bootstrap", "configRef"];
/// KubeadmControlPlane's pre-kubeadm commands.
pub const KCP_PRE_KUBEADM: &[&str] = &["spec", "kubeadmConfigSpec", "preKubeadmCommands"];
/// KubeadmConfigTemplate's pre-kubeadm commands.
pub const KCT_PRE_KUBEADM: &[&str] = &["spec", "template", "spec", "preKubeadmCommands"];
/// NutanixMachineTemplate machine spec.
pub const NMT_SPEC: &[&str] = &["spec", "template", "spec"];

fn ref_name<'a>(doc: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(doc, path)?.get("name")?.as_str()
}

struct Recorder<'a> {
    report: &'a mut SplitReport,
    file: TemplateFile,
}

impl Recorder<'_> {
    fn record(
        &mut self,
        object: String,
        path: &str,
        action: ChangeAction,
        before: Option<String>,
        after: Option<String>,
    ) {
        self.report.changes.push(Change {
            file: self.file,
            object,
            path: path.to_owned(),
            action,
            before,
            after,
        });
    }
}

/// Split and patch an upstream `cluster-template.yaml`.
pub fn split_cluster_template(
    text: &str,
    options: &SplitOptions,
) -> Result<(PaletteTemplates, SplitReport), CapxError> {
    let docs = yaml::parse_documents("cluster template", text)?;
    let missing: Vec<String> = UPSTREAM_REQUIRED_KINDS
        .iter()
        .filter(|k| !docs.iter().any(|d| kind_of(d) == Some(**k)))
        .map(|k| (*k).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(CapxError::NotClusterTemplate { missing });
    }
    let mut report = SplitReport::default();

    let one = |kind: &str| -> Result<&Value, CapxError> {
        let found: Vec<&Value> = docs.iter().filter(|d| kind_of(d) == Some(kind)).collect();
        match found.as_slice() {
            [only] => Ok(*only),
            _ => Err(CapxError::AmbiguousObject {
                what: "cluster template".into(),
                kind: kind.into(),
                count: found.len(),
            }),
        }
    };
    let cluster = one("Cluster")?;
    let nutanix_cluster = one("NutanixCluster")?;
    let mhc = one("MachineHealthCheck")?;
    let kcp = one("KubeadmControlPlane")?;
    let md = one("MachineDeployment")?;

    // The credentials Secret and trust-bundle ConfigMap are the ones the NutanixCluster names.
    let pc = get(nutanix_cluster, &["spec", "prismCentral"]);
    let secret_name = pc.and_then(|p| ref_name(p, &["credentialRef"]));
    let bundle_name = pc.and_then(|p| ref_name(p, &["additionalTrustBundle"]));
    let secret = pick(&docs, "Secret", secret_name, |d| {
        get(d, &["stringData", "credentials"]).is_some()
    })?;
    let bundle = pick(&docs, "ConfigMap", bundle_name, |d| {
        get(d, &["binaryData", "ca.crt"]).is_some()
    })?;

    let kct_name = ref_name(md, MD_BOOTSTRAP_REF);
    let kct = pick(&docs, "KubeadmConfigTemplate", kct_name, |_| true)?;
    let cp_nmt = pick(
        &docs,
        "NutanixMachineTemplate",
        ref_name(kcp, kcp_infrastructure_ref_path(kcp)),
        |_| true,
    )?;
    let worker_nmt = pick(
        &docs,
        "NutanixMachineTemplate",
        ref_name(md, MD_INFRASTRUCTURE_REF),
        |_| true,
    )?;

    // Everything not picked is dropped, with the reason.
    let kept: [&Value; 10] = [
        bundle,
        secret,
        cluster,
        mhc,
        nutanix_cluster,
        kcp,
        cp_nmt,
        kct,
        md,
        worker_nmt,
    ];
    for doc in &docs {
        if !kept.iter().any(|k| std::ptr::eq(*k, doc)) {
            report.dropped.push(DroppedObject {
                object: label_of(doc),
                reason: drop_reason(doc),
            });
        }
    }
    if get(cluster, &["metadata", "labels", "ccm"]).is_some() {
        report.notes.push(
            "Cluster keeps its `ccm: nutanix` label, but with the ClusterResourceSet dropped nothing \
             deploys the Nutanix cloud controller manager: add it through the cluster profile \
             (kubelets run with cloud-provider: external and wait for a CCM to initialise nodes)."
                .into(),
        );
    }
    if std::ptr::eq(cp_nmt, worker_nmt) {
        report.notes.push(format!(
            "Upstream shares {} between control plane and workers; each pool file now has its own copy.",
            label_of(cp_nmt)
        ));
    }

    // --- cloudClusterTemplate
    let mut rec = Recorder {
        report: &mut report,
        file: TemplateFile::CloudCluster,
    };
    let mut cluster_docs: Vec<Value> = [bundle, secret, cluster, mhc, nutanix_cluster]
        .into_iter()
        .cloned()
        .collect();
    for doc in &mut cluster_docs {
        keep(&mut rec, doc);
        strip_namespace(&mut rec, doc);
    }

    // --- controlPlanePoolTemplate
    let mut rec = Recorder {
        report: &mut report,
        file: TemplateFile::ControlPlanePool,
    };
    let mut kcp = kcp.clone();
    let mut cp_nmt = cp_nmt.clone();
    for doc in [&mut kcp, &mut cp_nmt] {
        keep(&mut rec, doc);
        strip_namespace(&mut rec, doc);
    }
    set_scalar(
        &mut rec,
        &mut cp_nmt,
        &["metadata", "name"],
        CP_MACHINE_TEMPLATE_NAME,
    )?;
    set_scalar(
        &mut rec,
        &mut cp_nmt,
        &["spec", "template", "spec", "providerID"],
        CP_PROVIDER_ID,
    )?;
    let mut ref_path: Vec<&str> = kcp_infrastructure_ref_path(&kcp).to_vec();
    ref_path.push("name");
    set_scalar(&mut rec, &mut kcp, &ref_path, CP_MACHINE_TEMPLATE_NAME)?;
    append_unique(&mut rec, &mut kcp, KCP_PRE_KUBEADM, ISCSID_COMMAND)?;
    if options.vertex {
        add_rotate_server_certificates(&mut rec, &mut kcp);
    }

    // --- workerPoolTemplate
    let mut rec = Recorder {
        report: &mut report,
        file: TemplateFile::WorkerPool,
    };
    let mut kct = kct.clone();
    let mut md = md.clone();
    let mut worker_nmt = worker_nmt.clone();
    for doc in [&mut kct, &mut md, &mut worker_nmt] {
        keep(&mut rec, doc);
        strip_namespace(&mut rec, doc);
    }
    set_scalar(
        &mut rec,
        &mut worker_nmt,
        &["spec", "template", "spec", "providerID"],
        WORKER_PROVIDER_ID,
    )?;
    // The MD must name the worker NMT (same name upstream; kept consistent if it ever differs).
    let worker_nmt_name = name_of(&worker_nmt).unwrap_or_default().to_owned();
    let mut md_ref: Vec<&str> = MD_INFRASTRUCTURE_REF.to_vec();
    md_ref.push("name");
    if ref_name(&md, MD_INFRASTRUCTURE_REF) != Some(worker_nmt_name.as_str()) {
        set_scalar(&mut rec, &mut md, &md_ref, &worker_nmt_name)?;
    }
    append_unique(&mut rec, &mut kct, KCT_PRE_KUBEADM, ISCSID_COMMAND)?;
    if options.vertex {
        add_rotate_server_certificates(&mut rec, &mut kct);
    }

    let templates = PaletteTemplates {
        cloud_cluster: yaml::emit_documents(&cluster_docs),
        control_plane_pool: yaml::emit_documents(&[kcp, cp_nmt]),
        worker_pool: yaml::emit_documents(&[kct, md, worker_nmt]),
    };
    Ok((templates, report))
}

/// Pick the object of `kind` named `wanted`; without a name, the only object of that kind
/// that satisfies `fallback`.
fn pick<'a>(
    docs: &'a [Value],
    kind: &str,
    wanted: Option<&str>,
    fallback: impl Fn(&Value) -> bool,
) -> Result<&'a Value, CapxError> {
    let of_kind = || docs.iter().filter(move |d| kind_of(d) == Some(kind));
    if let Some(name) = wanted
        && let Some(found) = of_kind().find(|d| name_of(d) == Some(name))
    {
        return Ok(found);
    }
    let candidates: Vec<&Value> = of_kind().filter(|d| fallback(d)).collect();
    match candidates.as_slice() {
        [only] => Ok(*only),
        [] => Err(CapxError::MissingObject {
            what: "cluster template".into(),
            kind: match wanted {
                Some(name) => format!("{kind} named {name}"),
                None => kind.to_owned(),
            },
        }),
        _ => Err(CapxError::AmbiguousObject {
            what: "cluster template".into(),
            kind: kind.to_owned(),
            count: candidates.len(),
        }),
    }
}

fn drop_reason(doc: &Value) -> String {
    let name = name_of(doc).unwrap_or_default();
    match kind_of(doc) {
        Some("ClusterResourceSet") => "ClusterResourceSet that pushes the Nutanix CCM into the workload cluster; \
             Palette's cloud-type templates take only the documented objects, so the CCM must come \
             from the cluster profile instead"
            .into(),
        Some("ConfigMap" | "Secret") if name.contains("ccm") => {
            "payload of the Nutanix CCM ClusterResourceSet (manifests / PC credentials for the CCM); \
             dropped with the ClusterResourceSet"
                .into()
        }
        Some(kind) => format!("{kind} is not part of any of Palette's three templates"),
        None => "document without a kind".into(),
    }
}

fn keep(rec: &mut Recorder<'_>, doc: &Value) {
    rec.record(label_of(doc), "", ChangeAction::KeptObject, None, None);
}

/// Remove every field whose value mentions `${NAMESPACE}` (Palette supplies the namespace).
fn strip_namespace(rec: &mut Recorder<'_>, doc: &mut Value) {
    let label = label_of(doc);
    let mut removed = Vec::new();
    strip_namespace_walk(doc, &mut Vec::new(), &mut removed);
    for (path, before) in removed {
        rec.record(
            label.clone(),
            &path,
            ChangeAction::RemovedField,
            Some(before),
            None,
        );
    }
}

fn strip_namespace_walk(
    value: &mut Value,
    path: &mut Vec<String>,
    removed: &mut Vec<(String, String)>,
) {
    match value {
        Value::Mapping(map) => {
            let doomed: Vec<Value> = map
                .iter()
                .filter(|(_, v)| v.as_str().is_some_and(|s| s.contains("${NAMESPACE}")))
                .map(|(k, _)| k.clone())
                .collect();
            for key in doomed {
                if let Some(old) = map.remove(&key) {
                    let mut p = path.clone();
                    p.push(yaml::scalar_text(&key).unwrap_or_default());
                    removed.push((p.join("."), yaml::scalar_text(&old).unwrap_or_default()));
                }
            }
            for (k, v) in map.iter_mut() {
                path.push(yaml::scalar_text(k).unwrap_or_default());
                strip_namespace_walk(v, path, removed);
                path.pop();
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                strip_namespace_walk(item, path, removed);
                path.pop();
            }
        }
        _ => {}
    }
}

fn set_scalar(
    rec: &mut Recorder<'_>,
    doc: &mut Value,
    path: &[&str],
    new: &str,
) -> Result<(), CapxError> {
    let label_before = label_of(doc);
    let previous = yaml::set(doc, path, Value::from(new)).map_err(|_| CapxError::BadField {
        what: label_before,
        path: path.join("."),
        problem: "cannot be set because a parent field is not a mapping".into(),
    })?;
    let before = previous.as_ref().and_then(yaml::scalar_text);
    if before.as_deref() != Some(new) {
        rec.record(
            label_of(doc),
            &path.join("."),
            ChangeAction::SetField,
            before,
            Some(new.to_owned()),
        );
    }
    Ok(())
}

/// Append `item` to the string list at `path` unless it is already there.
pub(crate) fn append_unique_raw(
    doc: &mut Value,
    path: &[&str],
    item: &str,
) -> Result<bool, CapxError> {
    if yaml::get(doc, path).is_none() {
        yaml::set(doc, path, Value::Sequence(Vec::new())).map_err(|_| CapxError::BadField {
            what: label_of(doc),
            path: path.join("."),
            problem: "cannot be created because a parent field is not a mapping".into(),
        })?;
    }
    let what = label_of(doc);
    let list = yaml::get_mut(doc, path)
        .and_then(Value::as_sequence_mut)
        .ok_or_else(|| CapxError::BadField {
            what,
            path: path.join("."),
            problem: "is not a list".into(),
        })?;
    if list.iter().any(|v| v.as_str().map(str::trim) == Some(item)) {
        return Ok(false);
    }
    list.push(Value::from(item));
    Ok(true)
}

fn append_unique(
    rec: &mut Recorder<'_>,
    doc: &mut Value,
    path: &[&str],
    item: &str,
) -> Result<(), CapxError> {
    if append_unique_raw(doc, path, item)? {
        rec.record(
            label_of(doc),
            &path.join("."),
            ChangeAction::AppendedItem,
            None,
            Some(item.to_owned()),
        );
    }
    Ok(())
}

/// Add `rotate-server-certificates: "true"` under every `kubeletExtraArgs` of `doc`
/// (a map in CAPI v1beta1, a `[{name, value}]` list in v1beta2).
fn add_rotate_server_certificates(rec: &mut Recorder<'_>, doc: &mut Value) {
    let label = label_of(doc);
    let mut added = Vec::new();
    rotate_walk(doc, &mut Vec::new(), &mut added);
    for path in added {
        rec.record(
            label.clone(),
            &format!("{path}.{ROTATE_SERVER_CERTIFICATES}"),
            ChangeAction::SetField,
            None,
            Some("true".into()),
        );
    }
}

fn rotate_walk(value: &mut Value, path: &mut Vec<String>, added: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (k, v) in map.iter_mut() {
                let key = yaml::scalar_text(k).unwrap_or_default();
                path.push(key.clone());
                if key == "kubeletExtraArgs" && add_rotate_arg(v) {
                    added.push(path.join("."));
                } else {
                    rotate_walk(v, path, added);
                }
                path.pop();
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                rotate_walk(item, path, added);
                path.pop();
            }
        }
        _ => {}
    }
}

fn add_rotate_arg(args: &mut Value) -> bool {
    match args {
        Value::Mapping(map) => {
            if map.get(ROTATE_SERVER_CERTIFICATES).and_then(Value::as_str) == Some("true") {
                return false;
            }
            map.insert(Value::from(ROTATE_SERVER_CERTIFICATES), Value::from("true"));
            true
        }
        Value::Sequence(list) => {
            let present = list.iter().any(|item| {
                item.get("name").and_then(Value::as_str) == Some(ROTATE_SERVER_CERTIFICATES)
            });
            if present {
                return false;
            }
            let mut entry = Mapping::new();
            entry.insert(Value::from("name"), Value::from(ROTATE_SERVER_CERTIFICATES));
            entry.insert(Value::from("value"), Value::from("true"));
            list.push(Value::Mapping(entry));
            true
        }
        _ => false,
    }
}

/// Apply the VerteX kubelet flag to a pool template (shipped or already split): adds
/// `rotate-server-certificates: "true"` under every `kubeletExtraArgs` of its
/// KubeadmControlPlane / KubeadmConfigTemplate. Idempotent. Returns the YAML and the changes.
pub fn apply_vertex(
    pool_yaml: &str,
    file: TemplateFile,
) -> Result<(String, Vec<Change>), CapxError> {
    let mut docs = yaml::parse_documents(file.file_name(), pool_yaml)?;
    let mut report = SplitReport::default();
    let mut rec = Recorder {
        report: &mut report,
        file,
    };
    for doc in docs.iter_mut().filter(|d| {
        matches!(
            kind_of(d),
            Some("KubeadmControlPlane" | "KubeadmConfigTemplate")
        )
    }) {
        add_rotate_server_certificates(&mut rec, doc);
    }
    if report.changes.is_empty() {
        // Nothing to add: hand back the input untouched (keeps its comments).
        return Ok((pool_yaml.to_owned(), Vec::new()));
    }
    Ok((yaml::emit_documents(&docs), report.changes))
}
