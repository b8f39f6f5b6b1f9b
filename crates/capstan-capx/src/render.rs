//! Typed choices → the cluster and pool YAML sent in Palette's create call, and pool YAML →
//! choices (so edits in the YAML flow back into the form where they map).
//!
//! Machine fields (sizes, boot type, PE/subnet/image identifiers, replicas, version) are set
//! structurally on the objects, so rendering works on any template shape and emits
//! `type: uuid` identifiers when a choice is a UUID. Remaining `${VAR}` macros are then
//! substituted in every string; Palette's server-side macros (`${CLUSTER_NAME}` and the
//! cloud-account keys) are left exactly as written for Palette to fill.

use std::net::Ipv4Addr;

use base64::Engine as _;
use serde::Serialize;
use serde_norway::{Mapping, Value};

use crate::error::CapxError;
use crate::macros::{self, source_of};
use crate::sizes::{PoolRole, PoolSizing, Quantity};
use crate::split::{
    MD_BOOTSTRAP_REF, MD_INFRASTRUCTURE_REF, NMT_SPEC, PaletteTemplates,
    kcp_infrastructure_ref_path,
};
use crate::yaml::{self, get, kind_of, name_of};

/// A Prism entity reference: by name (CAPX looks it up) or by UUID (exact; use it when the
/// name is ambiguous).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum NameOrUuid {
    Name(String),
    Uuid(String),
}

impl NameOrUuid {
    /// Validate and wrap a name.
    pub fn name(name: &str) -> Result<Self, String> {
        if name.trim().is_empty() {
            return Err("a name must not be empty".into());
        }
        if name.contains('\n') {
            return Err("a name must be one line".into());
        }
        Ok(Self::Name(name.to_owned()))
    }

    /// Validate and wrap a UUID (CAPX requires exactly 36 characters with dashes).
    pub fn uuid(uuid: &str) -> Result<Self, String> {
        if is_uuid(uuid) {
            Ok(Self::Uuid(uuid.to_ascii_lowercase()))
        } else {
            Err(format!(
                "{uuid:?} is not a UUID (8-4-4-4-12 hexadecimal digits)"
            ))
        }
    }

    /// The CAPX `NutanixResourceIdentifier` mapping.
    pub fn to_value(&self) -> Value {
        let mut map = Mapping::new();
        match self {
            Self::Name(n) => {
                map.insert("type".into(), "name".into());
                map.insert("name".into(), n.as_str().into());
            }
            Self::Uuid(u) => {
                map.insert("type".into(), "uuid".into());
                map.insert("uuid".into(), u.as_str().into());
            }
        }
        Value::Mapping(map)
    }

    /// Read a `NutanixResourceIdentifier`; errors say why it does not map.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        let field = |k: &str| value.get(k).and_then(Value::as_str);
        let check = |s: &str| {
            if macros::scan(s).is_empty() {
                Ok(())
            } else {
                Err(format!("{s} is still a macro"))
            }
        };
        match field("type") {
            Some("name") => {
                let n = field("name").ok_or("type is name but name is missing")?;
                check(n)?;
                Self::name(n)
            }
            Some("uuid") => {
                let u = field("uuid").ok_or("type is uuid but uuid is missing")?;
                check(u)?;
                Self::uuid(u)
            }
            Some(other) => Err(format!("type {other:?} is neither name nor uuid")),
            None => Err("type is missing".into()),
        }
    }
}

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// VM firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BootType {
    Legacy,
    Uefi,
}

impl BootType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Uefi => "uefi",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "legacy" => Ok(Self::Legacy),
            "uefi" => Ok(Self::Uefi),
            // CAPX's controller message for anything else.
            other => Err(format!("boot type must be legacy or uefi but was {other}")),
        }
    }
}

/// kube-vip toggles of the control-plane pool (all off by default, as in CAPX).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KubeVipToggles {
    /// `KUBEVIP_SVC_ENABLE`: kube-vip serves LoadBalancer Services.
    pub svc_enable: bool,
    /// `KUBEVIP_LB_ENABLE`: IPVS load-balancing of the control plane.
    pub lb_enable: bool,
    /// `KUBEVIP_SVC_ELECTION`: per-Service leader election.
    pub svc_election: bool,
}

