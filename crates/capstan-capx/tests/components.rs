//! infrastructure-components.yaml identity and version checks, on a synthetic bundle built
//! from the real CAPX CRDs in the fixtures directory.

mod common;

use capstan_capx::components::{infrastructure_components_url, inspect_infrastructure_components};

const CRDS: [&str; 3] = [
    "nutanixclusters",
    "nutanixmachinetemplates",
    "nutanixmachines",
];

fn crd_text(dir: &std::path::Path, plural: &str) -> String {
    let path = dir.join(format!(
        "crds/infrastructure.cluster.x-k8s.io_{plural}.yaml"
    ));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn controller(image_tag: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: capx-controller-manager
  namespace: capx-system
  labels:
    cluster.x-k8s.io/provider: infrastructure-nutanix
spec:
  template:
    spec:
      containers:
      - name: manager
        image: ghcr.io/nutanix-cloud-native/cluster-api-provider-nutanix/controller:{image_tag}
"
    )
}

/// A bundle like the release asset: the CRDs, a namespace and the controller Deployment.
fn bundle(dir: &std::path::Path, crds: &[&str], tag: Option<&str>) -> String {
    let mut parts =
        vec!["apiVersion: v1\nkind: Namespace\nmetadata:\n  name: capx-system\n".to_owned()];
    parts.extend(crds.iter().map(|p| crd_text(dir, p)));
    if let Some(tag) = tag {
        parts.push(controller(tag));
    }
    parts.join("\n---\n")
}

#[test]
fn a_real_bundle_is_recognised_with_its_version() {
    let Some(dir) = common::capx_specs("a_real_bundle_is_recognised_with_its_version") else {
        return;
    };
    let text = bundle(&dir, &CRDS, Some("v1.10.3"));
    let info = inspect_infrastructure_components(&text, Some("v1.10.3")).expect("valid bundle");
    assert_eq!(info.version, "v1.10.3");
    let mut crds = info.crds.clone();
    crds.sort();
    assert_eq!(
        crds,
        [
            "nutanixclusters.infrastructure.cluster.x-k8s.io",
            "nutanixmachines.infrastructure.cluster.x-k8s.io",
            "nutanixmachinetemplates.infrastructure.cluster.x-k8s.io",
        ]
    );
    assert!(
        info.controller_image
            .as_deref()
            .is_some_and(|i| i.ends_with(":v1.10.3"))
    );
    // Without an expectation it just reports what it is.
    assert_eq!(
        inspect_infrastructure_components(&text, None).map(|i| i.version),
        Ok("v1.10.3".to_owned())
    );
}

#[test]
fn wrong_version_missing_crds_and_no_version_are_rejected() {
    let Some(dir) = common::capx_specs("wrong_version_missing_crds_and_no_version_are_rejected")
    else {
        return;
    };
    let text = bundle(&dir, &CRDS, Some("v1.10.3"));
    let err = inspect_infrastructure_components(&text, Some("v1.5.4")).expect_err("mismatch");
    assert_eq!(err.code(), "components_version_mismatch");
    assert!(err.to_string().contains("v1.10.3") && err.to_string().contains("v1.5.4"));

    let text = bundle(&dir, &CRDS[..2], Some("v1.10.3"));
    let err = inspect_infrastructure_components(&text, None).expect_err("missing CRD");
    assert_eq!(err.code(), "not_infrastructure_components");
    assert!(err.to_string().contains("nutanixmachines"), "{err}");

    let text = bundle(&dir, &CRDS, None);
    let err = inspect_infrastructure_components(&text, None).expect_err("no version");
    assert_eq!(err.code(), "not_infrastructure_components");

    // A cluster template is not a components file.
    let template = common::upstream_template(&dir, "v1.5.4");
    assert_eq!(
        inspect_infrastructure_components(&template, None).map_err(|e| e.code()),
        Err("not_infrastructure_components")
    );
    assert_eq!(
        inspect_infrastructure_components(&text, Some("latest")).map_err(|e| e.code()),
        Err("invalid_capx_version")
    );
}

#[test]
fn download_address_is_the_release_asset() {
    for v in common::FIXTURE_VERSIONS {
        assert_eq!(
            infrastructure_components_url(v),
            Ok(format!(
                "https://github.com/nutanix-cloud-native/cluster-api-provider-nutanix/releases/download/{v}/infrastructure-components.yaml"
            ))
        );
    }
}
