//! Pool YAML → form choices, and the day-2 machine-template bump.

mod common;

use capstan_capx::day2::{MachineChanges, bump_machine_template};
use capstan_capx::render::{BootType, NameOrUuid, read_pool_choices, render_pool};
use capstan_capx::sizes::{PoolRole, check_pool_sizing};
use capstan_capx::split::{SplitOptions, TemplateFile, split_cluster_template};
use capstan_capx::templates::CapxLine;
use capstan_capx::validate::validate_template;
use capstan_capx::yaml::{self, get, kind_of, name_of};
use serde_norway::Value;

fn docs(text: &str) -> Vec<Value> {
    yaml::parse_documents("test", text).expect("parses")
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| kind_of(d) == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn rendered_pools_read_back_to_the_same_choices() {
    let cluster = common::cluster_choices();
    for line in CapxLine::ALL {
        let t = line.templates();
        for (template, choices, role) in [
            (&t.worker_pool, common::worker_choices(), PoolRole::Worker),
            (
                &t.control_plane_pool,
                common::control_plane_choices(),
                PoolRole::ControlPlane,
            ),
        ] {
            let r = render_pool(template, &cluster, &choices).expect("render");
            // Start from a deliberately different form state: everything must come from the YAML.
            let mut base = common::control_plane_choices();
            base.replicas = 99;
            base.kube_vip = Default::default();
            base.boot_type = BootType::Legacy;
            let back = read_pool_choices(&r.yaml, &base).expect("read back");
            assert_eq!(back.role, role);
            assert!(
                back.unmapped.is_empty(),
                "{line:?} {role:?}: {:#?}",
                back.unmapped
            );
            let mut expected = choices.clone();
            // TLS suites are not read back (the form keeps its own value).
            expected.tls_cipher_suites = base.tls_cipher_suites.clone();
            if role == PoolRole::Worker {
                expected.kube_vip = base.kube_vip;
            }
            assert_eq!(back.choices, expected, "{line:?} {role:?}");
        }
    }
}

#[test]
fn yaml_edits_flow_back_and_unmappable_fields_are_reported() {
    let cluster = common::cluster_choices();
    let r = render_pool(
        &CapxLine::V1_8.templates().worker_pool,
        &cluster,
        &common::worker_choices(),
    )
    .expect("render");
    let mut d = docs(&r.yaml);
    for doc in d.iter_mut() {
        match kind_of(doc) {
            Some("MachineDeployment") => {
                yaml::set(doc, &["spec", "replicas"], Value::from(7u64)).expect("set");
            }
            Some("NutanixMachineTemplate") => {
                let s = ["spec", "template", "spec"];
                let at = |k: &'static str| [&s[..], &[k]].concat();
                yaml::set(doc, &at("memorySize"), Value::from("12Gi")).expect("set");
                yaml::set(
                    doc,
                    &at("vcpuSockets"),
                    Value::from("${NUTANIX_MACHINE_VCPU_SOCKET=2}"),
                )
                .expect("set");
                yaml::set(doc, &at("bootType"), Value::from("bios")).expect("set");
                let disks: Value = serde_norway::from_str("- diskSize: 10Gi").expect("yaml");
                yaml::set(doc, &at("dataDisks"), disks).expect("set");
            }
            _ => {}
        }
    }
    let edited = yaml::emit_documents(&d);
    let base = common::worker_choices();
    let back = read_pool_choices(&edited, &base).expect("read back");
    assert_eq!(back.choices.replicas, 7);
    assert_eq!(back.choices.memory, common::q("12Gi"));
    assert_eq!(
        back.choices.vcpu_sockets, base.vcpu_sockets,
        "macro kept the form value"
    );
    assert_eq!(
        back.choices.boot_type,
        BootType::Uefi,
        "invalid boot type kept the form value"
    );
    let paths: Vec<&str> = back.unmapped.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "NutanixMachineTemplate.spec.template.spec.vcpuSockets",
            "NutanixMachineTemplate.spec.template.spec.bootType",
            "NutanixMachineTemplate.spec.template.spec.dataDisks",
        ]
    );
    assert!(
        back.unmapped[1]
            .reason
            .contains("boot type must be legacy or uefi but was bios")
    );
}