/// Cluster-step choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterChoices {
    /// Palette cluster name (the create call's `metadata.name`). `${CLUSTER_NAME}` stays in the
    /// YAML: Palette fills it server-side.
    pub cluster_name: String,
    /// The kube-vip VIP.
    pub control_plane_endpoint_ip: Ipv4Addr,
    pub control_plane_endpoint_port: u16,
    /// Prism Central CA bundle (PEM); emitted base64-encoded on one line.
    pub trust_bundle_pem: Option<String>,
}

/// Per-pool choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolChoices {
    /// Palette pool name = KubeadmControlPlane/MachineDeployment `metadata.name`; `None` keeps
    /// the template's (`${CLUSTER_NAME}-kcp` / `${CLUSTER_NAME}-wmd`).
    pub name: Option<String>,
    pub replicas: u32,
    pub vcpu_sockets: u32,
    pub vcpus_per_socket: u32,
    pub memory: Quantity,
    pub system_disk: Quantity,
    pub boot_type: BootType,
    pub prism_element: NameOrUuid,
    pub subnets: Vec<NameOrUuid>,
    pub image: NameOrUuid,
    /// `v`-prefixed, e.g. `v1.30.4`.
    pub kubernetes_version: String,
    pub ssh_authorized_key: String,
    /// `None` keeps CAPX's default cipher list.
    pub tls_cipher_suites: Option<String>,
    /// Control-plane pool only; ignored for workers.
    pub kube_vip: KubeVipToggles,
}

impl PoolChoices {
    /// The sizing part, for [`crate::sizes::check_pool_sizing`].
    pub fn sizing(&self, role: PoolRole) -> PoolSizing {
        PoolSizing {
            role,
            replicas: self.replicas,
            vcpu_sockets: self.vcpu_sockets,
            vcpus_per_socket: self.vcpus_per_socket,
            memory: self.memory.clone(),
            system_disk: self.system_disk.clone(),
        }
    }
}

/// One rendered YAML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub yaml: String,
    /// Macros still in the YAML that Palette does not fill itself (empty for a complete render).
    pub unresolved: Vec<String>,
}

/// The three rendered YAMLs of a create call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedCluster {
    pub cluster: Rendered,
    pub control_plane_pool: Rendered,
    pub worker_pool: Rendered,
}

fn invalid(field: &str, problem: impl Into<String>) -> CapxError {
    CapxError::InvalidChoice {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

/// RFC 1123 label: what Palette and Kubernetes accept as a cluster or pool name.
fn check_dns_label(field: &str, name: &str) -> Result<(), CapxError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "{name:?} must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit"
            ),
        ))
    }
}

impl ClusterChoices {
    /// Check the choices; the first problem is returned.
    pub fn validate(&self) -> Result<(), CapxError> {
        check_dns_label("cluster_name", &self.cluster_name)?;
        if self.control_plane_endpoint_port == 0 {
            return Err(invalid("control_plane_endpoint_port", "must be 1-65535"));
        }
        let ip = self.control_plane_endpoint_ip;
        if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || ip.is_broadcast() {
            return Err(invalid(
                "control_plane_endpoint_ip",
                format!(
                    "{ip} cannot be a control-plane VIP; pick a free address in the control-plane subnet"
                ),
            ));
        }
        if let Some(pem) = &self.trust_bundle_pem
            && !(pem.contains("-----BEGIN CERTIFICATE-----")
                && pem.contains("-----END CERTIFICATE-----"))
        {
            return Err(invalid(
                "trust_bundle_pem",
                "is not a PEM certificate bundle (no BEGIN/END CERTIFICATE block); paste the CA certificate(s) of Prism Central",
            ));
        }
        Ok(())
    }

    /// The trust bundle as CAPX wants it: base64 of the PEM, on one line ("" when none).
    pub fn trust_bundle_base64(&self) -> String {
        self.trust_bundle_pem
            .as_deref()
            .map(|pem| base64::engine::general_purpose::STANDARD.encode(pem.trim().as_bytes()))
            .unwrap_or_default()
    }
}

