//! A direct JSON writer for VMs. The estate can hold 25,000+ VMs, and building a
//! `serde_json::Value` tree per VM dominated generation time; this writes the same
//! document straight into a string. `tests::writer_matches_value_builder` keeps the two
//! in step.

use std::fmt::Write;

use super::world::{Ref, VmRec};

fn esc(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn reference(out: &mut String, kind: &str, r: &Ref) {
    out.push_str("{\"kind\":");
    esc(out, kind);
    out.push_str(",\"uuid\":");
    esc(out, &r.0);
    out.push_str(",\"name\":");
    esc(out, &r.1);
    out.push('}');
}

fn disks(out: &mut String, vm: &VmRec) {
    // Derived ids stay valid UUIDs: replace the last two hex digits.
    let base = vm.uuid.get(..34).unwrap_or(&vm.uuid);
    let _ = write!(
        out,
        "[{{\"uuid\":\"{base}d0\",\"disk_size_bytes\":{},\"disk_size_mib\":{},\"device_properties\":{{\"device_type\":\"DISK\",\"disk_address\":{{\"adapter_type\":\"SCSI\",\"device_index\":0}}}},\"storage_config\":{{\"storage_container_reference\":{{\"kind\":\"storage_container\",\"uuid\":\"5b4c3d2e-1f0a-4b9c-8d7e-6f5a4b3c2d1e\",\"name\":\"default-container\"}}}}",
        vm.disk_mib * 1024 * 1024,
        vm.disk_mib
    );
    if let Some(img) = &vm.image {
        out.push_str(",\"data_source_reference\":");
        reference(out, "image", img);
    }
    let _ = write!(
        out,
        "}},{{\"uuid\":\"{base}c0\",\"device_properties\":{{\"device_type\":\"CDROM\",\"disk_address\":{{\"adapter_type\":\"IDE\",\"device_index\":0}}}}}}]"
    );
}

fn nics(out: &mut String, vm: &VmRec, status: bool) {
    out.push('[');
    for (i, n) in vm.nics.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"uuid\":");
        esc(out, &n.uuid);
        out.push_str(",\"mac_address\":");
        esc(out, &n.mac);
        out.push_str(
            ",\"nic_type\":\"NORMAL_NIC\",\"vlan_mode\":\"ACCESS\",\"is_connected\":true,",
        );
        if status {
            out.push_str("\"model\":\"VIRTIO\",");
        }
        out.push_str("\"subnet_reference\":");
        reference(out, "subnet", &n.subnet);
        out.push_str(",\"ip_endpoint_list\":[");
        let mut first = true;
        for e in &n.ips {
            let include = if status { vm.power_on } else { !e.learned };
            if !include {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str("{\"ip\":");
            esc(out, &e.ip);
            match (status, e.learned) {
                (true, true) => out.push_str(",\"type\":\"LEARNED\",\"ip_type\":\"DHCP\"}"),
                (true, false) => out.push_str(",\"type\":\"ASSIGNED\",\"ip_type\":\"DHCP\"}"),
                (false, _) => out.push_str(",\"type\":\"ASSIGNED\"}"),
            }
        }
        out.push_str("]}");
    }
    out.push(']');
}

fn common_resources(out: &mut String, vm: &VmRec, power: &str) {
    let boot = if vm.uefi { "UEFI" } else { "LEGACY" };
    let _ = write!(
        out,
        "\"power_state\":\"{power}\",\"num_sockets\":{},\"num_vcpus_per_socket\":{},\"num_threads_per_core\":1,\"memory_size_mib\":{},\"machine_type\":\"PC\",\"boot_config\":{{\"boot_type\":\"{boot}\",\"boot_device_order_list\":[\"CDROM\",\"DISK\",\"NETWORK\"]}},\"disk_list\":",
        vm.sockets, vm.vcpus_per_socket, vm.memory_mib
    );
    disks(out, vm);
}

