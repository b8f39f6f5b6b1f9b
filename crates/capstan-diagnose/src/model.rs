//! The diagnosis the UI shows: an ordered list of steps, each with what was found and
//! what to do, plus an overall verdict. Serialised in camelCase.

pub use capstan_ipc::diagnosis::{
    CertificateData, Diagnosis, Outcome, Service, Step, StepData, StepKind,
};

/// The certificate a server presented, for the "trust this certificate" dialog.
pub fn certificate_data(c: &capstan_http::CertificateInfo) -> CertificateData {
    CertificateData {
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        sans: c.sans.clone(),
        not_before: c.not_before.clone(),
        not_after: c.not_after.clone(),
        sha256: c.sha256.clone(),
        sha256_colons: c.sha256_colons(),
        self_signed: c.self_signed,
        pem: c.pem.clone(),
    }
}

/// Collects steps in order; once a step fails, the remaining planned steps are recorded as
/// `skipped` with the reason.
#[derive(Debug)]
pub(crate) struct Recorder {
    steps: Vec<Step>,
    started: std::time::Instant,
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Self {
            steps: Vec::new(),
            started: std::time::Instant::now(),
        }
    }

    /// Records a step; returns false when it failed (the caller stops).
    pub(crate) fn push(&mut self, step: Step) -> bool {
        let ok = step.outcome != Outcome::Fail;
        self.steps.push(step);
        ok
    }

    pub(crate) fn skip(&mut self, kind: StepKind, code: &str, reason: impl Into<String>) {
        self.steps.push(
            Step::new(
                kind,
                Outcome::Skipped,
                code,
                format!("{}: not checked", kind.label()),
            )
            .detail(reason),
        );
    }

    /// Marks every planned step not yet recorded as skipped because of the failed step.
    pub(crate) fn skip_rest(&mut self, plan: &[StepKind]) {
        let reason = match self.steps.iter().rev().find(|s| s.outcome == Outcome::Fail) {
            Some(f) => format!(
                "Not checked because an earlier step failed: {} ({}).",
                f.title, f.code
            ),
            None => "Not checked.".to_owned(),
        };
        for kind in plan {
            if !self.steps.iter().any(|s| s.step == *kind) {
                self.skip(*kind, "skipped_after_failure", reason.clone());
            }
        }
    }

    pub(crate) fn finish(
        mut self,
        service: Service,
        target: String,
        plan: &[StepKind],
        secrets: &[&str],
    ) -> Diagnosis {
        self.skip_rest(plan);
        // Steps in plan order, whatever order they were produced in.
        self.steps
            .sort_by_key(|s| plan.iter().position(|k| *k == s.step).unwrap_or(usize::MAX));
        let verdict = self
            .steps
            .iter()
            .map(|s| s.outcome)
            .filter(|o| *o != Outcome::Skipped)
            .max()
            .unwrap_or(Outcome::Skipped);
        let summary = self
            .steps
            .iter()
            .find(|s| s.outcome == Outcome::Fail)
            .or_else(|| self.steps.iter().find(|s| s.outcome == Outcome::Warn))
            .map(|s| s.title.clone())
            .unwrap_or_else(|| match service {
                Service::PrismCentral => "Prism Central is reachable and usable".to_owned(),
                Service::Palette => "Palette is reachable and usable".to_owned(),
            });
        let mut d = Diagnosis {
            service,
            target,
            verdict,
            summary,
            steps: self.steps,
            elapsed_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        redact(&mut d, secrets);
        d
    }
}

/// Secrets shorter than this are not searched for: replacing every "ab" in the text would
/// garble it, and such values are not realistic passwords or keys.
const MIN_REDACT_LEN: usize = 4;

/// Removes secret values from every text field, as a last line of defence: servers
/// sometimes echo what they were sent in an error body.
pub(crate) fn redact(d: &mut Diagnosis, secrets: &[&str]) {
    let secrets: Vec<&str> = secrets
        .iter()
        .copied()
        .filter(|s| s.len() >= MIN_REDACT_LEN)
        .collect();
    if secrets.is_empty() {
        return;
    }
    let clean = |text: &mut String| {
        for s in &secrets {
            if text.contains(s) {
                *text = text.replace(s, capstan_common::Secret::REDACTED);
            }
        }
    };
    clean(&mut d.summary);
    clean(&mut d.target);
    for step in &mut d.steps {
        clean(&mut step.title);
        clean(&mut step.detail);
        clean(&mut step.fix);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_skips_the_rest_and_decides_the_verdict() {
        let plan = [StepKind::Address, StepKind::Dns, StepKind::Tcp];
        let mut r = Recorder::new();
        assert!(r.push(Step::warn(StepKind::Address, "address_normalized", "A")));
        assert!(!r.push(Step::fail(StepKind::Dns, "dns_not_found", "name unknown")));
        let d = r.finish(Service::PrismCentral, "t".into(), &plan, &[]);
        assert_eq!(d.verdict, Outcome::Fail);
        assert_eq!(d.summary, "name unknown");
        assert_eq!(d.steps.len(), 3);
        let tcp = d.step(StepKind::Tcp).expect("tcp");
        assert_eq!(tcp.outcome, Outcome::Skipped);
        assert!(tcp.detail.contains("dns_not_found"), "{}", tcp.detail);
    }

    #[test]
    fn secrets_are_scrubbed_from_every_text_and_json_is_camel_case() {
        let plan = [StepKind::Auth];
        let mut r = Recorder::new();
        r.push(
            Step::fail(StepKind::Auth, "auth_rejected", "bad")
                .detail("server said: wrong password Sup3rS3cret!")
                .fix("not Sup3rS3cret!"),
        );
        let d = r.finish(Service::Palette, "x".into(), &plan, &["Sup3rS3cret!", "ab"]);
        let json = serde_json::to_string(&d).expect("json");
        assert!(!json.contains("Sup3rS3cret!"), "{json}");
        assert!(json.contains("\"elapsedMs\""), "{json}");
        assert!(json.contains("\"verdict\":\"fail\""), "{json}");
        assert!(json.contains("\"step\":\"auth\""), "{json}");
    }

    #[test]
    fn step_data_is_tagged_and_camel_case() {
        let s = Step::pass(StepKind::Http, "http_ok", "t").data(StepData::Http {
            status: 401,
            server: None,
            content_type: Some("application/json".into()),
            ntnx_env: Some("pc".into()),
        });
        let v = serde_json::to_value(&s).expect("json");
        assert_eq!(v["data"]["kind"], "http");
        assert_eq!(v["data"]["contentType"], "application/json");
        assert_eq!(v["data"]["ntnxEnv"], "pc");
    }
}
