//! Day-2 machine changes. CAPI treats machine templates as immutable: Palette only repaves a
//! pool when the NutanixMachineTemplate gets a new name (palette-api.md §6.1), so every size
//! change renames it (`…-resource-3` → `…-resource-4`, or `…` → `…-1`) and moves the
//! KubeadmControlPlane / MachineDeployment reference to the new name.

use serde::Serialize;
use serde_norway::Value;

use crate::error::CapxError;
use crate::render::{NameOrUuid, pool_role};
use crate::sizes::{PoolRole, Quantity};
use crate::split::{MD_INFRASTRUCTURE_REF, NMT_SPEC, kcp_infrastructure_ref_path};
use crate::yaml::{self, get, kind_of, name_of};

/// What to change on the pool's machines; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineChanges {
    pub vcpu_sockets: Option<u32>,
    pub vcpus_per_socket: Option<u32>,
    pub memory: Option<Quantity>,
    pub system_disk: Option<Quantity>,
    /// A new image (e.g. for a Kubernetes upgrade).
    pub image: Option<NameOrUuid>,
}

/// One field the bump changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<String>,
    pub after: String,
}

/// The bumped pool YAML and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BumpOutcome {
    pub yaml: String,
    pub old_template_name: String,
    pub new_template_name: String,
    pub changes: Vec<FieldChange>,
}

/// The next machine-template name: a trailing `-<number>` is incremented, otherwise `-1`
/// is appended.
pub fn next_template_name(name: &str) -> String {
    if let Some((stem, tail)) = name.rsplit_once('-')
        && !tail.is_empty()
        && tail.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = tail.parse::<u64>()
    {
        return format!("{stem}-{}", n + 1);
    }
    format!("{name}-1")
}

fn bad(path: &str, problem: &str) -> CapxError {
    CapxError::BadField {
        what: "pool YAML".into(),
        path: path.to_owned(),
        problem: problem.to_owned(),
    }
}

/// Apply `changes` to the pool's NutanixMachineTemplate, rename it and update the reference.
pub fn bump_machine_template(
    pool_yaml: &str,
    changes: &MachineChanges,
) -> Result<BumpOutcome, CapxError> {
    let mut docs = yaml::parse_documents("pool YAML", pool_yaml)?;
    let role = pool_role(&docs)?;
    let owner_kind = match role {
        PoolRole::ControlPlane => "KubeadmControlPlane",
        PoolRole::Worker => "MachineDeployment",
    };
    let owner_index = docs
        .iter()
        .position(|d| kind_of(d) == Some(owner_kind))
        .ok_or_else(|| CapxError::MissingObject {
            what: "pool YAML".into(),
            kind: owner_kind.into(),
        })?;
    let mut ref_path: Vec<&str> = match role {
        PoolRole::ControlPlane => kcp_infrastructure_ref_path(&docs[owner_index]).to_vec(),
        PoolRole::Worker => MD_INFRASTRUCTURE_REF.to_vec(),
    };
    ref_path.push("name");
    let old_name = get(&docs[owner_index], &ref_path)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad(
                &format!("{owner_kind}.{}", ref_path.join(".")),
                "is missing",
            )
        })?
        .to_owned();
    let nmt_index = docs
        .iter()
        .position(|d| kind_of(d) == Some("NutanixMachineTemplate") && name_of(d) == Some(&old_name))
        .ok_or_else(|| CapxError::MissingObject {
            what: "pool YAML".into(),
            kind: format!("NutanixMachineTemplate named {old_name}"),
        })?;

    let mut field_changes = Vec::new();
    let nmt = &mut docs[nmt_index];
    let mut apply = |key: &str, value: Value| -> Result<(), CapxError> {
        let path: Vec<&str> = [NMT_SPEC, &[key]].concat();
        let before = get(nmt, &path).and_then(yaml::scalar_text);
        let after = yaml::scalar_text(&value)
            .or_else(|| serde_norway::to_string(&value).ok())
            .unwrap_or_default();
        if get(nmt, &path) == Some(&value) {
            return Ok(());
        }
        yaml::set(nmt, &path, value)
            .map_err(|_| bad(&path.join("."), "parent is not a mapping"))?;
        field_changes.push(FieldChange {
            path: format!("NutanixMachineTemplate.{}", path.join(".")),
            before,
            after,
        });
        Ok(())
    };
    if let Some(n) = changes.vcpu_sockets {
        apply("vcpuSockets", Value::from(n))?;
    }
    if let Some(n) = changes.vcpus_per_socket {
        apply("vcpusPerSocket", Value::from(n))?;
    }
    if let Some(q) = &changes.memory {
        apply("memorySize", Value::from(q.as_str()))?;
    }
    if let Some(q) = &changes.system_disk {
        apply("systemDiskSize", Value::from(q.as_str()))?;
    }
    if let Some(image) = &changes.image {
        apply("image", image.to_value())?;
    }
    if field_changes.is_empty() {
        return Err(CapxError::InvalidChoice {
            field: "changes".into(),
            problem: "nothing differs from the current machine template, so there is nothing to repave; change a size or the image".into(),
        });
    }

    let new_name = next_template_name(&old_name);
    yaml::set(
        &mut docs[nmt_index],
        &["metadata", "name"],
        Value::from(new_name.as_str()),
    )
    .map_err(|_| {
        bad(
            "NutanixMachineTemplate.metadata.name",
            "metadata is not a mapping",
        )
    })?;
    yaml::set(
        &mut docs[owner_index],
        &ref_path,
        Value::from(new_name.as_str()),
    )
    .map_err(|_| bad(&ref_path.join("."), "parent is not a mapping"))?;
    field_changes.push(FieldChange {
        path: "NutanixMachineTemplate.metadata.name".into(),
        before: Some(old_name.clone()),
        after: new_name.clone(),
    });
    field_changes.push(FieldChange {
        path: format!("{owner_kind}.{}", ref_path.join(".")),
        before: Some(old_name.clone()),
        after: new_name.clone(),
    });
    Ok(BumpOutcome {
        yaml: yaml::emit_documents(&docs),
        old_template_name: old_name,
        new_template_name: new_name,
        changes: field_changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_increment_or_gain_suffix() {
        assert_eq!(
            next_template_name("worker-pool-resource-3"),
            "worker-pool-resource-4"
        );
        assert_eq!(
            next_template_name("${CLUSTER_NAME}-cp-0"),
            "${CLUSTER_NAME}-cp-1"
        );
        assert_eq!(next_template_name("pool-09"), "pool-10");
        assert_eq!(next_template_name("workers"), "workers-1");
        assert_eq!(next_template_name("workers-"), "workers--1");
        assert_eq!(next_template_name("v1-x"), "v1-x-1");
    }
}