/// Check that a Kubernetes version is `v`-prefixed (`vMAJOR.MINOR.PATCH[+/-suffix]`).
pub fn check_kubernetes_version(version: &str) -> Result<(), CapxError> {
    let problem = || {
        invalid(
            "kubernetes_version",
            format!(
                "{version:?} must look like v1.30.4 (with the leading v: the templates strip it with ${{KUBERNETES_VERSION#v}})"
            ),
        )
    };
    let rest = version.strip_prefix('v').ok_or_else(problem)?;
    let core = rest.split(['+', '-']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        Ok(())
    } else {
        Err(problem())
    }
}

impl PoolChoices {
    /// Check the choices' formats (size minimums are [`crate::sizes::check_pool_sizing`]).
    pub fn validate(&self) -> Result<(), CapxError> {
        if let Some(name) = &self.name {
            check_dns_label("name", name)?;
        }
        check_kubernetes_version(&self.kubernetes_version)?;
        let key = self.ssh_authorized_key.trim();
        if key.is_empty() || key.contains('\n') {
            return Err(invalid(
                "ssh_authorized_key",
                "must be one public key on one line (the content of id_ed25519.pub or similar)",
            ));
        }
        if !(key.starts_with("ssh-") || key.starts_with("ecdsa-") || key.starts_with("sk-")) {
            return Err(invalid(
                "ssh_authorized_key",
                "does not look like an OpenSSH public key (ssh-ed25519 AAAA..., ssh-rsa AAAA..., ecdsa-sha2-...)",
            ));
        }
        if self.subnets.is_empty() {
            return Err(invalid(
                "subnets",
                "needs at least one subnet (CAPX: \"at least one subnet is needed to create the VM\")",
            ));
        }
        if self.subnets.len() > 32 {
            return Err(invalid("subnets", "CAPX accepts at most 32 subnets"));
        }
        for (i, s) in self.subnets.iter().enumerate() {
            if self.subnets[..i].contains(s) {
                return Err(invalid("subnets", "lists the same subnet twice"));
            }
        }
        if let Some(suites) = &self.tls_cipher_suites
            && (suites.is_empty() || suites.chars().any(char::is_whitespace))
        {
            return Err(invalid(
                "tls_cipher_suites",
                "must be a comma-separated list without spaces",
            ));
        }
        Ok(())
    }
}

/// Macros whose whole-value substitution must be a YAML integer or boolean.
fn typed(name: &str, text: &str) -> Value {
    const INTEGERS: [&str; 6] = [
        "NUTANIX_MACHINE_VCPU_SOCKET",
        "NUTANIX_MACHINE_VCPU_PER_SOCKET",
        "WORKER_MACHINE_COUNT",
        "CONTROL_PLANE_MACHINE_COUNT",
        "CONTROL_PLANE_ENDPOINT_PORT",
        "NUTANIX_PORT",
    ];
    if INTEGERS.contains(&name)
        && let Ok(n) = text.parse::<u64>()
    {
        return Value::from(n);
    }
    if name == "NUTANIX_INSECURE"
        && let Ok(b) = text.parse::<bool>()
    {
        return Value::from(b);
    }
    Value::from(text)
}

/// Substitute macros in every string of `docs`; returns the macros left unresolved that
/// Palette does not fill itself.
fn substitute_docs(docs: &mut [Value], lookup: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let apply_defaults = |name: &str| !source_of(name).is_server_side();
    for doc in docs.iter_mut() {
        yaml::for_each_string_mut(doc, &mut |value| {
            let Some(text) = value.as_str() else { return };
            let exprs = macros::scan(text);
            if exprs.is_empty() {
                return;
            }
            let whole = exprs.len() == 1 && exprs[0].start == 0 && exprs[0].end == text.len();
            let replaced = macros::substitute(text, lookup, &apply_defaults);
            if replaced == text {
                return;
            }
            *value = if whole {
                typed(&exprs[0].name, &replaced)
            } else {
                Value::from(replaced)
            };
        });
    }
    let mut unresolved = Vec::new();
    for doc in docs.iter() {
        yaml::for_each_string(doc, &mut |s| {
            for e in macros::scan(s) {
                if !source_of(&e.name).is_server_side() && !unresolved.contains(&e.name) {
                    unresolved.push(e.name);
                }
            }
        });
    }
    unresolved
}

