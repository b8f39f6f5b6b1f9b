//! Split + patch of the real upstream CAPX release templates, and agreement with the
//! templates Capstan ships for the same line.

mod common;

use std::collections::BTreeMap;

use capstan_capx::macros::list_macros;
use capstan_capx::split::{
    ChangeAction, ISCSID_COMMAND, PaletteTemplates, SplitOptions, TemplateFile,
    split_cluster_template,
};
use capstan_capx::templates::CapxLine;
use capstan_capx::validate::{validate_template, validate_templates};
use capstan_capx::yaml::{self, get, kind_of, name_of};
use serde_norway::Value;

fn docs(text: &str) -> Vec<Value> {
    yaml::parse_documents("test", text).expect("output parses")
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| kind_of(d) == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn kinds(text: &str) -> Vec<String> {
    docs(text)
        .iter()
        .map(|d| kind_of(d).unwrap_or("?").to_owned())
        .collect()
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn each_release_splits_into_the_three_palette_templates() {
    let Some(dir) = common::capx_specs("each_release_splits_into_the_three_palette_templates")
    else {
        return;
    };
    for version in common::FIXTURE_VERSIONS {
        let upstream = common::upstream_template(&dir, version);
        let (t, report) =
            split_cluster_template(&upstream, &SplitOptions::default()).expect(version);

        assert_eq!(
            kinds(&t.cloud_cluster),
            [
                "ConfigMap",
                "Secret",
                "Cluster",
                "MachineHealthCheck",
                "NutanixCluster"
            ],
            "{version}"
        );
        assert_eq!(
            kinds(&t.control_plane_pool),
            ["KubeadmControlPlane", "NutanixMachineTemplate"]
        );
        assert_eq!(
            kinds(&t.worker_pool),
            [
                "KubeadmConfigTemplate",
                "MachineDeployment",
                "NutanixMachineTemplate"
            ]
        );
        for file in TemplateFile::ALL {
            assert!(!t.get(file).contains("${NAMESPACE}"), "{version} {file:?}");
        }
        // The right ConfigMap / Secret were kept (not the CCM payloads).
        let cluster = docs(&t.cloud_cluster);
        assert_eq!(
            name_of(find(&cluster, "ConfigMap")),
            Some("${CLUSTER_NAME}-pc-trusted-ca-bundle")
        );
        assert_eq!(name_of(find(&cluster, "Secret")), Some("${CLUSTER_NAME}"));

        // Control plane: its own NMT, renamed, with the documented providerID.
        let cp = docs(&t.control_plane_pool);
        let nmt = find(&cp, "NutanixMachineTemplate");
        assert_eq!(name_of(nmt), Some("${CLUSTER_NAME}-cp-0"), "{version}");
        assert_eq!(
            get(nmt, &["spec", "template", "spec", "providerID"]).and_then(Value::as_str),
            Some("nutanix://${CLUSTER_NAME}-m1-cp-0")
        );
        let kcp = find(&cp, "KubeadmControlPlane");
        let ref_path = capstan_capx::split::kcp_infrastructure_ref_path(kcp);
        assert_eq!(
            get(kcp, ref_path)
                .and_then(|r| r.get("name"))
                .and_then(Value::as_str),
            Some("${CLUSTER_NAME}-cp-0"),
            "{version}"
        );
        let pre = get(kcp, &["spec", "kubeadmConfigSpec", "preKubeadmCommands"])
            .and_then(Value::as_sequence)
            .expect("KCP preKubeadmCommands");
        assert_eq!(pre.last().and_then(Value::as_str), Some(ISCSID_COMMAND));

        // Workers: providerID, MD still references the (now separate) worker NMT.
        let worker = docs(&t.worker_pool);
        let wnmt = find(&worker, "NutanixMachineTemplate");
        assert_eq!(
            get(wnmt, &["spec", "template", "spec", "providerID"]).and_then(Value::as_str),
            Some("nutanix://${CLUSTER_NAME}-m1-mt-0")
        );
        let md = find(&worker, "MachineDeployment");
        assert_eq!(
            get(
                md,
                &["spec", "template", "spec", "infrastructureRef", "name"]
            )
            .and_then(Value::as_str),
            name_of(wnmt)
        );
        assert_eq!(count(&t.worker_pool, ISCSID_COMMAND), 1);
        assert_eq!(count(&t.control_plane_pool, ISCSID_COMMAND), 1);

        // The CCM ClusterResourceSet and its payload are dropped, with reasons.
        let dropped: Vec<&str> = report.dropped.iter().map(|d| d.object.as_str()).collect();
        assert_eq!(
            dropped,
            [
                "ConfigMap/nutanix-ccm",
                "Secret/nutanix-ccm-secret",
                "ClusterResourceSet/nutanix-ccm-crs"
            ],
            "{version}"
        );
        assert!(report.dropped.iter().all(|d| !d.reason.is_empty()));
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("cloud controller manager"))
        );

        // Every kept object had its namespace removed, and that is in the report.
        let ns_removals = report
            .changes
            .iter()
            .filter(|c| c.action == ChangeAction::RemovedField && c.path == "metadata.namespace")
            .count();
        assert_eq!(ns_removals, 10, "{version}");
        let set_paths: Vec<(&TemplateFile, &str)> = report
            .changes
            .iter()
            .filter(|c| c.action == ChangeAction::SetField)
            .map(|c| (&c.file, c.path.as_str()))
            .collect();
        assert!(set_paths.contains(&(&TemplateFile::ControlPlanePool, "metadata.name")));
        assert!(set_paths.contains(&(&TemplateFile::WorkerPool, "spec.template.spec.providerID")));

        let problems = validate_templates(&t);
        assert!(problems.is_empty(), "{version}: {problems:#?}");
    }
}

