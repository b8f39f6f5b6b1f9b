//! "Test connection" for Palette.

use capstan_http::{HttpResponse, TlsPolicy};
use capstan_palette::{ApiErrorKind, PaletteAuth, PaletteClient, PaletteConfig, PaletteError};

use crate::model::{Diagnosis, Recorder, Service, Step, StepData, StepKind};
use crate::net::{self, DiagnoseOptions, Target};

const USERS_INFO: &str = "/v1/users/info";
const SAAS_CONSOLE: &str = "console.spectrocloud.com";
const SAAS_API: &str = "api.spectrocloud.com";
const PLAN: [StepKind; 8] = [
    StepKind::Address,
    StepKind::Dns,
    StepKind::Tcp,
    StepKind::Tls,
    StepKind::Http,
    StepKind::Product,
    StepKind::Auth,
    StepKind::Projects,
];

/// What to test.
#[derive(Debug, Clone)]
pub struct PaletteTarget {
    /// What the user typed: `https://api.spectrocloud.com`, `palette.example.com`, ...
    pub url: String,
    /// An API key (the normal case), a tenant user, a JWT, or the system-console admin.
    pub auth: PaletteAuth,
    /// The project the workflow will use (name or uid), to check the key can see it.
    pub project: Option<String>,
    pub tls: TlsPolicy,
    /// Explicit proxy URL; `None` connects directly.
    pub proxy: Option<String>,
}

pub async fn diagnose_palette(input: PaletteTarget) -> Diagnosis {
    diagnose_palette_with(input, DiagnoseOptions::default()).await
}

pub async fn diagnose_palette_with(input: PaletteTarget, options: DiagnoseOptions) -> Diagnosis {
    let secrets: Vec<String> = match &input.auth {
        PaletteAuth::ApiKey(s) | PaletteAuth::Token(s) => vec![s.expose().to_owned()],
        PaletteAuth::User { password, .. } | PaletteAuth::SystemAdmin { password, .. } => {
            vec![password.expose().to_owned()]
        }
    };
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let mut rec = Recorder::new();
    let target = run(&input, &options, &mut rec)
        .await
        .unwrap_or_else(|| input.url.trim().to_owned());
    rec.finish(Service::Palette, target, &PLAN, &refs)
}

async fn run(
    input: &PaletteTarget,
    options: &DiagnoseOptions,
    rec: &mut Recorder,
) -> Option<String> {
    let (target, step) = match net::address_step(&input.url, None, 443, "Palette") {
        Ok(ok) => ok,
        Err(step) => {
            rec.push(*step);
            return None;
        }
    };
    let base = target.endpoint.base_url();
    if target.endpoint.host == SAAS_CONSOLE {
        rec.push(
            Step::fail(
                StepKind::Address,
                "palette_console_url",
                "This is the Palette console (web UI), not the API",
            )
            .detail(format!(
                "{SAAS_CONSOLE} serves the Palette SaaS web console; the API is served at {SAAS_API}."
            ))
            .fix(format!("Enter https://{SAAS_API} as the Palette API URL."))
            .data(step.data.clone().unwrap_or(StepData::Address {
                normalized: base.clone(),
                scheme: target.endpoint.scheme.clone(),
                host: target.endpoint.host.clone(),
                port: target.endpoint.port,
                ip_literal: false,
            })),
        );
        return Some(base);
    }
    rec.push(step);
    let Some(unauth) = net::transport_steps(
        &target,
        &input.tls,
        input.proxy.as_deref(),
        options,
        rec,
        USERS_INFO,
        "Palette",
    )
    .await
    else {
        return Some(base);
    };
    if !rec.push(product_step(&unauth, &target)) {
        return Some(base);
    }

    let mut config = PaletteConfig::new(base.clone(), input.auth.clone());
    config.http = net::http_config(
        &input.tls,
        input.proxy.as_deref(),
        "palette diagnosis",
        options,
    );
    let client = match PaletteClient::new(config) {
        Ok(c) => c,
        Err(e) => {
            rec.push(
                Step::fail(
                    StepKind::Auth,
                    e.code(),
                    "The Palette client could not be set up",
                )
                .detail(e.to_string()),
            );
            return Some(base);
        }
    };
    if let Some(step) = missing_credentials(&input.auth) {
        rec.push(step);
        return Some(base);
    }
    if !rec.push(auth_step(&client, &input.auth).await) {
        return Some(base);
    }
    if matches!(input.auth, PaletteAuth::SystemAdmin { .. }) {
        rec.skip(
            StepKind::Projects,
            "projects_not_applicable",
            "A system-console login manages the Palette installation, not a tenant's projects; test the tenant API key separately.",
        );
    } else {
        rec.push(projects_step(&client, input.project.as_deref()).await);
    }
    Some(base)
}

