import { type ReactNode, useEffect, useRef, useState } from "react";
import type { Finding, WorkflowStepId } from "../../lib/bindings";
import { AlertIcon, CheckIcon } from "../../components/Icons";
import { useNow } from "../../components/useNow";
import { formatAge } from "../../lib/time";
import type { DraftControl, Problem } from "./hooks";

/** What a step is called where another step waits for it ("Waiting for: Private Cloud Gateway"). */
export const STEP_NOUN: Record<WorkflowStepId, string> = {
  cloud_type: "Nutanix cloud type",
  pcg: "Private Cloud Gateway",
  cloud_account: "Nutanix cloud account",
  profile: "Cluster profile",
  cluster: "Cluster",
};

export const STEP_ORDER: readonly WorkflowStepId[] = ["cloud_type", "pcg", "cloud_account", "profile", "cluster"];

export function isStepId(value: string | null): value is WorkflowStepId {
  return value !== null && (STEP_ORDER as readonly string[]).includes(value);
}

/** Strings from `details` that the backend lists for the user (blockers, fields). */
function detailList(details: unknown): string[] {
  if (typeof details !== "object" || details === null) return [];
  const d = details as Record<string, unknown>;
  const list = Array.isArray(d.blockers) ? d.blockers : Array.isArray(d.fields) ? d.fields : [];
  return list.filter((x): x is string => typeof x === "string");
}

export function ErrorBanner({ title, problem, testId, action }: { title: string; problem: Problem; testId?: string; action?: ReactNode }) {
  const items = detailList(problem.details);
  return (
    <div className="banner wf-banner" role="alert" data-testid={testId} data-code={problem.code}>
      <AlertIcon size={16} className="banner-icon" />
      <div className="banner-body">
        <div className="banner-title">
          {title} <code className="error-code">{problem.code}</code>
        </div>
        <div className="banner-message">{problem.message}</div>
        {items.length > 0 && (
          <ul className="wf-banner-list">
            {items.map((item) => (
              <li key={item}>{item}</li>
            ))}
          </ul>
        )}
      </div>
      {action}
    </div>
  );
}

/** Puts `text` on the clipboard; falls back to a hidden textarea where the async API is refused. */
async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Permission refused (some web views): try the old way below.
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let ok: boolean;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

export function CopyButton({ text, label = "Copy", testId }: { text: string; label?: string; testId?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const timer = useRef<number | null>(null);
  useEffect(
    () => () => {
      if (timer.current !== null) window.clearTimeout(timer.current);
    },
    [],
  );
  async function onCopy() {
    const ok = await copyText(text);
    setState(ok ? "copied" : "failed");
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setState("idle"), 2_000);
  }
  return (
    <button type="button" className="button wf-copy" data-testid={testId} data-copied={state === "copied" || undefined} onClick={() => void onCopy()} aria-label={`${label}: ${text}`}>
      {state === "copied" ? <CheckIcon size={13} /> : null}
      {state === "copied" ? "Copied" : state === "failed" ? "Select and copy" : label}
    </button>
  );
}

/** "Draft saved" / "Draft restored", with a way to throw the draft away. */
export function DraftIndicator({ draft, onDiscard }: { draft: DraftControl; onDiscard?: () => void }) {
  const now = useNow(15_000);
  const { status } = draft;
  if (status.kind === "none") return null;
  const text =
    status.kind === "saving"
      ? "Saving draft…"
      : status.kind === "saved"
        ? "Draft saved"
        : status.kind === "restored"
          ? `Draft restored (saved ${formatAge(status.at, now)})`
          : `Draft not saved: ${status.message}`;
  return (
    <div className="wf-draft">
      <span className="wf-draft-text" data-testid="draft-saved" data-state={status.kind} role="status">
        {text}
      </span>
      {onDiscard && (status.kind === "saved" || status.kind === "restored") && (
        <button type="button" className="wf-link" data-testid="draft-discard" onClick={onDiscard}>
          Discard draft
        </button>
      )}
    </div>
  );
}

const SEVERITY_WORD: Record<Finding["severity"], string> = { error: "Error", warning: "Warning", info: "Note" };

export function FindingList({ findings, testId = "step1-finding" }: { findings: Finding[]; testId?: string }) {
  if (findings.length === 0) return null;
  return (
    <ul className="wf-findings">
      {findings.map((f, i) => (
        <li key={`${f.code}-${f.location ?? ""}-${i}`} className="wf-finding" data-testid={testId} data-severity={f.severity} data-code={f.code}>
          <span className="wf-severity" data-severity={f.severity}>
            {SEVERITY_WORD[f.severity]}
          </span>
          <span className="wf-finding-text">
            {f.location && <span className="wf-finding-where">{f.location}: </span>}
            {f.message}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function Section({ title, hint, children, testId }: { title: string; hint?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section className="wf-section" data-testid={testId}>
      <header className="wf-section-head">
        <h3 className="wf-section-title">{title}</h3>
        {hint && <div className="wf-section-hint">{hint}</div>}
      </header>
      {children}
    </section>
  );
}

/** "4 min 05 s". */
export function formatElapsed(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  const rest = String(s % 60).padStart(2, "0");
  if (minutes < 60) return `${minutes} min ${rest} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** Reads a chosen file as text. */
export function readFileText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ""));
    reader.onerror = () => reject(reader.error ?? new Error(`Could not read ${file.name}`));
    reader.readAsText(file);
  });
}

/** Reads a chosen file as base64 (without the data: prefix). */
export function readFileBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result ?? "");
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error(`Could not read ${file.name}`));
    reader.readAsDataURL(file);
  });
}