#[test]
fn iscsid_is_not_added_twice() {
    let Some(dir) = common::capx_specs("iscsid_is_not_added_twice") else {
        return;
    };
    let upstream = common::upstream_template(&dir, "v1.5.4");
    // Upstream with the command already present in both KCP and KCT pre-commands.
    let patched = upstream.replace(
        "    preKubeadmCommands:\n    - echo \"before kubeadm call\"",
        "    preKubeadmCommands:\n    - systemctl enable --now iscsid\n    - echo \"before kubeadm call\"",
    );
    let patched = patched.replace(
        "      preKubeadmCommands:\n      - echo \"before kubeadm call\"",
        "      preKubeadmCommands:\n      - systemctl enable --now iscsid\n      - echo \"before kubeadm call\"",
    );
    assert_eq!(count(&patched, ISCSID_COMMAND), 2, "fixture edit applied");
    let (t, report) = split_cluster_template(&patched, &SplitOptions::default()).expect("split");
    assert_eq!(count(&t.control_plane_pool, ISCSID_COMMAND), 1);
    assert_eq!(count(&t.worker_pool, ISCSID_COMMAND), 1);
    assert!(
        !report
            .changes
            .iter()
            .any(|c| c.action == ChangeAction::AppendedItem)
    );
}

#[test]
fn vertex_adds_rotate_server_certificates_under_every_kubelet_extra_args() {
    let Some(dir) = common::capx_specs("vertex_adds_rotate_server_certificates") else {
        return;
    };
    for version in common::FIXTURE_VERSIONS {
        let upstream = common::upstream_template(&dir, version);
        let (t, report) =
            split_cluster_template(&upstream, &SplitOptions { vertex: true }).expect(version);
        let cp_args = count(&t.control_plane_pool, "kubeletExtraArgs:");
        assert_eq!(cp_args, 2, "KCP has init + join kubeletExtraArgs");
        assert_eq!(
            count(&t.control_plane_pool, "rotate-server-certificates"),
            2
        );
        assert_eq!(count(&t.worker_pool, "rotate-server-certificates"), 1);
        assert_eq!(count(&t.cloud_cluster, "rotate-server-certificates"), 0);
        let added = report
            .changes
            .iter()
            .filter(|c| c.path.ends_with("rotate-server-certificates"))
            .count();
        assert_eq!(added, 3, "{version}");
        // The value is the string "true" in both the map (v1beta1) and list (v1beta2) forms.
        let cp = docs(&t.control_plane_pool);
        let kcp = find(&cp, "KubeadmControlPlane");
        let join = get(
            kcp,
            &[
                "spec",
                "kubeadmConfigSpec",
                "joinConfiguration",
                "nodeRegistration",
                "kubeletExtraArgs",
            ],
        )
        .expect("join kubeletExtraArgs");
        let value = match join {
            Value::Mapping(m) => m.get("rotate-server-certificates").cloned(),
            Value::Sequence(list) => list
                .iter()
                .find(|e| {
                    e.get("name").and_then(Value::as_str) == Some("rotate-server-certificates")
                })
                .and_then(|e| e.get("value").cloned()),
            _ => None,
        };
        assert_eq!(value, Some(Value::from("true")), "{version}");
        let expect_list = version == "v1.10.3";
        assert_eq!(join.is_sequence(), expect_list, "{version}");
    }
}

