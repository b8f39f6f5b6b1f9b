//! Checks for what Palette (or CAPI behind it) would reject, run before uploading the three
//! templates or sending a create call.

use serde::Serialize;
use serde_norway::Value;

use crate::error::CapxError;
use crate::split::{
    MD_BOOTSTRAP_REF, MD_INFRASTRUCTURE_REF, PaletteTemplates, TemplateFile,
    kcp_infrastructure_ref_path,
};
use crate::yaml::{self, get, kind_of, name_of};

/// One reason Palette would reject a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateProblem {
    pub file: TemplateFile,
    /// Stable machine code.
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
    /// 1-based line for parse errors.
    pub line: Option<usize>,
}

impl TemplateProblem {
    fn new(file: TemplateFile, code: &'static str, message: String) -> Self {
        Self {
            file,
            code,
            message,
            line: None,
        }
    }
}

/// Validate the three templates together. An empty result means none of these checks fails.
pub fn validate_templates(templates: &PaletteTemplates) -> Vec<TemplateProblem> {
    let mut problems = Vec::new();
    let mut parsed: Vec<Option<Vec<Value>>> = Vec::new();
    for file in TemplateFile::ALL {
        let text = templates.get(file);
        parsed.push(check_file(file, text, &mut problems));
    }
    // Cross-file: the Cluster must point at the KCP of the control-plane file.
    if let (Some(cluster_docs), Some(cp_docs)) = (&parsed[0], &parsed[1]) {
        let cp_ref = cluster_docs
            .iter()
            .find(|d| kind_of(d) == Some("Cluster"))
            .and_then(|c| get(c, &["spec", "controlPlaneRef", "name"]))
            .and_then(Value::as_str);
        let kcp_name = cp_docs
            .iter()
            .find(|d| kind_of(d) == Some("KubeadmControlPlane"))
            .and_then(name_of);
        if let (Some(kcp_name), true) = (kcp_name, cp_ref != kcp_name) {
            problems.push(TemplateProblem::new(
                TemplateFile::CloudCluster,
                "control_plane_ref_mismatch",
                format!(
                    "Cluster.spec.controlPlaneRef.name is {:?} but the control-plane pool's KubeadmControlPlane is named {kcp_name:?}. Make them equal",
                    cp_ref.unwrap_or("(missing)")
                ),
            ));
        }
    }
    problems
}

/// Validate one template file on its own (the cross-file check needs `validate_templates`).
pub fn validate_template(file: TemplateFile, text: &str) -> Vec<TemplateProblem> {
    let mut problems = Vec::new();
    check_file(file, text, &mut problems);
    problems
}

fn check_file(
    file: TemplateFile,
    text: &str,
    problems: &mut Vec<TemplateProblem>,
) -> Option<Vec<Value>> {
    let docs = match yaml::parse_documents(file.file_name(), text) {
        Ok(docs) => docs,
        Err(err) => {
            let line = match &err {
                CapxError::YamlUnparsable { line, .. } => Some(*line),
                _ => None,
            };
            problems.push(TemplateProblem {
                file,
                code: err.code(),
                message: err.to_string(),
                line,
            });
            return None;
        }
    };
    if text.contains("${NAMESPACE}") {
        problems.push(TemplateProblem::new(
            file,
            "namespace_macro_left",
            format!(
                "{} still contains ${{NAMESPACE}}. Remove every namespace field that uses it: Palette supplies its own namespace",
                file.file_name()
            ),
        ));
    }
    let required = file.required_kinds();
    for kind in required {
        let count = docs.iter().filter(|d| kind_of(d) == Some(*kind)).count();
        if count != 1 {
            problems.push(TemplateProblem::new(
                file,
                if count == 0 {
                    "required_kind_missing"
                } else {
                    "required_kind_repeated"
                },
                format!(
                    "{} must contain exactly one {kind}, found {count}. Keep exactly one",
                    file.file_name()
                ),
            ));
        }
    }
    for doc in &docs {
        match kind_of(doc) {
            Some(kind) if required.contains(&kind) => {}
            other => problems.push(TemplateProblem::new(
                file,
                "unexpected_kind",
                format!(
                    "{} contains {} ({}), which Palette does not expect in this template. Remove it",
                    file.file_name(),
                    other.unwrap_or("a document without kind"),
                    yaml::label_of(doc)
                ),
            )),
        }
    }
    let find = |kind: &str| docs.iter().find(|d| kind_of(d) == Some(kind));
    let ref_name = |doc: &Value, path: &[&str]| -> Option<String> {
        get(doc, path)?.get("name")?.as_str().map(str::to_owned)
    };
    let mut check_ref = |owner: &str, path: &str, referenced: Option<String>, kind: &str| {
        let target = find(kind).and_then(name_of);
        if referenced.is_none() || referenced.as_deref() != target {
            problems.push(TemplateProblem::new(
                file,
                "dangling_reference",
                format!(
                    "{owner} {path} names {:?}, but the {kind} in {} is named {:?}. Make the reference and the name equal",
                    referenced.unwrap_or_else(|| "(nothing)".into()),
                    file.file_name(),
                    target.unwrap_or("(missing)")
                ),
            ));
        }
    };
    match file {
        TemplateFile::ControlPlanePool => {
            if let Some(kcp) = find("KubeadmControlPlane") {
                let path = kcp_infrastructure_ref_path(kcp);
                check_ref(
                    "KubeadmControlPlane",
                    &path.join("."),
                    ref_name(kcp, path),
                    "NutanixMachineTemplate",
                );
            }
        }
        TemplateFile::WorkerPool => {
            if let Some(md) = find("MachineDeployment") {
                check_ref(
                    "MachineDeployment",
                    &MD_BOOTSTRAP_REF.join("."),
                    ref_name(md, MD_BOOTSTRAP_REF),
                    "KubeadmConfigTemplate",
                );
                check_ref(
                    "MachineDeployment",
                    &MD_INFRASTRUCTURE_REF.join("."),
                    ref_name(md, MD_INFRASTRUCTURE_REF),
                    "NutanixMachineTemplate",
                );
            }
        }
        TemplateFile::CloudCluster => {
            if let Some(cluster) = find("Cluster") {
                check_ref(
                    "Cluster",
                    "spec.infrastructureRef",
                    ref_name(cluster, &["spec", "infrastructureRef"]),
                    "NutanixCluster",
                );
            }
            if let Some(nc) = find("NutanixCluster") {
                check_ref(
                    "NutanixCluster",
                    "spec.prismCentral.credentialRef",
                    ref_name(nc, &["spec", "prismCentral", "credentialRef"]),
                    "Secret",
                );
                if get(nc, &["spec", "prismCentral", "additionalTrustBundle"]).is_some() {
                    check_ref(
                        "NutanixCluster",
                        "spec.prismCentral.additionalTrustBundle",
                        ref_name(nc, &["spec", "prismCentral", "additionalTrustBundle"]),
                        "ConfigMap",
                    );
                }
            }
        }
    }
    Some(docs)
}
