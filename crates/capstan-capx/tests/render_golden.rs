//! Rendering the shipped templates from fixed choices, compared with golden files.
//! Regenerate with `CAPSTAN_UPDATE_GOLDEN=1 cargo test -p capstan-capx --test render_golden`.

mod common;

use std::path::PathBuf;

use base64::Engine as _;
use capstan_capx::render::{NameOrUuid, render_all, render_cluster, render_pool};
use capstan_capx::split::{PaletteTemplates, SplitOptions, TemplateFile, split_cluster_template};
use capstan_capx::templates::CapxLine;
use capstan_capx::validate::validate_templates;
use capstan_capx::yaml::{self, get, kind_of};
use serde_norway::Value;

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compare with the golden file, or rewrite it when CAPSTAN_UPDATE_GOLDEN is set.
fn check_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("CAPSTAN_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "golden file {} missing ({e}); run with CAPSTAN_UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "rendered output drifted from {}; if intended, regenerate with CAPSTAN_UPDATE_GOLDEN=1.\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

fn docs(text: &str) -> Vec<Value> {
    yaml::parse_documents("rendered", text).expect("rendered YAML parses")
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| kind_of(d) == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn shipped_lines_render_to_their_golden_files() {
    let cluster = common::cluster_choices();
    let cp = common::control_plane_choices();
    let worker = common::worker_choices();
    for line in CapxLine::ALL {
        let rendered = render_all(&line.templates(), &cluster, &cp, &worker).expect("render");
        for (file, r) in [
            (TemplateFile::CloudCluster, &rendered.cluster),
            (TemplateFile::ControlPlanePool, &rendered.control_plane_pool),
            (TemplateFile::WorkerPool, &rendered.worker_pool),
        ] {
            assert!(
                r.unresolved.is_empty(),
                "{line:?} {file:?}: {:?}",
                r.unresolved
            );
            check_golden(&format!("{}-{}", line.as_str(), file.file_name()), &r.yaml);
        }
        // The rendered set is still something Palette accepts.
        let as_templates = PaletteTemplates {
            cloud_cluster: rendered.cluster.yaml.clone(),
            control_plane_pool: rendered.control_plane_pool.yaml.clone(),
            worker_pool: rendered.worker_pool.yaml.clone(),
        };
        let problems = validate_templates(&as_templates);
        assert!(problems.is_empty(), "{line:?}: {problems:#?}");
    }
}

#[test]
fn rendered_values_have_the_right_types_and_server_macros_stay() {
    let cluster = common::cluster_choices();
    let r = render_cluster(&CapxLine::V1_5.templates().cloud_cluster, &cluster).expect("render");
    let d = docs(&r.yaml);
    let nc = find(&d, "NutanixCluster");
    assert_eq!(
        get(nc, &["spec", "controlPlaneEndpoint", "host"]),
        Some(&Value::from("10.20.30.40"))
    );
    assert_eq!(
        get(nc, &["spec", "controlPlaneEndpoint", "port"]),
        Some(&Value::from(6443u64)),
        "port must be an integer, not a string"
    );
    // Account macros are Palette's to fill.
    assert_eq!(
        get(nc, &["spec", "prismCentral", "address"]),
        Some(&Value::from("${NUTANIX_ENDPOINT}"))
    );
    assert_eq!(
        get(nc, &["spec", "prismCentral", "port"]),
        Some(&Value::from("${NUTANIX_PORT=9440}"))
    );
    assert!(r.yaml.contains("${NUTANIX_USER}") && r.yaml.contains("${NUTANIX_PASSWORD}"));
    assert!(
        r.yaml
            .contains("name: ${CLUSTER_NAME}-pc-trusted-ca-bundle")
    );
    // Trust bundle: base64 of the PEM on one line, decoding back to the PEM.
    let cm = find(&d, "ConfigMap");
    let b64 = get(cm, &["binaryData", "ca.crt"])
        .and_then(Value::as_str)
        .expect("ca.crt");
    assert!(!b64.contains('\n'));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("valid base64");
    assert_eq!(
        String::from_utf8(decoded).ok().as_deref(),
        Some(common::TEST_PEM.trim())
    );

    // Without a bundle the value is the empty string (still a string).
    let mut no_bundle = common::cluster_choices();
    no_bundle.trust_bundle_pem = None;
    let r = render_cluster(&CapxLine::V1_5.templates().cloud_cluster, &no_bundle).expect("render");
    let d = docs(&r.yaml);
    assert_eq!(
        get(find(&d, "ConfigMap"), &["binaryData", "ca.crt"]),
        Some(&Value::from(""))
    );
}

#[test]
fn pool_render_emits_uuid_identifiers_and_typed_sizes() {
    let cluster = common::cluster_choices();
    let worker = common::worker_choices();
    for line in CapxLine::ALL {
        let r = render_pool(&line.templates().worker_pool, &cluster, &worker).expect("render");
        let d = docs(&r.yaml);
        let nmt = find(&d, "NutanixMachineTemplate");
        let spec = get(nmt, &["spec", "template", "spec"]).expect("spec");
        assert_eq!(spec.get("vcpuSockets"), Some(&Value::from(4u64)));
        assert_eq!(spec.get("vcpusPerSocket"), Some(&Value::from(1u64)));
        assert_eq!(spec.get("memorySize"), Some(&Value::from("16Gi")));
        assert_eq!(spec.get("bootType"), Some(&Value::from("uefi")));
        let pe = spec.get("cluster").expect("cluster");
        assert_eq!(pe.get("type"), Some(&Value::from("uuid")));
        assert_eq!(
            pe.get("uuid"),
            Some(&Value::from("0005f1c2-7d3e-4a51-9b2e-1c2d3e4f5a6b"))
        );
        assert!(
            pe.get("name").is_none(),
            "CAPX CEL: name only when type=name"
        );
        let subnets = spec
            .get("subnet")
            .and_then(Value::as_sequence)
            .expect("subnets");
        assert_eq!(subnets.len(), 2);
        assert_eq!(subnets[1].get("type"), Some(&Value::from("uuid")));
        // Pool renamed: MD, KCT, NMT and the references all follow.
        let md = find(&d, "MachineDeployment");
        assert_eq!(yaml::name_of(md), Some("workers-a"));
        assert_eq!(
            md.get("spec").and_then(|s| s.get("replicas")),
            Some(&Value::from(4u64))
        );
        assert_eq!(
            get(
                md,
                &["spec", "template", "spec", "infrastructureRef", "name"]
            ),
            Some(&Value::from("workers-a-mt-0"))
        );
        assert_eq!(
            get(
                md,
                &["spec", "template", "spec", "bootstrap", "configRef", "name"]
            ),
            Some(&Value::from("workers-a-kcfg-0"))
        );
        assert!(r.yaml.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
        assert!(
            !r.yaml.contains("TLS_ECDHE_ECDSA_WITH_CHACHA20"),
            "custom suites replace the default"
        );
    }
}

#[test]
fn control_plane_render_fills_kube_vip_and_version_script() {
    let cluster = common::cluster_choices();
    let cp = common::control_plane_choices();
    let r = render_pool(
        &CapxLine::V1_8.templates().control_plane_pool,
        &cluster,
        &cp,
    )
    .expect("render");
    assert!(
        r.yaml.contains("value: \"10.20.30.40\""),
        "kube-vip address"
    );
    assert!(r.yaml.contains("{name: svc_enable, value: \"true\"}"));
    assert!(r.yaml.contains("{name: lb_enable, value: \"false\"}"));
    assert!(
        r.yaml.contains("K8S=1.30.4"),
        "${{KUBERNETES_VERSION#v}} strips the v"
    );
    // Shell variables are not macros and survive.
    assert!(r.yaml.contains("\"$K8S\""));
    let d = docs(&r.yaml);
    let kcp = find(&d, "KubeadmControlPlane");
    assert_eq!(get(kcp, &["spec", "replicas"]), Some(&Value::from(3u64)));
    assert_eq!(
        get(kcp, &["spec", "version"]),
        Some(&Value::from("v1.30.4"))
    );
}

#[test]
fn render_rejects_bad_choices() {
    let cluster = common::cluster_choices();
    let t = CapxLine::V1_5.templates();
    let mut bad = common::worker_choices();
    bad.kubernetes_version = "1.30.4".into();
    let err = render_pool(&t.worker_pool, &cluster, &bad).expect_err("no v");
    assert_eq!(err.code(), "invalid_choice");
    assert!(err.to_string().contains("kubernetes_version"));

    let mut bad = common::worker_choices();
    bad.subnets.clear();
    assert_eq!(
        render_pool(&t.worker_pool, &cluster, &bad).map_err(|e| e.code()),
        Err("invalid_choice")
    );
    let mut bad = common::worker_choices();
    bad.ssh_authorized_key = "not a key".into();
    assert!(render_pool(&t.worker_pool, &cluster, &bad).is_err());

    let mut bad_cluster = common::cluster_choices();
    bad_cluster.cluster_name = "Bad_Name".into();
    assert_eq!(
        render_cluster(&t.cloud_cluster, &bad_cluster).map_err(|e| e.code()),
        Err("invalid_choice")
    );
    let mut bad_cluster = common::cluster_choices();
    bad_cluster.trust_bundle_pem = Some("hello".into());
    assert!(render_cluster(&t.cloud_cluster, &bad_cluster).is_err());

    assert!(NameOrUuid::uuid("0005f1c2-7d3e-4a51-9b2e-1c2d3e4f5a6").is_err());
    assert!(NameOrUuid::uuid("0005f1c2x7d3e-4a51-9b2e-1c2d3e4f5a6b").is_err());
    assert!(NameOrUuid::name("  ").is_err());
}

#[test]
fn split_upstream_templates_render_like_shipped_ones() {
    let Some(dir) = common::capx_specs("split_upstream_templates_render_like_shipped_ones") else {
        return;
    };
    let cluster = common::cluster_choices();
    let worker = common::worker_choices();
    for version in common::FIXTURE_VERSIONS {
        let upstream = common::upstream_template(&dir, version);
        let (split, _) =
            split_cluster_template(&upstream, &SplitOptions::default()).expect("split");
        let r = render_pool(&split.worker_pool, &cluster, &worker).expect("render");
        assert!(r.unresolved.is_empty(), "{version}: {:?}", r.unresolved);
        let from_upstream = docs(&r.yaml);
        let shipped = CapxLine::for_version(version).expect("line").templates();
        let r2 = render_pool(&shipped.worker_pool, &cluster, &worker).expect("render");
        let from_shipped = docs(&r2.yaml);
        // The machine spec the VM is built from is identical.
        let spec = |d: &[Value]| {
            get(
                find(d, "NutanixMachineTemplate"),
                &["spec", "template", "spec"],
            )
            .cloned()
        };
        assert_eq!(spec(&from_upstream), spec(&from_shipped), "{version}");
    }
}

#[test]
fn renaming_the_control_plane_pool_keeps_the_cluster_pointing_at_it() {
    let mut cp = common::control_plane_choices();
    cp.name = Some("cp-pool".into());
    for line in CapxLine::ALL {
        let r = render_all(
            &line.templates(),
            &common::cluster_choices(),
            &cp,
            &common::worker_choices(),
        )
        .expect("render");
        let d = docs(&r.cluster.yaml);
        assert_eq!(
            get(find(&d, "Cluster"), &["spec", "controlPlaneRef", "name"]),
            Some(&Value::from("cp-pool"))
        );
        let problems = validate_templates(&PaletteTemplates {
            cloud_cluster: r.cluster.yaml,
            control_plane_pool: r.control_plane_pool.yaml,
            worker_pool: r.worker_pool.yaml,
        });
        assert!(problems.is_empty(), "{line:?}: {problems:#?}");
    }
    // Without render_all's fix-up the mismatch would be caught.
    let t = CapxLine::V1_5.templates();
    let cluster_only =
        render_cluster(&t.cloud_cluster, &common::cluster_choices()).expect("render");
    let cp_only =
        render_pool(&t.control_plane_pool, &common::cluster_choices(), &cp).expect("render");
    let problems = validate_templates(&PaletteTemplates {
        cloud_cluster: cluster_only.yaml,
        control_plane_pool: cp_only.yaml,
        worker_pool: t.worker_pool.clone(),
    });
    let codes: Vec<_> = problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["control_plane_ref_mismatch"]);
}
