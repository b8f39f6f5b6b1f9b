//! `infrastructure-components.yaml`: confirm a file is the CAPX provider bundle it claims to
//! be, read the version it declares, and build release download addresses.

use serde::Serialize;
use serde_norway::Value;

use crate::error::CapxError;
use crate::yaml::{self, get, kind_of};

/// The API group of the CAPX CRDs.
pub const INFRASTRUCTURE_GROUP: &str = "infrastructure.cluster.x-k8s.io";
/// The CRDs (plural names) a CAPX bundle must define.
pub const REQUIRED_CRDS: [&str; 3] = [
    "nutanixclusters",
    "nutanixmachines",
    "nutanixmachinetemplates",
];
/// The controller image repository, without tag.
pub const CONTROLLER_IMAGE: &str = "cluster-api-provider-nutanix/controller";
const RELEASES: &str =
    "https://github.com/nutanix-cloud-native/cluster-api-provider-nutanix/releases/download";

/// What a components file declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentsInfo {
    /// The CAPX version, from the controller image tag (or a version label).
    pub version: String,
    /// Full names of the Nutanix CRDs found (`nutanixclusters.infrastructure.cluster.x-k8s.io`).
    pub crds: Vec<String>,
    /// The controller image reference, when a Deployment carries one.
    pub controller_image: Option<String>,
}

/// Check that `text` is a CAPX infrastructure-components.yaml; when `expected_version` is
/// given, also that it is for that version.
pub fn inspect_infrastructure_components(
    text: &str,
    expected_version: Option<&str>,
) -> Result<ComponentsInfo, CapxError> {
    if let Some(v) = expected_version {
        check_version(v)?;
    }
    let docs = yaml::parse_documents("infrastructure-components.yaml", text)?;
    let mut crds = Vec::new();
    for doc in docs
        .iter()
        .filter(|d| kind_of(d) == Some("CustomResourceDefinition"))
    {
        let group = get(doc, &["spec", "group"]).and_then(Value::as_str);
        let plural = get(doc, &["spec", "names", "plural"]).and_then(Value::as_str);
        if let (Some(INFRASTRUCTURE_GROUP), Some(plural)) = (group, plural)
            && plural.starts_with("nutanix")
        {
            crds.push(format!("{plural}.{INFRASTRUCTURE_GROUP}"));
        }
    }
    let missing: Vec<&str> = REQUIRED_CRDS
        .iter()
        .copied()
        .filter(|p| !crds.contains(&format!("{p}.{INFRASTRUCTURE_GROUP}")))
        .collect();
    if !missing.is_empty() {
        return Err(CapxError::NotInfrastructureComponents {
            problem: format!("it lacks the CRD(s) {missing:?} of group {INFRASTRUCTURE_GROUP}"),
        });
    }
    let controller_image = docs
        .iter()
        .filter(|d| kind_of(d) == Some("Deployment"))
        .filter_map(|d| get(d, &["spec", "template", "spec", "containers"])?.as_sequence())
        .flatten()
        .filter_map(|c| c.get("image")?.as_str())
        .find(|image| image.contains(CONTROLLER_IMAGE))
        .map(str::to_owned);
    let from_image = controller_image
        .as_deref()
        .and_then(|image| image.rsplit_once(':'))
        .map(|(_, tag)| tag.to_owned())
        .filter(|tag| check_version(tag).is_ok());
    let from_label = || {
        docs.iter()
            .filter_map(|d| get(d, &["metadata", "labels", "app.kubernetes.io/version"]))
            .filter_map(Value::as_str)
            .find(|v| check_version(v).is_ok())
            .map(str::to_owned)
    };
    let version = from_image.or_else(from_label).ok_or_else(|| {
        CapxError::NotInfrastructureComponents {
            problem: format!(
                "it declares no CAPX version (no Deployment image {CONTROLLER_IMAGE}:vX.Y.Z and no app.kubernetes.io/version label)"
            ),
        }
    })?;
    if let Some(expected) = expected_version
        && expected != version
    {
        return Err(CapxError::ComponentsVersionMismatch {
            expected: expected.to_owned(),
            found: version,
        });
    }
    Ok(ComponentsInfo {
        version,
        crds,
        controller_image,
    })
}

/// Accept `vMAJOR.MINOR.PATCH` with an optional `-prerelease` suffix.
pub fn check_version(version: &str) -> Result<(), CapxError> {
    let bad = || CapxError::InvalidVersion {
        text: version.to_owned(),
    };
    let rest = version.strip_prefix('v').ok_or_else(bad)?;
    let (core, pre) = rest.split_once('-').unwrap_or((rest, ""));
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if parts.len() != 3 || !parts.iter().all(numeric) {
        return Err(bad());
    }
    if rest.contains('-')
        && (pre.is_empty()
            || !pre
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
    {
        return Err(bad());
    }
    Ok(())
}

/// `MAJOR.MINOR` of a checked version.
pub fn minor_of(version: &str) -> Result<(u32, u32), CapxError> {
    check_version(version)?;
    let bad = || CapxError::InvalidVersion {
        text: version.to_owned(),
    };
    let mut parts = version[1..].split(['.', '-']);
    let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    Ok((major, minor))
}

/// Download address of a release asset (`infrastructure-components.yaml`, `cluster-template.yaml`, ...).
pub fn release_asset_url(version: &str, asset: &str) -> Result<String, CapxError> {
    check_version(version)?;
    Ok(format!("{RELEASES}/{version}/{asset}"))
}

/// Download address of `infrastructure-components.yaml` for a CAPX version.
pub fn infrastructure_components_url(version: &str) -> Result<String, CapxError> {
    release_asset_url(version, "infrastructure-components.yaml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_is_exact() {
        assert_eq!(
            infrastructure_components_url("v1.5.4").as_deref(),
            Ok(
                "https://github.com/nutanix-cloud-native/cluster-api-provider-nutanix/releases/download/v1.5.4/infrastructure-components.yaml"
            )
        );
    }

    #[test]
    fn versions_are_checked() {
        for good in ["v1.5.4", "v1.10.3", "v1.11.0-beta.1"] {
            assert!(check_version(good).is_ok(), "{good}");
        }
        for bad in [
            "1.5.4",
            "v1.5",
            "v1.5.x",
            "latest",
            "v1.5.4-",
            "v1.5.4/../x",
        ] {
            assert_eq!(
                infrastructure_components_url(bad).map_err(|e| e.code()),
                Err("invalid_capx_version"),
                "{bad}"
            );
        }
        assert_eq!(minor_of("v1.10.3"), Ok((1, 10)));
    }
}