#[test]
fn bump_resizes_renames_and_moves_the_reference() {
    let cluster = common::cluster_choices();
    for line in CapxLine::ALL {
        let t = line.templates();
        let cp = render_pool(
            &t.control_plane_pool,
            &cluster,
            &common::control_plane_choices(),
        )
        .expect("render");
        let changes = MachineChanges {
            memory: Some(common::q("16Gi")),
            vcpu_sockets: Some(4),
            ..Default::default()
        };
        let out = bump_machine_template(&cp.yaml, &changes).expect("bump");
        assert_eq!(out.old_template_name, "${CLUSTER_NAME}-cp-0");
        assert_eq!(out.new_template_name, "${CLUSTER_NAME}-cp-1");
        let d = docs(&out.yaml);
        let nmt = find(&d, "NutanixMachineTemplate");
        assert_eq!(name_of(nmt), Some("${CLUSTER_NAME}-cp-1"));
        assert_eq!(
            get(nmt, &["spec", "template", "spec", "memorySize"]),
            Some(&Value::from("16Gi"))
        );
        assert_eq!(
            get(nmt, &["spec", "template", "spec", "vcpuSockets"]),
            Some(&Value::from(4u64))
        );
        // Untouched fields stay.
        assert_eq!(
            get(nmt, &["spec", "template", "spec", "systemDiskSize"]),
            Some(&Value::from("60Gi"))
        );
        // The KCP (v1beta1 or v1beta2 path) follows, so the file still validates.
        assert!(validate_template(TemplateFile::ControlPlanePool, &out.yaml).is_empty());
        assert_eq!(out.changes.len(), 4, "{:#?}", out.changes);

        let worker =
            render_pool(&t.worker_pool, &cluster, &common::worker_choices()).expect("render");
        let out = bump_machine_template(
            &worker.yaml,
            &MachineChanges {
                image: Some(NameOrUuid::name("ubuntu-2204-kube-v1.31.1").expect("name")),
                ..Default::default()
            },
        )
        .expect("bump");
        assert_eq!(out.new_template_name, "workers-a-mt-1");
        let d = docs(&out.yaml);
        let md = find(&d, "MachineDeployment");
        assert_eq!(
            get(
                md,
                &["spec", "template", "spec", "infrastructureRef", "name"]
            ),
            Some(&Value::from("workers-a-mt-1"))
        );
        assert!(validate_template(TemplateFile::WorkerPool, &out.yaml).is_empty());
        // A second bump keeps counting.
        let again = bump_machine_template(
            &out.yaml,
            &MachineChanges {
                system_disk: Some(common::q("100Gi")),
                ..Default::default()
            },
        )
        .expect("bump");
        assert_eq!(again.new_template_name, "workers-a-mt-2");
    }
}

#[test]
fn bump_without_a_real_change_is_refused() {
    let cluster = common::cluster_choices();
    let worker = render_pool(
        &CapxLine::V1_5.templates().worker_pool,
        &cluster,
        &common::worker_choices(),
    )
    .expect("render");
    let same = MachineChanges {
        memory: Some(common::q("16Gi")),
        ..Default::default()
    };
    assert_eq!(
        bump_machine_template(&worker.yaml, &same).map_err(|e| e.code()),
        Err("invalid_choice")
    );
    assert_eq!(
        bump_machine_template(&worker.yaml, &MachineChanges::default()).map_err(|e| e.code()),
        Err("invalid_choice")
    );
}

#[test]
fn bump_works_on_split_upstream_pools() {
    let Some(dir) = common::capx_specs("bump_works_on_split_upstream_pools") else {
        return;
    };
    for version in common::FIXTURE_VERSIONS {
        let upstream = common::upstream_template(&dir, version);
        let (split, _) =
            split_cluster_template(&upstream, &SplitOptions::default()).expect("split");
        let out = bump_machine_template(
            &split.worker_pool,
            &MachineChanges {
                vcpus_per_socket: Some(2),
                ..Default::default()
            },
        )
        .expect("bump");
        assert_eq!(out.old_template_name, "${CLUSTER_NAME}-mt-0");
        assert_eq!(out.new_template_name, "${CLUSTER_NAME}-mt-1");
        assert!(validate_template(TemplateFile::WorkerPool, &out.yaml).is_empty());
        // The upstream macro for the changed field is replaced by the literal value.
        assert!(!out.yaml.contains("NUTANIX_MACHINE_VCPU_PER_SOCKET"));
        assert!(out.yaml.contains("NUTANIX_MACHINE_MEMORY_SIZE"));
    }
}

#[test]
fn sizing_from_choices_is_checked() {
    let mut cp = common::control_plane_choices();
    assert!(check_pool_sizing(&cp.sizing(PoolRole::ControlPlane)).is_empty());
    cp.replicas = 2;
    cp.memory = common::q("1Gi");
    let problems = check_pool_sizing(&cp.sizing(PoolRole::ControlPlane));
    let codes: Vec<_> = problems.iter().map(|p| p.code).collect();
    assert_eq!(
        codes,
        ["memory_below_minimum", "control_plane_count_not_odd"]
    );
    assert_eq!(
        problems[0].capx_error.as_deref(),
        Some("minimum memorySize is 2048Mib but given 1024Mib")
    );
    // The same count is fine for workers.
    assert_eq!(check_pool_sizing(&cp.sizing(PoolRole::Worker)).len(), 1);
}