/// Judges the unauthenticated `GET /v1/users/info`: Palette answers 401 with its JSON
/// error; a web page or a 404 means this is not the API.
fn product_step(resp: &HttpResponse, target: &Target) -> Step {
    let status = resp.status.as_u16();
    let json = net::json_body(&resp.body);
    let palette_error = json
        .as_ref()
        .is_some_and(|v| v.get("code").is_some() || v.get("message").is_some());
    let data = |product: &str| StepData::Product {
        product: product.to_owned(),
        env_header: None,
        product_header: None,
        clusters: Vec::new(),
    };
    if (status == 401 || status == 403) && palette_error {
        return Step::pass(StepKind::Product, "product_palette", "This is a Palette API")
            .detail(format!(
                "{USERS_INFO} without credentials answered {status} with Palette's JSON error, as expected."
            ))
            .data(data("palette"));
    }
    if (200..300).contains(&status) && json.as_ref().is_some_and(|v| v.get("userUid").is_some()) {
        return Step::pass(
            StepKind::Product,
            "product_palette",
            "This is a Palette API",
        )
        .detail(format!("{USERS_INFO} answered with a user record."))
        .data(data("palette"));
    }
    if (status == 401 || status == 403) && json.is_none() && !net::looks_like_html(resp) {
        // A gateway in front of Palette may strip the body; the credentials step decides.
        return Step::warn(
            StepKind::Product,
            "product_unconfirmed",
            "Could not confirm this is Palette",
        )
        .detail(format!(
            "{USERS_INFO} answered {status} without Palette's JSON error body."
        ))
        .data(data("unknown"));
    }
    let found = if net::looks_like_html(resp) {
        format!("{USERS_INFO} answered {status} with a web page (HTML), not JSON")
    } else if status == 404 {
        format!("{USERS_INFO} does not exist here (HTTP 404)")
    } else {
        format!(
            "{USERS_INFO} answered {status} with something that is not Palette's API ({})",
            net::excerpt(&resp.body)
        )
    };
    let host = &target.endpoint.host;
    let fix = if host.starts_with("console.") {
        format!(
            "This looks like a console (web UI) address. Enter the API URL instead: for Palette SaaS that is https://{SAAS_API}; for a self-hosted Palette, the API may be on a different host than {host} — ask its administrator."
        )
    } else {
        format!(
            "Enter the Palette API URL: for Palette SaaS that is https://{SAAS_API} (the console is https://{SAAS_CONSOLE}); for a self-hosted Palette or VerteX, the address of the installation, without any path."
        )
    };
    Step::fail(
        StepKind::Product,
        "not_palette_api",
        "This is not a Palette API endpoint",
    )
    .detail(format!("{found}."))
    .fix(fix)
    .data(data("unknown"))
}

fn missing_credentials(auth: &PaletteAuth) -> Option<Step> {
    let missing = match auth {
        PaletteAuth::ApiKey(k) => k.is_empty().then_some("API key"),
        PaletteAuth::Token(t) => t.is_empty().then_some("token"),
        PaletteAuth::User {
            email, password, ..
        } => {
            if email.trim().is_empty() {
                Some("email address")
            } else if password.is_empty() {
                Some("password")
            } else {
                None
            }
        }
        PaletteAuth::SystemAdmin { username, password } => {
            if username.trim().is_empty() {
                Some("system admin user name")
            } else if password.is_empty() {
                Some("system admin password")
            } else {
                None
            }
        }
    }?;
    Some(
        Step::fail(
            StepKind::Auth,
            "auth_missing",
            format!("No {missing} was entered"),
        )
        .fix(format!("Enter the Palette {missing}.")),
    )
}

