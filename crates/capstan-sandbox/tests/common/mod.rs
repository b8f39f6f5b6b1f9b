//! Shared helpers for the sandbox integration tests: a plain reqwest client, small request
//! wrappers and the Palette workflow steps (register cloud type, PCG, account, profile,
//! cluster) that several tests build on.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use capstan_sandbox::{Sandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub async fn start(vms: usize, time_scale: f64) -> Sandbox {
    start_with(SandboxConfig {
        vms,
        time_scale,
        tls: false,
        ..SandboxConfig::default()
    })
    .await
}

pub async fn start_with(config: SandboxConfig) -> Sandbox {
    capstan_sandbox::start(config)
        .await
        .expect("sandbox starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

async fn into_parts(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, v)
}

/// POST to Prism with Basic auth.
pub async fn prism_post(sb: &Sandbox, path: &str, body: Value) -> (StatusCode, Value) {
    let resp = client()
        .post(format!("{}/api/nutanix/v3{path}", sb.prism_url()))
        .basic_auth(sb.prism_user(), Some(sb.prism_password().expose()))
        .json(&body)
        .send()
        .await
        .expect("prism request");
    into_parts(resp).await
}

pub async fn prism_get(sb: &Sandbox, path: &str) -> (StatusCode, Value) {
    let resp = client()
        .get(format!("{}/api/nutanix/v3{path}", sb.prism_url()))
        .basic_auth(sb.prism_user(), Some(sb.prism_password().expose()))
        .send()
        .await
        .expect("prism request");
    into_parts(resp).await
}

/// Every entity of a Prism list, paging with `length` until `total_matches` is reached.
pub async fn prism_list_all(
    sb: &Sandbox,
    kind: &str,
    filter: Option<&str>,
    length: i64,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut offset = 0i64;
    loop {
        let mut body = json!({"kind": kind, "offset": offset, "length": length});
        if let Some(f) = filter {
            body["filter"] = json!(f);
        }
        let (status, v) = prism_post(sb, &format!("/{kind}s/list"), body).await;
        assert_eq!(status, 200, "{v}");
        let total = v["metadata"]["total_matches"]
            .as_i64()
            .expect("total_matches");
        let page = v["entities"].as_array().cloned().unwrap_or_default();
        let got = page.len() as i64;
        out.extend(page);
        offset += got;
        if got == 0 || offset >= total {
            break;
        }
    }
    out
}

#[derive(Clone, Copy)]
pub enum Auth<'a> {
    ApiKey,
    Token(&'a str),
    None,
}

pub async fn palette(
    sb: &Sandbox,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client().request(method, format!("{}{path}", sb.palette_url()));
    req = match auth {
        Auth::ApiKey => req.header("ApiKey", sb.palette_api_key().expose()),
        Auth::Token(t) => req.header("Authorization", t),
        Auth::None => req,
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    into_parts(req.send().await.expect("palette request")).await
}

pub async fn pget(sb: &Sandbox, path: &str) -> (StatusCode, Value) {
    palette(sb, Method::GET, path, Auth::ApiKey, None).await
}

pub async fn ppost(sb: &Sandbox, path: &str, body: Value) -> (StatusCode, Value) {
    palette(sb, Method::POST, path, Auth::ApiKey, Some(body)).await
}

pub async fn pput(sb: &Sandbox, path: &str, body: Value) -> (StatusCode, Value) {
    palette(sb, Method::PUT, path, Auth::ApiKey, Some(body)).await
}

pub async fn pdelete(sb: &Sandbox, path: &str) -> (StatusCode, Value) {
    palette(sb, Method::DELETE, path, Auth::ApiKey, None).await
}

/// Polls `check` until it returns `Some`, or panics after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn syslogin(sb: &Sandbox) -> String {
    let (s, v) = palette(
        sb,
        Method::POST,
        "/v1/auth/syslogin",
        Auth::None,
        Some(json!({"username": sb.palette_system_user(), "password": sb.palette_password().expose()})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["Authorization"].as_str().expect("token").to_owned()
}

pub const CLUSTER_TEMPLATE: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: ${CLUSTER_NAME}
stringData:
  credentials: |
    [{"type": "basic_auth", "data": {"prismCentral": {"username": "${NUTANIX_USER}", "password": "${NUTANIX_PASSWORD}"}}}]
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixCluster
metadata:
  name: ${CLUSTER_NAME}
spec:
  controlPlaneEndpoint:
    host: ${CONTROL_PLANE_ENDPOINT_IP}
    port: ${CONTROL_PLANE_ENDPOINT_PORT=6443}
  prismCentral:
    address: ${NUTANIX_ENDPOINT}
    port: ${NUTANIX_PORT=9440}
    insecure: ${NUTANIX_INSECURE=false}
    credentialRef:
      kind: Secret
      name: ${CLUSTER_NAME}
---
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: ${CLUSTER_NAME}
spec:
  controlPlaneRef:
    kind: KubeadmControlPlane
    name: cp-pool
  infrastructureRef:
    kind: NutanixCluster
    name: ${CLUSTER_NAME}
"#;

pub const CP_POOL_TEMPLATE: &str = r#"apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: KubeadmControlPlane
metadata:
  name: cp-pool
spec:
  replicas: ${CP_REPLICAS}
  version: ${KUBERNETES_VERSION}
  machineTemplate:
    infrastructureRef:
      kind: NutanixMachineTemplate
      name: ${CLUSTER_NAME}-cp-0
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixMachineTemplate
metadata:
  name: ${CLUSTER_NAME}-cp-0
spec:
  template:
    spec:
      providerID: nutanix://${CLUSTER_NAME}-m1-cp-0
      bootType: legacy
      vcpuSockets: 2
      vcpusPerSocket: 1
      memorySize: 4Gi
      systemDiskSize: 40Gi
      cluster:
        type: name
        name: ${NUTANIX_PRISM_ELEMENT_CLUSTER_NAME}
      image:
        type: name
        name: ${NUTANIX_MACHINE_TEMPLATE_IMAGE_NAME}
      subnet:
        - type: name
          name: ${NUTANIX_SUBNET_NAME}
"#;

pub const WORKER_POOL_TEMPLATE: &str = r#"apiVersion: cluster.x-k8s.io/v1beta1
kind: MachineDeployment
metadata:
  name: worker-pool
spec:
  replicas: ${WORKER_MACHINE_COUNT}
  template:
    spec:
      version: ${KUBERNETES_VERSION}
      infrastructureRef:
        kind: NutanixMachineTemplate
        name: worker-pool-resource
---
apiVersion: bootstrap.cluster.x-k8s.io/v1beta1
kind: KubeadmConfigTemplate
metadata:
  name: worker-pool-resource
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixMachineTemplate
metadata:
  name: worker-pool-resource
spec:
  template:
    spec:
      vcpuSockets: 2
      vcpusPerSocket: 2
      memorySize: 8Gi
      systemDiskSize: 60Gi
      cluster:
        type: name
        name: ${NUTANIX_PRISM_ELEMENT_CLUSTER_NAME}
      image:
        type: name
        name: ${NUTANIX_MACHINE_TEMPLATE_IMAGE_NAME}
      subnet:
        - type: name
          name: ${NUTANIX_SUBNET_NAME}
"#;

pub async fn upload(
    sb: &Sandbox,
    token: &str,
    path: &str,
    content: Vec<u8>,
    file: &str,
) -> StatusCode {
    let part = reqwest::multipart::Part::bytes(content).file_name(file.to_owned());
    let form = reqwest::multipart::Form::new().part("fileName", part);
    client()
        .put(format!("{}{path}", sb.palette_url()))
        .header("Authorization", token)
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .status()
}

/// Registers the `nutanix` cloud type with its templates and account keys.
pub async fn register_nutanix(sb: &Sandbox) {
    let token = syslogin(sb).await;
    let (s, v) = palette(
        sb,
        Method::POST,
        "/v1/clouds/cloudTypes/register",
        Auth::Token(&token),
        Some(json!({"metadata": {"name": "nutanix"}, "spec": {"displayName": "Nutanix", "isControlPlaneManaged": false, "cloudCategory": "datacenter"}})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    for (tmpl, text) in [
        ("clusterTemplate", CLUSTER_TEMPLATE),
        ("controlPlanePoolTemplate", CP_POOL_TEMPLATE),
        ("workerPoolTemplate", WORKER_POOL_TEMPLATE),
    ] {
        let s = upload(
            sb,
            &token,
            &format!("/v1/clouds/cloudTypes/nutanix/content/templates/{tmpl}"),
            text.as_bytes().to_vec(),
            "t.yaml",
        )
        .await;
        assert_eq!(s, 204, "{tmpl}");
    }
    let (s, _) = palette(
        sb,
        Method::PUT,
        "/v1/clouds/cloudTypes/nutanix/cloudAccountKeys",
        Auth::Token(&token),
        Some(json!({"keys": ["NUTANIX_USER", "NUTANIX_PASSWORD", "NUTANIX_ENDPOINT", "NUTANIX_PORT", "NUTANIX_INSECURE"]})),
    )
    .await;
    assert_eq!(s, 204);
}

/// Creates a PCG, "runs" both kubectl commands and waits for Running; returns its uid.
pub async fn running_pcg(sb: &Sandbox, name: &str) -> String {
    let (s, v) = ppost(
        sb,
        "/v1/pcg/selfHosted",
        json!({"name": name, "cloudType": "nutanix"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let uid = v["overlordUid"].as_str().expect("uid").to_owned();
    for cmd in v["kubectlCommands"].as_array().expect("commands") {
        let url = cmd
            .as_str()
            .expect("cmd")
            .trim_start_matches("kubectl apply -f ")
            .to_owned();
        let r = client().get(url).send().await.expect("manifest");
        assert_eq!(r.status(), 200);
    }
    wait_for("PCG Running", Duration::from_secs(20), || {
        let uid = uid.clone();
        async move {
            let (_, v) = pget(sb, &format!("/v1/overlords/{uid}")).await;
            (v["status"]["state"] == "Running").then_some(())
        }
    })
    .await;
    uid
}

pub async fn account(sb: &Sandbox, pcg: &str, name: &str) -> String {
    let (s, v) = ppost(
        sb,
        "/v1/cloudaccounts/cloudTypes/nutanix",
        json!({
            "metadata": {"name": name, "annotations": {"overlordUid": pcg}},
            "spec": {"credentials": {
                "NUTANIX_USER": sb.prism_user(),
                "NUTANIX_PASSWORD": sb.prism_password().expose(),
                "NUTANIX_ENDPOINT": "127.0.0.1",
                "NUTANIX_PORT": "9440",
                "NUTANIX_INSECURE": "true",
            }},
        }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["uid"].as_str().expect("uid").to_owned()
}

pub async fn profile(sb: &Sandbox, name: &str) -> String {
    let (s, v) = ppost(
        sb,
        "/v1/clusterprofiles?publish=true",
        json!({
            "metadata": {"name": name},
            "spec": {"version": "1.0.0", "template": {"cloudType": "nutanix", "type": "cluster", "packs": [
                {"name": "os-nutanix", "tag": "1.0.0", "layer": "os"},
                {"name": "kubernetes", "tag": "1.30.6", "layer": "k8s"},
                {"name": "cni-cilium-oss", "tag": "1.16.3", "layer": "cni"},
                {"name": "nutanix-csi", "tag": "3.2.0", "layer": "csi"},
            ]}},
        }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["uid"].as_str().expect("uid").to_owned()
}

pub struct Placement<'a> {
    pub pe: &'a str,
    pub subnet: &'a str,
    pub image: &'a str,
    pub vip: &'a str,
}

pub const DEFAULT_PLACEMENT: Placement<'static> = Placement {
    pe: "pe-cluster-01",
    subnet: "pe-cluster-01-vlan110",
    image: "capx-ubuntu-2204-kube-v1.30.5",
    vip: "10.64.3.240",
};

/// What the app sends: templates with the user's macros filled in locally; Palette fills
/// CLUSTER_NAME and the account keys itself.
pub fn fill(template: &str, p: &Placement<'_>, replicas: u32) -> String {
    template
        .replace("${CONTROL_PLANE_ENDPOINT_IP}", p.vip)
        .replace("${NUTANIX_PRISM_ELEMENT_CLUSTER_NAME}", p.pe)
        .replace("${NUTANIX_SUBNET_NAME}", p.subnet)
        .replace("${NUTANIX_MACHINE_TEMPLATE_IMAGE_NAME}", p.image)
        .replace("${KUBERNETES_VERSION}", "v1.30.5")
        .replace("${CP_REPLICAS}", &replicas.to_string())
        .replace("${WORKER_MACHINE_COUNT}", &replicas.to_string())
}

pub fn cluster_body(
    name: &str,
    account: &str,
    profile: &str,
    p: &Placement<'_>,
    cp: u32,
    workers: u32,
) -> Value {
    json!({
        "metadata": {"name": name, "labels": {"owner": "tests"}},
        "spec": {
            "cloudAccountUid": account,
            "profiles": [{"uid": profile}],
            "cloudConfig": {"values": fill(CLUSTER_TEMPLATE, p, 0)},
            "machinepoolconfig": [
                {"cloudConfig": {"values": fill(CP_POOL_TEMPLATE, p, cp)}, "poolConfig": {"isControlPlane": true}},
                {"cloudConfig": {"values": fill(WORKER_POOL_TEMPLATE, p, workers)}, "poolConfig": {"isControlPlane": false}},
            ],
        },
    })
}

/// Registered cloud type, running PCG, account and profile: ready to create clusters.
pub struct Ready {
    pub account: String,
    pub profile: String,
}

pub async fn ready(sb: &Sandbox) -> Ready {
    register_nutanix(sb).await;
    let pcg = running_pcg(sb, "pcg-1").await;
    let account = account(sb, &pcg, "nutanix-prod").await;
    let profile = profile(sb, "nutanix-infra").await;
    Ready { account, profile }
}

/// VMs carrying `KubernetesClusterName=<cluster>`.
pub async fn cluster_vms(sb: &Sandbox, cluster: &str) -> Vec<Value> {
    prism_list_all(sb, "vm", None, 500)
        .await
        .into_iter()
        .filter(|v| v["metadata"]["categories"]["KubernetesClusterName"] == cluster)
        .collect()
}

pub async fn cluster_state(sb: &Sandbox, uid: &str) -> (StatusCode, String) {
    let (s, v) = pget(sb, &format!("/v1/spectroclusters/{uid}")).await;
    (
        s,
        v["status"]["state"].as_str().unwrap_or_default().to_owned(),
    )
}
