//! Sandbox set-up shared by the inventory tests and the bench: clients, a store, and the
//! Palette steps (cloud type, PCG, account, profile, cluster) as the Palette client's own
//! tests take them.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use capstan_palette::*;
use capstan_prism::{PrismAuth, PrismClient, PrismConfig};
use capstan_sandbox::{Sandbox, SandboxConfig, samples};
use capstan_store::{EnvironmentSpec, Store};
use parking_lot::Mutex;

pub const ENV: &str = "env-sandbox";

pub async fn sandbox(vms: usize) -> Sandbox {
    capstan_sandbox::start(SandboxConfig {
        vms,
        time_scale: 0.01,
        tls: false,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

pub fn retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_total: Duration::from_secs(10),
        max_retry_after: Duration::from_secs(1),
    }
}

fn http() -> HttpConfig {
    HttpConfig {
        no_proxy: true,
        retry: retries(),
        ..HttpConfig::default()
    }
}

pub fn prism(sb: &Sandbox) -> PrismClient {
    PrismClient::new(PrismConfig {
        http: http(),
        ..PrismConfig::new(
            sb.prism_url(),
            PrismAuth::Basic {
                username: sb.prism_user().to_owned(),
                password: sb.prism_password().clone(),
            },
        )
    })
    .expect("prism client")
}

fn client(sb: &Sandbox, auth: PaletteAuth) -> PaletteClient {
    PaletteClient::new(PaletteConfig {
        http: http(),
        ..PaletteConfig::new(sb.palette_url(), auth)
    })
    .expect("palette client")
}

pub fn api_key(sb: &Sandbox) -> PaletteClient {
    client(sb, PaletteAuth::ApiKey(sb.palette_api_key().clone()))
}

pub fn sysadmin(sb: &Sandbox) -> PaletteClient {
    client(
        sb,
        PaletteAuth::SystemAdmin {
            username: sb.palette_system_user().to_owned(),
            password: sb.palette_password().clone(),
        },
    )
}

pub fn store(sb: &Sandbox) -> Arc<Mutex<Store>> {
    let mut store = Store::open_in_memory().expect("store");
    store
        .put_environment(&EnvironmentSpec {
            id: ENV.into(),
            name: "Sandbox".into(),
            palette_url: Some(sb.palette_url()),
            palette_project_uid: None,
            prism_endpoint: Some(sb.prism_url()),
            settings: serde_json::json!({}),
        })
        .expect("environment");
    Arc::new(Mutex::new(store))
}

pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn register_nutanix(sys: &PaletteClient) {
    let entity = CustomCloudRequestEntity {
        metadata: ObjectMetaInput::named("nutanix"),
        spec: CustomCloudSpecEntity {
            display_name: "Nutanix".into(),
            cloud_category: Some(CloudCategory::Datacenter),
            ..Default::default()
        },
    };
    sys.register_cloud_type(&entity).await.expect("register");
    for (t, yaml) in [
        (
            CloudTypeTemplate::ClusterTemplate,
            samples::CLUSTER_TEMPLATE,
        ),
        (
            CloudTypeTemplate::ControlPlanePoolTemplate,
            samples::CP_POOL,
        ),
        (CloudTypeTemplate::WorkerPoolTemplate, samples::WORKER_POOL),
    ] {
        sys.upload_cloud_type_template("nutanix", t, "t.yaml", Bytes::from_static(yaml.as_bytes()))
            .await
            .expect("template");
    }
    let keys: Vec<String> = [
        "NUTANIX_USER",
        "NUTANIX_PASSWORD",
        "NUTANIX_ENDPOINT",
        "NUTANIX_PORT",
        "NUTANIX_INSECURE",
    ]
    .map(String::from)
    .to_vec();
    sys.put_cloud_account_keys("nutanix", &keys)
        .await
        .expect("keys");
}

pub async fn running_pcg(c: &PaletteClient, name: &str) -> String {
    let created = c
        .create_self_hosted_pcg(&PcgSelfHostedParams {
            name: name.into(),
            cloud_type: "nutanix".into(),
        })
        .await
        .expect("pcg");
    let uid = created.overlord_uid.clone().expect("overlordUid");
    assert_eq!(created.kubectl_commands.len(), 2, "{created:?}");
    // "Run" the two kubectl commands: fetch both manifests.
    for service in ["ally", "jet"] {
        assert!(
            !c.pcg_manifest(&uid, service)
                .await
                .expect("manifest")
                .is_empty()
        );
    }
    wait_until("PCG Running", Duration::from_secs(30), || {
        let uid = uid.clone();
        async move {
            c.overlord(&uid)
                .await
                .ok()
                .filter(Overlord::is_running)
                .map(|_| ())
        }
    })
    .await;
    uid
}

pub fn account_entity(sb: &Sandbox, pcg: &str, name: &str) -> CustomAccountEntity {
    let mut creds = StringMap::new();
    creds.insert("NUTANIX_USER".into(), sb.prism_user().to_owned());
    creds.insert(
        "NUTANIX_PASSWORD".into(),
        sb.prism_password().expose().to_owned(),
    );
    creds.insert("NUTANIX_ENDPOINT".into(), "127.0.0.1".into());
    creds.insert("NUTANIX_PORT".into(), "9440".into());
    creds.insert("NUTANIX_INSECURE".into(), "true".into());
    CustomAccountEntity::new(name, pcg, creds)
}

pub fn profile_entity(name: &str) -> ClusterProfileEntity {
    let pack = |name: &str, tag: &str, layer: &str| PackManifestEntity {
        name: name.into(),
        tag: Some(tag.into()),
        layer: Some(layer.into()),
        ..Default::default()
    };
    ClusterProfileEntity {
        metadata: ObjectMetaInput::named(name),
        spec: ClusterProfileEntitySpec {
            version: Some("1.0.0".into()),
            template: ClusterProfileTemplateDraft {
                cloud_type: "nutanix".into(),
                profile_type: "cluster".into(),
                packs: vec![
                    pack("os-nutanix", "1.0.0", "os"),
                    pack("kubernetes", "1.30.6", "k8s"),
                    pack("cni-cilium-oss", "1.16.3", "cni"),
                    pack("nutanix-csi", "3.2.0", "csi"),
                ],
            },
            variables: vec![],
        },
    }
}

pub fn cluster_entity(name: &str, account: &str, profile: &str) -> SpectroCustomClusterEntity {
    SpectroCustomClusterEntity {
        metadata: ObjectMetaInput::named(name),
        spec: SpectroCustomClusterEntitySpec {
            // Left empty on purpose: the client fills it from the create path's cloud type.
            cloud_type: String::new(),
            cloud_account_uid: account.into(),
            cloud_config: CustomClusterConfigValues {
                values: samples::cluster_values("10.64.3.240"),
            },
            machine_pool_config: vec![
                CustomMachinePoolConfigEntity::from_yaml(samples::CP_POOL),
                CustomMachinePoolConfigEntity::from_yaml(samples::WORKER_POOL),
            ],
            profiles: vec![SpectroClusterProfileEntity {
                uid: profile.into(),
                ..Default::default()
            }],
            cluster_config: None,
            cluster_type: None,
        },
    }
}
