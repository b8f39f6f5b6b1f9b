//! Running the checks: shared inventory reads, dependencies between checks, a time limit
//! per check, and the report.
//!
//! Every check is a future; all of them are polled together, so they run concurrently. A
//! check that needs what another one found (the PE's UUID, the resolved subnet) awaits
//! that check's shared result and is skipped, with the reason, when it did not succeed.
//! Inventory lists are read once and shared by every check that needs them.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use capstan_common::Endpoint;
use capstan_diagnose::CapxLine;
use capstan_prism::{
    Cluster, CurrentUser, Host, Image, NameMatch, PrismCentralInfo, PrismClient, PrismError, Subnet,
};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use crate::model::{
    CheckData, CheckId, CheckResult, Outcome, PreflightInput, PreflightOptions, PreflightReport,
};
use crate::vms::VmEntry;

/// A future several checks can await; it runs once.
pub(crate) type Once<T> = Shared<BoxFuture<'static, T>>;
/// An inventory read, shared.
pub(crate) type Fetched<T> = Result<Arc<T>, PrismError>;
/// A check's shared outcome, with what it resolved for the checks that need it.
pub(crate) type Step<T> = Once<Arc<Ran<T>>>;

/// A finished check.
#[derive(Debug)]
pub(crate) struct Ran<T> {
    pub result: CheckResult,
    /// Set when the check resolved what dependents need (even with a warning).
    pub value: Option<Arc<T>>,
}

/// The inventory reads the checks share.
pub(crate) struct Inventory {
    pub me: Once<Fetched<CurrentUser>>,
    pub prism_central: Once<Fetched<PrismCentralInfo>>,
    pub clusters: Once<Fetched<Vec<Cluster>>>,
    pub subnets: Once<Fetched<Vec<Subnet>>>,
    pub images: Once<Fetched<Vec<Image>>>,
    pub vms: Once<Fetched<Vec<VmEntry>>>,
    pub hosts: Once<Fetched<Vec<Host>>>,
}

fn fetch<T, F, Fut>(prism: &PrismClient, read: F) -> Once<Fetched<T>>
where
    T: Send + Sync + 'static,
    F: FnOnce(PrismClient) -> Fut,
    Fut: Future<Output = Result<T, PrismError>> + Send + 'static,
{
    read(prism.clone())
        .map(|r| r.map(Arc::new))
        .boxed()
        .shared()
}

impl Inventory {
    fn new(prism: &PrismClient) -> Self {
        Self {
            me: fetch(prism, |p| async move { p.users_me().await }),
            prism_central: fetch(prism, |p| async move { p.prism_central().await }),
            clusters: fetch(prism, |p| async move { p.list_clusters(None).await }),
            subnets: fetch(prism, |p| async move { p.list_subnets(None).await }),
            images: fetch(prism, |p| async move { p.list_images(None).await }),
            vms: fetch(prism, |p| async move {
                p.list_all("vms/list", "vm", None).await
            }),
            hosts: fetch(prism, |p| async move { p.list_hosts(None).await }),
        }
    }
}

/// What every check can see.
pub(crate) struct Ctx {
    pub input: PreflightInput,
    pub prism: PrismClient,
    pub options: PreflightOptions,
    pub inventory: Inventory,
}

impl Ctx {
    /// PE and image names: CAPX up to 1.7 (v3) compares them case-sensitively, from 1.8
    /// (v4) case-insensitively. Subnet names are case-sensitive in both.
    pub fn entity_name_rule(&self) -> NameMatch {
        if self.input.capx_line <= CapxLine::V1_7 {
            NameMatch::CaseSensitive
        } else {
            NameMatch::CaseInsensitive
        }
    }

    /// `CAPX 1.8.x`.
    pub fn capx_label(&self) -> String {
        format!("CAPX {}", self.input.capx_line.label())
    }

    /// The host CAPX connects to: the input's address, or the client's.
    pub fn prism_central_host(&self) -> String {
        let given = self.input.prism_central_address.trim();
        if given.is_empty() {
            return self.prism.endpoint().host().to_owned();
        }
        Endpoint::parse(given, capstan_prism::DEFAULT_PORT)
            .map(|e| e.host().to_owned())
            .unwrap_or_else(|_| given.to_owned())
    }

    /// Runs a check's own work under its time limit.
    pub async fn timed<T>(
        &self,
        id: CheckId,
        waited: Duration,
        work: impl Future<Output = Finding<T>>,
    ) -> Arc<Ran<T>> {
        let started = Instant::now();
        let limit = self.options.check_timeout;
        let finding = match tokio::time::timeout(limit, work).await {
            Ok(f) => f,
            Err(_) => Finding::timeout(limit),
        };
        Arc::new(finding.finish(id, started.elapsed(), waited))
    }
}

