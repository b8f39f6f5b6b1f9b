//! Step 1: the `nutanix` custom cloud type. The plan builds Palette's three templates
//! (shipped for the CAPX line, or split and patched from the user's upstream template),
//! validates them, checks `infrastructure-components.yaml` and the logo, and compares all
//! of it with what Palette has. Registering sends only what is missing or differs, so a
//! re-run (or a retry after a failure half-way) changes nothing twice.

use std::future::Future;
use std::time::Duration;

use capstan_capx::CapxError;
use capstan_capx::components::{infrastructure_components_url, inspect_infrastructure_components};
use capstan_capx::split::{
    Change, ChangeAction, PaletteTemplates, SplitOptions, TemplateFile, apply_vertex,
    split_cluster_template,
};
use capstan_capx::templates::CapxLine;
use capstan_capx::validate::validate_templates;
use capstan_ipc::workflow::*;
use capstan_ipc::{ErrorCode, IpcError};
use capstan_palette::{
    ApiErrorKind, CloudCategory, CloudTypeComponent, CloudTypeTemplate, CustomCloudRequestEntity,
    CustomCloudSpecEntity, ObjectMetaInput, PaletteClient, PaletteError,
};
use serde_json::json;

use super::logo::{self, CheckedLogo};
use super::{CLOUD_TYPE, palette_error};
use crate::Engine;
use crate::connection::invalid;

/// The keys registered when the user names none (palette-api.md §2.2 row 11).
pub(crate) const DEFAULT_ACCOUNT_KEYS: [&str; 5] = [
    "NUTANIX_USER",
    "NUTANIX_PASSWORD",
    "NUTANIX_ENDPOINT",
    "NUTANIX_PORT",
    "NUTANIX_INSECURE",
];
const COMPONENTS_FILE: &str = "infrastructure-components.yaml";

/// Everything the plan decided locally, plus what Palette has (after [`compare`]).
struct Planned {
    plan: CloudTypePlan,
    /// `(template, yaml)` in upload order.
    templates: Vec<(CloudTypeTemplate, String)>,
    components: Option<String>,
    keys: Vec<String>,
    logo: Option<CheckedLogo>,
    /// Local problems that stop an upload (Palette's side is added by `compare`).
    local_blockers: Vec<String>,
    palette: Option<PaletteSide>,
}

/// What Palette has for the cloud type.
#[derive(Default)]
struct PaletteSide {
    registered: bool,
    templates: Vec<Option<String>>,
    components: Option<String>,
    keys: Vec<String>,
    logo: Option<Vec<u8>>,
}

fn palette_template(file: TemplateFile) -> CloudTypeTemplate {
    match file {
        TemplateFile::CloudCluster => CloudTypeTemplate::ClusterTemplate,
        TemplateFile::ControlPlanePool => CloudTypeTemplate::ControlPlanePoolTemplate,
        TemplateFile::WorkerPool => CloudTypeTemplate::WorkerPoolTemplate,
    }
}

fn short(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        format!("{}…", one_line.chars().take(79).collect::<String>())
    } else {
        one_line
    }
}

/// One split/patch change in words, for the list beside the diff.
fn describe(change: &Change) -> String {
    let path = if change.path.is_empty() {
        String::new()
    } else {
        format!(" {}", change.path)
    };
    match change.action {
        ChangeAction::KeptObject => format!("kept {}", change.object),
        ChangeAction::RemovedField => format!(
            "removed {}{path} ({})",
            change.object,
            short(change.before.as_deref().unwrap_or(""))
        ),
        ChangeAction::SetField => match &change.before {
            Some(before) => format!(
                "set {}{path} to {} (was {})",
                change.object,
                short(change.after.as_deref().unwrap_or("")),
                short(before)
            ),
            None => format!(
                "set {}{path} to {}",
                change.object,
                short(change.after.as_deref().unwrap_or(""))
            ),
        },
        ChangeAction::AppendedItem => format!(
            "added {} to {}{path}",
            short(change.after.as_deref().unwrap_or("")),
            change.object
        ),
    }
}

fn finding(severity: Severity, code: &str, message: String, location: Option<String>) -> Finding {
    Finding {
        severity,
        code: code.to_owned(),
        message,
        location,
    }
}