fn cluster_lookup(cluster: &ClusterChoices) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| match name {
        "CONTROL_PLANE_ENDPOINT_IP" => Some(cluster.control_plane_endpoint_ip.to_string()),
        "CONTROL_PLANE_ENDPOINT_PORT" => Some(cluster.control_plane_endpoint_port.to_string()),
        "NUTANIX_ADDITIONAL_TRUST_BUNDLE" => Some(cluster.trust_bundle_base64()),
        _ => None,
    }
}

/// Render the cluster template (`spec.cloudConfig.values` of the create call).
pub fn render_cluster(template: &str, cluster: &ClusterChoices) -> Result<Rendered, CapxError> {
    cluster.validate()?;
    let mut docs = yaml::parse_documents("cluster template", template)?;
    // The trust bundle must be a string even when empty (binaryData values are strings).
    let lookup = cluster_lookup(cluster);
    let unresolved = substitute_docs(&mut docs, &lookup);
    Ok(Rendered {
        yaml: yaml::emit_documents(&docs),
        unresolved,
    })
}

/// Which pool a YAML describes: a KubeadmControlPlane makes it the control plane
/// (the same rule Terraform uses for `isControlPlane`).
pub fn pool_role(docs: &[Value]) -> Result<PoolRole, CapxError> {
    if docs
        .iter()
        .any(|d| kind_of(d) == Some("KubeadmControlPlane"))
    {
        Ok(PoolRole::ControlPlane)
    } else if docs.iter().any(|d| kind_of(d) == Some("MachineDeployment")) {
        Ok(PoolRole::Worker)
    } else {
        Err(CapxError::MissingObject {
            what: "pool template".into(),
            kind: "KubeadmControlPlane or MachineDeployment".into(),
        })
    }
}

fn single<'a>(docs: &'a mut [Value], kind: &str) -> Result<&'a mut Value, CapxError> {
    let count = docs.iter().filter(|d| kind_of(d) == Some(kind)).count();
    if count != 1 {
        return Err(if count == 0 {
            CapxError::MissingObject {
                what: "pool template".into(),
                kind: kind.into(),
            }
        } else {
            CapxError::AmbiguousObject {
                what: "pool template".into(),
                kind: kind.into(),
                count,
            }
        });
    }
    docs.iter_mut()
        .find(|d| kind_of(d) == Some(kind))
        .ok_or_else(|| CapxError::MissingObject {
            what: "pool template".into(),
            kind: kind.into(),
        })
}

fn set_at(doc: &mut Value, path: &[&str], value: Value) -> Result<(), CapxError> {
    let what = yaml::label_of(doc);
    yaml::set(doc, path, value)
        .map(|_| ())
        .map_err(|_| CapxError::BadField {
            what,
            path: path.join("."),
            problem: "cannot be set because a parent field is not a mapping".into(),
        })
}

fn with_name<'a>(path: &[&'a str]) -> Vec<&'a str> {
    let mut p = path.to_vec();
    p.push("name");
    p
}

