//! Minimal Nutanix cluster and pool YAML that the sandbox accepts, naming objects every
//! seeded estate has (`pe-cluster-01`, its `pe-cluster-01-vlan110` subnet, the
//! `capx-ubuntu-2204-kube-v1.30.5` image). For tests and demos of tools pointed at the
//! sandbox; the app itself renders its YAML with `capstan-capx`.

/// The cluster template (ConfigMap, Secret, NutanixCluster, Cluster) with the
/// `${CONTROL_PLANE_ENDPOINT_IP}` macro left in; see [`cluster_values`].
pub const CLUSTER_TEMPLATE: &str = include_str!("samples/cluster.yaml");
/// The control-plane pool (`cp-pool`: KubeadmControlPlane + NutanixMachineTemplate), one replica.
pub const CP_POOL: &str = include_str!("samples/cp-pool.yaml");
/// The worker pool (`worker-pool`: MachineDeployment + KubeadmConfigTemplate + NutanixMachineTemplate).
pub const WORKER_POOL: &str = include_str!("samples/worker-pool.yaml");

/// [`CLUSTER_TEMPLATE`] with the kube-vip address filled in.
pub fn cluster_values(control_plane_endpoint_ip: &str) -> String {
    CLUSTER_TEMPLATE.replace("${CONTROL_PLANE_ENDPOINT_IP}", control_plane_endpoint_ip)
}

#[cfg(test)]
mod tests {
    #[test]
    fn samples_parse_and_name_the_seeded_estate() {
        for yaml in [super::CLUSTER_TEMPLATE, super::CP_POOL, super::WORKER_POOL] {
            for doc in serde_norway::Deserializer::from_str(yaml) {
                let v: serde_norway::Value =
                    serde::Deserialize::deserialize(doc).expect("valid YAML");
                assert!(v.get("kind").is_some());
            }
        }
        assert!(super::CP_POOL.contains("pe-cluster-01-vlan110"));
        assert!(!super::cluster_values("10.64.3.240").contains("${CONTROL_PLANE_ENDPOINT_IP}"));
    }
}
