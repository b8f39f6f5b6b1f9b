import type { DeployOptions, EntityChoice, ImageOption, PlacementOptions, SubnetOption } from "../../../lib/bindings";
import type { Problem } from "../hooks";
import { ErrorBanner, Section } from "../parts";
import { Field, type SectionProps } from "./fields";
import { inRange, isIpv4, NO_CHOICE, toNumber, withImage } from "./model";

const choiceOf = (e: { uuid: string; name: string; nameUnique: boolean }): EntityChoice => ({ uuid: e.uuid, name: e.name, useUuid: !e.nameUnique });

function subnetFacts(s: SubnetOption): string {
  const parts = [s.vlanId !== null ? `VLAN ${toNumber(s.vlanId)}` : s.subnetType ?? "", s.cidr ?? "no Prism IPAM"];
  if (s.freePoolAddresses !== null) parts.push(`${toNumber(s.freePoolAddresses)} free`);
  if (!s.nameUnique) parts.push("name not unique: referenced by UUID");
  return parts.filter(Boolean).join(" · ");
}

const minor = (v: string | null) => /^v?(\d+\.\d+)/.exec(v ?? "")?.[1] ?? null;

function imageLabel(image: ImageOption, k8sMinor: string | null): string {
  const parts = [image.name];
  if (!image.matches) parts.push(image.kubernetesVersion ? `Kubernetes ${image.kubernetesVersion}, not ${k8sMinor ?? "the profile's"}` : "Kubernetes version unknown");
  if (image.state && image.state !== "COMPLETE") parts.push(`${image.state}: not usable yet`);
  if (!image.nameUnique) parts.push("duplicate name: by UUID");
  return parts.join(" — ");
}

function SubnetPicker({ spec, onChange, placement }: SectionProps & { placement: PlacementOptions | null }) {
  const offered = placement?.subnets ?? [];
  const remaining = offered.filter((s) => !spec.subnets.some((c) => c.uuid === s.uuid));
  const move = (from: number, to: number) => {
    const next = [...spec.subnets];
    const [item] = next.splice(from, 1);
    next.splice(to, 0, item);
    onChange({ ...spec, subnets: next });
  };
  return (
    <div className="wf-field dp-wide">
      <span className="wf-label">Subnets (in NIC order; the first carries the VIP)</span>
      <ol className="dp-subnets" data-testid="deploy-subnets">
        {spec.subnets.map((choice, i) => {
          const known = offered.find((s) => s.uuid === choice.uuid);
          return (
            <li key={choice.uuid} className="dp-subnet" data-testid="deploy-subnet" data-name={choice.name} data-pools={known?.pools.join(",") ?? ""}>
              <span className="dp-subnet-name">
                NIC {i + 1}: <strong>{choice.name}</strong>
              </span>
              <span className="wf-muted">{known ? subnetFacts(known) : placement ? `not a subnet of ${spec.prismElement.name}` : "…"}</span>
              <span className="dp-subnet-actions">
                <button type="button" className="wf-link" disabled={i === 0} aria-label={`Move ${choice.name} up`} onClick={() => move(i, i - 1)}>
                  Up
                </button>
                <button type="button" className="wf-link" disabled={i === spec.subnets.length - 1} aria-label={`Move ${choice.name} down`} onClick={() => move(i, i + 1)}>
                  Down
                </button>
                <button type="button" className="wf-link" data-testid="deploy-subnet-remove" aria-label={`Remove ${choice.name}`} onClick={() => onChange({ ...spec, subnets: spec.subnets.filter((_, j) => j !== i) })}>
                  Remove
                </button>
              </span>
            </li>
          );
        })}
      </ol>
      <select
        className="wf-input"
        data-testid="deploy-subnet-add"
        value=""
        disabled={!placement || remaining.length === 0}
        onChange={(e) => {
          const s = offered.find((x) => x.uuid === e.target.value);
          if (s) onChange({ ...spec, subnets: [...spec.subnets, choiceOf(s)] });
        }}
      >
        <option value="">{!placement ? "Reading the subnets…" : remaining.length === 0 ? "Every subnet of this Prism Element is chosen" : spec.subnets.length === 0 ? "Pick a subnet…" : "Add another subnet (one more NIC per VM)…"}</option>
        {remaining.map((s) => (
          <option key={s.uuid} value={s.uuid}>
            {s.name} — {subnetFacts(s)}
          </option>
        ))}
      </select>
    </div>
  );
}

