//! The workflow commands through the dispatcher, against the embedded sandbox: the live
//! state of a fresh sandbox, steps 1–3 in order with the state following, re-runs that
//! change nothing, faults and retries that leave exactly one of each object, the plan's
//! refusals (broken upstream templates, logos), kubeconfig contexts and `kubectl apply`
//! through a stand-in kubectl, the Prism Central credential check, and drafts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
mod support;

use capstan_engine::{Engine, NoEvents};
use capstan_ipc::ErrorCode;
use capstan_ipc::workflow::*;
use serde_json::{Value, json};
use support::{call, components, fails};

/// `tls: false` serves the sandbox over plain HTTP, so a test can reach its fault controls
/// directly; the app's default (HTTPS with the certificate pinned) is `tls: true`.
fn engine_with(home: &Path, tls: bool) -> Engine {
    let mut config = support::config(home, 20);
    config.sandbox.tls = tls;
    Engine::new(config, Arc::new(NoEvents))
}

fn engine(home: &Path) -> Engine {
    engine_with(home, false)
}

async fn started(home: &Path) -> Engine {
    let engine = engine(home);
    engine.start().await;
    engine
}

async fn state(engine: &Engine) -> WorkflowState {
    call(engine, "workflow_state", json!({})).await
}

fn step(state: &WorkflowState, id: WorkflowStepId) -> &WorkflowStep {
    state
        .steps
        .iter()
        .find(|s| s.id == id)
        .expect("every step is listed")
}

fn status_of(state: &WorkflowState, id: WorkflowStepId) -> (StepStatus, Option<WorkflowStepId>) {
    let s = step(state, id);
    (s.status, s.blocked_by)
}

fn diagram_box(state: &WorkflowState, part: DiagramPart) -> &DiagramBox {
    state
        .diagram
        .iter()
        .find(|b| b.part == part)
        .expect("every part is drawn")
}

// ---- the sandbox's own controls (plain HTTP, no auth) ------------------------------------

fn palette_url(engine: &Engine) -> String {
    engine
        .status()
        .environment
        .palette_url
        .expect("the sandbox is running")
}

async fn add_fault(engine: &Engine, rule: Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/__sandbox/faults/rules", palette_url(engine)))
        .json(&rule)
        .send()
        .await
        .expect("fault control");
    assert!(r.status().is_success(), "fault rule refused: {rule}");
}

/// Every counted rule fired as often as it may: the faults really happened.
async fn assert_faults_fired(engine: &Engine) {
    let config: Value = reqwest::Client::new()
        .get(format!("{}/__sandbox/faults", palette_url(engine)))
        .send()
        .await
        .expect("fault control")
        .json()
        .await
        .expect("fault config");
    for rule in config["rules"].as_array().expect("rules") {
        if let Some(count) = rule["count"].as_u64() {
            assert_eq!(rule["fired"].as_u64(), Some(count), "did not fire: {rule}");
        }
    }
}

async fn clear_faults(engine: &Engine) {
    reqwest::Client::new()
        .delete(format!("{}/__sandbox/faults", palette_url(engine)))
        .send()
        .await
        .expect("fault control");
}

// ---- step inputs -------------------------------------------------------------------------

fn png(width: u32, height: u32, size: usize) -> String {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0]);
    b.resize(size.max(b.len()), 0);
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn shipped(extra: Value) -> Value {
    let mut input = json!({
        "capxVersion": "v1.5.4",
        "source": "shipped",
        "infrastructureComponents": components("v1.5.4"),
        "logo": {"fileName": "nutanix.png", "base64": png(64, 64, 2048)},
    });
    if let (Some(base), Some(more)) = (input.as_object_mut(), extra.as_object()) {
        base.extend(more.clone());
    }
    input
}

async fn register(engine: &Engine) -> CloudTypeResult {
    call(engine, "cloud_type_register", shipped(json!({}))).await
}