/// Render a pool template (`machinepoolconfig[].cloudConfig.values`). The cluster choices
/// fill the control-plane endpoint macros the kube-vip manifest uses.
pub fn render_pool(
    template: &str,
    cluster: &ClusterChoices,
    pool: &PoolChoices,
) -> Result<Rendered, CapxError> {
    cluster.validate()?;
    pool.validate()?;
    let mut docs = yaml::parse_documents("pool template", template)?;
    let role = pool_role(&docs)?;

    let nmt = single(&mut docs, "NutanixMachineTemplate")?;
    let spec = NMT_SPEC;
    let field = |k: &'static str| [spec, &[k]].concat();
    set_at(nmt, &field("vcpuSockets"), Value::from(pool.vcpu_sockets))?;
    set_at(
        nmt,
        &field("vcpusPerSocket"),
        Value::from(pool.vcpus_per_socket),
    )?;
    set_at(nmt, &field("memorySize"), Value::from(pool.memory.as_str()))?;
    set_at(
        nmt,
        &field("systemDiskSize"),
        Value::from(pool.system_disk.as_str()),
    )?;
    set_at(
        nmt,
        &field("bootType"),
        Value::from(pool.boot_type.as_str()),
    )?;
    set_at(nmt, &field("cluster"), pool.prism_element.to_value())?;
    set_at(nmt, &field("image"), pool.image.to_value())?;
    set_at(
        nmt,
        &field("subnet"),
        Value::Sequence(pool.subnets.iter().map(NameOrUuid::to_value).collect()),
    )?;
    let mut nmt_name = name_of(nmt).unwrap_or_default().to_owned();

    match role {
        PoolRole::ControlPlane => {
            let kcp = single(&mut docs, "KubeadmControlPlane")?;
            set_at(kcp, &["spec", "replicas"], Value::from(pool.replicas))?;
            set_at(
                kcp,
                &["spec", "version"],
                Value::from(pool.kubernetes_version.as_str()),
            )?;
            if let Some(name) = &pool.name {
                set_at(kcp, &["metadata", "name"], Value::from(name.as_str()))?;
            }
        }
        PoolRole::Worker => {
            let mut kct_name = None;
            if let Some(name) = &pool.name {
                // Each worker pool needs its own bootstrap and machine template names.
                nmt_name = format!("{name}-mt-0");
                let nmt = single(&mut docs, "NutanixMachineTemplate")?;
                set_at(nmt, &["metadata", "name"], Value::from(nmt_name.as_str()))?;
                let new_kct = format!("{name}-kcfg-0");
                let kct = single(&mut docs, "KubeadmConfigTemplate")?;
                set_at(kct, &["metadata", "name"], Value::from(new_kct.as_str()))?;
                kct_name = Some(new_kct);
            }
            let md = single(&mut docs, "MachineDeployment")?;
            set_at(md, &["spec", "replicas"], Value::from(pool.replicas))?;
            set_at(
                md,
                &["spec", "template", "spec", "version"],
                Value::from(pool.kubernetes_version.as_str()),
            )?;
            if let Some(name) = &pool.name {
                set_at(md, &["metadata", "name"], Value::from(name.as_str()))?;
                set_at(
                    md,
                    &with_name(MD_INFRASTRUCTURE_REF),
                    Value::from(nmt_name.as_str()),
                )?;
            }
            if let Some(kct) = kct_name {
                set_at(md, &with_name(MD_BOOTSTRAP_REF), Value::from(kct))?;
            }
        }
    }

    let base_lookup = cluster_lookup(cluster);
    let first_name = |list: &[NameOrUuid]| match list.first() {
        Some(NameOrUuid::Name(n)) => Some(n.clone()),
        _ => None,
    };
    let lookup = |name: &str| -> Option<String> {
        if let Some(v) = base_lookup(name) {
            return Some(v);
        }
        match name {
            "KUBERNETES_VERSION" => Some(pool.kubernetes_version.clone()),
            "NUTANIX_SSH_AUTHORIZED_KEY" => Some(pool.ssh_authorized_key.trim().to_owned()),
            "TLS_CIPHER_SUITES" => pool.tls_cipher_suites.clone(),
            "KUBEVIP_SVC_ENABLE" => Some(pool.kube_vip.svc_enable.to_string()),
            "KUBEVIP_LB_ENABLE" => Some(pool.kube_vip.lb_enable.to_string()),
            "KUBEVIP_SVC_ELECTION" => Some(pool.kube_vip.svc_election.to_string()),
            "WORKER_MACHINE_COUNT" | "CONTROL_PLANE_MACHINE_COUNT" => {
                Some(pool.replicas.to_string())
            }
            "NUTANIX_MACHINE_VCPU_SOCKET" => Some(pool.vcpu_sockets.to_string()),
            "NUTANIX_MACHINE_VCPU_PER_SOCKET" => Some(pool.vcpus_per_socket.to_string()),
            "NUTANIX_MACHINE_MEMORY_SIZE" => Some(pool.memory.to_string()),
            "NUTANIX_SYSTEMDISK_SIZE" => Some(pool.system_disk.to_string()),
            "NUTANIX_MACHINE_BOOT_TYPE" => Some(pool.boot_type.as_str().to_owned()),
            "NUTANIX_PRISM_ELEMENT_CLUSTER_NAME" => {
                first_name(std::slice::from_ref(&pool.prism_element))
            }
            "NUTANIX_MACHINE_TEMPLATE_IMAGE_NAME" => first_name(std::slice::from_ref(&pool.image)),
            "NUTANIX_SUBNET_NAME" => first_name(&pool.subnets),
            _ => None,
        }
    };
    let unresolved = substitute_docs(&mut docs, &lookup);
    Ok(Rendered {
        yaml: yaml::emit_documents(&docs),
        unresolved,
    })
}