#[test]
fn non_templates_are_rejected_with_reasons() {
    let Some(dir) = common::capx_specs("non_templates_are_rejected_with_reasons") else {
        return;
    };
    let crd = std::fs::read_to_string(
        dir.join("crds/infrastructure.cluster.x-k8s.io_nutanixclusters.yaml"),
    )
    .expect("crd fixture");
    let err = split_cluster_template(&crd, &SplitOptions::default()).expect_err("a CRD");
    assert_eq!(err.code(), "not_capx_cluster_template");
    match &err {
        capstan_capx::CapxError::NotClusterTemplate { missing } => assert_eq!(missing.len(), 9),
        other => panic!("unexpected {other:?}"),
    }

    // A template with the MachineDeployment cut out names exactly that kind.
    let upstream = common::upstream_template(&dir, "v1.5.4");
    let without_md: Vec<&str> = upstream
        .split("\n---\n")
        .filter(|d| !d.contains("kind: MachineDeployment"))
        .collect();
    let err = split_cluster_template(&without_md.join("\n---\n"), &SplitOptions::default())
        .expect_err("no MD");
    assert!(err.to_string().contains("MachineDeployment"), "{err}");

    // Broken YAML: the error carries the line of the damage.
    let mut lines: Vec<&str> = upstream.lines().collect();
    let bad_line = 300; // 1-based line to damage
    lines[bad_line - 1] = "  bad: [unclosed";
    let err =
        split_cluster_template(&lines.join("\n"), &SplitOptions::default()).expect_err("broken");
    assert_eq!(err.code(), "yaml_unparsable");
    match err {
        capstan_capx::CapxError::YamlUnparsable { line, .. } => {
            assert!(
                (bad_line..=bad_line + 2).contains(&line),
                "reported line {line}, damaged {bad_line}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// `Kind/name` of every object, and every macro with its default, per file.
fn shape(text: &str) -> (Vec<String>, BTreeMap<String, Option<String>>) {
    let objects = docs(text).iter().map(yaml::label_of).collect();
    let macros = list_macros(text)
        .into_iter()
        .map(|m| (m.name, m.default))
        .collect();
    (objects, macros)
}

#[test]
fn shipped_templates_match_the_split_of_their_line() {
    let Some(dir) = common::capx_specs("shipped_templates_match_the_split_of_their_line") else {
        return;
    };
    for version in common::FIXTURE_VERSIONS {
        let line = CapxLine::for_version(version).expect("supported");
        assert_eq!(line.reference_release(), version);
        let upstream = common::upstream_template(&dir, version);
        let (split, _) =
            split_cluster_template(&upstream, &SplitOptions::default()).expect("split");
        let shipped: PaletteTemplates = line.templates();
        for file in TemplateFile::ALL {
            let (split_objects, split_macros) = shape(split.get(file));
            let (ship_objects, ship_macros) = shape(shipped.get(file));
            assert_eq!(ship_objects, split_objects, "{version} {file:?} objects");
            assert_eq!(ship_macros, split_macros, "{version} {file:?} macros");
            // apiVersions agree too (v1beta1 vs v1beta2 matters to CAPI).
            let api = |text: &str| -> Vec<String> {
                docs(text)
                    .iter()
                    .map(|d| {
                        d.get("apiVersion")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned()
                    })
                    .collect()
            };
            assert_eq!(
                api(shipped.get(file)),
                api(split.get(file)),
                "{version} {file:?}"
            );
            assert!(validate_template(file, shipped.get(file)).is_empty());
        }
    }
}

#[test]
fn validation_catches_what_palette_would_reject() {
    let Some(dir) = common::capx_specs("validation_catches_what_palette_would_reject") else {
        return;
    };
    let upstream = common::upstream_template(&dir, "v1.8.6");
    let (good, _) = split_cluster_template(&upstream, &SplitOptions::default()).expect("split");
    let codes = |t: &PaletteTemplates| -> Vec<(TemplateFile, &'static str)> {
        validate_templates(t)
            .into_iter()
            .map(|p| (p.file, p.code))
            .collect()
    };
    assert!(codes(&good).is_empty());

    let mut t = good.clone();
    let mut cp = docs(&good.control_plane_pool);
    for d in cp
        .iter_mut()
        .filter(|d| kind_of(d) == Some("KubeadmControlPlane"))
    {
        yaml::set(
            d,
            &["spec", "machineTemplate", "infrastructureRef", "name"],
            Value::from("elsewhere"),
        )
        .expect("set");
    }
    t.control_plane_pool = yaml::emit_documents(&cp);
    assert_eq!(
        codes(&t),
        [(TemplateFile::ControlPlanePool, "dangling_reference")]
    );

    let mut t = good.clone();
    // Only the KubeadmConfigTemplate (first document) is renamed; the MD still names the old one.
    t.worker_pool = t
        .worker_pool
        .replacen("name: ${CLUSTER_NAME}-kcfg-0", "name: other-kcfg", 1);
    assert_eq!(
        codes(&t),
        [(TemplateFile::WorkerPool, "dangling_reference")]
    );

    let mut t = good.clone();
    t.control_plane_pool = t
        .control_plane_pool
        .replace("name: ${CLUSTER_NAME}-kcp", "name: ${CLUSTER_NAME}-control");
    assert_eq!(
        codes(&t),
        [(TemplateFile::CloudCluster, "control_plane_ref_mismatch")]
    );

    let mut t = good.clone();
    t.cloud_cluster = t.cloud_cluster.replace(
        "name: ${CLUSTER_NAME}-mhc",
        "name: ${CLUSTER_NAME}-mhc\n  namespace: ${NAMESPACE}",
    );
    assert_eq!(
        codes(&t),
        [(TemplateFile::CloudCluster, "namespace_macro_left")]
    );

    let mut t = good.clone();
    t.worker_pool = format!("{}---\n{}", t.worker_pool, t.control_plane_pool);
    let c = codes(&t);
    assert!(
        c.contains(&(TemplateFile::WorkerPool, "unexpected_kind")),
        "{c:?}"
    );
    assert!(
        c.contains(&(TemplateFile::WorkerPool, "required_kind_repeated")),
        "{c:?}"
    );

    let mut t = good;
    t.cloud_cluster.push_str("---\nkind: [\n");
    let problems = validate_templates(&t);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].code, "yaml_unparsable");
    assert!(problems[0].line.is_some_and(|l| l > 0));
}

#[test]
fn macro_panels_match_what_palette_shows() {
    use capstan_capx::macros::MacroSource;
    let Some(dir) = common::capx_specs("macro_panels_match_what_palette_shows") else {
        return;
    };
    // palette-api.md §6.1: the per-pool "Node Pool Configuration Macros".
    let pool_fields = [
        "TLS_CIPHER_SUITES",
        "NUTANIX_SSH_AUTHORIZED_KEY",
        "KUBERNETES_VERSION",
        "NUTANIX_MACHINE_BOOT_TYPE",
        "NUTANIX_PRISM_ELEMENT_CLUSTER_NAME",
        "NUTANIX_MACHINE_TEMPLATE_IMAGE_NAME",
        "NUTANIX_MACHINE_MEMORY_SIZE",
        "NUTANIX_SUBNET_NAME",
        "NUTANIX_SYSTEMDISK_SIZE",
        "NUTANIX_MACHINE_VCPU_SOCKET",
        "NUTANIX_MACHINE_VCPU_PER_SOCKET",
    ];
    let kube_vip = [
        "KUBEVIP_SVC_ENABLE",
        "KUBEVIP_LB_ENABLE",
        "KUBEVIP_SVC_ELECTION",
    ];
    let names_from = |text: &str, source: MacroSource| -> std::collections::BTreeSet<String> {
        list_macros(text)
            .into_iter()
            .filter(|m| m.source == source)
            .map(|m| m.name)
            .collect()
    };
    let set = |items: &[&str]| -> std::collections::BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    };
    for version in common::FIXTURE_VERSIONS {
        let upstream = common::upstream_template(&dir, version);
        let (t, _) = split_cluster_template(&upstream, &SplitOptions::default()).expect("split");
        let mut cp = set(&pool_fields);
        cp.extend(set(&kube_vip));
        cp.insert("CONTROL_PLANE_MACHINE_COUNT".into());
        assert_eq!(
            names_from(&t.control_plane_pool, MacroSource::PoolStep),
            cp,
            "{version}"
        );
        let mut worker = set(&pool_fields);
        worker.insert("WORKER_MACHINE_COUNT".into());
        assert_eq!(
            names_from(&t.worker_pool, MacroSource::PoolStep),
            worker,
            "{version}"
        );
        assert_eq!(
            names_from(&t.cloud_cluster, MacroSource::ClusterStep),
            set(&[
                "NUTANIX_ADDITIONAL_TRUST_BUNDLE",
                "CONTROL_PLANE_ENDPOINT_IP",
                "CONTROL_PLANE_ENDPOINT_PORT"
            ])
        );
        assert_eq!(
            names_from(&t.cloud_cluster, MacroSource::CloudAccount),
            set(&capstan_capx::macros::CLOUD_ACCOUNT_KEYS)
        );
        let all = list_macros(&t.control_plane_pool);
        let k8s = all
            .iter()
            .find(|m| m.name == "KUBERNETES_VERSION")
            .expect("k8s");
        // Forms come in order of first appearance (the kubeadm scripts precede spec.version).
        let mut forms = k8s.forms.clone();
        forms.sort();
        assert_eq!(forms, ["${KUBERNETES_VERSION#v}", "${KUBERNETES_VERSION}"]);
        let memory = all
            .iter()
            .find(|m| m.name == "NUTANIX_MACHINE_MEMORY_SIZE")
            .expect("memory");
        assert_eq!(memory.default.as_deref(), Some("4Gi"));
        let image = all
            .iter()
            .find(|m| m.name == "NUTANIX_MACHINE_TEMPLATE_IMAGE_NAME")
            .expect("image");
        let expected_image_default = (version == "v1.10.3").then_some("placeholder-image");
        assert_eq!(
            image.default.as_deref(),
            expected_image_default,
            "{version}"
        );
    }
}

#[test]
fn vertex_patch_applies_to_shipped_templates_once() {
    use capstan_capx::split::apply_vertex;
    for line in CapxLine::ALL {
        let t = line.templates();
        let (cp, changes) =
            apply_vertex(&t.control_plane_pool, TemplateFile::ControlPlanePool).expect("cp");
        assert_eq!(changes.len(), 2, "{line:?}");
        assert_eq!(count(&cp, "rotate-server-certificates"), 2);
        let (again, none) = apply_vertex(&cp, TemplateFile::ControlPlanePool).expect("again");
        assert!(none.is_empty());
        assert_eq!(again, cp);
        let (worker, changes) =
            apply_vertex(&t.worker_pool, TemplateFile::WorkerPool).expect("worker");
        assert_eq!(changes.len(), 1);
        assert!(validate_template(TemplateFile::WorkerPool, &worker).is_empty());
    }
}
