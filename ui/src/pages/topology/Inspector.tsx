import { useState } from "react";
import type { JsonValue } from "../../lib/bindings/serde_json/JsonValue";
import type { TopologyNode } from "../../lib/bindings";
import { CloseIcon } from "../../components/Icons";
import { type GraphIndex, KIND_LABEL, STATUS_LABEL, kindOfNodeId, nodeIdKey, powerLabel, relatedObjects, vmCountLabel } from "./graph";

const DETAIL_LABEL: Record<string, string> = {
  vip: "kube-vip address",
  vipHolderVm: "VIP held by",
  primaryPe: "Primary Prism Element",
  paletteUid: "Palette UID",
  paletteState: "Palette state",
  kubernetesVersion: "Kubernetes",
  powerState: "Power",
  ips: "IP addresses",
  learnedIps: "Learned IPs",
  vcpus: "vCPUs",
  memoryMib: "Memory",
  pe: "Prism Element",
  holdsVip: "Holds the VIP",
  uuid: "UUID",
  uid: "UID",
  externalIp: "External IP",
  aosVersion: "AOS version",
  vlanId: "VLAN",
  cidr: "CIDR",
  controlPlane: "Control plane",
  hostVm: "Host VM",
  hostCluster: "Host cluster",
  selfHosted: "Self-hosted",
  ipAddress: "IP address",
  tenantUid: "Tenant UID",
  cloudAccount: "Cloud account",
  url: "URL",
};

/** Detail shown before the rest, per kind (the rest follow alphabetically). */
const DETAIL_FIRST: Partial<Record<TopologyNode["kind"], string[]>> = {
  cluster: ["vip", "vipHolderVm", "primaryPe", "kubernetesVersion", "paletteState", "health"],
  vm: ["powerState", "ips", "learnedIps", "holdsVip", "pe", "vcpus", "memoryMib", "uuid"],
};

export function detailLabel(key: string): string {
  if (DETAIL_LABEL[key]) return DETAIL_LABEL[key];
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function formatDetail(key: string, value: JsonValue | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (key === "memoryMib" && typeof value === "number") {
    return value >= 1024 && value % 1024 === 0 ? `${value / 1024} GiB` : `${value.toLocaleString("en")} MiB`;
  }
  if (typeof value === "number") return value.toLocaleString("en");
  if (Array.isArray(value)) return value.length === 0 ? "—" : value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return value;
}

function orderedDetail(node: TopologyNode): Array<[string, JsonValue | undefined]> {
  const first = DETAIL_FIRST[node.kind] ?? [];
  const keys = [...first.filter((k) => k in node.detail), ...Object.keys(node.detail).filter((k) => !first.includes(k)).sort()];
  return keys.map((k) => [k, node.detail[k]]);
}

function NodeLinkButton({ id, label, onSelect }: { id: string; label: string; onSelect: (id: string) => void }) {
  return (
    <button type="button" className="topo-link" data-node-id={id} onClick={() => onSelect(id)} title={`Show ${label} on the map`}>
      {label}
    </button>
  );
}

function CopyableUrl({ label, url }: { label: string; url: string }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    void navigator.clipboard
      ?.writeText(url)
      .then(() => {
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      })
      .catch(() => {});
  };
  return (
    <li className="topo-api-link">
      <span className="topo-api-label">{label}</span>
      <span className="mono selectable topo-api-url" title={url}>
        {url}
      </span>
      <button type="button" className="button topo-copy" onClick={copy} aria-label={`Copy ${label} address`}>
        {copied ? "Copied" : "Copy"}
      </button>
    </li>
  );
}

export function Inspector({ node, index, onSelect, onClose, onToggleGroup }: { node: TopologyNode; index: GraphIndex; onSelect: (id: string) => void; onClose: () => void; onToggleGroup: (node: TopologyNode) => void }) {
  const related = relatedObjects(index, node.id);
  const apiLinks = node.links.filter((l) => !l.url.startsWith("node:"));
  const nodeLinks = node.links.filter((l) => l.url.startsWith("node:"));
  const labelOf = (id: string) => index.nodes.get(id)?.label ?? nodeIdKey(id);
  return (
    <aside className="topo-inspector" data-testid="topology-inspector" aria-label={`Details of ${node.label}`}>
      <header className="topo-inspector-head">
        <div className="topo-inspector-titles">
          <div className="eyebrow">{KIND_LABEL[node.kind]}</div>
          <h2 className="topo-inspector-title selectable" data-testid="inspector-title">
            {node.label}
          </h2>
        </div>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close details" title="Close (Esc)">
          <CloseIcon size={15} />
        </button>
      </header>
      <div className="topo-inspector-status">
        <span className="topo-status-pill" data-status={node.status}>
          <span className="topo-status-dot" data-status={node.status} aria-hidden="true" />
          {STATUS_LABEL[node.status]}
        </span>
        {node.counts && (
          <span className="muted">
            {vmCountLabel(node.counts.vms)}
            {node.counts.vms > 0 && ` · ${powerLabel(node.counts)}`}
          </span>
        )}
      </div>
      {node.kind === "vm_group" && (
        <button type="button" className="button topo-inspector-action" onClick={() => onToggleGroup(node)}>
          {node.collapsed ? "Show these VMs on the map" : "Hide these VMs"}
        </button>
      )}

      {related.length > 0 && (
        <section className="topo-inspector-section">
          <h3>Related</h3>
          <dl className="kv">
            {related.map((group) => (
              <div key={group.kind} className="kv-row" data-testid={`inspector-related-${group.slug}`}>
                <dt>{group.title}</dt>
                <dd className="topo-related-items">
                  {group.items.map((item) => (
                    <span key={item.id} className="topo-related-item">
                      <NodeLinkButton id={item.id} label={item.label} onSelect={onSelect} />
                      {item.role && <span className="muted"> {item.role}</span>}
                    </span>
                  ))}
                  {group.more > 0 && <span className="muted">and {group.more.toLocaleString("en")} more</span>}
                </dd>
              </div>
            ))}
            {nodeLinks.map((link) => (
              <div key={link.url} className="kv-row">
                <dt>{link.label}</dt>
                <dd>
                  <NodeLinkButton id={link.url.slice("node:".length)} label={labelOf(link.url.slice("node:".length))} onSelect={onSelect} />
                </dd>
              </div>
            ))}
          </dl>
        </section>
      )}

      <section className="topo-inspector-section">
        <h3>Details</h3>
        <dl className="kv">
          <div className="kv-row">
            <dt>Id</dt>
            <dd className="mono">{node.id}</dd>
          </div>
          {orderedDetail(node).map(([key, value]) => (
            <div key={key} className="kv-row" data-testid={`inspector-detail-${key}`}>
              <dt>{detailLabel(key)}</dt>
              <dd className={typeof value === "string" || Array.isArray(value) ? "mono" : undefined}>
                {kindOfNodeId(value) ? <NodeLinkButton id={value as string} label={labelOf(value as string)} onSelect={onSelect} /> : formatDetail(key, value)}
              </dd>
            </div>
          ))}
        </dl>
      </section>

      {apiLinks.length > 0 && (
        <section className="topo-inspector-section">
          <h3>API</h3>
          <ul className="topo-api-links">
            {apiLinks.map((link) => (
              <CopyableUrl key={link.url} label={link.label} url={link.url} />
            ))}
          </ul>
        </section>
      )}
    </aside>
  );
}