/// Sets the Cluster's pod and service networks (`spec.clusterNetwork.{pods,services}.cidrBlocks`)
/// in a rendered cluster YAML: the template carries CAPX's defaults, and the deploy form may
/// choose others.
pub fn set_cluster_networks(
    cluster_yaml: &str,
    pod_cidr: &str,
    service_cidr: &str,
) -> Result<String, CapxError> {
    let mut docs = yaml::parse_documents("cluster YAML", cluster_yaml)?;
    let mut found = false;
    for doc in docs.iter_mut().filter(|d| kind_of(d) == Some("Cluster")) {
        found = true;
        for (key, cidr) in [("pods", pod_cidr), ("services", service_cidr)] {
            set_at(
                doc,
                &["spec", "clusterNetwork", key, "cidrBlocks"],
                Value::Sequence(vec![Value::from(cidr)]),
            )?;
        }
    }
    if !found {
        return Err(CapxError::MissingObject {
            what: "cluster YAML".into(),
            kind: "Cluster".into(),
        });
    }
    Ok(yaml::emit_documents(&docs))
}

/// Render all three templates for a create call, keeping the Cluster's `controlPlaneRef`
/// equal to the control-plane pool's name.
pub fn render_all(
    templates: &PaletteTemplates,
    cluster: &ClusterChoices,
    control_plane: &PoolChoices,
    worker: &PoolChoices,
) -> Result<RenderedCluster, CapxError> {
    let mut cluster_rendered = render_cluster(&templates.cloud_cluster, cluster)?;
    if let Some(cp_name) = &control_plane.name {
        let mut docs = yaml::parse_documents("cluster template", &cluster_rendered.yaml)?;
        for doc in docs.iter_mut().filter(|d| kind_of(d) == Some("Cluster")) {
            set_at(
                doc,
                &["spec", "controlPlaneRef", "name"],
                Value::from(cp_name.as_str()),
            )?;
        }
        cluster_rendered.yaml = yaml::emit_documents(&docs);
    }
    Ok(RenderedCluster {
        cluster: cluster_rendered,
        control_plane_pool: render_pool(&templates.control_plane_pool, cluster, control_plane)?,
        worker_pool: render_pool(&templates.worker_pool, cluster, worker)?,
    })
}

/// A YAML field that could not be carried back into the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmappedField {
    /// `Kind.path` of the field.
    pub path: String,
    pub value: Option<String>,
    pub reason: String,
}

/// Pool YAML read back into choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolReadBack {
    pub role: PoolRole,
    /// `base` with every field that maps replaced by the YAML's value.
    pub choices: PoolChoices,
    pub unmapped: Vec<UnmappedField>,
}

/// NMT fields the form has no control for (kept in the YAML only).
const NMT_EXTRA_FIELDS: [&str; 6] = [
    "dataDisks",
    "gpus",
    "additionalCategories",
    "project",
    "imageLookup",
    "failureDomain",
];