fn capx_invalid(field: &str, what: &str, e: &CapxError) -> IpcError {
    let message = format!("{what}: {e}.");
    IpcError::new(ErrorCode::InvalidInput, message.clone()).with_details(json!({
        "field": field,
        "code": e.code(),
        "blockers": [message],
    }))
}

/// The templates, findings, components, logo and key checks: everything that needs no Palette.
fn plan_locally(input: &CloudTypeInput) -> Result<Planned, IpcError> {
    let version = input.capx_version.trim();
    let download_url = infrastructure_components_url(version)
        .map_err(|e| capx_invalid("capxVersion", "The CAPX version is not usable", &e))?;
    let options = SplitOptions {
        vertex: input.vertex,
    };

    // The three templates and what was done to them.
    let (templates, original, changes, mut extra): (
        PaletteTemplates,
        String,
        Vec<Change>,
        Vec<Finding>,
    ) = match input.source {
        TemplateSource::Shipped => {
            let line = CapxLine::for_version(version).map_err(|e| {
                capx_invalid(
                    "capxVersion",
                    "Capstan has no shipped templates for this version",
                    &e,
                )
            })?;
            let mut templates = line.templates();
            let mut changes = Vec::new();
            if input.vertex {
                for file in [TemplateFile::ControlPlanePool, TemplateFile::WorkerPool] {
                    let (yaml, made) = apply_vertex(templates.get(file), file).map_err(|e| {
                        capx_invalid("vertex", "The VerteX kubelet flag could not be added", &e)
                    })?;
                    match file {
                        TemplateFile::ControlPlanePool => templates.control_plane_pool = yaml,
                        _ => templates.worker_pool = yaml,
                    }
                    changes.extend(made);
                }
            }
            let note = finding(
                Severity::Info,
                "shipped_templates",
                format!(
                    "Capstan's own templates for CAPX {} (checked against {}).",
                    line.as_str(),
                    line.reference_release()
                ),
                None,
            );
            (templates, String::new(), changes, vec![note])
        }
        TemplateSource::Upstream => {
            let text = input
                .cluster_template
                .as_deref()
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| {
                    invalid(
                        "clusterTemplate",
                        "Paste or choose the cluster-template.yaml of your CAPX release, or use Capstan's shipped templates.",
                    )
                })?;
            let (templates, report) = split_cluster_template(text, &options).map_err(|e| {
                capx_invalid(
                    "clusterTemplate",
                    "The cluster template cannot be turned into Palette's templates",
                    &e,
                )
            })?;
            let mut notes: Vec<Finding> = report
                .dropped
                .iter()
                .map(|d| {
                    finding(
                        Severity::Info,
                        "object_dropped",
                        format!("{} is not used: {}.", d.object, d.reason),
                        Some("cluster-template.yaml".into()),
                    )
                })
                .collect();
            notes.extend(report.notes.iter().map(|n| {
                finding(
                    Severity::Warning,
                    "split_note",
                    n.clone(),
                    Some("cluster-template.yaml".into()),
                )
            }));
            (templates, text.to_owned(), report.changes, notes)
        }
    };

    // Palette's rules, across the three files.
    let problems = validate_templates(&templates);
    let mut local_blockers = Vec::new();
    let mut planned_templates = Vec::new();
    let mut uploads = Vec::new();
    for file in TemplateFile::ALL {
        let name = file.palette_template_name();
        let mut findings: Vec<Finding> = problems
            .iter()
            .filter(|p| p.file == file)
            .map(|p| {
                finding(
                    Severity::Error,
                    p.code,
                    p.message.clone(),
                    Some(match p.line {
                        Some(line) => format!("{}:{line}", file.file_name()),
                        None => file.file_name().to_owned(),
                    }),
                )
            })
            .collect();
        if file == TemplateFile::CloudCluster {
            findings.append(&mut extra);
        }
        local_blockers.extend(
            findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| format!("{name}: {}", f.message)),
        );
        let mine: Vec<String> = changes
            .iter()
            .filter(|c| c.file == file)
            .map(describe)
            .collect();
        let yaml = templates.get(file).to_owned();
        uploads.push((palette_template(file), yaml.clone()));
        planned_templates.push(PlannedTemplate {
            name: name.to_owned(),
            file_name: file.file_name().to_owned(),
            yaml,
            original: original.clone(),
            changes: mine,
            findings,
            registered: None,
            differs_from_registered: true,
        });
    }

    // infrastructure-components.yaml: what it claims to be, for the version chosen.
    let components = input
        .infrastructure_components
        .as_deref()
        .filter(|t| !t.trim().is_empty());
    let mut components_check = ComponentsCheck {
        download_url,
        provided: components.is_some(),
        declared_version: None,
        findings: Vec::new(),
    };
    if let Some(text) = components {
        match inspect_infrastructure_components(text, Some(version)) {
            Ok(info) => {
                components_check.declared_version = Some(info.version.clone());
                components_check.findings.push(finding(
                    Severity::Info,
                    "components_ok",
                    format!(
                        "CAPX {} with the Nutanix CRDs {}.",
                        info.version,
                        info.crds.join(", ")
                    ),
                    Some(COMPONENTS_FILE.into()),
                ));
            }
            Err(e) => {
                if let CapxError::ComponentsVersionMismatch { found, .. } = &e {
                    components_check.declared_version = Some(found.clone());
                }
                components_check.findings.push(finding(
                    Severity::Error,
                    e.code(),
                    format!("{e}."),
                    Some(COMPONENTS_FILE.into()),
                ));
                local_blockers.push(format!("{COMPONENTS_FILE}: {e}."));
            }
        }
    }

    // The logo.
    let (logo_findings, logo) = match &input.logo {
        Some(l) => logo::check(l),
        None => (Vec::new(), None),
    };
    local_blockers.extend(
        logo_findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("logo: {}", f.message)),
    );

    // Cloud account keys: what the account form of step 3 will ask for.
    let keys: Vec<String> = match &input.account_keys {
        Some(keys) => keys.iter().map(|k| k.trim().to_owned()).collect(),
        None => DEFAULT_ACCOUNT_KEYS.map(String::from).to_vec(),
    };
    if keys.is_empty() {
        local_blockers.push(
            "cloud account keys: name at least one (NUTANIX_USER, NUTANIX_PASSWORD, ...).".into(),
        );
    }
    for (i, key) in keys.iter().enumerate() {
        let well_formed = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            local_blockers.push(format!(
                "cloud account key \"{key}\": use capital letters, digits and _ (e.g. NUTANIX_USER), as the templates' ${{VARIABLES}} do."
            ));
        } else if keys[..i].contains(key) {
            local_blockers.push(format!("cloud account key {key} is listed twice."));
        }
    }

    Ok(Planned {
        plan: CloudTypePlan {
            capx_version: version.to_owned(),
            templates: planned_templates,
            components: components_check,
            logo_findings,
            registered: false,
            changes_needed: Vec::new(),
            blockers: Vec::new(),
        },
        templates: uploads,
        components: components.map(str::to_owned),
        keys,
        logo,
        local_blockers,
        palette: None,
    })
}

