import { type FormEvent, useState } from "react";
import type { SecretStoreStatus } from "../../lib/bindings";
import { toBackendError, useBackend } from "../../lib/backend";
import { AlertIcon, KeyIcon } from "../../components/Icons";
import { describedBy, Field } from "./fields";

/** Where saved secrets go, in words. */
export function storeLocation(status: SecretStoreStatus): string {
  switch (status.backend) {
    case "keyring":
      return "Saved in the system keyring.";
    case "encrypted_file":
      return `Saved in the encrypted file at ${status.filePath}.`;
    case "memory":
      return "Kept in memory only (test mode): forgotten when Capstan quits.";
    default:
      return "Not saved until a secret store is chosen.";
  }
}

/** Where a just-saved environment's credentials went, as a sentence about it. */
export function savedCredentialsWhere(status: SecretStoreStatus): string {
  switch (status.backend) {
    case "keyring":
      return "Its credentials are in the system keyring.";
    case "encrypted_file":
      return `Its credentials are in the encrypted file at ${status.filePath}.`;
    case "memory":
      return "Its credentials are kept in memory only (test mode).";
    default:
      return "";
  }
}

/**
 * The secret store's state: where credentials are kept, and when no keyring is usable, the
 * explicit choice of a passphrase-protected file (never made for the user).
 */
export function SecretStorePanel({
  status,
  loadError,
  onReload,
  onUnlocked,
  blockedMessage,
}: {
  status: SecretStoreStatus | null;
  loadError: string | null;
  onReload: () => void;
  onUnlocked: (status: SecretStoreStatus) => void;
  /** Set when a save was refused because no store is usable: why, in the backend's words. */
  blockedMessage?: string | null;
}) {
  const backend = useBackend();
  const [choosing, setChoosing] = useState(false);
  const [passphrase, setPassphrase] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<{ passphrase?: string; confirm?: string; other?: string }>({});
  const [busy, setBusy] = useState(false);

  if (!status) {
    return (
      <section className="store-panel" data-testid="secret-store-status" data-state="unknown" aria-label="Where secrets are kept">
        {loadError ? (
          <div className="store-line">
            <AlertIcon size={15} />
            <span>
              Could not find out where secrets are kept: {loadError}{" "}
              <button type="button" className="link-button" onClick={onReload}>
                Try again
              </button>
            </span>
          </div>
        ) : (
          <div className="muted">Checking where secrets are kept…</div>
        )}
      </section>
    );
  }

  const creating = status.state === "needs_fallback" && !status.fileExists;
  const showForm = status.state === "locked" || (status.state === "needs_fallback" && (choosing || Boolean(blockedMessage)));

  async function unlock(e: FormEvent) {
    e.preventDefault();
    if (!status) return;
    const next: typeof errors = {};
    if (creating && [...passphrase].length < status.minPassphraseChars) {
      next.passphrase = `Use at least ${status.minPassphraseChars} characters; a few unrelated words work well.`;
    } else if (!passphrase) {
      next.passphrase = "Enter the passphrase of the secrets file.";
    }
    if (creating && !next.passphrase && confirm !== passphrase) next.confirm = "The two passphrases differ. Type the same passphrase twice.";
    setErrors(next);
    if (next.passphrase || next.confirm) return;
    setBusy(true);
    try {
      const unlocked = await backend.call("secret_store_unlock", { passphrase });
      setPassphrase("");
      setConfirm("");
      setChoosing(false);
      onUnlocked(unlocked);
    } catch (error) {
      const err = toBackendError(error);
      if (err.code === "unauthorized" || err.code === "invalid_input") setErrors({ passphrase: err.message });
      else setErrors({ other: `${err.message} (${err.code})` });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section
      className="store-panel"
      data-testid="secret-store-status"
      data-state={status.state}
      data-backend={status.backend ?? undefined}
      data-attention={blockedMessage ? "true" : undefined}
      aria-label="Where secrets are kept"
    >
      {status.state === "ready" && (
        <div className="store-line" data-testid="secret-store-location">
          <KeyIcon size={15} />
          <span>
            <strong>Credentials:</strong> {storeLocation(status)}
            {!status.persistent && status.backend !== "memory" && " They will not survive a restart."}
          </span>
        </div>
      )}
      {status.state === "needs_fallback" && (
        <div className="store-warning">
          <AlertIcon size={16} />
          <div>
            <div className="store-warning-title">No system keyring is available, so credentials cannot be saved yet.</div>
            {status.reason && (
              <div className="store-reason selectable" data-testid="secret-store-reason">
                {status.reason}
              </div>
            )}
            <div className="store-text">
              Capstan never writes credentials in plain text. You can keep them in a file encrypted with a passphrase you choose, at{" "}
              <span className="mono selectable">{status.filePath}</span>.
            </div>
          </div>
        </div>
      )}
      {status.state === "locked" && (
        <div className="store-warning">
          <KeyIcon size={16} />
          <div>
            <div className="store-warning-title">Your credentials are in an encrypted file, which is locked.</div>
            <div className="store-text">
              Enter its passphrase to use the saved credentials: <span className="mono selectable">{status.filePath}</span>
            </div>
          </div>
        </div>
      )}
      {blockedMessage && (
        <div className="store-blocked" role="alert" data-testid="save-blocked">
          <strong>Not saved yet.</strong> {blockedMessage === status.reason ? "" : `${blockedMessage} `}Nothing was written. Choose where to keep the
          credentials below; the environment is saved as soon as the store is ready.
        </div>
      )}
      {status.state === "needs_fallback" && !showForm && (
        <button type="button" className="button" data-testid="secret-fallback" onClick={() => setChoosing(true)}>
          <KeyIcon size={13} /> Use an encrypted file
        </button>
      )}
      {showForm && (
        <form className="store-form" onSubmit={(e) => void unlock(e)} data-testid="secret-unlock-form">
          <Field
            id="passphrase"
            label={creating ? "New passphrase" : "Passphrase"}
            error={errors.passphrase}
            hint={creating ? `At least ${status.minPassphraseChars} characters. It cannot be recovered: without it the saved credentials are lost.` : undefined}
          >
            <input
              id="passphrase"
              type="password"
              className="input"
              data-testid="passphrase"
              autoComplete={creating ? "new-password" : "current-password"}
              value={passphrase}
              onChange={(e) => {
                setPassphrase(e.target.value);
                setErrors((x) => ({ ...x, passphrase: undefined, other: undefined }));
              }}
              {...describedBy("passphrase", errors.passphrase, creating)}
            />
          </Field>
          {creating && (
            <Field id="passphrase-confirm" label="Type it again" error={errors.confirm}>
              <input
                id="passphrase-confirm"
                type="password"
                className="input"
                data-testid="passphrase-confirm"
                autoComplete="new-password"
                value={confirm}
                onChange={(e) => {
                  setConfirm(e.target.value);
                  setErrors((x) => ({ ...x, confirm: undefined }));
                }}
                {...describedBy("passphrase-confirm", errors.confirm, false)}
              />
            </Field>
          )}
          <div className="store-actions">
            <button type="submit" className="button setup-primary" data-testid="secret-unlock" disabled={busy}>
              {busy ? "Working…" : creating ? "Create the encrypted file" : "Unlock"}
            </button>
            {status.state === "needs_fallback" && !blockedMessage && (
              <button type="button" className="button" onClick={() => setChoosing(false)} disabled={busy}>
                Not now
              </button>
            )}
          </div>
          {errors.other && (
            <div className="field-error" role="alert">
              {errors.other}
            </div>
          )}
        </form>
      )}
    </section>
  );
}
