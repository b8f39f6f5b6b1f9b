//! Routes an IPC command name to its handler with typed request/response (de)serialisation.

use capstan_ipc::commands::*;
use capstan_ipc::types::{ActivityPage, Empty, Settings};
use capstan_ipc::{Command, ErrorCode, IpcError};
use serde_json::Value;

use crate::Engine;

pub async fn dispatch(engine: &Engine, command: &str, payload: Value) -> Result<Value, IpcError> {
    match command {
        AppInfoCmd::NAME => {
            run::<AppInfoCmd, _>(payload, async |_: Empty| Ok(engine.app_info())).await
        }
        StatusGet::NAME => run::<StatusGet, _>(payload, async |_: Empty| Ok(engine.status())).await,
        StatusRefresh::NAME => {
            run::<StatusRefresh, _>(payload, async |_: Empty| Ok(engine.refresh_status().await))
                .await
        }
        EnvironmentsList::NAME => {
            run::<EnvironmentsList, _>(payload, async |_: Empty| Ok(engine.environments().list()))
                .await
        }
        EnvironmentActivate::NAME => {
            run::<EnvironmentActivate, _>(
                payload,
                async |req: capstan_ipc::types::ActivateEnvironmentRequest| {
                    engine.activate(&req.id).await
                },
            )
            .await
        }
        ActivityList::NAME => {
            run::<ActivityList, _>(payload, async |q: capstan_ipc::types::ActivityQuery| {
                Ok(ActivityPage {
                    events: engine.activity().query(&q),
                    log_file: engine.activity().log_file_hint(),
                })
            })
            .await
        }
        SettingsGet::NAME => {
            run::<SettingsGet, _>(payload, async |_: Empty| {
                Ok(Settings {
                    theme: engine.inner.settings.get().theme,
                })
            })
            .await
        }
        SettingsUpdate::NAME => {
            run::<SettingsUpdate, _>(payload, async |s: Settings| {
                engine.inner.settings.set_theme(s.theme).map_err(|e| {
                    IpcError::new(
                        ErrorCode::Storage,
                        format!("The settings could not be saved: {e}."),
                    )
                })?;
                tracing::info!(theme = ?s.theme, "settings saved");
                Ok(Settings {
                    theme: engine.inner.settings.get().theme,
                })
            })
            .await
        }
        CacheSummaryGet::NAME => {
            run::<CacheSummaryGet, _>(payload, async |_: Empty| engine.cache_summary().await).await
        }
        CacheRebuild::NAME => {
            run::<CacheRebuild, _>(payload, async |_: Empty| engine.cache_rebuild().await).await
        }
        SyncStart::NAME => {
            run::<SyncStart, _>(payload, async |req| engine.sync_start(req).await).await
        }
        SyncCancel::NAME => {
            run::<SyncCancel, _>(payload, async |_: Empty| Ok(engine.sync_cancel())).await
        }
        TopologyGet::NAME => {
            run::<TopologyGet, _>(payload, async |req| engine.topology(req).await).await
        }
        TopologySearch::NAME => {
            run::<TopologySearch, _>(payload, async |req| engine.topology_search(req).await).await
        }
        InventoryList::NAME => {
            run::<InventoryList, _>(payload, async |q| engine.inventory_list(q).await).await
        }
        InventoryGet::NAME => {
            run::<InventoryGet, _>(payload, async |req| engine.inventory_get(req).await).await
        }
        ClustersList::NAME => {
            run::<ClustersList, _>(payload, async |_: Empty| engine.clusters().await).await
        }
        EnvironmentGet::NAME => {
            run::<EnvironmentGet, _>(
                payload,
                async |req: capstan_ipc::setup::EnvironmentIdRequest| {
                    engine.environment_get(&req.id).await
                },
            )
            .await
        }
        EnvironmentSave::NAME => {
            run::<EnvironmentSave, _>(payload, async |req| engine.environment_save(req).await).await
        }
        EnvironmentDelete::NAME => {
            run::<EnvironmentDelete, _>(
                payload,
                async |req: capstan_ipc::setup::EnvironmentIdRequest| {
                    engine.environment_delete(&req.id).await
                },
            )
            .await
        }
        ConnectionTest::NAME => {
            run::<ConnectionTest, _>(payload, async |req| engine.connection_test(req).await).await
        }
        SecretStoreStatusGet::NAME => {
            run::<SecretStoreStatusGet, _>(payload, async |_: Empty| {
                Ok(engine.secret_store_status().await)
            })
            .await
        }
        SecretStoreUnlock::NAME => {
            run::<SecretStoreUnlock, _>(
                payload,
                async |req: capstan_ipc::setup::UnlockSecretFileRequest| {
                    engine.secret_store_unlock(req.passphrase).await
                },
            )
            .await
        }
        WorkflowStateGet::NAME => {
            run::<WorkflowStateGet, _>(payload, async |_: Empty| {
                Ok(Box::pin(engine.workflow_state()).await)
            })
            .await
        }
        DraftGet::NAME => {
            run::<DraftGet, _>(payload, async |req: capstan_ipc::workflow::DraftKey| {
                Box::pin(engine.draft_get(req.step)).await
            })
            .await
        }
        DraftSave::NAME => {
            run::<DraftSave, _>(payload, async |req| Box::pin(engine.draft_save(req)).await).await
        }
        DraftDelete::NAME => {
            run::<DraftDelete, _>(payload, async |req: capstan_ipc::workflow::DraftKey| {
                Box::pin(engine.draft_delete(req.step)).await
            })
            .await
        }
        CloudTypePlanGet::NAME => {
            run::<CloudTypePlanGet, _>(payload, async |req| {
                Box::pin(engine.cloud_type_plan(req)).await
            })
            .await
        }
        CloudTypeRegister::NAME => {
            run::<CloudTypeRegister, _>(payload, async |req| {
                Box::pin(engine.cloud_type_register(req)).await
            })
            .await
        }
        PcgCreate::NAME => {
            run::<PcgCreate, _>(payload, async |req| Box::pin(engine.pcg_create(req)).await).await
        }
        PcgStatusGet::NAME => {
            run::<PcgStatusGet, _>(
                payload,
                async |req: capstan_ipc::workflow::PcgUidRequest| {
                    Box::pin(engine.pcg_status(&req.uid)).await
                },
            )
            .await
        }
        KubeContextsList::NAME => {
            run::<KubeContextsList, _>(payload, async |_: Empty| {
                Box::pin(engine.kube_contexts()).await
            })
            .await
        }
        PcgApply::NAME => {
            run::<PcgApply, _>(payload, async |req| Box::pin(engine.pcg_apply(req)).await).await
        }
        CloudAccountFormGet::NAME => {
            run::<CloudAccountFormGet, _>(payload, async |_: Empty| {
                Box::pin(engine.cloud_account_form()).await
            })
            .await
        }
        CloudAccountCreate::NAME => {
            run::<CloudAccountCreate, _>(payload, async |req| {
                Box::pin(engine.cloud_account_create(req)).await
            })
            .await
        }
        PackRegistriesList::NAME => {
            run::<PackRegistriesList, _>(payload, async |_: Empty| {
                Box::pin(engine.pack_registries()).await
            })
            .await
        }
        PacksByLayer::NAME => {
            run::<PacksByLayer, _>(payload, async |req| {
                Box::pin(engine.packs_by_layer(req)).await
            })
            .await
        }
        PackValuesGet::NAME => {
            run::<PackValuesGet, _>(payload, async |req| Box::pin(engine.pack_values(req)).await)
                .await
        }
        ProfileNameCheckCmd::NAME => {
            run::<ProfileNameCheckCmd, _>(payload, async |req| {
                Box::pin(engine.profile_name_check(req)).await
            })
            .await
        }
        ProfileCreate::NAME => {
            run::<ProfileCreate, _>(payload, async |req| {
                Box::pin(engine.profile_create(req)).await
            })
            .await
        }
        ProfilesList::NAME => {
            run::<ProfilesList, _>(payload, async |_: Empty| {
                Box::pin(engine.profiles_list()).await
            })
            .await
        }
        ProfileGet::NAME => {
            run::<ProfileGet, _>(
                payload,
                async |req: capstan_ipc::profile::ProfileUidRequest| {
                    Box::pin(engine.profile_get(&req.uid)).await
                },
            )
            .await
        }
        ProfileNewVersion::NAME => {
            run::<ProfileNewVersion, _>(payload, async |req| {
                Box::pin(engine.profile_new_version(req)).await
            })
            .await
        }
        DeployOptionsGet::NAME => {
            run::<DeployOptionsGet, _>(payload, async |_: Empty| {
                Box::pin(engine.deploy_options()).await
            })
            .await
        }
        DeployPlacement::NAME => {
            run::<DeployPlacement, _>(payload, async |req| {
                Box::pin(engine.deploy_placement(req)).await
            })
            .await
        }
        DeployRenderCmd::NAME => {
            run::<DeployRenderCmd, _>(payload, async |req| {
                Box::pin(engine.deploy_render(req)).await
            })
            .await
        }
        DeployYamlReadBack::NAME => {
            run::<DeployYamlReadBack, _>(payload, async |req| {
                Box::pin(engine.deploy_yaml_read_back(req)).await
            })
            .await
        }
        DeployPreflight::NAME => {
            run::<DeployPreflight, _>(payload, async |req| {
                Box::pin(engine.deploy_preflight(req)).await
            })
            .await
        }
        ClusterDeploy::NAME => {
            run::<ClusterDeploy, _>(payload, async |req| {
                Box::pin(engine.cluster_deploy(req)).await
            })
            .await
        }
        ClusterDetailGet::NAME => {
            run::<ClusterDetailGet, _>(
                payload,
                async |req: capstan_ipc::deploy::ClusterUidRequest| {
                    Box::pin(engine.cluster_detail(&req.uid)).await
                },
            )
            .await
        }
        KubeconfigSave::NAME => {
            run::<KubeconfigSave, _>(payload, async |req| {
                Box::pin(engine.kubeconfig_save(req)).await
            })
            .await
        }
        ClusterScale::NAME => {
            run::<ClusterScale, _>(payload, async |req| {
                Box::pin(engine.cluster_scale(req)).await
            })
            .await
        }
        ClusterProfilePlan::NAME => {
            run::<ClusterProfilePlan, _>(payload, async |req| {
                Box::pin(engine.cluster_profile_plan(req)).await
            })
            .await
        }
        ClusterProfileUpdate::NAME => {
            run::<ClusterProfileUpdate, _>(payload, async |req| {
                Box::pin(engine.cluster_profile_update(req)).await
            })
            .await
        }
        ClusterDelete::NAME => {
            run::<ClusterDelete, _>(payload, async |req| {
                Box::pin(engine.cluster_delete(req)).await
            })
            .await
        }
        other => Err(IpcError::new(
            ErrorCode::UnknownCommand,
            format!(
                "The backend has no command \"{other}\". The UI and backend versions may not match."
            ),
        )),
    }
}

async fn run<C, F>(payload: Value, handler: F) -> Result<Value, IpcError>
where
    C: Command,
    F: AsyncFnOnce(C::Request) -> Result<C::Response, IpcError>,
{
    // `null` (no payload at all) is accepted for commands whose request is `{}`.
    let payload = if payload.is_null() {
        Value::Object(Default::default())
    } else {
        payload
    };
    let request: C::Request = serde_json::from_value(payload).map_err(|e| {
        IpcError::new(
            ErrorCode::InvalidRequest,
            format!("The request for \"{}\" is malformed: {e}.", C::NAME),
        )
    })?;
    let response = handler(request).await?;
    serde_json::to_value(response).map_err(|e| {
        IpcError::internal(format!(
            "The response of \"{}\" could not be encoded: {e}.",
            C::NAME
        ))
    })
}