/// `Ok(None)` for a 404 (not uploaded yet).
fn absent_ok<T>(r: Result<T, PaletteError>) -> Result<Option<T>, PaletteError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads what Palette has for the cloud type.
async fn read_palette(client: &PaletteClient) -> Result<PaletteSide, PaletteError> {
    if client.custom_cloud_type(CLOUD_TYPE).await?.is_none() {
        return Ok(PaletteSide::default());
    }
    let template = |t| client.cloud_type_template(CLOUD_TYPE, t);
    let (cluster, cp, worker, components, keys, logo) = tokio::join!(
        template(CloudTypeTemplate::ClusterTemplate),
        template(CloudTypeTemplate::ControlPlanePoolTemplate),
        template(CloudTypeTemplate::WorkerPoolTemplate),
        client.cloud_type_component(CLOUD_TYPE, CloudTypeComponent::CloudProvider),
        client.cloud_account_keys(CLOUD_TYPE),
        client.cloud_type_logo(CLOUD_TYPE),
    );
    Ok(PaletteSide {
        registered: true,
        templates: vec![absent_ok(cluster)?, absent_ok(cp)?, absent_ok(worker)?],
        components: absent_ok(components)?,
        keys: absent_ok(keys)?.unwrap_or_default(),
        logo: absent_ok(logo)?.map(|b| b.to_vec()),
    })
}

