//! Drives a broad scenario through the sandbox (every Prism kind, auth errors, the whole
//! Palette workflow from cloud-type registration to cluster deletion, and error cases) with
//! exchange recording on, then checks every recorded exchange against the official specs.

use std::time::{Duration, Instant};

use capstan_contract::{Payload, RecordedExchange, Service, Specs, specs_or_skip};
use capstan_sandbox::{Exchange, FaultConfig, Sandbox, SandboxConfig};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

/// The sandbox records parsed JSON bodies only; everything else is kept as "not JSON, size
/// unknown". It records no request content type, so uploads are checked by body shape only.
fn convert(e: Exchange) -> RecordedExchange {
    let service = match e.service {
        capstan_sandbox::Service::Palette => Service::Palette,
        capstan_sandbox::Service::Prism => Service::Prism,
    };
    let response = Payload::from_recorded(e.response_json, e.response_content_type.as_deref());
    RecordedExchange {
        service,
        method: e.method,
        path: e.path,
        query: e.query,
        status: e.status,
        request_content_type: None,
        request: e.request_json.map_or(Payload::Empty, Payload::Json),
        response_content_type: e.response_content_type,
        response,
    }
}

struct Driver<'a> {
    sb: &'a Sandbox,
    http: reqwest::Client,
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    ApiKey,
    Token(&'a str),
    Basic,
    BadBasic,
    PrismKey,
    None,
}

impl Driver<'_> {
    async fn send(&self, req: RequestBuilder, auth: Auth<'_>) -> (u16, Value) {
        let req = match auth {
            Auth::ApiKey => req.header("ApiKey", self.sb.palette_api_key().expose()),
            Auth::Token(t) => req.header("Authorization", t),
            Auth::Basic => req.basic_auth(
                self.sb.prism_user(),
                Some(self.sb.prism_password().expose()),
            ),
            Auth::BadBasic => req.basic_auth(self.sb.prism_user(), Some("wrong-password")),
            Auth::PrismKey => req.header("X-ntnx-api-key", self.sb.prism_api_key().expose()),
            Auth::None => req,
        };
        let resp = req.send().await.expect("the sandbox answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("a readable body");
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, value)
    }

    async fn palette(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sb.palette_url()));
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req, auth).await
    }

    async fn pget(&self, path: &str) -> (u16, Value) {
        self.palette(Method::GET, path, Auth::ApiKey, None).await
    }

    async fn upload(&self, path: &str, token: &str, content: &[u8], file: &str) -> u16 {
        let part = reqwest::multipart::Part::bytes(content.to_vec()).file_name(file.to_string());
        let form = reqwest::multipart::Form::new().part("fileName", part);
        let req = self
            .http
            .put(format!("{}{path}", self.sb.palette_url()))
            .multipart(form);
        self.send(req, Auth::Token(token)).await.0
    }

    async fn prism(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(
            method,
            format!("{}/api/nutanix/v3{path}", self.sb.prism_url()),
        );
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req, auth).await
    }

    async fn list(&self, kind: &str, body: Value) -> Value {
        let (s, v) = self
            .prism(
                Method::POST,
                &format!("/{kind}s/list"),
                Auth::Basic,
                Some(body),
            )
            .await;
        assert_eq!(s, 200, "{kind} list: {v}");
        v
    }

    /// Polls a Palette GET until `done` holds (or fails the test after `timeout`).
    async fn wait(&self, what: &str, path: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let (s, v) = self.pget(path).await;
            if done(s, &v) {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}: {s} {v}"
            );
            // Jump the simulated clock instead of sleeping through demo minutes.
            self.sb.advance(20.0);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

const CLUSTER_TEMPLATE: &str = r#"apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixCluster
metadata:
  name: ${CLUSTER_NAME}
spec:
  controlPlaneEndpoint:
    host: ${CONTROL_PLANE_ENDPOINT_IP}
    port: 6443
  prismCentral:
    address: ${NUTANIX_ENDPOINT}
    port: ${NUTANIX_PORT=9440}
---
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: ${CLUSTER_NAME}
"#;

const CP_POOL_TEMPLATE: &str = r#"apiVersion: controlplane.cluster.x-k8s.io/v1beta1
kind: KubeadmControlPlane
metadata:
  name: cp-pool
