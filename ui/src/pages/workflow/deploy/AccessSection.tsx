import { useState } from "react";
import type { DeployOptions } from "../../../lib/bindings";
import { Section } from "../parts";
import { Field, NumberInput, type SectionProps } from "./fields";
import { isCidr, sshKeyProblem } from "./model";

const shortKey = (key: string) => {
  const [type, body = ""] = key.split(" ");
  return `${type} ${body.slice(0, 12)}…${body.slice(-8)}`;
};

/** The SSH key every node gets for `capiuser`: one found in ~/.ssh, or pasted. */
export function SshKeySection({ spec, onChange, options }: SectionProps & { options: DeployOptions }) {
  const found = options.sshKeys.find((k) => k.publicKey === spec.sshPublicKey.trim());
  const [pasting, setPasting] = useState(false);
  const pasteMode = pasting || (!found && spec.sshPublicKey !== "");
  const [pasted, setPasted] = useState(found ? "" : spec.sshPublicKey);
  const problem = pasteMode ? sshKeyProblem(spec.sshPublicKey) : null;
  return (
    <Section title="SSH key" hint="Installed for the user capiuser on every node." testId="deploy-ssh">
      <div className="wf-radios dp-keys" role="radiogroup" aria-label="SSH public key">
        {options.sshKeys.map((k) => (
          <label key={k.path} className="wf-check">
            <input
              type="radio"
              name="deploy-ssh"
              data-testid="deploy-ssh-found"
              checked={!pasteMode && found?.path === k.path}
              onChange={() => {
                setPasting(false);
                onChange({ ...spec, sshPublicKey: k.publicKey });
              }}
            />
            <span>
              <code>{k.path}</code> <span className="wf-muted">{k.comment ?? ""}</span> <code className="wf-muted">{shortKey(k.publicKey)}</code>
            </span>
          </label>
        ))}
        <label className="wf-check">
          <input
            type="radio"
            name="deploy-ssh"
            data-testid="deploy-ssh-paste-mode"
            checked={pasteMode}
            onChange={() => {
              setPasting(true);
              onChange({ ...spec, sshPublicKey: pasted });
            }}
          />
          <span>Paste a public key{options.sshKeys.length === 0 ? " (none found in ~/.ssh)" : ""}</span>
        </label>
      </div>
      {pasteMode && (
        <Field label="Public key" error={problem} wide>
          <textarea
            className="wf-textarea wf-mono"
            data-testid="deploy-ssh-paste"
            rows={3}
            spellCheck={false}
            value={spec.sshPublicKey}
            placeholder="ssh-ed25519 AAAA… you@host"
            onChange={(e) => {
              setPasted(e.target.value);
              onChange({ ...spec, sshPublicKey: e.target.value });
            }}
          />
        </Field>
      )}
    </Section>
  );
}

export function NetworksSection({ spec, onChange, options }: SectionProps & { options: DeployOptions }) {
  const changed = spec.podCidr !== options.defaults.podCidr || spec.serviceCidr !== options.defaults.serviceCidr || spec.controlPlanePort !== options.defaults.controlPlanePort;
  return (
    <details className="wf-section dp-advanced" data-testid="deploy-networks" open={changed || undefined}>
      <summary className="wf-section-title">Cluster networks (advanced)</summary>
      <p className="wf-help">Inside the cluster only; they must not overlap the node subnets, the VIP or anything the pods must reach.</p>
      <div className="wf-grid">
        <Field label="Pod CIDR" error={spec.podCidr && !isCidr(spec.podCidr) ? "Not a network like 172.20.0.0/16." : null}>
          <input className="wf-input wf-mono" data-testid="deploy-pod-cidr" value={spec.podCidr} spellCheck={false} onChange={(e) => onChange({ ...spec, podCidr: e.target.value.trim() })} />
        </Field>
        <Field label="Service CIDR" error={spec.serviceCidr && !isCidr(spec.serviceCidr) ? "Not a network like 172.19.0.0/16." : null}>
          <input className="wf-input wf-mono" data-testid="deploy-service-cidr" value={spec.serviceCidr} spellCheck={false} onChange={(e) => onChange({ ...spec, serviceCidr: e.target.value.trim() })} />
        </Field>
        <Field label="API server port" hint={`Default ${options.defaults.controlPlanePort}.`}>
          <NumberInput value={spec.controlPlanePort} min={1} max={65535} testId="deploy-port" onChange={(n) => onChange({ ...spec, controlPlanePort: Math.min(n, 65535) })} />
        </Field>
      </div>
    </details>
  );
}
