import type { CheckData, CheckResult, PreflightReport as Report } from "../../../lib/bindings";
import { AlertIcon, CheckIcon, CloseIcon } from "../../../components/Icons";
import { blockingChecks, type CheckOutcome, outcomeOf, toNumber } from "./model";

const OUTCOME_WORD: Record<CheckOutcome, string> = {
  pass: "Passed",
  warn: "Warning",
  fail: "Failed",
  skipped: "Skipped",
  error: "Could not finish",
};

function OutcomeIcon({ outcome }: { outcome: CheckOutcome }) {
  if (outcome === "pass") return <CheckIcon size={14} />;
  if (outcome === "fail") return <CloseIcon size={14} />;
  if (outcome === "warn" || outcome === "error") return <AlertIcon size={14} />;
  return <span aria-hidden="true">–</span>;
}

const ms = (value: number) => {
  const n = toNumber(value);
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`;
};

const mib = (value: number) => `${(toNumber(value) / 1024).toFixed(0)} GiB`;

/** The structured findings worth a line of their own (the detail already says the rest). */
function Facts({ data }: { data: CheckData }) {
  const rows: Array<[string, string]> = [];
  switch (data.kind) {
    case "imageVersion":
      if (data.matchingImages.length > 0) rows.push(["Images for this version", data.matchingImages.join(", ")]);
      break;
    case "vip":
      if (data.freeRanges.length > 0) rows.push(["Free ranges", data.freeRanges.join(", ")]);
      for (const c of data.conflicts) rows.push(["Collides with", [c.what, c.name, c.addressType].filter(Boolean).join(" · ")]);
      break;
    case "sizes":
      for (const p of data.problems) rows.push([`${p.pool} · ${p.field}`, p.capxError ? `CAPX: "${p.capxError}"` : p.fix]);
      break;
    case "addresses":
      for (const s of data.subnets) rows.push([s.name, s.managed ? `${toNumber(s.free)} free of ${toNumber(s.poolSize)}, ${toNumber(s.needed)} needed` : `no Prism IPAM, ${toNumber(s.needed)} needed`]);
      break;
    case "capacity":
      rows.push(["Memory", `${mib(data.freeMemoryMib)} free, ${mib(data.neededMemoryMib)} needed`]);
      rows.push(["vCPUs", `${toNumber(data.allocatedVcpus)} allocated + ${toNumber(data.neededVcpus)} needed, limit ${toNumber(data.vcpuLimit)}`]);
      break;
    case "networks":
      for (const o of data.overlaps) rows.push(["Overlap", o]);
      break;
    case "matches":
      for (const m of data.matches) rows.push(["Candidate", [m.name, m.cluster, m.uuid].filter(Boolean).join(" · ")]);
      break;
    default:
      break;
  }
  if (rows.length === 0) return null;
  return (
    <dl className="dp-facts">
      {rows.map(([k, v], i) => (
        <div key={`${k}-${i}`}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function Check({ check }: { check: CheckResult }) {
  const outcome = outcomeOf(check);
  return (
    <li className="dp-check" data-testid={`preflight-check-${check.id}`} data-outcome={outcome} data-code={check.code}>
      <span className="dp-check-icon" data-outcome={outcome} title={OUTCOME_WORD[outcome]}>
        <OutcomeIcon outcome={outcome} />
      </span>
      <div className="dp-check-body">
        <div className="dp-check-head">
          <span className="dp-check-title">{check.title}</span>
          <span className="dp-outcome" data-outcome={outcome}>
            {OUTCOME_WORD[outcome]}
          </span>
          <span className="dp-timing" title="Time the check ran · time it waited for the checks it needs">
            {ms(check.elapsedMs)}
            {toNumber(check.waitedMs) > 0 && <> · waited {ms(check.waitedMs)}</>}
          </span>
        </div>
        <div className="dp-check-detail">{check.detail}</div>
        {check.fix && outcome !== "pass" && (
          <div className="dp-check-fix">
            <strong>What to do:</strong> {check.fix}
          </div>
        )}
        {check.data && outcome !== "pass" && outcome !== "skipped" && <Facts data={check.data} />}
        <code className="dp-check-code">{check.code}</code>
      </div>
    </li>
  );
}

/** The preflight's report: verdict and summary, then every check with what it found and what to do. */
export function PreflightReport({ report, stale }: { report: Report; stale: boolean }) {
  const blocking = blockingChecks(report);
  const verdict = (report.verdict as CheckOutcome) ?? "pass";
  const counts = report.checks.reduce<Record<string, number>>((acc, c) => ({ ...acc, [outcomeOf(c)]: (acc[outcomeOf(c)] ?? 0) + 1 }), {});
  return (
    <div className="dp-report" data-testid="preflight-report" data-verdict={verdict} data-can-deploy={report.canDeploy} data-stale={stale}>
      <div className="dp-report-head" data-outcome={verdict}>
        <span className="dp-check-icon" data-outcome={verdict}>
          <OutcomeIcon outcome={verdict} />
        </span>
        <div className="dp-report-summary">
          <div className="dp-report-title">{report.canDeploy ? "Preflight passed" : "Preflight did not pass"}</div>
          <div data-testid="preflight-summary">{report.summary}</div>
          <div className="dp-report-counts">
            {(["pass", "warn", "fail", "error", "skipped"] as const)
              .filter((o) => counts[o])
              .map((o) => (
                <span key={o} className="dp-outcome" data-outcome={o}>
                  {counts[o]} {OUTCOME_WORD[o].toLowerCase()}
                </span>
              ))}
            <span className="dp-timing">in {ms(report.elapsedMs)}</span>
          </div>
        </div>
      </div>
      {stale && (
        <p className="dp-stale" role="status" data-testid="preflight-stale">
          The form changed after this preflight: it no longer says anything about what would be deployed. Run it again.
        </p>
      )}
      {blocking.length > 0 && (
        <div className="dp-blocking" data-testid="preflight-blocking">
          {blocking.length === 1 ? "This check blocks" : "These checks block"} the deploy: {blocking.map((c) => `“${c.title}”`).join(", ")}.
        </div>
      )}
      <ol className="dp-checks">
        {report.checks.map((c) => (
          <Check key={c.id} check={c} />
        ))}
      </ol>
    </div>
  );
}