spec:
  replicas: ${REPLICAS}
  version: v1.30.5
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
      memorySize: 4Gi
      systemDiskSize: 40Gi
      cluster: {type: name, name: "${PE}"}
      image: {type: name, name: "${IMAGE}"}
      subnet:
        - {type: name, name: "${SUBNET}"}
"#;

const WORKER_POOL_TEMPLATE: &str = r#"apiVersion: cluster.x-k8s.io/v1beta1
kind: MachineDeployment
metadata:
  name: worker-pool
spec:
  replicas: ${REPLICAS}
  template:
    spec:
      version: v1.30.5
      infrastructureRef:
        kind: NutanixMachineTemplate
        name: worker-pool-resource
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: NutanixMachineTemplate
metadata:
  name: worker-pool-resource
spec:
  template:
    spec:
      memorySize: 4Gi
      systemDiskSize: 40Gi
      cluster: {type: name, name: "${PE}"}
      image: {type: name, name: "${IMAGE}"}
      subnet:
        - {type: name, name: "${SUBNET}"}
"#;

struct Placement {
    pe: String,
    subnet: String,
    image: String,
}

fn fill(template: &str, p: &Placement, replicas: u32) -> String {
    template
        .replace("${PE}", &p.pe)
        .replace("${SUBNET}", &p.subnet)
        .replace("${IMAGE}", &p.image)
        .replace("${REPLICAS}", &replicas.to_string())
        .replace("${CONTROL_PLANE_ENDPOINT_IP}", "10.64.3.240")
}