/// What a check found, before timing is added.
#[derive(Debug)]
pub(crate) struct Finding<T> {
    pub outcome: Outcome,
    pub code: String,
    pub detail: String,
    pub fix: Option<String>,
    /// Boxed: findings travel as `Err` values and the data is the bulk of them.
    pub data: Option<Box<CheckData>>,
    pub value: Option<T>,
}

impl<T> Finding<T> {
    fn new(outcome: Outcome, code: &str, detail: impl Into<String>) -> Self {
        Self {
            outcome,
            code: code.to_owned(),
            detail: detail.into(),
            fix: None,
            data: None,
            value: None,
        }
    }

    pub fn pass(code: &str, detail: impl Into<String>) -> Self {
        Self::new(Outcome::Pass, code, detail)
    }

    pub fn warn(code: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(Outcome::Warn, code, detail).fix(fix)
    }

    pub fn fail(code: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::new(Outcome::Fail, code, detail).fix(fix)
    }

    pub fn skipped(code: &str, detail: impl Into<String>) -> Self {
        Self::new(Outcome::Skipped, code, detail)
    }

    /// Prism Central failed while the check read what it needs.
    pub fn prism_error(doing: &str, e: &PrismError) -> Self {
        Self::new(
            Outcome::Error,
            e.code(),
            format!("Prism Central failed while {doing}: {e}"),
        )
        .fix("Run the preflight again; if it keeps failing, check Prism Central's health and load.")
    }

