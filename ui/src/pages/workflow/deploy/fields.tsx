import type { ReactNode } from "react";
import type { DeploySpec } from "../../../lib/bindings";

/** Every section edits the same spec and hands back the whole next one. */
export interface SectionProps {
  spec: DeploySpec;
  onChange: (next: DeploySpec) => void;
}

export function Field({ label, hint, error, warning, children, wide }: { label: string; hint?: ReactNode; error?: string | null; warning?: ReactNode; children: ReactNode; wide?: boolean }) {
  return (
    <label className={`wf-field${wide ? " dp-wide" : ""}`}>
      <span className="wf-label">{label}</span>
      {children}
      {error && (
        <span className="dp-error" role="alert">
          {error}
        </span>
      )}
      {!error && warning && <span className="dp-warning">{warning}</span>}
      {hint && <span className="wf-help">{hint}</span>}
    </label>
  );
}

/** A whole-number input; an empty field reads as 0 (which the preflight then refuses). */
export function NumberInput({ value, onChange, min = 0, max, testId, label }: { value: number; onChange: (n: number) => void; min?: number; max?: number; testId?: string; label?: string }) {
  return (
    <input
      className="wf-input dp-number"
      type="number"
      inputMode="numeric"
      min={min}
      max={max}
      step={1}
      aria-label={label}
      data-testid={testId}
      value={value === 0 ? "" : value}
      onChange={(e) => {
        const n = Number.parseInt(e.target.value, 10);
        onChange(Number.isFinite(n) && n > 0 ? n : 0);
      }}
    />
  );
}