/// Read a pool YAML back into choices, starting from the form's current `base`.
pub fn read_pool_choices(pool_yaml: &str, base: &PoolChoices) -> Result<PoolReadBack, CapxError> {
    let docs = yaml::parse_documents("pool YAML", pool_yaml)?;
    let role = pool_role(&docs)?;
    let mut choices = base.clone();
    let mut unmapped = Vec::new();
    let mut miss = |path: String, value: Option<&Value>, reason: String| {
        unmapped.push(UnmappedField {
            path,
            value: value
                .and_then(|v| yaml::scalar_text(v).or_else(|| serde_norway::to_string(v).ok())),
            reason,
        });
    };
    let find = |kind: &str| docs.iter().find(|d| kind_of(d) == Some(kind));
    let (owner_kind, owner) = match role {
        PoolRole::ControlPlane => ("KubeadmControlPlane", find("KubeadmControlPlane")),
        PoolRole::Worker => ("MachineDeployment", find("MachineDeployment")),
    };
    let owner = owner.ok_or_else(|| CapxError::MissingObject {
        what: "pool YAML".into(),
        kind: owner_kind.into(),
    })?;

    // Pool name: a literal name maps; the template's `${CLUSTER_NAME}-…` form means "default".
    match name_of(owner) {
        Some(n) if macros::scan(n).is_empty() => choices.name = Some(n.to_owned()),
        Some(_) => choices.name = None,
        None => miss(
            format!("{owner_kind}.metadata.name"),
            None,
            "missing".into(),
        ),
    }

    let uint = |v: Option<&Value>| -> Result<u32, String> {
        match v {
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("{n} is not a whole number >= 0")),
            Some(Value::String(s)) if !macros::scan(s).is_empty() => {
                Err(format!("{s} is still a macro; the form keeps its value"))
            }
            Some(other) => Err(format!(
                "{} is not a number",
                yaml::scalar_text(other).unwrap_or_else(|| "a list or map".into())
            )),
            None => Err("missing".into()),
        }
    };
    let text = |v: Option<&Value>| -> Result<String, String> {
        match v.and_then(Value::as_str) {
            Some(s) if !macros::scan(s).is_empty() => {
                Err(format!("{s} is still a macro; the form keeps its value"))
            }
            Some(s) => Ok(s.to_owned()),
            None => Err("missing or not text".into()),
        }
    };

    let replicas = get(owner, &["spec", "replicas"]);
    match uint(replicas) {
        Ok(n) => choices.replicas = n,
        Err(e) => miss(format!("{owner_kind}.spec.replicas"), replicas, e),
    }
    let version_path: &[&str] = match role {
        PoolRole::ControlPlane => &["spec", "version"],
        PoolRole::Worker => &["spec", "template", "spec", "version"],
    };
    let version = get(owner, version_path);
    match text(version).and_then(|v| {
        check_kubernetes_version(&v)
            .map(|()| v)
            .map_err(|e| e.to_string())
    }) {
        Ok(v) => choices.kubernetes_version = v,
        Err(e) => miss(
            format!("{owner_kind}.{}", version_path.join(".")),
            version,
            e,
        ),
    }

    // SSH key: first key of the first user.
    let (users_kind, users_doc, users_path): (&str, Option<&Value>, &[&str]) = match role {
        PoolRole::ControlPlane => (
            "KubeadmControlPlane",
            Some(owner),
            &["spec", "kubeadmConfigSpec", "users"],
        ),
        PoolRole::Worker => (
            "KubeadmConfigTemplate",
            find("KubeadmConfigTemplate"),
            &["spec", "template", "spec", "users"],
        ),
    };
    let key = users_doc
        .and_then(|d| get(d, users_path))
        .and_then(|u| u.get(0))
        .and_then(|u| u.get("sshAuthorizedKeys"))
        .and_then(|k| k.get(0));
    match text(key) {
        Ok(k) => choices.ssh_authorized_key = k,
        Err(e) => miss(
            format!(
                "{users_kind}.{}.0.sshAuthorizedKeys.0",
                users_path.join(".")
            ),
            key,
            e,
        ),
    }

    // The machine template the owner points at (or the only one).
    let ref_path = match role {
        PoolRole::ControlPlane => with_name(kcp_infrastructure_ref_path(owner)),
        PoolRole::Worker => with_name(MD_INFRASTRUCTURE_REF),
    };
    let wanted = get(owner, &ref_path).and_then(Value::as_str);
    let nmt = docs
        .iter()
        .filter(|d| kind_of(d) == Some("NutanixMachineTemplate"))
        .find(|d| wanted.is_none() || name_of(d) == wanted)
        .ok_or_else(|| CapxError::MissingObject {
            what: "pool YAML".into(),
            kind: format!(
                "NutanixMachineTemplate named {}",
                wanted.unwrap_or("(unreferenced)")
            ),
        })?;
    let spec = get(nmt, NMT_SPEC);
    let at = |k: &str| spec.and_then(|s| s.get(k));
    let p = |k: &str| format!("NutanixMachineTemplate.spec.template.spec.{k}");

    match uint(at("vcpuSockets")) {
        Ok(n) => choices.vcpu_sockets = n,
        Err(e) => miss(p("vcpuSockets"), at("vcpuSockets"), e),
    }
    match uint(at("vcpusPerSocket")) {
        Ok(n) => choices.vcpus_per_socket = n,
        Err(e) => miss(p("vcpusPerSocket"), at("vcpusPerSocket"), e),
    }
    for (key, slot) in [
        ("memorySize", &mut choices.memory),
        ("systemDiskSize", &mut choices.system_disk),
    ] {
        match text(at(key)).and_then(|s| Quantity::parse(&s).map_err(|e| e.to_string())) {
            Ok(q) => *slot = q,
            Err(e) => miss(p(key), at(key), e),
        }
    }
    match text(at("bootType")).and_then(|s| BootType::parse(&s)) {
        Ok(b) => choices.boot_type = b,
        Err(e) => miss(p("bootType"), at("bootType"), e),
    }
    match at("cluster").map(NameOrUuid::from_value) {
        Some(Ok(pe)) => choices.prism_element = pe,
        Some(Err(e)) => miss(p("cluster"), at("cluster"), e),
        None => miss(p("cluster"), None, "missing".into()),
    }
    match at("image").map(NameOrUuid::from_value) {
        Some(Ok(image)) => choices.image = image,
        Some(Err(e)) => miss(p("image"), at("image"), e),
        None => miss(
            p("image"),
            None,
            "missing (imageLookup is not in the form); the form keeps its image".into(),
        ),
    }
    match at("subnet").and_then(Value::as_sequence) {
        Some(list) => {
            let parsed: Result<Vec<NameOrUuid>, String> =
                list.iter().map(NameOrUuid::from_value).collect();
            match parsed {
                Ok(subnets) if !subnets.is_empty() => choices.subnets = subnets,
                Ok(_) => miss(p("subnet"), at("subnet"), "empty list".into()),
                Err(e) => miss(p("subnet"), at("subnet"), e),
            }
        }
        None => miss(p("subnet"), at("subnet"), "missing or not a list".into()),
    }
    for extra in NMT_EXTRA_FIELDS {
        if let Some(v) = at(extra) {
            miss(
                p(extra),
                Some(v),
                "not in the form; it stays in the YAML as written".into(),
            );
        }
    }
    if role == PoolRole::ControlPlane {
        read_kube_vip(owner, &mut choices.kube_vip, &mut miss);
    }
    Ok(PoolReadBack {
        role,
        choices,
        unmapped,
    })
}