async fn auth_step(client: &PaletteClient, auth: &PaletteAuth) -> Step {
    match auth {
        PaletteAuth::SystemAdmin { username, .. } => {
            if let Err(e) = client.authenticate().await {
                return auth_failure(&e, auth, "/v1/auth/syslogin");
            }
            match client.system_user_me().await {
                Ok(me) => {
                    let admin_type = me.spec.admin_type.clone();
                    Step::pass(
                        StepKind::Auth,
                        "auth_ok",
                        format!(
                            "Signed in to the system console as {username}{}",
                            admin_type
                                .as_deref()
                                .map(|t| format!(" ({t})"))
                                .unwrap_or_default()
                        ),
                    )
                    .data(StepData::User {
                        name: me.metadata.name.clone().or_else(|| Some(username.clone())),
                        organization: admin_type,
                    })
                }
                Err(e) => auth_failure(&e, auth, "/v1/system/users/me"),
            }
        }
        _ => {
            if !matches!(auth, PaletteAuth::ApiKey(_))
                && let Err(e) = client.authenticate().await
            {
                return auth_failure(&e, auth, "/v1/auth/authenticate");
            }
            match client.users_info().await {
                Ok(info) if info.user_uid.is_some() || info.tenant_uid.is_some() => {
                    let org = info.org_name.clone();
                    Step::pass(
                        StepKind::Auth,
                        "auth_ok",
                        format!(
                            "The credentials work{}",
                            org.as_deref()
                                .map(|o| format!(" (organization {o})"))
                                .unwrap_or_default()
                        ),
                    )
                    .detail(format!(
                        "User {} in tenant {}.",
                        info.user_uid.as_deref().unwrap_or("?"),
                        info.tenant_uid.as_deref().unwrap_or("?")
                    ))
                    .data(StepData::User {
                        name: info.user_uid.clone(),
                        organization: org,
                    })
                }
                Ok(_) => Step::fail(
                    StepKind::Auth,
                    "auth_unexpected_response",
                    "The server's answer is not a Palette user",
                )
                .detail(format!(
                    "{USERS_INFO} answered without userUid or tenantUid."
                ))
                .fix("Check that the URL is the Palette API's."),
                Err(e) => auth_failure(&e, auth, USERS_INFO),
            }
        }
    }
}

