import type { ReactNode } from "react";
import type { TlsMode } from "../../lib/bindings";
import { AlertIcon } from "../../components/Icons";
import type { TlsForm, TlsService } from "./form";

/** A labelled input with its hint and the error shown at it. */
export function Field({
  id,
  label,
  hint,
  error,
  badge,
  children,
  wide,
}: {
  id: string;
  label: string;
  hint?: ReactNode;
  error?: string;
  badge?: ReactNode;
  children: ReactNode;
  /** Spans both columns. */
  wide?: boolean;
}) {
  return (
    <div className={`field${wide ? " field-wide" : ""}`} data-invalid={error ? "true" : undefined}>
      <div className="field-label-row">
        <label className="field-label" htmlFor={id}>
          {label}
        </label>
        {badge}
      </div>
      {children}
      {error ? (
        <div className="field-error" id={`${id}-error`} data-testid={`${id}-error`} role="alert">
          {error}
        </div>
      ) : (
        hint && (
          <div className="field-hint" id={`${id}-hint`}>
            {hint}
          </div>
        )
      )}
    </div>
  );
}

/** ARIA for an input inside `Field`. */
export function describedBy(id: string, error: string | undefined, hasHint: boolean) {
  return {
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? `${id}-error` : hasHint ? `${id}-hint` : undefined,
  } as const;
}

/** "Saved" next to a secret field whose value is in the secret store (the value never comes back). */
export function SavedBadge({ saved, testId }: { saved: boolean; testId: string }) {
  if (!saved) return null;
  return (
    <span className="saved-badge" data-testid={testId} title="A value is saved. Leave the field blank to keep it, or type a new one to replace it.">
      Saved
    </span>
  );
}

const TLS_OPTIONS: Array<{ value: TlsMode; label: string }> = [
  { value: "system", label: "System trust store" },
  { value: "ca_bundle", label: "CA bundle file (PEM)" },
  { value: "pinned", label: "Pinned certificate (SHA-256)" },
  { value: "insecure", label: "Insecure: do not verify (dangerous)" },
];

const TLS_HINT: Record<TlsMode, string> = {
  system: "Certificates signed by a CA this computer trusts.",
  ca_bundle: "This computer's CAs plus those in a PEM file, e.g. your company's root CA.",
  pinned: "Exactly one certificate, by fingerprint. Test the connection and choose “Trust this certificate”.",
  insecure: "",
};

/** How one service's certificate is trusted. */
export function TlsPicker({
  service,
  value,
  onChange,
  caBundleError,
  pinError,
}: {
  service: TlsService;
  value: TlsForm;
  onChange: (next: TlsForm) => void;
  caBundleError?: string;
  pinError?: string;
}) {
  const selectId = `tls-mode-${service}`;
  const serviceName = service === "palette" ? "Palette" : "Prism Central";
  return (
    <div className="tls-picker field-wide" data-mode={value.mode}>
      <Field id={selectId} label="Certificate trust" hint={value.mode === "insecure" ? undefined : TLS_HINT[value.mode]}>
        <select
          id={selectId}
          className={`input${value.mode === "insecure" ? " input-danger" : ""}`}
          data-testid={selectId}
          value={value.mode}
          onChange={(e) => onChange({ ...value, mode: e.target.value as TlsMode })}
        >
          {TLS_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </Field>
      {value.mode === "ca_bundle" && (
        <Field id={`ca-bundle-${service}`} label="CA bundle file" error={caBundleError} hint="Path to a PEM file with one or more CA certificates.">
          <input
            id={`ca-bundle-${service}`}
            className="input mono"
            data-testid={`ca-bundle-${service}`}
            value={value.caBundlePath}
            placeholder="/etc/ssl/certs/company-root-ca.pem"
            spellCheck={false}
            onChange={(e) => onChange({ ...value, caBundlePath: e.target.value })}
            {...describedBy(`ca-bundle-${service}`, caBundleError, true)}
          />
        </Field>
      )}
      {value.mode === "pinned" && (
        <Field id={`pin-${service}`} label="SHA-256 fingerprint" error={pinError} hint="64 hex digits; colons are fine.">
          <input
            id={`pin-${service}`}
            className="input mono"
            data-testid={`pin-${service}`}
            value={value.pinnedSha256}
            spellCheck={false}
            onChange={(e) => onChange({ ...value, pinnedSha256: e.target.value })}
            {...describedBy(`pin-${service}`, pinError, true)}
          />
        </Field>
      )}
      {value.mode === "insecure" && (
        <div className="tls-insecure" role="alert" data-testid={`tls-insecure-${service}`}>
          <AlertIcon size={15} />
          <div>
            <strong>Certificates are not checked.</strong> Anyone between this computer and {serviceName} can pretend to be it and read the
            credentials Capstan sends. Use this only for a throwaway lab; pin the certificate instead.
          </div>
        </div>
      )}
    </div>
  );
}

/**
 * A secret input: a password field that never shows a saved value, with the "Saved" badge
 * and a placeholder saying a blank field keeps what is saved.
 */
export function SecretField({
  id,
  label,
  value,
  saved,
  savedTestId,
  error,
  hint,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  saved: boolean;
  savedTestId: string;
  error?: string;
  hint?: ReactNode;
  onChange: (value: string) => void;
}) {
  return (
    <Field id={id} label={label} error={error} hint={hint} badge={<SavedBadge saved={saved} testId={savedTestId} />}>
      <input
        id={id}
        type="password"
        className="input"
        data-testid={id}
        autoComplete="new-password"
        value={value}
        placeholder={saved ? "•••••••• (saved)" : ""}
        onChange={(e) => onChange(e.target.value)}
        {...describedBy(id, error, hint !== undefined)}
      />
    </Field>
  );
}