async fn wait_running(engine: &Engine, uid: &str) -> PcgStatus {
    let started = Instant::now();
    loop {
        let status: PcgStatus = call(engine, "pcg_status", json!({"uid": uid})).await;
        if status.running {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "PCG still {} after 30 s",
            status.state
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn form(engine: &Engine) -> CloudAccountForm {
    call(engine, "cloud_account_form", json!({})).await
}

fn uploads(result: &CloudTypeResult) -> Vec<&String> {
    result
        .actions
        .iter()
        .filter(|a| {
            a.starts_with("Uploaded") || a.starts_with("Registered") || a.starts_with("Set ")
        })
        .collect()
}

// ---- the tests ---------------------------------------------------------------------------

#[tokio::test]
async fn a_fresh_sandbox_then_steps_one_to_three_with_the_state_following() {
    let home = tempfile::tempdir().unwrap();
    // As the app runs it: HTTPS, the sandbox's certificate pinned (Prism check included).
    let engine = engine_with(home.path(), true);
    engine.start().await;
    use StepStatus::*;
    use WorkflowStepId::*;

    // A fresh sandbox: nothing registered, everything after step 1 waits on something.
    let fresh = state(&engine).await;
    assert_eq!(fresh.problem, None);
    assert_eq!(fresh.environment_id, "sandbox");
    assert_eq!(status_of(&fresh, CloudType), (NotStarted, None));
    assert_eq!(status_of(&fresh, Pcg), (Blocked, Some(CloudType)));
    assert_eq!(status_of(&fresh, CloudAccount), (Blocked, Some(Pcg)));
    assert_eq!(status_of(&fresh, Profile), (Blocked, Some(CloudType)));
    assert_eq!(status_of(&fresh, Cluster), (Blocked, Some(CloudAccount)));
    assert_eq!(
        diagram_box(&fresh, DiagramPart::Palette).state,
        PartState::Ok
    );
    let pc = diagram_box(&fresh, DiagramPart::PrismCentral);
    assert_eq!(pc.state, PartState::Ok);
    assert!(
        pc.detail.iter().any(|d| d.starts_with("version ")),
        "{pc:?}"
    );
    let pe = diagram_box(&fresh, DiagramPart::PrismElement);
    assert!(
        pe.detail.iter().any(|n| n.starts_with("pe-cluster-")),
        "{pe:?}"
    );
    assert_eq!(
        diagram_box(&fresh, DiagramPart::Pcg).state,
        PartState::Absent
    );
    assert!(diagram_box(&fresh, DiagramPart::Pcg).steps.contains(&Pcg));

    // Step 1: the plan says what would happen, registering does it.
    let plan: CloudTypePlan = call(&engine, "cloud_type_plan", shipped(json!({}))).await;
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    assert!(!plan.registered);
    assert_eq!(plan.templates.len(), 3);
    assert!(
        plan.templates
            .iter()
            .all(|t| t.differs_from_registered && t.registered.is_none())
    );
    assert!(
        plan.changes_needed
            .iter()
            .any(|c| c.contains("register the nutanix")),
        "{:?}",
        plan.changes_needed
    );
    assert_eq!(
        plan.components.download_url,
        "https://github.com/nutanix-cloud-native/cluster-api-provider-nutanix/releases/download/v1.5.4/infrastructure-components.yaml"
    );
    assert_eq!(plan.components.declared_version.as_deref(), Some("v1.5.4"));
    let without_components: CloudTypePlan = call(
        &engine,
        "cloud_type_plan",
        shipped(json!({"infrastructureComponents": null})),
    )
    .await;
    assert!(
        without_components
            .blockers
            .iter()
            .any(|b| b.contains("infrastructure-components.yaml is required")),
        "{:?}",
        without_components.blockers
    );

    let done = register(&engine).await;
    assert_eq!(
        uploads(&done),
        [
            "Registered the cloud type nutanix",
            "Uploaded the logo",
            "Uploaded infrastructure-components.yaml",
            "Uploaded clusterTemplate",
            "Uploaded controlPlanePoolTemplate",
            "Uploaded workerPoolTemplate",
            "Set the cloud account keys (NUTANIX_USER, NUTANIX_PASSWORD, NUTANIX_ENDPOINT, NUTANIX_PORT, NUTANIX_INSECURE)",
        ]
    );
    assert!(done.plan.registered);
    assert!(
        done.plan.changes_needed.is_empty(),
        "{:?}",
        done.plan.changes_needed
    );
    assert!(
        done.plan
            .templates
            .iter()
            .all(|t| !t.differs_from_registered)
    );

    let after_one = state(&engine).await;
    assert_eq!(status_of(&after_one, CloudType), (Done, None));
    assert_eq!(status_of(&after_one, Pcg), (NotStarted, None));
    assert_eq!(status_of(&after_one, CloudAccount), (Blocked, Some(Pcg)));
    assert_eq!(status_of(&after_one, Profile), (NotStarted, None));

    // Re-running step 1 changes nothing.
    let again = register(&engine).await;
    assert!(uploads(&again).is_empty(), "{:?}", again.actions);
    assert!(
        again
            .actions
            .iter()
            .any(|a| a == "The cloud type nutanix is registered already")
    );

    // Step 3 before step 2: the form says why it is blocked.
    let early = form(&engine).await;
    assert!(
        early
            .blocked_reason
            .as_deref()
            .is_some_and(|r| r.contains("No PCG")),
        "{early:?}"
    );
    let keys: Vec<&str> = early.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "NUTANIX_USER",
            "NUTANIX_PASSWORD",
            "NUTANIX_ENDPOINT",
            "NUTANIX_PORT",
            "NUTANIX_INSECURE"
        ]
    );
    let field = |k: &str| early.fields.iter().find(|f| f.key == k).unwrap();
    assert!(field("NUTANIX_PASSWORD").secret && field("NUTANIX_PASSWORD").saved_secret_available);
    assert_eq!(field("NUTANIX_PASSWORD").value, None);
    assert_eq!(
        field("NUTANIX_ENDPOINT").value.as_deref(),
        Some("127.0.0.1")
    );
    let prism_port = engine
        .status()
        .environment
        .prism_url
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        field("NUTANIX_PORT").value.as_deref(),
        Some(prism_port.as_str())
    );
    assert_eq!(field("NUTANIX_INSECURE").value.as_deref(), Some("false"));
    assert!(field("NUTANIX_USER").value.is_some() && !field("NUTANIX_USER").secret);

    // Step 2: the PCG is created once, Pending until its manifests are applied.
    let pcg: PcgStatus = call(&engine, "pcg_create", json!({"name": "edge-pcg"})).await;
    assert!(pcg.created);
    assert_eq!(pcg.state, "Pending");
    assert_eq!(pcg.kubectl_commands.len(), 2);
    assert!(pcg.pending_seconds.is_some());
    let pending = state(&engine).await;
    assert_eq!(status_of(&pending, Pcg), (InProgress, None));
    assert_eq!(
        step(&pending, Pcg).object_uid.as_deref(),
        Some(pcg.uid.as_str())
    );
    assert_eq!(status_of(&pending, CloudAccount), (Blocked, Some(Pcg)));
    assert_eq!(
        diagram_box(&pending, DiagramPart::Pcg).state,
        PartState::Pending
    );
    let same: PcgStatus = call(&engine, "pcg_create", json!({"name": "edge-pcg"})).await;
    assert!(!same.created);
    assert_eq!(same.uid, pcg.uid);

    // An account cannot be added while the PCG is Pending.
    let early_account = fails(
        &engine,
        "cloud_account_create",
        json!({"name": "nutanix-lab", "pcgUid": pcg.uid, "values": {}}),
    )
    .await;
    assert_eq!(early_account.code, ErrorCode::InvalidInput);
    assert!(
        early_account.message.contains("Pending"),
        "{}",
        early_account.message
    );

    // Pending too long (5 demo minutes = 3 s at this time scale): advice on what to check.
    let started_waiting = Instant::now();
    let slow = loop {
        let s: PcgStatus = call(&engine, "pcg_status", json!({"uid": pcg.uid})).await;
        if !s.advice.is_empty() {
            break s;
        }
        assert!(
            started_waiting.elapsed() < Duration::from_secs(15),
            "no advice: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(slow.pending_seconds.unwrap() > 300, "{slow:?}");
    assert!(
        slow.advice.iter().any(|a| a.contains("443")),
        "{:?}",
        slow.advice
    );

    // Applied to the sandbox's simulated host cluster: the PCG comes up.
    let contexts: KubeContexts = call(&engine, "kube_contexts", json!({})).await;
    assert!(
        contexts
            .contexts
            .iter()
            .any(|c| c.name == "capstan-sandbox-host" && c.simulated)
    );
    let applied: PcgApplyResult = call(
        &engine,
        "pcg_apply",
        json!({"uid": pcg.uid, "context": "capstan-sandbox-host"}),
    )
    .await;
    assert_eq!(applied.results.len(), 2);
    assert!(
        applied.results.iter().all(|r| r.ok),
        "{:?}",
        applied.results
    );
    let running = wait_running(&engine, &pcg.uid).await;
    assert_eq!(running.pending_seconds, None);
    assert!(running.advice.is_empty());
    assert_eq!(running.health.as_deref(), Some("Healthy"));
    assert!(running.last_heartbeat.is_some());
    let after_two = state(&engine).await;
    assert_eq!(status_of(&after_two, Pcg), (Done, None));
    assert_eq!(status_of(&after_two, CloudAccount), (NotStarted, None));

    // Step 3: a wrong password stops at Prism Central, and nothing is created.
    let ready = form(&engine).await;
    assert_eq!(ready.blocked_reason, None);
    assert_eq!(ready.default_pcg.as_deref(), Some(pcg.uid.as_str()));
    let wrong = fails(
        &engine,
        "cloud_account_create",
        json!({"name": "nutanix-lab", "pcgUid": pcg.uid, "values": {"NUTANIX_PASSWORD": "not-the-password"}}),
    )
    .await;
    assert_eq!(wrong.code, ErrorCode::Unauthorized, "{}", wrong.message);
    assert!(
        wrong.message.contains("Nothing was created"),
        "{}",
        wrong.message
    );
    assert!(!wrong.message.contains("not-the-password"));
    assert!(form(&engine).await.existing.is_empty());

    // Blank password: the one saved in setup is used, checked, then the account is made.
    let account: CloudAccountResult = call(
        &engine,
        "cloud_account_create",
        json!({"name": "nutanix-lab", "pcgUid": pcg.uid, "values": {"NUTANIX_PASSWORD": ""}}),
    )
    .await;
    assert!(account.created);
    assert!(
        account.prism_check.contains("accepted"),
        "{}",
        account.prism_check
    );
    let kept: CloudAccountResult = call(
        &engine,
        "cloud_account_create",
        json!({"name": "nutanix-lab", "pcgUid": pcg.uid, "values": {}}),
    )
    .await;
    assert!(!kept.created);
    assert_eq!(kept.uid, account.uid);
    assert_eq!(form(&engine).await.existing.len(), 1);

    let after_three = state(&engine).await;
    assert_eq!(status_of(&after_three, CloudType), (Done, None));
    assert_eq!(status_of(&after_three, Pcg), (Done, None));
    assert_eq!(status_of(&after_three, CloudAccount), (Done, None));
    assert_eq!(
        step(&after_three, CloudAccount).object_uid.as_deref(),
        Some(account.uid.as_str())
    );
    assert_eq!(status_of(&after_three, Profile), (NotStarted, None));
    assert_eq!(status_of(&after_three, Cluster), (Blocked, Some(Profile)));
    assert!(after_three.steps.iter().all(|s| !s.has_draft));
    engine.shutdown().await;
}

#[tokio::test]
async fn faults_and_retries_leave_exactly_one_cloud_type_pcg_and_account() {
    let home = tempfile::tempdir().unwrap();
    let engine = started(home.path()).await;

    // Step 1: the register's answer is lost (it landed), a template upload fails once with
    // a 500, the keys are rate-limited once.
    add_fault(&engine, json!({"service": "palette", "method": "POST", "path": "/v1/clouds/cloudTypes/register", "kind": {"type": "drop_response"}, "count": 1})).await;
    add_fault(&engine, json!({"service": "palette", "method": "PUT", "path": "/v1/clouds/cloudTypes/nutanix/content/templates/clusterTemplate", "kind": {"type": "internal_error"}, "count": 1})).await;
    add_fault(&engine, json!({"service": "palette", "method": "PUT", "path": "/v1/clouds/cloudTypes/nutanix/cloudAccountKeys", "kind": {"type": "too_many_requests", "retry_after_secs": 1}, "count": 1})).await;
    let done = register(&engine).await;
    assert_faults_fired(&engine).await;
    assert!(
        done.actions
            .contains(&"Registered the cloud type nutanix".to_owned()),
        "{:?}",
        done.actions
    );
    assert!(
        done.plan.changes_needed.is_empty(),
        "{:?}",
        done.plan.changes_needed
    );

    // A worker template upload that keeps failing stops the run half-way; the re-run
    // finishes it and uploads only what is still missing.
    clear_faults(&engine).await;
    let changed = shipped(json!({"vertex": true}));
    add_fault(&engine, json!({"service": "palette", "method": "PUT", "path": "/v1/clouds/cloudTypes/nutanix/content/templates/workerPoolTemplate", "kind": {"type": "internal_error"}, "count": 2})).await;
    let stopped = fails(&engine, "cloud_type_register", changed.clone()).await;
    assert_eq!(stopped.code, ErrorCode::Upstream, "{}", stopped.message);
    assert!(
        stopped.message.contains("workerPoolTemplate"),
        "{}",
        stopped.message
    );
    assert_faults_fired(&engine).await;
    let resumed: CloudTypeResult = call(&engine, "cloud_type_register", changed).await;
    assert_eq!(
        uploads(&resumed),
        ["Uploaded workerPoolTemplate"],
        "{:?}",
        resumed.actions
    );
    assert!(
        resumed
            .actions
            .contains(&"controlPlanePoolTemplate is unchanged".to_owned())
    );

    // Step 2: a 500 on the create (checked, not there, sent again), then a lost answer.
    add_fault(&engine, json!({"service": "palette", "method": "POST", "path": "/v1/pcg/selfHosted", "kind": {"type": "internal_error"}, "count": 1})).await;
    let first: PcgStatus = call(&engine, "pcg_create", json!({"name": "pcg-a"})).await;
    assert!(first.created);
    add_fault(&engine, json!({"service": "palette", "method": "POST", "path": "/v1/pcg/selfHosted", "kind": {"type": "drop_response"}, "count": 1})).await;
    let second: PcgStatus = call(&engine, "pcg_create", json!({"name": "pcg-b"})).await;
    assert!(second.created);
    assert_eq!(second.kubectl_commands.len(), 2);
    assert_faults_fired(&engine).await;
    let again: PcgStatus = call(&engine, "pcg_create", json!({"name": "pcg-b"})).await;
    assert!(!again.created);
    assert_eq!(again.uid, second.uid);
    let pcgs = form(&engine).await.pcgs;
    assert_eq!(
        pcgs.iter().filter(|p| p.name == "pcg-a").count(),
        1,
        "{pcgs:?}"
    );
    assert_eq!(
        pcgs.iter().filter(|p| p.name == "pcg-b").count(),
        1,
        "{pcgs:?}"
    );

    // A 503 while fetching a manifest is retried by the transport.
    add_fault(&engine, json!({"service": "palette", "method": "GET", "path": "/v1/pcg/*/services/jet/manifest", "kind": {"type": "service_unavailable"}, "count": 1})).await;
    let applied: PcgApplyResult = call(
        &engine,
        "pcg_apply",
        json!({"uid": second.uid, "context": "capstan-sandbox-host"}),
    )
    .await;
    assert!(
        applied.results.iter().all(|r| r.ok),
        "{:?}",
        applied.results
    );
    assert_faults_fired(&engine).await;
    wait_running(&engine, &second.uid).await;

    // Step 3: the create's answer is lost; the account exists once, and a re-run keeps it.
    add_fault(&engine, json!({"service": "palette", "method": "POST", "path": "/v1/cloudaccounts/cloudTypes/nutanix", "kind": {"type": "drop_response"}, "count": 1})).await;
    let account: CloudAccountResult = call(
        &engine,
        "cloud_account_create",
        json!({"name": "nutanix-prod", "pcgUid": second.uid, "values": {}}),
    )
    .await;
    assert!(account.created);
    assert_faults_fired(&engine).await;
    let kept: CloudAccountResult = call(
        &engine,
        "cloud_account_create",
        json!({"name": "nutanix-prod", "pcgUid": second.uid, "values": {}}),
    )
    .await;
    assert!(!kept.created);
    assert_eq!(kept.uid, account.uid);
    let existing = form(&engine).await.existing;
    assert_eq!(existing.len(), 1, "{existing:?}");
    assert_eq!(existing[0].uid, account.uid);
    engine.shutdown().await;
}

/// `$CAPSTAN_SPECS_DIR/capx`, else `<workspace>/../shared/specs/capx` (as capstan-capx's
/// tests find it); `None` after a loud SKIPPED line when it is not there.
fn capx_specs(test: &str) -> Option<PathBuf> {
    let base = match std::env::var_os("CAPSTAN_SPECS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs"),
    };
    let dir = base.join("capx");
    if dir.join("templates").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {test} because the CAPX fixtures are not at {} (set CAPSTAN_SPECS_DIR to a copy of shared/specs)",
            dir.display()
        );
        None
    }
}

