//! Palette diagnosis against the sandbox (HTTPS, self-signed) and small local fakes.

mod common;

use axum::Router;
use axum::routing::get;
use capstan_common::Secret;
use capstan_diagnose::{
    Outcome, PaletteAuth, PaletteTarget, StepData, StepKind, TlsPolicy, diagnose_palette,
};
use common::*;

fn target(
    sb: &capstan_sandbox::Sandbox,
    auth: PaletteAuth,
    project: Option<&str>,
) -> PaletteTarget {
    PaletteTarget {
        url: sb.palette_url(),
        auth,
        project: project.map(str::to_owned),
        tls: TlsPolicy::Pinned {
            sha256_hex: sb.certificate_sha256().expect("tls sandbox"),
        },
        proxy: None,
    }
}

#[tokio::test]
async fn a_good_key_passes_and_lists_the_projects() {
    let sb = sandbox().await;
    let d = diagnose_palette(target(
        &sb,
        PaletteAuth::ApiKey(sb.palette_api_key().clone()),
        None,
    ))
    .await;
    assert_eq!(d.verdict, Outcome::Pass, "{}", pretty(&d));
    assert_step(&d, StepKind::Product, Outcome::Pass, "product_palette");
    let auth = assert_step(&d, StepKind::Auth, Outcome::Pass, "auth_ok");
    assert!(matches!(auth.data, Some(StepData::User { .. })));
    let p = assert_step(&d, StepKind::Projects, Outcome::Pass, "projects_ok");
    let Some(StepData::Projects { names, .. }) = &p.data else {
        panic!("projects data: {}", pretty(&d));
    };
    assert!(
        names.contains(&"Default".to_owned()) && names.contains(&"Production".to_owned()),
        "{names:?}"
    );
    assert!(p.title.contains("Production"), "{}", p.title);
    let json = serde_json::to_string(&d).expect("json");
    assert!(!json.contains(sb.palette_api_key().expose()), "{json}");
    sb.shutdown().await;
}

#[tokio::test]
async fn the_chosen_project_must_be_visible() {
    let sb = sandbox().await;
    let key = PaletteAuth::ApiKey(sb.palette_api_key().clone());
    let d = diagnose_palette(target(&sb, key.clone(), Some("production"))).await;
    let p = assert_step(&d, StepKind::Projects, Outcome::Pass, "projects_ok");
    assert!(
        matches!(&p.data, Some(StepData::Projects { selected: Some(s), .. }) if s == "Production")
    );

    let d = diagnose_palette(target(&sb, key, Some("Staging"))).await;
    let p = assert_step(&d, StepKind::Projects, Outcome::Fail, "project_not_found");
    assert!(
        p.detail.contains("Default") && p.detail.contains("Production"),
        "{}",
        p.detail
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_bad_key_is_rejected_and_never_shown() {
    let sb = sandbox().await;
    let planted = "planted-api-key-7c1e";
    let d = diagnose_palette(target(&sb, PaletteAuth::ApiKey(Secret::new(planted)), None)).await;
    let a = assert_step(&d, StepKind::Auth, Outcome::Fail, "auth_rejected");
    assert!(a.fix.contains("My API Keys"), "{}", a.fix);
    assert_rest_skipped(&d, StepKind::Auth);
    let json = serde_json::to_string(&d).expect("json");
    assert!(!json.contains(planted), "{json}");
    sb.shutdown().await;
}

#[tokio::test]
async fn system_trust_fails_on_the_self_signed_palette() {
    let sb = sandbox().await;
    let mut t = target(&sb, PaletteAuth::ApiKey(sb.palette_api_key().clone()), None);
    t.tls = TlsPolicy::System;
    let d = diagnose_palette(t).await;
    let tls = assert_step(&d, StepKind::Tls, Outcome::Fail, "tls_self_signed");
    assert!(tls.fix.contains("Palette"), "{}", tls.fix);
    sb.shutdown().await;
}

#[tokio::test]
async fn system_admin_login_is_checked_and_projects_do_not_apply() {
    let sb = sandbox().await;
    let good = PaletteAuth::SystemAdmin {
        username: sb.palette_system_user().to_owned(),
        password: sb.palette_password().clone(),
    };
    let d = diagnose_palette(target(&sb, good, None)).await;
    let a = assert_step(&d, StepKind::Auth, Outcome::Pass, "auth_ok");
    assert!(a.title.contains("system console"), "{}", a.title);
    assert_step(
        &d,
        StepKind::Projects,
        Outcome::Skipped,
        "projects_not_applicable",
    );
    assert_eq!(d.verdict, Outcome::Pass, "{}", pretty(&d));

    let planted = "planted-sys-password-41";
    let bad = PaletteAuth::SystemAdmin {
        username: sb.palette_system_user().to_owned(),
        password: Secret::new(planted),
    };
    let d = diagnose_palette(target(&sb, bad, None)).await;
    assert_step(&d, StepKind::Auth, Outcome::Fail, "auth_rejected");
    assert!(!serde_json::to_string(&d).expect("json").contains(planted));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_tenant_user_login_works() {
    let sb = sandbox().await;
    let user = PaletteAuth::User {
        email: sb.palette_email().to_owned(),
        password: sb.palette_password().clone(),
        org: None,
    };
    let d = diagnose_palette(target(&sb, user, Some("Default"))).await;
    assert_eq!(d.verdict, Outcome::Pass, "{}", pretty(&d));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_web_page_at_users_info_is_not_a_palette_api() {
    let router = Router::new().route(
        "/v1/users/info",
        get(|| async {
            (
                [("content-type", "text/html; charset=utf-8")],
                "<!doctype html><html><head><title>Palette</title></head><body><div id=root></div></body></html>",
            )
        }),
    );
    let addr = serve(router).await;
    let d = diagnose_palette(PaletteTarget {
        url: format!("http://{addr}"),
        auth: PaletteAuth::ApiKey(Secret::new("some-key-value")),
        project: None,
        tls: TlsPolicy::System,
        proxy: None,
    })
    .await;
    let p = assert_step(&d, StepKind::Product, Outcome::Fail, "not_palette_api");
    assert!(p.detail.contains("web page"), "{}", p.detail);
    assert!(p.fix.contains("api.spectrocloud.com"), "{}", p.fix);
    assert_step(
        &d,
        StepKind::Auth,
        Outcome::Skipped,
        "skipped_after_failure",
    );
}

#[tokio::test]
async fn a_server_without_the_palette_api_is_not_palette() {
    let addr = serve(Router::new().route("/", get(|| async { "ok" }))).await;
    let d = diagnose_palette(PaletteTarget {
        url: format!("http://{addr}/v1/"),
        auth: PaletteAuth::ApiKey(Secret::new("some-key-value")),
        project: None,
        tls: TlsPolicy::System,
        proxy: None,
    })
    .await;
    let p = assert_step(&d, StepKind::Product, Outcome::Fail, "not_palette_api");
    assert!(p.detail.contains("404"), "{}", p.detail);
}

#[tokio::test]
async fn the_saas_console_url_is_caught_without_any_network() {
    let d = diagnose_palette(PaletteTarget {
        url: "https://console.spectrocloud.com/projects".into(),
        auth: PaletteAuth::ApiKey(Secret::new("some-key-value")),
        project: None,
        tls: TlsPolicy::System,
        proxy: None,
    })
    .await;
    let a = assert_step(&d, StepKind::Address, Outcome::Fail, "palette_console_url");
    assert!(a.fix.contains("https://api.spectrocloud.com"), "{}", a.fix);
    assert_step(&d, StepKind::Dns, Outcome::Skipped, "skipped_after_failure");
}