/// Read the kube-vip toggles from the static-pod manifest the KCP writes.
fn read_kube_vip(
    kcp: &Value,
    toggles: &mut KubeVipToggles,
    miss: &mut dyn FnMut(String, Option<&Value>, String),
) {
    let manifest = get(kcp, &["spec", "kubeadmConfigSpec", "files"])
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .find(|f| {
            f.get("path")
                .and_then(Value::as_str)
                .is_some_and(|p| p.ends_with("kube-vip.yaml"))
        })
        .and_then(|f| f.get("content"))
        .and_then(Value::as_str);
    let Some(manifest) = manifest else {
        return;
    };
    let Ok(pod) = serde_norway::from_str::<Value>(manifest) else {
        miss(
            "KubeadmControlPlane.spec.kubeadmConfigSpec.files[kube-vip.yaml].content".into(),
            None,
            "the kube-vip manifest does not parse as YAML".into(),
        );
        return;
    };
    let env = get(&pod, &["spec", "containers"])
        .and_then(|c| c.get(0))
        .and_then(|c| c.get("env"))
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    for (var, slot) in [
        ("svc_enable", &mut toggles.svc_enable),
        ("lb_enable", &mut toggles.lb_enable),
        ("enableServicesElection", &mut toggles.svc_election),
    ] {
        let value = env
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(var))
            .and_then(|e| e.get("value"));
        match value.and_then(Value::as_str).map(str::parse::<bool>) {
            Some(Ok(b)) => *slot = b,
            Some(Err(_)) | None if value.is_some() => miss(
                format!("kube-vip env {var}"),
                value,
                "not \"true\" or \"false\" (still a macro?); the form keeps its value".into(),
            ),
            _ => {}
        }
    }
}