#[tokio::test]
async fn the_plan_refuses_what_palette_would_reject() {
    let home = tempfile::tempdir().unwrap();
    let engine = started(home.path()).await;

    // Logos: too big, too small, not an image; a good one passes.
    let with_logo = |b64: String| shipped(json!({"logo": {"fileName": "logo.png", "base64": b64}}));
    let big: CloudTypePlan = call(
        &engine,
        "cloud_type_plan",
        with_logo(png(64, 64, 101 * 1024)),
    )
    .await;
    assert!(
        big.logo_findings
            .iter()
            .any(|f| f.code == "logo_too_large" && f.severity == Severity::Error)
    );
    assert!(
        big.blockers.iter().any(|b| b.starts_with("logo:")),
        "{:?}",
        big.blockers
    );
    let small: CloudTypePlan = call(&engine, "cloud_type_plan", with_logo(png(32, 24, 512))).await;
    assert!(
        small
            .logo_findings
            .iter()
            .any(|f| f.code == "logo_too_small")
    );
    assert!(!small.blockers.is_empty());
    let gif = base64::engine::general_purpose::STANDARD.encode(b"GIF89a\x40\0\x40\0");
    let not_png: CloudTypePlan = call(&engine, "cloud_type_plan", with_logo(gif)).await;
    assert!(
        not_png
            .logo_findings
            .iter()
            .any(|f| f.code == "logo_format")
    );
    let fine: CloudTypePlan = call(&engine, "cloud_type_plan", with_logo(png(120, 40, 4096))).await;
    assert!(fine.blockers.is_empty(), "{:?}", fine.blockers);
    // Register refuses a plan with blockers, with the blockers in the details.
    let refused = fails(&engine, "cloud_type_register", with_logo(png(16, 16, 256))).await;
    assert_eq!(refused.code, ErrorCode::InvalidInput);
    assert!(
        refused
            .details
            .as_ref()
            .and_then(|d| d["blockers"].as_array())
            .is_some_and(|b| !b.is_empty())
    );
    let untouched = state(&engine).await;
    assert_eq!(
        step(&untouched, WorkflowStepId::CloudType).status,
        StepStatus::NotStarted
    );

    // Components for another release than the one chosen.
    let mismatch: CloudTypePlan = call(
        &engine,
        "cloud_type_plan",
        shipped(json!({"infrastructureComponents": components("v1.8.6")})),
    )
    .await;
    assert_eq!(
        mismatch.components.declared_version.as_deref(),
        Some("v1.8.6")
    );
    assert!(
        mismatch
            .components
            .findings
            .iter()
            .any(|f| f.code == "components_version_mismatch")
    );
    assert!(!mismatch.blockers.is_empty());
    let bad_version = fails(
        &engine,
        "cloud_type_plan",
        shipped(json!({"capxVersion": "1.5"})),
    )
    .await;
    assert_eq!(bad_version.code, ErrorCode::InvalidInput);

    // The user's upstream template: split and patched; broken ones are refused.
    let Some(dir) = capx_specs("the_plan_refuses_what_palette_would_reject (upstream part)") else {
        engine.shutdown().await;
        return;
    };
    let upstream =
        std::fs::read_to_string(dir.join("templates/cluster-template-v1.5.4.yaml")).unwrap();
    let input = |text: &str| {
        shipped(json!({"source": "upstream", "clusterTemplate": text, "vertex": true}))
    };
    let split: CloudTypePlan = call(&engine, "cloud_type_plan", input(&upstream)).await;
    assert!(split.blockers.is_empty(), "{:?}", split.blockers);
    let cp = split
        .templates
        .iter()
        .find(|t| t.name == "controlPlanePoolTemplate")
        .unwrap();
    assert_eq!(cp.original, upstream);
    assert!(cp.yaml.contains("systemctl enable --now iscsid"));
    assert!(cp.yaml.contains("rotate-server-certificates"));
    assert!(!cp.yaml.contains("${NAMESPACE}"));
    assert!(
        cp.changes.iter().any(|c| c.contains("iscsid")),
        "{:?}",
        cp.changes
    );

    // Not a cluster template any more (its MachineDeployment is gone): refused outright.
    let without_md: String = upstream
        .split("\n---\n")
        .filter(|doc| !doc.contains("kind: MachineDeployment"))
        .collect::<Vec<_>>()
        .join("\n---\n");
    let e = fails(&engine, "cloud_type_plan", input(&without_md)).await;
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(
        e.details.as_ref().unwrap()["code"],
        "not_capx_cluster_template"
    );
    // Splits, but Palette would reject it: the Cluster names a control plane that is not there.
    let dangling = upstream.replacen(
        "    kind: KubeadmControlPlane\n    name: ${CLUSTER_NAME}-kcp",
        "    kind: KubeadmControlPlane\n    name: ${CLUSTER_NAME}-control-plane",
        1,
    );
    assert_ne!(dangling, upstream, "the fixture changed shape");
    let rejected: CloudTypePlan = call(&engine, "cloud_type_plan", input(&dangling)).await;
    assert!(
        rejected.templates[0]
            .findings
            .iter()
            .any(|f| f.code == "control_plane_ref_mismatch"),
        "{:?}",
        rejected.templates[0].findings
    );
    assert!(!rejected.blockers.is_empty());
    let refused = fails(&engine, "cloud_type_register", input(&dangling)).await;
    assert_eq!(refused.code, ErrorCode::InvalidInput);
    engine.shutdown().await;
}