pub(super) fn write(vm: &VmRec) -> String {
    let mut out = String::with_capacity(3072);
    let power = if vm.power_on { "ON" } else { "OFF" };
    // metadata
    out.push_str("{\"metadata\":{\"kind\":\"vm\",\"uuid\":");
    esc(&mut out, &vm.uuid);
    out.push_str(",\"name\":");
    esc(&mut out, &vm.name);
    out.push_str(",\"spec_version\":0,\"creation_time\":");
    esc(&mut out, &vm.created);
    out.push_str(",\"last_update_time\":");
    esc(&mut out, &vm.created);
    out.push_str(",\"categories\":{");
    for (i, (k, v)) in vm.categories.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        esc(&mut out, k);
        out.push(':');
        esc(&mut out, v);
    }
    out.push_str("},\"categories_mapping\":{");
    for (i, (k, v)) in vm.categories.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        esc(&mut out, k);
        out.push_str(":[");
        esc(&mut out, v);
        out.push(']');
    }
    out.push_str("},\"owner_reference\":{\"kind\":\"user\",\"uuid\":\"00000000-0000-0000-0000-000000000000\",\"name\":\"admin\"},\"project_reference\":");
    reference(&mut out, "project", &vm.project);
    out.push_str(",\"use_categories_mapping\":false}");
    // spec
    out.push_str(",\"spec\":{\"name\":");
    esc(&mut out, &vm.name);
    out.push_str(",\"description\":");
    esc(&mut out, &vm.description);
    out.push_str(",\"cluster_reference\":");
    reference(&mut out, "cluster", &vm.cluster);
    out.push_str(",\"resources\":{");
    common_resources(&mut out, vm, power);
    out.push_str(",\"hardware_clock_timezone\":\"UTC\",\"nic_list\":");
    nics(&mut out, vm, false);
    out.push_str(",\"gpu_list\":[]}}");
    // status
    out.push_str(",\"status\":{\"state\":\"COMPLETE\",\"name\":");
    esc(&mut out, &vm.name);
    out.push_str(",\"description\":");
    esc(&mut out, &vm.description);
    out.push_str(",\"cluster_reference\":");
    reference(&mut out, "cluster", &vm.cluster);
    out.push_str(",\"resources\":{");
    common_resources(&mut out, vm, power);
    out.push_str(",\"hypervisor_type\":\"AHV\",\"nic_list\":");
    nics(&mut out, vm, true);
    out.push_str(",\"gpu_list\":[],\"serial_port_list\":[],\"vga_console_enabled\":true,\"is_agent_vm\":false,\"protection_type\":\"UNPROTECTED\"");
    if let Some(h) = &vm.host {
        out.push_str(",\"host_reference\":");
        reference(&mut out, "host", h);
    }
    out.push_str("}}}");
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::prism::world::{Entity, IpEndpoint, Nic};

    #[test]
    fn writer_matches_value_builder() {
        let mut categories = BTreeMap::new();
        categories.insert("KubernetesClusterName".to_owned(), "c\"1".to_owned());
        categories.insert("Env".to_owned(), "dev".to_owned());
        for (power_on, uefi, image, host) in
            [(true, false, true, true), (false, true, false, false)]
        {
            let vm = VmRec {
                uuid: "6a1f0e2c-1111-4222-8333-944455556666".into(),
                name: "web-\\01\n".into(),
                cluster: ("c-uuid".into(), "pe-cluster-01".into()),
                host: host.then(|| ("h".into(), "host-1".into())),
                power_on,
                sockets: 2,
                vcpus_per_socket: 1,
                memory_mib: 4096,
                disk_mib: 40960,
                image: image.then(|| ("i".into(), "img".into())),
                nics: vec![Nic {
                    uuid: "n".into(),
                    mac: "50:6b:8d:00:00:01".into(),
                    subnet: ("s".into(), "vlan".into()),
                    ips: vec![
                        IpEndpoint {
                            ip: "10.0.0.5".into(),
                            learned: false,
                        },
                        IpEndpoint {
                            ip: "10.0.0.250".into(),
                            learned: true,
                        },
                    ],
                    pool_ip: Some(5),
                }],
                categories: categories.clone(),
                project: ("p".into(), "default".into()),
                uefi,
                created: "2025-06-01T00:00:00Z".into(),
                description: "d\u{1}".into(),
            };
            let direct: serde_json::Value = serde_json::from_str(&write(&vm)).expect("valid JSON");
            assert_eq!(direct, vm.to_json());
        }
    }
}