function VipPicker({ spec, onChange, placement }: SectionProps & { placement: PlacementOptions | null }) {
  const vip = spec.controlPlaneEndpoint;
  const first = placement?.subnets.find((s) => s.uuid === spec.subnets[0]?.uuid);
  const invalid = vip.trim() !== "" && !isIpv4(vip);
  const pool = !invalid && first ? first.pools.find((p) => inRange(vip, p)) : undefined;
  const candidates = placement && placement.vipSubnetUuid === spec.subnets[0]?.uuid ? placement.vipCandidates : [];
  return (
    <Field
      label="Control-plane VIP (kube-vip)"
      wide
      error={invalid ? `"${vip.trim()}" is not an IPv4 address (four numbers 0–255, like 10.64.0.2).` : null}
      warning={pool ? `${vip} is inside the IP pool ${pool} of ${first?.name}: Prism may give it to a VM. The preflight will say more.` : undefined}
      hint={placement?.vipNote ?? (first ? `A free address of ${first.name}${first.cidr ? ` (${first.cidr})` : ""}, outside its IP pools.` : "Pick a subnet first.")}
    >
      <input className="wf-input wf-mono" data-testid="deploy-vip" value={vip} placeholder="e.g. 10.64.0.2" spellCheck={false} autoComplete="off" aria-invalid={invalid || undefined} onChange={(e) => onChange({ ...spec, controlPlaneEndpoint: e.target.value.trim() })} />
      {candidates.length > 0 && (
        <span className="dp-candidates" data-testid="deploy-vip-candidates">
          Free:
          {candidates.map((ip) => (
            <button key={ip} type="button" className="dp-chip" data-testid="deploy-vip-candidate" aria-pressed={ip === vip} onClick={() => onChange({ ...spec, controlPlaneEndpoint: ip })}>
              {ip}
            </button>
          ))}
        </span>
      )}
    </Field>
  );
}

export function PlacementSection({
  spec,
  onChange,
  options,
  placement,
  problem,
  onRetry,
}: SectionProps & { options: DeployOptions; placement: PlacementOptions | null; problem: Problem | null; onRetry: () => void }) {
  const current = placement && placement.prismElementUuid === spec.prismElement.uuid ? placement : null;
  const k8sMinor = minor(spec.kubernetesVersion);
  const images = current?.images ?? [];
  const matching = images.filter((i) => i.matches);
  const others = images.filter((i) => !i.matches);
  const chosenImage = images.find((i) => i.uuid === spec.image.uuid);
  return (
    <Section title="Placement" hint="Everything here is read from Prism Central: pick, never type a name." testId="deploy-placement">
      {problem && <ErrorBanner title="The Prism Element's subnets and images could not be read" problem={problem} action={<button type="button" className="button" onClick={onRetry}>Retry</button>} />}
      <div className="wf-grid">
        <Field label="Prism Element" wide>
          <select
            className="wf-input"
            data-testid="deploy-pe"
            value={spec.prismElement.uuid}
            onChange={(e) => {
              const pe = options.prismElements.find((p) => p.uuid === e.target.value);
              // Subnets and images belong to a Prism Element: choose them again.
              if (pe) onChange({ ...spec, prismElement: choiceOf(pe), subnets: [], image: { ...NO_CHOICE } });
            }}
          >
            {options.prismElements.length === 0 && <option value="">No Prism Element found</option>}
            {options.prismElements.map((p) => (
              <option key={p.uuid} value={p.uuid} disabled={!p.available}>
                {p.name} · {toNumber(p.hosts)} {p.hypervisor ?? ""} hosts{p.aosVersion ? ` · AOS ${p.aosVersion}` : ""}
                {p.available ? "" : " · not available"}
                {p.nameUnique ? "" : " · name not unique"}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Node image"
          wide
          warning={
            chosenImage && !chosenImage.matches ? (
              <span data-testid="deploy-image-mismatch">
                {chosenImage.name} does not carry Kubernetes {k8sMinor ?? "of the profile"}: kubeadm on the nodes would not match the cluster. Pick a matching image.
              </span>
            ) : chosenImage?.state && chosenImage.state !== "COMPLETE" ? (
              `${chosenImage.name} is ${chosenImage.state}: no VM can boot from it until its upload finishes.`
            ) : undefined
          }
          hint={current && matching.length === 0 ? `No image here carries Kubernetes ${k8sMinor}: upload a CAPX image built for it.` : undefined}
        >
          <select
            className="wf-input"
            data-testid="deploy-image"
            value={spec.image.uuid}
            disabled={!current}
            onChange={(e) => {
              const image = images.find((i) => i.uuid === e.target.value);
              onChange(withImage(spec, image));
            }}
          >
            <option value="">{current ? "Pick an image…" : "Reading the images…"}</option>
            {matching.length > 0 && (
              <optgroup label={`Kubernetes ${k8sMinor} (matches the profile)`}>
                {matching.map((i) => (
                  <option key={i.uuid} value={i.uuid} data-matches="true" data-state={i.state ?? ""}>
                    {imageLabel(i, k8sMinor)}
                  </option>
                ))}
              </optgroup>
            )}
            {others.length > 0 && (
              <optgroup label="Other Kubernetes versions (do not match)">
                {others.map((i) => (
                  <option key={i.uuid} value={i.uuid} data-matches="false" data-state={i.state ?? ""}>
                    {imageLabel(i, k8sMinor)}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </Field>
        <SubnetPicker spec={spec} onChange={onChange} placement={current} />
        <VipPicker spec={spec} onChange={onChange} placement={current} />
      </div>
    </Section>
  );
}