fn same_text(a: &str, b: &str) -> bool {
    a.trim_end() == b.trim_end()
}

fn same_keys(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

impl Planned {
    /// Fills what differs from Palette, what would change, and the blockers.
    fn compare(&mut self, side: Option<PaletteSide>, unreadable: Option<String>) {
        let plan = &mut self.plan;
        plan.changes_needed.clear();
        plan.blockers = self.local_blockers.clone();
        if let Some(why) = unreadable {
            plan.changes_needed.push(format!(
                "Palette could not be read ({why}); what differs is unknown, so everything would be uploaded."
            ));
        }
        let side = side.unwrap_or_default();
        plan.registered = side.registered;
        if !side.registered {
            plan.changes_needed
                .push(format!("register the {CLOUD_TYPE} cloud type"));
        }
        if self.logo.is_some() && logo_differs(self.logo.as_ref(), &side) {
            plan.changes_needed.push("upload the logo".into());
        }
        match &self.components {
            Some(text) => {
                if side
                    .components
                    .as_deref()
                    .is_none_or(|c| !same_text(c, text))
                {
                    plan.changes_needed
                        .push(format!("upload {COMPONENTS_FILE}"));
                }
            }
            None if side.components.is_none() => plan.blockers.push(format!(
                "{COMPONENTS_FILE} is required: download it from {} and add it.",
                plan.components.download_url
            )),
            None => plan.components.findings.push(finding(
                Severity::Info,
                "components_kept",
                format!("Palette keeps the {COMPONENTS_FILE} it has."),
                Some(COMPONENTS_FILE.into()),
            )),
        }
        for (i, planned) in plan.templates.iter_mut().enumerate() {
            planned.registered = side.templates.get(i).cloned().flatten();
            planned.differs_from_registered = planned
                .registered
                .as_deref()
                .is_none_or(|r| !same_text(r, &planned.yaml));
            if planned.differs_from_registered {
                plan.changes_needed.push(match planned.registered {
                    Some(_) => format!("update {} (it differs from Palette's)", planned.name),
                    None => format!("upload {}", planned.name),
                });
            }
        }
        if !same_keys(&self.keys, &side.keys) {
            plan.changes_needed.push(format!(
                "set the cloud account keys to {}",
                self.keys.join(", ")
            ));
        }
        self.palette = Some(side);
    }
}

fn logo_differs(mine: Option<&CheckedLogo>, side: &PaletteSide) -> bool {
    match (mine, &side.logo) {
        (Some(mine), Some(theirs)) => mine.bytes != *theirs,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// An idempotent upload (a PUT), tried once more after a server error or a lost answer.
async fn put_twice<F, Fut>(what: &str, put: F) -> Result<(), IpcError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), PaletteError>>,
{
    match put().await {
        Ok(()) => Ok(()),
        Err(
            e @ (PaletteError::Transport(_)
            | PaletteError::Api {
                kind: ApiErrorKind::Server,
                ..
            }),
        ) => {
            tracing::info!(
                code = e.code(),
                "{what} failed; sending the same upload again"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
            put().await.map_err(|e| palette_error(what, e))
        }
        Err(e) => Err(palette_error(what, e)),
    }
}

impl Engine {
    pub async fn cloud_type_plan(&self, input: CloudTypeInput) -> Result<CloudTypePlan, IpcError> {
        let mut planned = plan_locally(&input)?;
        let conn = match self.connection().await {
            Ok(conn) => conn,
            Err(e) => {
                planned.compare(None, Some(e.message));
                return Ok(planned.plan);
            }
        };
        // The system console reads everything; the API key is enough to compare otherwise.
        let client = match self.palette_system_admin(&conn).await {
            Ok(c) => Ok(c),
            Err(_) => super::api_client(&conn),
        };
        match client {
            Ok(client) => match read_palette(&client).await {
                Ok(side) => planned.compare(Some(side), None),
                Err(e) => planned.compare(None, Some(e.to_string())),
            },
            Err(e) => planned.compare(None, Some(e.message)),
        }
        Ok(planned.plan)
    }

    pub async fn cloud_type_register(
        &self,
        input: CloudTypeInput,
    ) -> Result<CloudTypeResult, IpcError> {
        let mut planned = plan_locally(&input)?;
        let conn = self.connection().await?;
        let sys = self.palette_system_admin(&conn).await?;
        let side = read_palette(&sys)
            .await
            .map_err(|e| palette_error("Reading the Nutanix cloud type from Palette", e))?;
        planned.compare(Some(side), None);
        if !planned.plan.blockers.is_empty() {
            let count = planned.plan.blockers.len();
            return Err(IpcError::new(
                ErrorCode::InvalidInput,
                format!(
                    "Nothing was uploaded: {count} problem{} would make Palette reject the cloud type. {}",
                    if count == 1 { "" } else { "s" },
                    planned.plan.blockers[0]
                ),
            )
            .with_details(json!({ "blockers": planned.plan.blockers })));
        }
        let side = planned.palette.take().unwrap_or_default();
        let mut actions = Vec::new();

        if side.registered {
            actions.push(format!("The cloud type {CLOUD_TYPE} is registered already"));
        } else {
            let entity = CustomCloudRequestEntity {
                metadata: ObjectMetaInput::named(CLOUD_TYPE),
                spec: CustomCloudSpecEntity {
                    display_name: "Nutanix".into(),
                    cloud_category: Some(CloudCategory::Datacenter),
                    ..Default::default()
                },
            };
            match sys.register_cloud_type(&entity).await {
                Ok(_) => actions.push(format!("Registered the cloud type {CLOUD_TYPE}")),
                // Registered meanwhile (another window, another user): use it.
                Err(PaletteError::Api {
                    kind: ApiErrorKind::Conflict,
                    ..
                }) => actions.push(format!(
                    "The cloud type {CLOUD_TYPE} was registered meanwhile"
                )),
                Err(e) => {
                    return Err(palette_error(
                        "Registering the Nutanix cloud type failed",
                        e,
                    ));
                }
            }
        }

        if let Some(logo) = &planned.logo {
            if logo_differs(Some(logo), &side) {
                put_twice("Uploading the logo failed", || {
                    sys.upload_cloud_type_logo(
                        CLOUD_TYPE,
                        &logo.file_name,
                        logo.bytes.clone().into(),
                    )
                })
                .await?;
                actions.push("Uploaded the logo".into());
            } else {
                actions.push("The logo is unchanged".into());
            }
        }
        if let Some(text) = &planned.components {
            if side
                .components
                .as_deref()
                .is_none_or(|c| !same_text(c, text))
            {
                put_twice("Uploading infrastructure-components.yaml failed", || {
                    sys.upload_cloud_type_component(
                        CLOUD_TYPE,
                        CloudTypeComponent::CloudProvider,
                        COMPONENTS_FILE,
                        text.clone(),
                    )
                })
                .await?;
                actions.push(format!("Uploaded {COMPONENTS_FILE}"));
            } else {
                actions.push(format!("{COMPONENTS_FILE} is unchanged"));
            }
        }
        for (i, (template, yaml)) in planned.templates.iter().enumerate() {
            let name = template.path_segment();
            let file_name = planned.plan.templates[i].file_name.clone();
            if planned.plan.templates[i].differs_from_registered {
                put_twice(&format!("Uploading {name} failed"), || {
                    sys.upload_cloud_type_template(CLOUD_TYPE, *template, &file_name, yaml.clone())
                })
                .await?;
                actions.push(format!("Uploaded {name}"));
            } else {
                actions.push(format!("{name} is unchanged"));
            }
        }
        if same_keys(&planned.keys, &side.keys) {
            actions.push("The cloud account keys are unchanged".into());
        } else {
            put_twice("Setting the cloud account keys failed", || {
                sys.put_cloud_account_keys(CLOUD_TYPE, &planned.keys)
            })
            .await?;
            actions.push(format!(
                "Set the cloud account keys ({})",
                planned.keys.join(", ")
            ));
        }
        tracing::info!(actions = ?actions, "Nutanix cloud type registered or updated");

        // What Palette has now, so the page shows "nothing differs".
        let mut after = plan_locally(&input)?;
        match read_palette(&sys).await {
            Ok(side) => after.compare(Some(side), None),
            Err(e) => after.compare(None, Some(e.to_string())),
        }
        Ok(CloudTypeResult {
            actions,
            plan: after.plan,
        })
    }
}