    fn timeout(limit: Duration) -> Self {
        Self::new(
            Outcome::Error,
            "timeout",
            format!(
                "No answer within {:.1} s, so the check was stopped (the other checks were not held up).",
                limit.as_secs_f64()
            ),
        )
        .fix(
            "Run the preflight again; if this check keeps timing out, Prism Central is \
             overloaded or slow to reach from here.",
        )
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn data(mut self, data: CheckData) -> Self {
        self.data = Some(Box::new(data));
        self
    }

    /// The same finding for a check resolving another type, without a value.
    pub fn retype<U>(self) -> Finding<U> {
        Finding {
            outcome: self.outcome,
            code: self.code,
            detail: self.detail,
            fix: self.fix,
            data: self.data,
            value: None,
        }
    }

    pub fn value(mut self, value: T) -> Self {
        self.value = Some(value);
        self
    }

    fn finish(self, id: CheckId, elapsed: Duration, waited: Duration) -> Ran<T> {
        Ran {
            result: CheckResult {
                id,
                title: id.title().to_owned(),
                outcome: self.outcome,
                code: self.code,
                detail: self.detail,
                fix: self.fix,
                data: self.data.map(|d| *d),
                elapsed_ms: millis(elapsed),
                waited_ms: millis(waited),
            },
            value: self.value.map(Arc::new),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A check that could not start because a check it needs did not succeed.
pub(crate) fn skipped<T>(id: CheckId, reason: String, waited: Duration) -> Arc<Ran<T>> {
    Arc::new(Finding::skipped("dependency_not_met", reason).finish(id, Duration::ZERO, waited))
}

/// What a dependency resolved, or why the dependent check cannot run.
pub(crate) fn need<T>(ran: &Ran<T>, what: &str) -> Result<Arc<T>, String> {
    match &ran.value {
        Some(v) => Ok(v.clone()),
        None => {
            let how = match (ran.result.outcome, ran.result.code.as_str()) {
                (Outcome::Error, "timeout") => "timed out",
                (Outcome::Error, _) => "could not finish",
                (Outcome::Skipped, _) => "was skipped",
                _ => "failed",
            };
            Err(format!(
                "Not checked: it needs {what}, and the check \u{201c}{}\u{201d} {how}.",
                ran.result.title
            ))
        }
    }
}

/// Runs every check and assembles the report.
pub(crate) async fn run(
    input: &PreflightInput,
    prism: &PrismClient,
    options: &PreflightOptions,
) -> PreflightReport {
    let started = Instant::now();
    let ctx = Arc::new(Ctx {
        input: input.clone(),
        prism: prism.clone(),
        options: options.clone(),
        inventory: Inventory::new(prism),
    });
    use crate::checks::{capacity, identity, network, placement};

    let credentials: Step<()> = identity::credentials(ctx.clone()).boxed().shared();
    let version = identity::prism_central_version(ctx.clone(), credentials.clone());
    let pe: Step<placement::ResolvedPe> =
        placement::prism_element(ctx.clone(), credentials.clone())
            .boxed()
            .shared();
    let subnets: Step<Vec<placement::ResolvedSubnet>> =
        placement::subnets(ctx.clone(), pe.clone()).boxed().shared();
    let image: Step<placement::ResolvedImage> =
        placement::image(ctx.clone(), credentials.clone(), pe.clone())
            .boxed()
            .shared();
    let image_version =
        placement::image_kubernetes_version(ctx.clone(), credentials.clone(), image.clone());
    let sizes = capacity::machine_sizes(ctx.clone());
    let vip_in_subnet = network::vip_in_subnet(ctx.clone(), subnets.clone());
    let vip_not_prism = network::vip_not_prism(ctx.clone(), credentials.clone());
    let vip_unused = network::vip_unused(ctx.clone(), credentials.clone());
    let subnet_capacity = network::subnet_capacity(ctx.clone(), subnets.clone());
    let pe_capacity = capacity::prism_element_capacity(ctx.clone(), pe.clone());
    let networks = network::cluster_networks(ctx.clone(), subnets.clone());

    let (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13) = futures::join!(
        credentials,
        version,
        pe,
        subnets,
        image,
        image_version,
        sizes,
        vip_in_subnet,
        vip_not_prism,
        vip_unused,
        subnet_capacity,
        pe_capacity,
        networks,
    );
    let mut checks = vec![
        c1.result.clone(),
        c2.result.clone(),
        c3.result.clone(),
        c4.result.clone(),
        c5.result.clone(),
        c6.result.clone(),
        c7.result.clone(),
        c8.result.clone(),
        c9.result.clone(),
        c10.result.clone(),
        c11.result.clone(),
        c12.result.clone(),
        c13.result.clone(),
    ];
    checks.sort_by_key(|c| c.id);
    report(checks, started.elapsed())
}

fn report(checks: Vec<CheckResult>, elapsed: Duration) -> PreflightReport {
    let verdict = checks
        .iter()
        .map(|c| c.outcome)
        .fold(Outcome::Pass, Outcome::worst);
    let count = |o: Outcome| checks.iter().filter(|c| c.outcome == o).count();
    let first = |o: Outcome| {
        checks
            .iter()
            .find(|c| c.outcome == o)
            .map(|c| c.title.to_lowercase())
            .unwrap_or_default()
    };
    let (failed, errors, warnings, skipped) = (
        count(Outcome::Fail),
        count(Outcome::Error),
        count(Outcome::Warn),
        count(Outcome::Skipped),
    );
    let can_deploy = failed == 0 && errors == 0;
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let summary = if failed > 0 {
        format!(
            "Deploy is blocked: {} (first: {}){}.",
            plural(failed, "check failed", "checks failed"),
            first(Outcome::Fail),
            if skipped > 0 {
                format!(
                    "; {} not run because of it",
                    plural(skipped, "check was", "checks were")
                )
            } else {
                String::new()
            }
        )
    } else if errors > 0 {
        format!(
            "Deploy is blocked until every check has run: {} could not finish (first: {}). Run the preflight again.",
            plural(errors, "check", "checks"),
            first(Outcome::Error)
        )
    } else if warnings > 0 {
        format!(
            "Ready to deploy, with {} (first: {}).",
            plural(warnings, "warning", "warnings"),
            first(Outcome::Warn)
        )
    } else {
        format!("All {} checks passed: ready to deploy.", checks.len())
    };
    PreflightReport {
        verdict,
        can_deploy,
        summary,
        checks,
        elapsed_ms: millis(elapsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: CheckId, outcome: Outcome) -> CheckResult {
        CheckResult {
            id,
            title: id.title().to_owned(),
            outcome,
            code: "x".into(),
            detail: String::new(),
            fix: None,
            data: None,
            elapsed_ms: 0,
            waited_ms: 0,
        }
    }

    #[test]
    fn verdict_and_can_deploy_follow_the_worst_outcome() {
        let all_pass: Vec<_> = CheckId::ALL
            .iter()
            .map(|id| result(*id, Outcome::Pass))
            .collect();
        let r = report(all_pass.clone(), Duration::ZERO);
        assert!(r.can_deploy);
        assert_eq!(r.verdict, Outcome::Pass);
        assert!(
            r.summary.starts_with("All 13 checks passed"),
            "{}",
            r.summary
        );

        let mut warned = all_pass.clone();
        warned[4].outcome = Outcome::Warn;
        let r = report(warned, Duration::ZERO);
        assert!(r.can_deploy);
        assert_eq!(r.verdict, Outcome::Warn);

        let mut errored = all_pass.clone();
        errored[11].outcome = Outcome::Error;
        let r = report(errored, Duration::ZERO);
        assert!(!r.can_deploy, "an unfinished check verified nothing");
        assert_eq!(r.verdict, Outcome::Error);

        let mut failed = all_pass;
        failed[2].outcome = Outcome::Fail;
        failed[3].outcome = Outcome::Skipped;
        failed[5].outcome = Outcome::Error;
        let r = report(failed, Duration::ZERO);
        assert!(!r.can_deploy);
        assert_eq!(r.verdict, Outcome::Fail);
        assert!(r.summary.contains("1 check failed"), "{}", r.summary);
        assert!(r.summary.contains("1 check was not run"), "{}", r.summary);
    }
}