fn names(list: &Value) -> Vec<String> {
    list["entities"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["spec"]["name"].as_str().or(x["status"]["name"].as_str()))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A PE, one of its subnets with a unique name, and a usable image with a unique name.
fn choose_placement(clusters: &Value, subnets: &Value, images: &Value) -> Placement {
    let entities = |v: &Value| v["entities"].as_array().cloned().unwrap_or_default();
    let unique = |all: &[String], n: &str| all.iter().filter(|x| *x == n).count() == 1;
    let pe = entities(clusters)
        .into_iter()
        .find(|c| {
            c["status"]["resources"]["config"]["service_list"]
                .as_array()
                .is_some_and(|s| s.iter().any(|x| x == "AOS"))
        })
        .expect("a Prism Element cluster in the estate");
    let pe_uuid = pe["metadata"]["uuid"].clone();
    let pe_name = pe["spec"]["name"].as_str().expect("PE name").to_string();
    let subnet_names = names(subnets);
    let subnet = entities(subnets)
        .into_iter()
        .filter(|s| s["status"]["cluster_reference"]["uuid"] == pe_uuid)
        .filter_map(|s| s["spec"]["name"].as_str().map(str::to_string))
        .find(|n| unique(&subnet_names, n))
        .expect("a uniquely named subnet on the PE");
    let image_names = names(images);
    let image = entities(images)
        .into_iter()
        .filter(|i| i["status"]["state"] == "COMPLETE")
        .filter(|i| i["status"]["resources"]["image_type"] == "DISK_IMAGE")
        .filter_map(|i| i["spec"]["name"].as_str().map(str::to_string))
        .find(|n| unique(&image_names, n))
        .expect("a uniquely named, usable disk image");
    Placement {
        pe: pe_name,
        subnet,
        image,
    }
}

async fn prism_scenario(d: &Driver<'_>) -> Placement {
    let (s, v) = d.prism(Method::GET, "/users/me", Auth::Basic, None).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = d
        .prism(Method::GET, "/users/me", Auth::PrismKey, None)
        .await;
    assert_eq!(s, 200);
    let (s, _) = d
        .prism(Method::GET, "/users/me", Auth::BadBasic, None)
        .await;
    assert_eq!(s, 401);
    // Real PCs sometimes answer 401 with no body at all; the sandbox has a knob for that.
    let faults = d.sb.faults();
    let normal = faults.get();
    faults.set(FaultConfig {
        prism_401_empty_body: true,
        ..normal.clone()
    });
    let (s, _) = d
        .prism(Method::GET, "/users/me", Auth::BadBasic, None)
        .await;
    assert_eq!(s, 401);
    faults.set(normal);
    let (s, _) = d
        .prism(Method::POST, "/vms/list", Auth::None, Some(json!({})))
        .await;
    assert_eq!(s, 401);
    for path in ["/prism_central", "/versions"] {
        let (s, v) = d.prism(Method::GET, path, Auth::Basic, None).await;
        assert_eq!(s, 200, "{path}: {v}");
    }

    let mut lists = Vec::new();
    for kind in [
        "cluster", "subnet", "image", "vm", "project", "host", "task",
    ] {
        let all = d.list(kind, json!({"kind": kind, "length": 500})).await;
        d.list(kind, json!({})).await;
        d.list(kind, json!({"kind": kind, "offset": 1, "length": 2}))
            .await;
        if let Some(uuid) = all["entities"][0]["metadata"]["uuid"].as_str() {
            let (s, v) = d
                .prism(Method::GET, &format!("/{kind}s/{uuid}"), Auth::Basic, None)
                .await;
            assert_eq!(s, 200, "{kind} {uuid}: {v}");
        }
        lists.push(all);
    }
    for kind in ["cluster", "subnet", "image", "vm"] {
        d.list(
            kind,
            json!({"kind": kind, "length": 3, "sort_attribute": "name", "sort_order": "DESCENDING"}),
        )
        .await;
    }
    let first_vm = lists[3]["entities"][0]["spec"]["name"]
        .as_str()
        .unwrap_or("x")
        .to_string();
    d.list(
        "vm",
        json!({"kind": "vm", "filter": format!("vm_name=={first_vm}")}),
    )
    .await;

    // Errors: unknown entity, unknown filter attribute.
    let (s, v) = d
        .prism(
            Method::GET,
            "/vms/0e09cf83-ac68-4f28-af70-6df9a43df4f0",
            Auth::Basic,
            None,
        )
        .await;
    assert_eq!(s, 404, "{v}");
    let (s, v) = d
        .prism(
            Method::POST,
            "/subnets/list",
            Auth::Basic,
            Some(json!({"kind": "subnet", "filter": "no_such_attribute==1"})),
        )
        .await;
    assert_eq!(s, 400, "{v}");

    // Categories: keys, values, one key, one value, a missing value.
    let (s, keys) = d
        .prism(
            Method::POST,
            "/categories/list",
            Auth::Basic,
            Some(json!({"kind": "category"})),
        )
        .await;
    assert_eq!(s, 200, "{keys}");
    let key = keys["entities"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|k| k["system_defined"] == false)
                .or(e.first())
        })
        .and_then(|k| k["name"].as_str())
        .expect("a category key")
        .to_string();
    let (s, values) = d
        .prism(
            Method::POST,
            &format!("/categories/{key}/list"),
            Auth::Basic,
            Some(json!({"kind": "category", "length": 20})),
        )
        .await;
    assert_eq!(s, 200, "{values}");
    let (s, v) = d
        .prism(
            Method::GET,
            &format!("/categories/{key}"),
            Auth::Basic,
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    if let Some(value) = values["entities"][0]["value"].as_str() {
        let (s, v) = d
            .prism(
                Method::GET,
                &format!("/categories/{key}/{value}"),
                Auth::Basic,
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) = d
        .prism(
            Method::GET,
            &format!("/categories/{key}/no-such-value"),
            Auth::Basic,
            None,
        )
        .await;
    assert_eq!(s, 404, "{v}");

    choose_placement(&lists[0], &lists[1], &lists[2])
}

/// Creates and deletes a VM directly in Prism (both async, 202 + task) and reads the tasks.
async fn prism_vm_round_trip(d: &Driver<'_>, placement: &Placement) {
    let pe = d
        .list(
            "cluster",
            json!({"kind": "cluster", "filter": format!("name=={}", placement.pe)}),
        )
        .await;
    let pe_uuid = pe["entities"][0]["metadata"]["uuid"]
        .as_str()
        .expect("PE uuid")
        .to_string();
    let subnet = d
        .list(
            "subnet",
            json!({"kind": "subnet", "filter": format!("name=={}", placement.subnet)}),
        )
        .await;
    let subnet_uuid = subnet["entities"][0]["metadata"]["uuid"]
        .as_str()
        .expect("subnet uuid")
        .to_string();
    let body = json!({
        "metadata": {"kind": "vm", "categories": {"Environment": "contract"}},
        "spec": {
            "name": "contract-vm",
            "cluster_reference": {"kind": "cluster", "uuid": pe_uuid},
            "resources": {
                "num_sockets": 1, "num_vcpus_per_socket": 1, "memory_size_mib": 2048,
                "power_state": "ON",
                "nic_list": [{"subnet_reference": {"kind": "subnet", "uuid": subnet_uuid}}]
            }
        }
    });
    let (s, created) = d.prism(Method::POST, "/vms", Auth::Basic, Some(body)).await;
    assert_eq!(s, 202, "{created}");
    let vm = created["metadata"]["uuid"]
        .as_str()
        .expect("vm uuid")
        .to_string();
    if let Some(task) = created["status"]["execution_context"]["task_uuid"].as_str() {
        let (s, v) = d
            .prism(Method::GET, &format!("/tasks/{task}"), Auth::Basic, None)
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) = d
        .prism(Method::GET, &format!("/vms/{vm}"), Auth::Basic, None)
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = d
        .prism(Method::DELETE, &format!("/vms/{vm}"), Auth::Basic, None)
        .await;
    assert_eq!(s, 202, "{v}");
    let (s, tasks) = d
        .prism(
            Method::POST,
            "/tasks/list",
            Auth::Basic,
            Some(json!({"kind": "task", "length": 5})),
        )
        .await;
    assert_eq!(s, 200, "{tasks}");
}

async fn register_cloud_type(d: &Driver<'_>) -> String {
    let (s, _) = d
        .palette(
            Method::POST,
            "/v1/auth/syslogin",
            Auth::None,
            Some(json!({"username": d.sb.palette_system_user(), "password": "wrong"})),
        )
        .await;
    assert_eq!(s, 401);
    let (s, v) = d
        .palette(
            Method::POST,
            "/v1/auth/syslogin",
            Auth::None,
            Some(json!({"username": d.sb.palette_system_user(),
                        "password": d.sb.palette_password().expose()})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let token = v["Authorization"].as_str().expect("a token").to_string();
    let (s, v) = d
        .palette(
            Method::GET,
            "/v1/system/users/me",
            Auth::Token(&token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");

    let register = json!({"metadata": {"name": "nutanix"},
        "spec": {"displayName": "Nutanix", "isControlPlaneManaged": false, "cloudCategory": "datacenter"}});
    let (s, _) = d
        .palette(
            Method::POST,
            "/v1/clouds/cloudTypes/register",
            Auth::ApiKey,
            Some(register.clone()),
        )
        .await;
    assert_eq!(s, 403, "an API key cannot register cloud types");
    let (s, v) = d
        .palette(
            Method::POST,
            "/v1/clouds/cloudTypes/register",
            Auth::Token(&token),
            Some(register.clone()),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, _) = d
        .palette(
            Method::POST,
            "/v1/clouds/cloudTypes/register",
            Auth::Token(&token),
            Some(register),
        )
        .await;
    assert_eq!(s, 409);

    // 1x1 transparent PNG.
    let logo: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0a, 0x49, 0x44,
        0x41, 0x54, 0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0,
        0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    let base = "/v1/clouds/cloudTypes/nutanix";
    assert_eq!(
        d.upload(&format!("{base}/logo"), &token, logo, "logo.png")
            .await,
        204
    );
    let components = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: capx-system\n";
    for part in ["core", "controlPlane", "bootstrap", "cloudProvider"] {
        let status = d
            .upload(
                &format!("{base}/content/{part}"),
                &token,
                components.as_bytes(),
                "components.yaml",
            )
            .await;
        assert_eq!(status, 204, "{part}");
    }
    for (name, text) in [
        ("clusterTemplate", CLUSTER_TEMPLATE),
        ("controlPlanePoolTemplate", CP_POOL_TEMPLATE),
        ("workerPoolTemplate", WORKER_POOL_TEMPLATE),
    ] {
        let path = format!("{base}/content/templates/{name}");
        assert_eq!(
            d.upload(&path, &token, text.as_bytes(), "t.yaml").await,
            204
        );
        let (s, v) = d.pget(&path).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["yaml"], text);
    }
    let (s, _) = d.pget(&format!("{base}/content/cloudProvider")).await;
    assert_eq!(s, 200);
    let keys = json!({"keys": ["NUTANIX_USER", "NUTANIX_PASSWORD", "NUTANIX_ENDPOINT",
                               "NUTANIX_PORT", "NUTANIX_INSECURE"]});
    let (s, _) = d
        .palette(
            Method::PUT,
            &format!("{base}/cloudAccountKeys"),
            Auth::Token(&token),
            Some(keys.clone()),
        )
        .await;
    assert_eq!(s, 204);
    let (s, v) = d.pget(&format!("{base}/cloudAccountKeys")).await;
    assert_eq!((s, &v), (200, &keys));
    let (s, v) = d.pget("/v1/clouds/cloudTypes").await;
    assert_eq!(s, 200, "{v}");
    token
}

async fn running_pcg(d: &Driver<'_>, name: &str) -> String {
    let (s, v) = d
        .palette(
            Method::POST,
            "/v1/pcg/selfHosted",
            Auth::ApiKey,
            Some(json!({"name": name, "cloudType": "nutanix"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let uid = v["overlordUid"].as_str().expect("overlordUid").to_string();
    for service in ["ally", "jet"] {
        let (s, _) = d
            .palette(
                Method::GET,
                &format!("/v1/pcg/{uid}/services/{service}/manifest"),
                Auth::None,
                None,
            )
            .await;
        assert_eq!(s, 200);
    }
    d.wait("PCG Running", &format!("/v1/overlords/{uid}"), |s, v| {
        s == 200 && v["status"]["state"] == "Running"
    })
    .await;
    uid
}

fn account_body(d: &Driver<'_>, name: &str, pcg: &str) -> Value {
    json!({
        "metadata": {"name": name, "annotations": {"overlordUid": pcg}},
        "spec": {"credentials": {
            "NUTANIX_USER": d.sb.prism_user(),
            "NUTANIX_PASSWORD": d.sb.prism_password().expose(),
            "NUTANIX_ENDPOINT": "127.0.0.1",
            "NUTANIX_PORT": "9440",
            "NUTANIX_INSECURE": "true",
        }},
    })
}

async fn palette_scenario(d: &Driver<'_>, placement: &Placement) {
    let (s, _) = d
        .palette(Method::GET, "/v1/users/info", Auth::None, None)
        .await;
    assert_eq!(s, 401);
    let (s, _) = d
        .palette(
            Method::GET,
            "/v1/users/info",
            Auth::Token("not-a-token"),
            None,
        )
        .await;
    assert_eq!(s, 401);
    let (s, v) = d.pget("/v1/users/info").await;
    assert_eq!(s, 200, "{v}");
    let (s, projects) = d.pget("/v1/dashboard/projects/metadata").await;
    assert_eq!(s, 200, "{projects}");
    let project = projects["items"][0]["metadata"]["uid"]
        .as_str()
        .expect("a project")
        .to_string();
    let (s, v) = d.pget(&format!("/v1/projects/{project}")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = d
        .palette(
            Method::POST,
            "/v1/auth/authenticate",
            Auth::None,
            Some(json!({"emailId": d.sb.palette_email(),
                        "password": d.sb.palette_password().expose()})),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    let system_token = register_cloud_type(d).await;

    // PCG and cloud account; a Pending PCG cannot back an account.
    let pending = d
        .palette(
            Method::POST,
            "/v1/pcg/selfHosted",
            Auth::ApiKey,
            Some(json!({"name": "pcg-pending", "cloudType": "nutanix"})),
        )
        .await;
    assert_eq!(pending.0, 200, "{}", pending.1);
    let pending_uid = pending.1["overlordUid"].as_str().expect("uid").to_string();
    let (s, v) = d
        .palette(
            Method::POST,
            "/v1/cloudaccounts/cloudTypes/nutanix",
            Auth::ApiKey,
            Some(account_body(d, "too-early", &pending_uid)),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let pcg = running_pcg(d, "pcg-1").await;
    let (s, v) = d.pget("/v1/overlords").await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = d.pget("/v1/overlords?name=pcg-1").await;
    assert_eq!(s, 200);
    let (s, v) = d.pget("/v1/overlords/0123456789abcdef01234567").await;
    assert_eq!(s, 404, "{v}");

    let accounts = "/v1/cloudaccounts/cloudTypes/nutanix";
    let (s, v) = d
        .palette(
            Method::POST,
            accounts,
            Auth::ApiKey,
            Some(account_body(d, "prod", &pcg)),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let account = v["uid"].as_str().expect("uid").to_string();
    let (s, v) = d.pget(accounts).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = d.pget(&format!("{accounts}?limit=1")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = d.pget(&format!("{accounts}/{account}")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = d
        .palette(
            Method::PUT,
            &format!("{accounts}/{account}"),
            Auth::ApiKey,
            Some(account_body(d, "prod", &pcg)),
        )
        .await;
    assert_eq!(s, 204, "{v}");

    // Cluster profile: name check, create as draft, publish, read back.
    let (s, v) = d
        .pget("/v1/clusterprofiles/validate/name?name=nutanix-infra&version=1.0.0")
        .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = d
        .palette(
            Method::POST,
            "/v1/clusterprofiles",
            Auth::ApiKey,
            Some(json!({
                "metadata": {"name": "nutanix-infra", "labels": {"owner": "contract"}},
                "spec": {"version": "1.0.0", "template": {"cloudType": "nutanix", "type": "cluster",
                    "packs": [
                        {"name": "os-nutanix", "tag": "1.0.0", "layer": "os", "type": "spectro"},
                        {"name": "kubernetes", "tag": "1.30.6", "layer": "k8s", "type": "spectro"},
                        {"name": "cni-cilium-oss", "tag": "1.16.3", "layer": "cni", "type": "spectro"},
                        {"name": "nutanix-csi", "tag": "3.2.0", "layer": "csi", "type": "spectro"}
                    ]}}
            })),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let profile = v["uid"].as_str().expect("uid").to_string();
    let (s, v) = d
        .palette(
            Method::PATCH,
            &format!("/v1/clusterprofiles/{profile}/publish"),
            Auth::ApiKey,
            None,
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = d.pget(&format!("/v1/clusterprofiles/{profile}")).await;
    assert_eq!(s, 200, "{v}");

    // Cluster: create, follow to Running, read everything, scale, delete.
    let (s, v) = d
        .pget("/v1/spectroclusters/validate/name?name=ntx-contract")
        .await;
    assert_eq!(s, 204, "{v}");
    let body = json!({
        "metadata": {"name": "ntx-contract", "labels": {"owner": "contract"}},
        "spec": {
            "cloudType": "nutanix",
            "cloudAccountUid": account,
            "profiles": [{"uid": profile}],
            "cloudConfig": {"values": fill(CLUSTER_TEMPLATE, placement, 0)},
            "machinepoolconfig": [
                {"cloudConfig": {"values": fill(CP_POOL_TEMPLATE, placement, 1)},
                 "poolConfig": {"isControlPlane": true}},
                {"cloudConfig": {"values": fill(WORKER_POOL_TEMPLATE, placement, 1)},
                 "poolConfig": {"isControlPlane": false}}
            ]
        }
    });
    let (s, v) = d
        .palette(
            Method::POST,
            "/v1/spectroclusters/cloudTypes/nutanix",
            Auth::ApiKey,
            Some(body),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let cluster = v["uid"].as_str().expect("uid").to_string();
    let c = d
        .wait(
            "cluster Running",
            &format!("/v1/spectroclusters/{cluster}/status"),
            |s, v| s == 200 && v["status"]["state"] == "Running",
        )
        .await;
    assert_eq!(c["status"]["state"], "Running");
    let (s, c) = d.pget(&format!("/v1/spectroclusters/{cluster}")).await;
    assert_eq!(s, 200, "{c}");
    let config = c["spec"]["cloudConfigRef"]["uid"]
        .as_str()
        .expect("cloudConfigRef.uid")
        .to_string();
    let (s, v) = d
        .pget(&format!("/v1/dashboard/spectroclusters/{cluster}/overview"))
        .await;
    assert_eq!(s, 200, "{v}");
    let config_path = format!("/v1/cloudconfigs/cloudTypes/nutanix/{config}");
    let (s, v) = d.pget(&config_path).await;
    assert_eq!(s, 200, "{v}");
    for pool in ["cp-pool", "worker-pool"] {
        let (s, v) = d
            .pget(&format!("{config_path}/machinePools/{pool}/machines"))
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) = d
        .palette(
            Method::PUT,
            &format!("{config_path}/machinePools/worker-pool"),
            Auth::ApiKey,
            Some(
                json!({"cloudConfig": {"values": fill(WORKER_POOL_TEMPLATE, placement, 2)},
                        "poolConfig": {"isControlPlane": false}}),
            ),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    d.wait(
        "two workers",
        &format!("{config_path}/machinePools/worker-pool/machines"),
        |s, v| s == 200 && v["items"].as_array().is_some_and(|i| i.len() == 2),
    )
    .await;
    // Day-2 profile calls: what is attached, then the same profile again (nothing to change).
    let (s, v) = d
        .pget(&format!("/v1/spectroclusters/{cluster}/profiles"))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = d
        .palette(
            Method::PATCH,
            &format!("/v1/spectroclusters/{cluster}/profiles"),
            Auth::ApiKey,
            Some(json!({"profiles": [{"uid": profile}]})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    for asset in ["kubeconfig?frp=true", "kubeconfigclient", "adminKubeconfig"] {
        let (s, _) = d
            .pget(&format!("/v1/spectroclusters/{cluster}/assets/{asset}"))
            .await;
        assert_eq!(s, 200, "{asset}");
    }
    // Prism now has the cluster's VMs and their creation tasks.
    let (s, tasks) = d
        .prism(
            Method::POST,
            "/tasks/list",
            Auth::Basic,
            Some(json!({"kind": "task"})),
        )
        .await;
    assert_eq!(s, 200, "{tasks}");
    if let Some(task) = tasks["entities"][0]["metadata"]["uuid"].as_str() {
        let (s, v) = d
            .prism(Method::GET, &format!("/tasks/{task}"), Auth::Basic, None)
            .await;
        assert_eq!(s, 200, "{v}");
    }
    prism_vm_round_trip(d, placement).await;
    let (s, v) = d
        .prism(
            Method::GET,
            "/categories/KubernetesClusterName/ntx-contract",
            Auth::Basic,
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // In-use resources cannot go yet.
    let (s, v) = d
        .palette(
            Method::DELETE,
            &format!("/v1/clusterprofiles/{profile}"),
            Auth::ApiKey,
            None,
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let (s, _) = d
        .palette(
            Method::DELETE,
            &format!("/v1/spectroclusters/{cluster}"),
            Auth::ApiKey,
            None,
        )
        .await;
    assert_eq!(s, 204);
    d.wait(
        "cluster gone",
        &format!("/v1/spectroclusters/{cluster}"),
        |s, _| s == 404,
    )
    .await;

    // Clean up in reverse order.
    let (s, _) = d
        .palette(
            Method::DELETE,
            &format!("/v1/clusterprofiles/{profile}"),
            Auth::ApiKey,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = d
        .palette(
            Method::DELETE,
            &format!("{accounts}/{account}"),
            Auth::ApiKey,
            None,
        )
        .await;
    assert_eq!(s, 204);
    for uid in [&pcg, &pending_uid] {
        let (s, v) = d
            .palette(
                Method::DELETE,
                &format!("/v1/overlords/{uid}"),
                Auth::ApiKey,
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) = d
        .palette(
            Method::DELETE,
            "/v1/clouds/cloudTypes/nutanix",
            Auth::Token(&system_token),
            None,
        )
        .await;
    assert_eq!(s, 204, "{v}");
}

#[tokio::test]
async fn every_sandbox_exchange_matches_the_official_specs() {
    let specs: &Specs = specs_or_skip!();
    let sandbox = capstan_sandbox::start(SandboxConfig {
        vms: 40,
        time_scale: 0.01,
        tls: false,
        record_exchanges: true,
        ..SandboxConfig::default()
    })
    .await
    .expect("the sandbox starts");
    let driver = Driver {
        sb: &sandbox,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client"),
    };
    let placement = prism_scenario(&driver).await;
    palette_scenario(&driver, &placement).await;

    let exchanges: Vec<RecordedExchange> =
        sandbox.take_exchanges().into_iter().map(convert).collect();
    assert!(exchanges.len() > 100, "only {} exchanges", exchanges.len());
    let started = Instant::now();
    let report = specs.validate_exchanges(&exchanges);
    let took = started.elapsed();
    eprintln!("validated {} exchanges in {took:?}", exchanges.len());
    report.assert_clean();
    for service in Service::ALL {
        let missing = report.uncovered(service);
        assert!(
            missing.is_empty(),
            "{service} operations Capstan uses that the scenario did not exercise: {missing:?}"
        );
    }
    sandbox.shutdown().await;
}
