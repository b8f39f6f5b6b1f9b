//! "Test connection" for Prism Central.

use base64::Engine;
use capstan_http::{HttpResponse, TlsPolicy, TransportError};
use capstan_prism::{ClusterRole, CurrentUser, PrismAuth, PrismClient, PrismConfig, PrismError};

use crate::model::{Diagnosis, Recorder, Service, Step, StepData, StepKind};
use crate::net::{self, DiagnoseOptions, Target};
use crate::version::{PcVersion, VersionRequirement};

const ROLE: &str = "Prism Central";
const USERS_ME: &str = "/api/nutanix/v3/users/me";
const PLAN: [StepKind; 8] = [
    StepKind::Address,
    StepKind::Dns,
    StepKind::Tcp,
    StepKind::Tls,
    StepKind::Http,
    StepKind::Auth,
    StepKind::Product,
    StepKind::Version,
];

/// What to test.
#[derive(Debug, Clone)]
pub struct PrismTarget {
    /// What the user typed: `pc.example.com`, `https://10.0.0.5:9440/`, ...
    pub address: String,
    /// The separate port field, if any (default 9440). A port in `address` wins.
    pub port: Option<u16>,
    pub auth: PrismAuth,
    pub tls: TlsPolicy,
    /// Explicit proxy URL; `None` connects directly (environment proxies are ignored so
    /// that the DNS and TCP checks describe the path actually used).
    pub proxy: Option<String>,
    /// The Prism Central version the workflow needs; `None` only reports the version.
    pub requirement: Option<VersionRequirement>,
}

/// Runs every check in order and stops at the first hard failure.
pub async fn diagnose_prism(input: PrismTarget) -> Diagnosis {
    diagnose_prism_with(input, DiagnoseOptions::default()).await
}

/// [`diagnose_prism`] with explicit time limits.
pub async fn diagnose_prism_with(input: PrismTarget, options: DiagnoseOptions) -> Diagnosis {
    let secrets = secrets_of(&input.auth);
    let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let mut rec = Recorder::new();
    let target_text = match run(&input, &options, &mut rec).await {
        Some(t) => t,
        None => input.address.trim().to_owned(),
    };
    rec.finish(Service::PrismCentral, target_text, &PLAN, &secret_refs)
}

fn secrets_of(auth: &PrismAuth) -> Vec<String> {
    match auth {
        PrismAuth::Basic { username, password } => {
            let b64 = base64::engine::general_purpose::STANDARD
                .encode(format!("{username}:{}", password.expose()));
            vec![password.expose().to_owned(), b64]
        }
        PrismAuth::ApiKey(k) => vec![k.expose().to_owned()],
    }
}