fn auth_failure(e: &PaletteError, auth: &PaletteAuth, path: &str) -> Step {
    let what = match auth {
        PaletteAuth::ApiKey(_) => "API key",
        PaletteAuth::Token(_) => "token",
        PaletteAuth::User { .. } => "email and password",
        PaletteAuth::SystemAdmin { .. } => "system admin user name and password",
    };
    match e {
        PaletteError::Api { kind: ApiErrorKind::Unauthorized, message, .. } => {
            let fix = match auth {
                PaletteAuth::ApiKey(_) => "Check the API key (Palette → your profile → My API Keys): it may have been revoked or have expired, or belong to another Palette tenant or installation. Create a new key if needed.",
                PaletteAuth::Token(_) => "The token has expired (they last 15 minutes) or is not valid here; log in again or use an API key.",
                PaletteAuth::User { .. } => "Check the email and password (and the organization, for multi-tenant Palette); log in to the Palette console with them to confirm.",
                PaletteAuth::SystemAdmin { .. } => "Check the system console user name (usually admin) and password; log in to the system console (https://<palette>/system) with them to confirm.",
            };
            Step::fail(StepKind::Auth, "auth_rejected", format!("Palette rejected the {what}"))
                .detail(format!("HTTP 401 on {path}: {message}."))
                .fix(fix)
        }
        PaletteError::Api { kind: ApiErrorKind::Forbidden, message, .. } => {
            let fix = if path == "/v1/system/users/me" {
                "The login worked but is not a system-console login; use the system admin account of the self-hosted Palette."
            } else {
                "Use an API key of a user with the Tenant Admin role (cloud accounts and gateways are tenant-scoped)."
            };
            Step::fail(StepKind::Auth, "auth_forbidden", format!("The {what} is valid but not allowed"))
                .detail(format!("HTTP 403 on {path}: {message}."))
                .fix(fix)
        }
        PaletteError::Api { kind: ApiErrorKind::NotFound, .. } if path == "/v1/auth/syslogin" => Step::fail(
            StepKind::Auth,
            "syslogin_unavailable",
            "This Palette has no system console login",
        )
        .detail("POST /v1/auth/syslogin does not exist here (HTTP 404). Palette SaaS has no system console; only self-hosted Palette and VerteX do.")
        .fix("Registering a custom cloud type needs a self-hosted Palette's system admin; on SaaS, ask Spectro Cloud support to register it."),
        PaletteError::InvalidResponse { reason } => Step::fail(
            StepKind::Auth,
            "auth_unexpected_response",
            "The server's answer could not be read as Palette's",
        )
        .detail(reason.clone())
        .fix("Check that the URL is the Palette API's."),
        other => Step::fail(StepKind::Auth, other.code(), "Checking the credentials failed")
            .detail(other.to_string())
            .fix("Try again; if it persists, check the network and Palette's status."),
    }
}

async fn projects_step(client: &PaletteClient, wanted: Option<&str>) -> Step {
    match client.projects(None).await {
        Ok(projects) => {
            let pairs: Vec<(String, String)> = projects
                .iter()
                .map(|p| {
                    (
                        p.metadata.name.clone().unwrap_or_default(),
                        p.metadata.uid.clone().unwrap_or_default(),
                    )
                })
                .collect();
            let names: Vec<String> = pairs.iter().map(|(n, _)| n.clone()).collect();
            let selected = wanted.and_then(|w| {
                let w = w.trim();
                pairs
                    .iter()
                    .find(|(n, u)| n == w || u == w)
                    .or_else(|| pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(w)))
                    .map(|(n, _)| n.clone())
            });
            let data = StepData::Projects {
                names: names.clone(),
                uids: pairs.iter().map(|(_, u)| u.clone()).collect(),
                selected: selected.clone(),
            };
            if names.is_empty() {
                return Step::warn(StepKind::Projects, "projects_none", "These credentials see no projects")
                    .detail("GET /v1/dashboard/projects/metadata returned an empty list.")
                    .fix("Add the user (or the API key's owner) to the project the clusters will live in, or use a tenant admin's key.")
                    .data(data);
            }
            match (wanted, selected) {
                (Some(w), None) => Step::fail(
                    StepKind::Projects,
                    "project_not_found",
                    format!("The project \"{w}\" is not visible with these credentials"),
                )
                .detail(format!("Visible projects: {}.", names.join(", ")))
                .fix("Pick one of the visible projects, or give the key's owner access to the project.")
                .data(data),
                (_, Some(sel)) => Step::pass(
                    StepKind::Projects,
                    "projects_ok",
                    format!("Project \"{sel}\" is available ({} project(s) visible)", names.len()),
                )
                .detail(format!("Visible projects: {}.", names.join(", ")))
                .data(data),
                (None, None) => Step::pass(
                    StepKind::Projects,
                    "projects_ok",
                    format!("{} project(s) visible: {}", names.len(), names.join(", ")),
                )
                .data(data),
            }
        }
        Err(PaletteError::Api {
            kind: ApiErrorKind::Forbidden,
            message,
            ..
        }) => Step::warn(
            StepKind::Projects,
            "projects_forbidden",
            "These credentials may not list projects",
        )
        .detail(format!("HTTP 403: {message}."))
        .fix("Use a key of a user who can see the project the clusters will use."),
        Err(e) => Step::warn(
            StepKind::Projects,
            e.code(),
            "The project list could not be read",
        )
        .detail(e.to_string()),
    }
}