#[cfg(unix)]
fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn kubeconfig_contexts_and_kubectl_apply_to_a_real_context() {
    let home = tempfile::tempdir().unwrap();
    let engine = started(home.path()).await;
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        "apiVersion: v1\nkind: Config\ncurrent-context: lab-a\nclusters:\n- name: lab\n  cluster:\n    server: https://10.0.0.10:6443\ncontexts:\n- name: lab-a\n  context:\n    cluster: lab\n    user: admin\nusers:\n- name: admin\n  user:\n    token: t0ken\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: edge\n  cluster:\n    server: https://edge:6443\ncontexts:\n- name: edge-admin\n  context:\n    cluster: edge\n    user: edge-admin\n",
    )
    .unwrap();
    let list = std::env::join_paths([&a, &dir.path().join("missing.yaml"), &b]).unwrap();
    // A stand-in kubectl that records its arguments, its stdin and KUBECONFIG.
    let calls = dir.path().join("calls");
    std::fs::create_dir(&calls).unwrap();
    let kubectl = dir.path().join("kubectl");
    write_script(
        &kubectl,
        &format!(
            "n=$(ls '{c}' | grep -c args)\nprintf '%s\\n' \"$@\" > '{c}'/$n.args\ncat > '{c}'/$n.stdin\nprintf '%s' \"$KUBECONFIG\" > '{c}'/$n.env\necho \"configured from stdin\"\n",
            c = calls.display()
        ),
    );
    engine.set_kube_overrides(Some(list.clone()), Some(kubectl.clone()));

    let contexts: KubeContexts = call(&engine, "kube_contexts", json!({})).await;
    assert_eq!(
        contexts.files,
        [a.display().to_string(), b.display().to_string()]
    );
    assert!(contexts.kubectl_found);
    assert_eq!(contexts.problem, None);
    let names: Vec<(&str, bool, bool)> = contexts
        .contexts
        .iter()
        .map(|c| (c.name.as_str(), c.current, c.simulated))
        .collect();
    assert_eq!(
        names,
        [
            ("lab-a", true, false),
            ("edge-admin", false, false),
            ("capstan-sandbox-host", false, true)
        ]
    );
    assert_eq!(contexts.contexts[0].server, "https://10.0.0.10:6443");
    assert!(!serde_json::to_string(&contexts).unwrap().contains("t0ken"));

    register(&engine).await;
    let pcg: PcgStatus = call(&engine, "pcg_create", json!({"name": "host-pcg"})).await;

    // An unknown context is refused before anything runs.
    let e = fails(
        &engine,
        "pcg_apply",
        json!({"uid": pcg.uid, "context": "nope"}),
    )
    .await;
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(std::fs::read_dir(&calls).unwrap().next().is_none());

    let applied: PcgApplyResult = call(
        &engine,
        "pcg_apply",
        json!({"uid": pcg.uid, "context": "edge-admin"}),
    )
    .await;
    assert_eq!(applied.results.len(), 2, "{:?}", applied.results);
    assert!(
        applied
            .results
            .iter()
            .all(|r| r.ok && r.output.contains("configured"))
    );
    for (n, service) in ["ally", "jet"].iter().enumerate() {
        let args = std::fs::read_to_string(calls.join(format!("{n}.args"))).unwrap();
        assert_eq!(
            args.lines().collect::<Vec<_>>(),
            ["--context", "edge-admin", "apply", "-f", "-"]
        );
        let stdin = std::fs::read_to_string(calls.join(format!("{n}.stdin"))).unwrap();
        assert!(
            stdin.contains(&format!("name: {service}-config")),
            "{stdin}"
        );
        assert!(stdin.contains(&pcg.uid));
        let env = std::fs::read_to_string(calls.join(format!("{n}.env"))).unwrap();
        assert_eq!(std::ffi::OsString::from(env), list);
    }
    // The manifests were fetched and applied: the sandbox's PCG comes up.
    wait_running(&engine, &pcg.uid).await;

    // kubectl failing: the first command's error is reported and the second is not run.
    let failing = dir.path().join("kubectl-fails");
    write_script(
        &failing,
        "cat > /dev/null\necho 'error: You must be logged in to the server (Unauthorized)' >&2\nexit 1\n",
    );
    engine.set_kube_overrides(Some(list.clone()), Some(failing));
    let broken: PcgApplyResult = call(
        &engine,
        "pcg_apply",
        json!({"uid": pcg.uid, "context": "lab-a"}),
    )
    .await;
    assert_eq!(broken.results.len(), 1);
    assert!(!broken.results[0].ok);
    assert!(
        broken.results[0].output.contains("Unauthorized"),
        "{}",
        broken.results[0].output
    );

    // No kubectl at all: say so, and what to do instead.
    engine.set_kube_overrides(Some(list), Some(dir.path().join("no-such-kubectl")));
    let contexts: KubeContexts = call(&engine, "kube_contexts", json!({})).await;
    assert!(!contexts.kubectl_found);
    let e = fails(
        &engine,
        "pcg_apply",
        json!({"uid": pcg.uid, "context": "lab-a"}),
    )
    .await;
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(
        e.message.contains("Install kubectl") && e.message.contains("copy the commands"),
        "{}",
        e.message
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn drafts_survive_a_restart_and_keep_no_secrets() {
    let home = tempfile::tempdir().unwrap();
    {
        let engine = engine(home.path());
        let saved: DraftReply = call(
            &engine,
            "draft_save",
            json!({"step": "cloud_account", "data": {"name": "nutanix-lab", "values": {"NUTANIX_USER": "admin", "NUTANIX_PASSWORD": "hunter2-draft"}}}),
        )
        .await;
        let data = saved.draft.expect("saved").data;
        assert_eq!(data["values"]["NUTANIX_USER"], "admin");
        assert!(data["values"].get("NUTANIX_PASSWORD").is_none(), "{data}");
        call::<DraftReply>(
            &engine,
            "draft_save",
            json!({"step": "pcg", "data": {"name": "edge-pcg"}}),
        )
        .await;
        let huge = "x".repeat(1024 * 1024 + 1);
        let e = fails(
            &engine,
            "draft_save",
            json!({"step": "pcg", "data": {"yaml": huge}}),
        )
        .await;
        assert_eq!(e.code, ErrorCode::InvalidInput);
        // The state lists the drafts even when Palette cannot be read (the sandbox is off).
        let s = state(&engine).await;
        assert!(s.problem.is_some());
        assert!(s.steps.iter().all(|st| st.status == StepStatus::Unknown));
        assert!(step(&s, WorkflowStepId::CloudAccount).has_draft);
        assert!(step(&s, WorkflowStepId::Pcg).has_draft);
        assert!(!step(&s, WorkflowStepId::CloudType).has_draft);
        engine.shutdown().await;
    }
    let engine = engine(home.path());
    let pcg: DraftReply = call(&engine, "draft_get", json!({"step": "pcg"})).await;
    assert_eq!(
        pcg.draft.expect("kept across the restart").data["name"],
        "edge-pcg"
    );
    let account: DraftReply = call(&engine, "draft_get", json!({"step": "cloud_account"})).await;
    assert_eq!(account.draft.unwrap().data["name"], "nutanix-lab");
    let none: DraftReply = call(&engine, "draft_get", json!({"step": "profile"})).await;
    assert!(none.draft.is_none());
    let deleted: DraftReply = call(&engine, "draft_delete", json!({"step": "pcg"})).await;
    assert!(deleted.draft.is_none());
    let gone: DraftReply = call(&engine, "draft_get", json!({"step": "pcg"})).await;
    assert!(gone.draft.is_none());
    engine.shutdown().await;
    for entry in std::fs::read_dir(home.path().join("data"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let bytes = std::fs::read(entry.path()).unwrap_or_default();
        assert!(
            !bytes.windows(13).any(|w| w == b"hunter2-draft"),
            "{} holds the password",
            entry.path().display()
        );
    }
}

#[tokio::test]
async fn a_real_environment_needs_its_system_admin_for_step_one() {
    let sb = capstan_sandbox::start(capstan_sandbox::SandboxConfig {
        vms: 20,
        time_scale: 0.01,
        tls: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let engine = engine(home.path());
    let prism = sb.prism_url();
    let (host, port) = prism
        .trim_start_matches("http://")
        .rsplit_once(':')
        .expect("host:port");
    let mut config = json!({
        "name": "Lab",
        "palette": {"url": sb.palette_url()},
        "prism": {"address": host, "port": port.parse::<u16>().unwrap(), "auth": "basic",
                  "username": sb.prism_user(), "tls": {"mode": "insecure"}},
        "proxy": {"mode": "none"},
    });
    let secrets = json!({
        "paletteApiKey": sb.palette_api_key().expose(),
        "prismPassword": sb.prism_password().expose(),
    });
    let saved: Value = call(
        &engine,
        "environment_save",
        json!({"config": config, "secrets": secrets, "activate": true}),
    )
    .await;
    let id = saved["config"]["id"].as_str().unwrap().to_owned();

    // No system admin saved: a plan still compares (with the API key), registering cannot.
    let plan: CloudTypePlan = call(&engine, "cloud_type_plan", shipped(json!({}))).await;
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    assert!(!plan.registered);
    let e = fails(&engine, "cloud_type_register", shipped(json!({}))).await;
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.details.as_ref().unwrap()["field"], "sysadminUsername");
    assert!(e.message.contains("Setup"), "{}", e.message);

    // The user name alone is not enough either.
    config["id"] = json!(id);
    config["palette"]["sysadminUsername"] = json!(sb.palette_system_user());
    call::<Value>(
        &engine,
        "environment_save",
        json!({"config": config, "activate": true}),
    )
    .await;
    let e = fails(&engine, "cloud_type_register", shipped(json!({}))).await;
    assert_eq!(e.details.as_ref().unwrap()["field"], "sysadminPassword");

    // With the password saved in Setup, step 1 goes through the system console.
    call::<Value>(
        &engine,
        "environment_save",
        json!({"config": config, "secrets": {"sysadminPassword": sb.palette_password().expose()}, "activate": true}),
    )
    .await;
    let done = register(&engine).await;
    assert!(
        done.actions
            .contains(&"Registered the cloud type nutanix".to_owned()),
        "{:?}",
        done.actions
    );
    let s = state(&engine).await;
    assert_eq!(s.environment_id, id);
    assert_eq!(step(&s, WorkflowStepId::CloudType).status, StepStatus::Done);

    // The account form is pre-filled from this environment's setup; "insecure" was chosen.
    let form = form(&engine).await;
    let value = |k: &str| {
        form.fields
            .iter()
            .find(|f| f.key == k)
            .and_then(|f| f.value.clone())
    };
    assert_eq!(value("NUTANIX_ENDPOINT").as_deref(), Some(host));
    assert_eq!(value("NUTANIX_PORT").as_deref(), Some(port));
    assert_eq!(value("NUTANIX_USER").as_deref(), Some(sb.prism_user()));
    assert_eq!(value("NUTANIX_INSECURE").as_deref(), Some("true"));
    assert!(
        form.fields
            .iter()
            .any(|f| f.secret && f.saved_secret_available)
    );
    engine.shutdown().await;
    sb.shutdown().await;
}