/// Returns the normalised target once the address parsed.
async fn run(input: &PrismTarget, options: &DiagnoseOptions, rec: &mut Recorder) -> Option<String> {
    let (target, step) = match net::address_step(
        &input.address,
        input.port,
        capstan_prism::DEFAULT_PORT,
        ROLE,
    ) {
        Ok(ok) => ok,
        Err(step) => {
            rec.push(*step);
            return None;
        }
    };
    rec.push(step);
    let base = target.endpoint.base_url();
    let Some(unauth) = net::transport_steps(
        &target,
        &input.tls,
        input.proxy.as_deref(),
        options,
        rec,
        USERS_ME,
        ROLE,
    )
    .await
    else {
        return Some(base);
    };
    let mut env_header = unauth.header("x-ntnx-env").map(str::to_owned);
    let mut product_header = unauth.header("x-ntnx-product").map(str::to_owned);

    // ---- auth -------------------------------------------------------------------------
    let client = match net::http_client(
        &input.tls,
        input.proxy.as_deref(),
        "prism-central diagnosis",
        options,
    ) {
        Ok(c) => c,
        Err(e) => {
            rec.push(
                Step::fail(
                    StepKind::Auth,
                    "client_setup_failed",
                    "The HTTP client could not be set up",
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
    let url = format!("{base}{USERS_ME}");
    let resp = match &input.auth {
        PrismAuth::Basic { username, password } => {
            net::get(&client, &url, &[], Some((username, password.expose()))).await
        }
        PrismAuth::ApiKey(key) => {
            net::get(&client, &url, &[("X-ntnx-api-key", key.expose())], None).await
        }
    };
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            rec.push(transport_failure(StepKind::Auth, &e));
            return Some(base);
        }
    };
    if let Some(v) = resp.header("x-ntnx-env") {
        env_header = Some(v.to_owned());
    }
    if let Some(v) = resp.header("x-ntnx-product") {
        product_header = Some(v.to_owned());
    }
    match auth_step(&resp, &input.auth) {
        AuthVerdict::Ok(step) => {
            rec.push(step);
        }
        AuthVerdict::Failed(step) => {
            rec.push(step);
            return Some(base);
        }
        AuthVerdict::NotPrism(step) => {
            rec.push(
                Step::warn(
                    StepKind::Auth,
                    "auth_unverified",
                    "The credentials could not be checked",
                )
                .detail("The server's answer was not a Prism user record, so nothing can be said about the credentials."),
            );
            rec.push(step);
            return Some(base);
        }
    }

    // ---- product ----------------------------------------------------------------------
    let version = match product_step(input, &target, options, env_header, product_header, rec).await
    {
        Some(v) => v,
        None => return Some(base),
    };

    // ---- version ----------------------------------------------------------------------
    rec.push(version_step(version.as_deref(), input.requirement.as_ref()));
    Some(base)
}

fn missing_credentials(auth: &PrismAuth) -> Option<Step> {
    let missing = match auth {
        PrismAuth::Basic { username, password } => {
            if username.trim().is_empty() {
                Some("user name")
            } else if password.is_empty() {
                Some("password")
            } else {
                None
            }
        }
        PrismAuth::ApiKey(k) => k.is_empty().then_some("API key"),
    }?;
    Some(
        Step::fail(
            StepKind::Auth,
            "auth_missing",
            format!("No {missing} was entered"),
        )
        .fix(format!("Enter the Prism Central {missing}.")),
    )
}

enum AuthVerdict {
    Ok(Step),
    Failed(Step),
    /// The server is not a Prism API (the product step, already failed).
    NotPrism(Step),
}

fn auth_step(resp: &HttpResponse, auth: &PrismAuth) -> AuthVerdict {
    let status = resp.status.as_u16();
    let body_json = net::json_body(&resp.body);
    let what = match auth {
        PrismAuth::Basic { username, .. } => format!("the user \"{username}\""),
        PrismAuth::ApiKey(_) => "the API key".to_owned(),
    };
    match status {
        200..=299 => match serde_json::from_slice::<CurrentUser>(&resp.body)
            .ok()
            .filter(|_| body_json.as_ref().is_some_and(serde_json::Value::is_object))
        {
            Some(user) => {
                let name = user.username().map(str::to_owned);
                AuthVerdict::Ok(
                    Step::pass(
                        StepKind::Auth,
                        "auth_ok",
                        format!(
                            "Signed in as {}",
                            name.as_deref().unwrap_or("the given account")
                        ),
                    )
                    .data(StepData::User {
                        name,
                        organization: None,
                    }),
                )
            }
            None => AuthVerdict::NotPrism(not_nutanix(
                resp,
                &format!("{USERS_ME} answered {status} but not with a Prism user record"),
            )),
        },
        401 => {
            let (kind, said) = match &body_json {
                Some(v) => {
                    let first = v.get("message_list").and_then(|l| l.get(0));
                    let text = |k: &str| {
                        first
                            .and_then(|m| m.get(k))
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let parts: Vec<String> = [text("reason"), text("message"), text("details")]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect();
                    ("a JSON error", parts.join(" / "))
                }
                None if resp.body.iter().all(u8::is_ascii_whitespace) => {
                    ("an empty body", String::new())
                }
                None => ("a non-JSON body", net::excerpt(&resp.body)),
            };
            let fix = match auth {
                PrismAuth::Basic { .. } => "Check the user name and password (log in to the Prism Central web console with them to confirm). Directory (AD/LDAP) users are written user@domain; make sure the account is not locked or its password expired.",
                PrismAuth::ApiKey(_) => "Check the API key: it may have been revoked or have expired, or belong to another Prism Central. Create a new key for the service account if needed.",
            };
            AuthVerdict::Failed(
                Step::fail(StepKind::Auth, "auth_rejected", "Prism Central rejected the credentials")
                    .detail(format!(
                        "HTTP 401 for {what} with {kind}{}.",
                        if said.is_empty() {
                            String::new()
                        } else {
                            format!(": {said}")
                        }
                    ))
                    .fix(fix),
            )
        }
        403 => AuthVerdict::Failed(
            Step::fail(StepKind::Auth, "auth_forbidden", "The account is not allowed to use the API")
                .detail(format!(
                    "HTTP 403 for {what}: the credentials are valid but lack permission ({}).",
                    net::excerpt(&resp.body)
                ))
                .fix("Give the account the Prism Admin role in Prism Central (Palette and CAPX need to create and delete VMs, categories and read inventory), or use an account that has it."),
        ),
        404 => AuthVerdict::NotPrism(not_nutanix(
            resp,
            &format!("{USERS_ME} does not exist on this server (HTTP 404)"),
        )),
        s if s >= 500 => AuthVerdict::Failed(
            Step::fail(StepKind::Auth, "server_error", format!("Prism Central failed with HTTP {s}"))
                .detail(net::excerpt(&resp.body))
                .fix("Try again in a few minutes; if it persists, check Prism Central's health."),
        ),
        s => AuthVerdict::Failed(
            Step::fail(StepKind::Auth, "auth_unexpected_status", format!("Unexpected HTTP {s} when signing in"))
                .detail(net::excerpt(&resp.body))
                .fix("Check that the address points at Prism Central (port 9440)."),
        ),
    }
}

fn not_nutanix(resp: &HttpResponse, what: &str) -> Step {
    let html = net::looks_like_html(resp);
    Step::fail(
        StepKind::Product,
        "not_nutanix_api",
        "This is not a Prism Central API",
    )
    .detail(format!(
        "{what}{}.",
        if html {
            "; the server returned a web page"
        } else {
            ""
        }
    ))
    .fix("Check the address and port: Prism Central's API is at https://<prism-central>:9440.")
    .data(StepData::Product {
        product: "unknown".into(),
        env_header: resp.header("x-ntnx-env").map(str::to_owned),
        product_header: resp.header("x-ntnx-product").map(str::to_owned),
        clusters: Vec::new(),
    })
}

fn transport_failure(kind: StepKind, e: &TransportError) -> Step {
    Step::fail(kind, e.code(), "The request failed")
        .detail(e.to_string())
        .fix(
            "Try again; if it persists, check the network between this computer and Prism Central.",
        )
}

/// Returns `Some(version)` when the product is Prism Central (the step passed).
async fn product_step(
    input: &PrismTarget,
    target: &Target,
    options: &DiagnoseOptions,
    env_header: Option<String>,
    product_header: Option<String>,
    rec: &mut Recorder,
) -> Option<Option<String>> {
    let base = target.endpoint.base_url();
    let mut config = PrismConfig::new(base.clone(), input.auth.clone());
    config.http = net::http_config(
        &input.tls,
        input.proxy.as_deref(),
        "prism-central diagnosis",
        options,
    );
    let client = match PrismClient::new(config) {
        Ok(c) => c,
        Err(e) => {
            rec.push(
                Step::fail(
                    StepKind::Product,
                    e.code(),
                    "The Prism client could not be set up",
                )
                .detail(e.to_string()),
            );
            return None;
        }
    };
    let data = |product: &str, clusters: Vec<String>| StepData::Product {
        product: product.to_owned(),
        env_header: env_header.clone(),
        product_header: product_header.clone(),
        clusters,
    };
    if env_header
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("pe"))
    {
        let clusters = pe_cluster_names(&client).await;
        rec.push(prism_element_step(
            target,
            "it identifies itself as a Prism Element (X-Ntnx-Env: pe)",
            data("prism_element", clusters),
        ));
        return None;
    }
    match client.prism_central().await {
        Ok(info) => {
            let version = info
                .resources
                .version
                .clone()
                .or_else(|| product_header.clone());
            rec.push(
                Step::pass(
                    StepKind::Product,
                    "product_prism_central",
                    "This is Prism Central",
                )
                .detail(format!(
                    "GET /prism_central answered{}.",
                    version
                        .as_deref()
                        .map(|v| format!(" with version {v}"))
                        .unwrap_or_default()
                ))
                .data(data("prism_central", Vec::new())),
            );
            Some(version)
        }
        Err(PrismError::NotFound { .. }) => {
            let clusters = pe_cluster_names(&client).await;
            rec.push(prism_element_step(
                target,
                "it has no /prism_central endpoint (HTTP 404), which only Prism Central serves",
                data("prism_element", clusters),
            ));
            None
        }
        Err(e) => {
            // Fall back to the inventory: only Prism Central lists itself as a cluster with
            // the PRISM_CENTRAL service.
            match client.list_clusters(None).await {
                Ok(clusters) => {
                    let has_pc = clusters
                        .iter()
                        .any(|c| c.role() == ClusterRole::PrismCentral);
                    let pes: Vec<String> = clusters
                        .iter()
                        .filter(|c| c.is_prism_element())
                        .filter_map(|c| c.name().map(str::to_owned))
                        .collect();
                    if has_pc {
                        rec.push(
                            Step::pass(StepKind::Product, "product_prism_central", "This is Prism Central")
                                .detail(format!(
                                    "clusters/list contains the PRISM_CENTRAL entity (GET /prism_central failed: {}).",
                                    e.code()
                                ))
                                .data(data("prism_central", pes)),
                        );
                        Some(product_header.clone())
                    } else {
                        rec.push(prism_element_step(
                            target,
                            "its clusters/list has no PRISM_CENTRAL entity",
                            data("prism_element", pes),
                        ));
                        None
                    }
                }
                Err(e2) => {
                    rec.push(
                        Step::warn(StepKind::Product, "product_unconfirmed", "Could not confirm that this is Prism Central")
                            .detail(format!(
                                "GET /prism_central failed ({e}) and so did clusters/list ({e2})."
                            ))
                            .fix("Check that the account may read clusters (Prism Admin role) and that the address is Prism Central's."),
                    );
                    Some(product_header.clone())
                }
            }
        }
    }
}

async fn pe_cluster_names(client: &PrismClient) -> Vec<String> {
    match client.list_clusters(None).await {
        Ok(list) => list
            .iter()
            .filter(|c| c.is_prism_element())
            .filter_map(|c| c.name().map(str::to_owned))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn prism_element_step(target: &Target, why: &str, data: StepData) -> Step {
    let cluster = match &data {
        StepData::Product { clusters, .. } if !clusters.is_empty() => {
            format!(" (cluster {})", clusters.join(", "))
        }
        _ => String::new(),
    };
    Step::fail(
        StepKind::Product,
        "product_prism_element",
        "This is a Prism Element, not Prism Central",
    )
    .detail(format!(
        "{} is a Prism Element{cluster}: {why}. Palette and CAPX talk to Prism Central, which manages one or more Prism Elements.",
        target.endpoint.base_url()
    ))
    .fix(format!(
        "Find the Prism Central address: open this Prism Element's web console (https://{}:{}), where the Home dashboard's Prism Central widget (or Settings → Prism Central Registration) shows the Prism Central it is registered to. Enter that address here.",
        target.endpoint.host, target.endpoint.port
    ))
    .data(data)
}

fn version_step(found: Option<&str>, requirement: Option<&VersionRequirement>) -> Step {
    let Some(found_text) = found else {
        return Step::warn(StepKind::Version, "version_unknown", "Prism Central did not report its version")
            .detail("Neither GET /prism_central nor the X-Ntnx-Product header gave a version.")
            .fix("Check the version in Prism Central (Settings → Upgrade Prism Central / LCM) against the CAPX compatibility table.")
            .data(StepData::Version { found: None, minimum: None, capx_line: None });
    };
    let parsed = PcVersion::parse(found_text);
    let resolved = requirement.map(VersionRequirement::resolve);
    let (minimum, capx_line) = match &resolved {
        Some(Ok((min, line))) => (Some(min.canonical()), line.map(str::to_owned)),
        _ => (None, None),
    };
    let data = StepData::Version {
        found: Some(found_text.to_owned()),
        minimum: minimum.clone(),
        capx_line: capx_line.clone(),
    };
    let needs = match (&minimum, &capx_line) {
        (Some(m), Some(l)) => format!("{m}, the minimum for CAPX {l}"),
        (Some(m), None) => format!("the required minimum {m}"),
        _ => String::new(),
    };
    let step = match (parsed, resolved) {
        (Err(e), _) => Step::warn(StepKind::Version, "version_unparsed", format!("Prism Central reports version \"{found_text}\", which could not be compared"))
            .detail(e.to_string())
            .fix("Check the version against the CAPX compatibility table by hand."),
        (Ok(v), None) => Step::pass(StepKind::Version, "version_reported", format!("Prism Central {v}"))
            .detail("No minimum version was given for this workflow."),
        (Ok(_), Some(Err(e))) => Step::warn(StepKind::Version, "version_requirement_invalid", "The required minimum version is not valid")
            .detail(e.to_string()),
        (Ok(v), Some(Ok((min, _)))) if v >= min => Step::pass(
            StepKind::Version,
            "version_ok",
            format!("Prism Central {v} meets {needs}"),
        ),
        (Ok(v), Some(Ok(_))) => Step::fail(
            StepKind::Version,
            "version_too_old",
            format!("Prism Central {v} is older than {needs}"),
        )
        .detail(format!(
            "This Prism Central runs {v}; the workflow needs {needs}. (Calendar versions pc.2021–pc.2024 came before 7.x.)"
        ))
        .fix("Upgrade Prism Central (Life Cycle Manager) to at least the minimum, or choose a Palette/CAPX version whose CAPX line supports this Prism Central."),
    };
    step.data(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;
    use crate::version::CapxLine;

    #[test]
    fn version_verdicts() {
        let req = VersionRequirement::CapxLine {
            line: CapxLine::V1_8,
        };
        let s = version_step(Some("pc.2024.3.1.1"), Some(&req));
        assert_eq!(
            (s.outcome, s.code.as_str()),
            (Outcome::Fail, "version_too_old")
        );
        assert!(
            s.title.contains("7.3") && s.title.contains("1.8.x"),
            "{}",
            s.title
        );
        let s = version_step(Some("7.3.0.2"), Some(&req));
        assert_eq!((s.outcome, s.code.as_str()), (Outcome::Pass, "version_ok"));
        let s = version_step(Some("master"), Some(&req));
        assert_eq!(s.outcome, Outcome::Warn);
        let s = version_step(None, Some(&req));
        assert_eq!(s.code, "version_unknown");
        let s = version_step(Some("pc.2024.1"), None);
        assert_eq!(s.code, "version_reported");
    }
}
