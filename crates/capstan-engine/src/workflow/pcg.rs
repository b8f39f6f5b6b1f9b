//! Step 2: the self-hosted Private Cloud Gateway (Palette's "overlord"). Created once per
//! name, then its kubectl commands are applied to a host cluster (or copied by the user);
//! its status is watched until Running, with advice when Pending lasts too long.

use capstan_ipc::workflow::*;
use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::{
    ApiErrorKind, Overlord, PaletteClient, PaletteError, PcgSelfHostedParams, Scope,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::kube::{SIMULATED_CONTEXT, kubectl_apply};
use super::{CLOUD_TYPE, palette_error};
use crate::Engine;
use crate::connection::invalid;

/// A PCG Pending longer than this gets advice on what to check (demo seconds in the
/// sandbox, whose lifecycles run on a scaled clock).
pub(crate) const PENDING_TOO_LONG_SECS: u64 = 5 * 60;
const MAX_NAME_CHARS: usize = 64;

/// The manifest service (`ally`, `jet`) a kubectl command applies:
/// `kubectl apply -f https://.../v1/pcg/<uid>/services/<service>/manifest`.
pub(crate) fn manifest_service(command: &str) -> Option<&str> {
    let url = command
        .split_whitespace()
        .find(|w| w.contains("/services/") && w.contains("/manifest"))?;
    let after = &url[url.find("/services/")? + "/services/".len()..];
    let service = &after[..after.find('/')?];
    (!service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then_some(service)
}

fn health_field<'a>(health: Option<&'a Value>, key: &str) -> Option<&'a str> {
    health?
        .get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn not_found(uid: &str) -> IpcError {
    IpcError::new(
        ErrorCode::NotFound,
        format!(
            "Palette has no PCG with uid {uid}: it may have been deleted. Create it again in step 2."
        ),
    )
}

impl Engine {
    /// The API-key client in tenant scope: PCGs live under Tenant Settings.
    async fn tenant_palette(
        &self,
    ) -> Result<(crate::connection::Connection, PaletteClient), IpcError> {
        let (conn, client) = self.workflow_palette().await?;
        Ok((conn, client.with_scope(Scope::Tenant)))
    }

    pub async fn pcg_create(&self, request: PcgCreateRequest) -> Result<PcgStatus, IpcError> {
        let name = request.name.trim().to_owned();
        if name.is_empty() {
            return Err(invalid(
                "name",
                "Give the PCG a name, e.g. \"nutanix-pcg\". It is how Palette lists it under Tenant Settings.",
            ));
        }
        if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(invalid(
                "name",
                &format!(
                    "Use a PCG name of at most {MAX_NAME_CHARS} characters, without line breaks."
                ),
            ));
        }
        let (conn, palette) = self.tenant_palette().await?;
        // One PCG per name: an existing one is reused, never duplicated.
        let existing = palette
            .overlord_by_name(&name)
            .await
            .map_err(|e| palette_error("Looking for the PCG in Palette failed", e))?;
        if let Some(o) = existing {
            if o.metadata
                .annotations
                .get("cloudType")
                .is_some_and(|c| c != CLOUD_TYPE)
            {
                return Err(invalid(
                    "name",
                    &format!(
                        "A PCG named {name} exists for another cloud type. Choose another name."
                    ),
                ));
            }
            tracing::info!(pcg = %name, "PCG exists already; reusing it");
            return Ok(self.pcg_status_of(&conn, &o, false, Vec::new()));
        }
        let registered = palette
            .custom_cloud_type(CLOUD_TYPE)
            .await
            .map_err(|e| palette_error("Reading Palette's cloud types failed", e))?;
        if registered.is_none() {
            return Err(IpcError::new(
                ErrorCode::InvalidInput,
                "The nutanix cloud type is not registered in Palette yet. Finish step 1 first: a Nutanix PCG needs it.",
            )
            .with_details(json!({"blockedBy": "cloud_type"})));
        }
        let params = PcgSelfHostedParams {
            name: name.clone(),
            cloud_type: CLOUD_TYPE.into(),
        };
        let (uid, commands, created) = match palette.create_self_hosted_pcg(&params).await {
            Ok(made) => (made.overlord_uid, made.kubectl_commands, true),
            // Made meanwhile under the same name (another window): use that one.
            Err(PaletteError::Api {
                kind: ApiErrorKind::Conflict,
                ..
            }) => (None, Vec::new(), false),
            Err(e) => return Err(palette_error("Creating the PCG failed", e)),
        };
        let overlord = match uid {
            Some(uid) => palette.overlord(&uid).await.map(Some),
            None => palette.overlord_by_name(&name).await,
        }
        .map_err(|e| palette_error("Reading the new PCG failed", e))?
        .ok_or_else(|| {
            IpcError::new(
                ErrorCode::Upstream,
                format!("Palette did not return the PCG {name} it created. Refresh the workflow to find it."),
            )
        })?;
        tracing::info!(pcg = %name, created, "PCG ready for its kubectl commands");
        Ok(self.pcg_status_of(&conn, &overlord, created, commands))
    }

    pub async fn pcg_status(&self, uid: &str) -> Result<PcgStatus, IpcError> {
        let (conn, palette) = self.tenant_palette().await?;
        let overlord = palette.overlord(uid).await.map_err(|e| {
            if e.is_not_found() {
                not_found(uid)
            } else {
                palette_error("Reading the PCG's status failed", e)
            }
        })?;
        Ok(self.pcg_status_of(&conn, &overlord, false, Vec::new()))
    }

    pub async fn pcg_apply(&self, request: PcgApplyRequest) -> Result<PcgApplyResult, IpcError> {
        let (conn, palette) = self.tenant_palette().await?;
        let overlord = palette.overlord(&request.uid).await.map_err(|e| {
            if e.is_not_found() {
                not_found(&request.uid)
            } else {
                palette_error("Reading the PCG failed", e)
            }
        })?;
        let commands = overlord.status.kubectl_commands.clone();
        if commands.is_empty() {
            return Err(IpcError::new(
                ErrorCode::Upstream,
                "Palette lists no kubectl commands for this PCG. Open it in Palette (Tenant Settings → Private Cloud Gateways) to see them.",
            ));
        }
        let simulated = request.context == SIMULATED_CONTEXT;
        if simulated && !self.sandbox_active() {
            return Err(invalid(
                "context",
                "The simulated host cluster exists only in the sandbox. Choose a context of your kubeconfig.",
            ));
        }
        let kubectl = if simulated {
            None
        } else {
            let kubectl = self.kubectl_path().ok_or_else(|| {
                invalid(
                    "kubectl",
                    "kubectl was not found on PATH. Install kubectl and try again, or copy the commands and run them \
                     on a machine that reaches the host cluster, in the order shown.",
                )
            })?;
            let known = self.kube_contexts().await?;
            if !known
                .contexts
                .iter()
                .any(|c| !c.simulated && c.name == request.context)
            {
                return Err(invalid(
                    "context",
                    &format!(
                        "There is no context \"{}\" in {}. Pick one of the listed contexts.",
                        request.context,
                        if known.files.is_empty() {
                            "the kubeconfig".to_owned()
                        } else {
                            known.files.join(", ")
                        }
                    ),
                ));
            }
            Some(kubectl)
        };
        let kubeconfig = self.kubeconfig_override();
        let mut results = Vec::new();
        for command in &commands {
            let Some(service) = manifest_service(command) else {
                results.push(AppliedCommand {
                    command: command.clone(),
                    ok: false,
                    output: "Capstan cannot run this command itself; copy it and run it against the host cluster."
                        .into(),
                });
                break;
            };
            // The manifest URL is the credential: fetched here, never shown or logged.
            let manifest = match palette.pcg_manifest(&request.uid, service).await {
                Ok(m) => m,
                Err(e) => {
                    results.push(AppliedCommand {
                        command: command.clone(),
                        ok: false,
                        output: format!(
                            "The {service} manifest could not be fetched from Palette: {e}"
                        ),
                    });
                    break;
                }
            };
            let (ok, output) = match &kubectl {
                None => (
                    true,
                    format!(
                        "The sandbox's simulated host cluster applied the {service} manifest ({} lines).",
                        manifest.lines().count()
                    ),
                ),
                Some(kubectl) => {
                    kubectl_apply(kubectl, kubeconfig.as_ref(), &request.context, manifest).await
                }
            };
            tracing::info!(pcg = %request.uid, service, ok, context = %request.context, "PCG manifest applied");
            results.push(AppliedCommand {
                command: command.clone(),
                ok,
                output,
            });
            // The commands build on each other: stop at the first failure.
            if !ok {
                break;
            }
        }
        let after = palette.overlord(&request.uid).await.unwrap_or(overlord);
        Ok(PcgApplyResult {
            results,
            status: self.pcg_status_of(&conn, &after, false, Vec::new()),
        })
    }

    /// The IPC status of a PCG, with the pending time and advice.
    fn pcg_status_of(
        &self,
        conn: &crate::connection::Connection,
        o: &Overlord,
        created: bool,
        commands_from_create: Vec<String>,
    ) -> PcgStatus {
        let uid = o.metadata.uid.clone().unwrap_or_default();
        let state = o.status.state.clone().unwrap_or_else(|| "Unknown".into());
        let running = o.is_running();
        let key = (self.inner.environments.active_id(), uid.clone());
        let pending_seconds = if running {
            self.inner.workflow.first_seen.lock().remove(&key);
            None
        } else {
            let now = OffsetDateTime::now_utc();
            let seen = *self
                .inner
                .workflow
                .first_seen
                .lock()
                .entry(key)
                .or_insert(now);
            // The creation time covers a restart of Capstan; first sight covers clock skew.
            let created_at = o
                .metadata
                .creation_timestamp
                .as_deref()
                .and_then(super::parse_rfc3339)
                .filter(|t| *t <= now);
            let since = created_at.map_or(seen, |c| c.min(seen));
            let real = (now - since).as_seconds_f64().max(0.0);
            // The sandbox's lifecycles run on its scaled clock: report its seconds.
            let scale = if self.sandbox_active() {
                self.inner.environments.sandbox_time_scale()
            } else {
                1.0
            };
            Some((real / scale.max(f64::MIN_POSITIVE)) as u64)
        };
        let health = o.status.health.as_ref();
        let conditions = health
            .and_then(|h| h.get("conditions"))
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|c| PcgCondition {
                        kind: c
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        message: c
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let too_long = pending_seconds.is_some_and(|s| s > PENDING_TOO_LONG_SECS);
        let advice = if too_long {
            advice(&conn.palette.address, self.sandbox_active())
        } else {
            Vec::new()
        };
        let kubectl_commands = if o.status.kubectl_commands.is_empty() {
            commands_from_create
        } else {
            o.status.kubectl_commands.clone()
        };
        PcgStatus {
            uid,
            name: o.metadata.name.clone().unwrap_or_default(),
            state,
            running,
            kubectl_commands,
            created,
            pending_seconds,
            health: health_field(health, "state").map(str::to_owned),
            agent_version: health_field(health, "agentVersion").map(str::to_owned),
            last_heartbeat: health_field(health, "lastHeartBeatTimestamp").map(str::to_owned),
            conditions,
            advice,
        }
    }
}

/// What to check when a PCG stays Pending, most likely cause first.
fn advice(palette_address: &str, sandbox: bool) -> Vec<String> {
    let host = capstan_common::Endpoint::parse(palette_address, 443)
        .map(|e| e.host)
        .unwrap_or_else(|_| palette_address.to_owned());
    let mut out = vec![
        "Both kubectl commands must have been applied to the host cluster, in the order shown.".to_owned(),
        format!(
            "The host cluster must reach Palette ({host}) on port 443: from a node, `curl -sv https://{host}` must connect (check firewalls and DNS)."
        ),
        "Look at the PCG's pods: `kubectl get pods -A` on the host cluster; pods that are not Running explain \
         themselves in `kubectl describe pod <name> -n <namespace>` and `kubectl logs`."
            .to_owned(),
        "ImagePullBackOff or ErrImagePull means the nodes cannot pull the PCG images (gcr.io/spectro-images-public, \
         or your registry mirror): check registry access and credentials."
            .to_owned(),
        "If the host cluster reaches the internet through a proxy, the PCG needs it too: set HTTPS_PROXY and NO_PROXY \
         (with the cluster's service and pod ranges) for its pods."
            .to_owned(),
        "The host cluster needs at least 4 vCPU, 4 GB RAM and 60 GB disk free; pods stuck Pending mean it lacks room."
            .to_owned(),
    ];
    if sandbox {
        out.insert(
            0,
            "In the sandbox, apply the commands to the simulated context capstan-sandbox-host."
                .to_owned(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_comes_from_the_manifest_url() {
        assert_eq!(
            manifest_service("kubectl apply -f https://p:443/v1/pcg/abc/services/ally/manifest"),
            Some("ally")
        );
        assert_eq!(
            manifest_service(
                "kubectl apply -f \"https://p/v1/pcg/abc/services/jet/manifest?token=x\""
            ),
            Some("jet")
        );
        assert_eq!(manifest_service("kubectl create namespace x"), None);
    }
}
