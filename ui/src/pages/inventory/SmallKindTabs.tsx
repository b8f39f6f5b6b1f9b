import { asNumber, asString, formatBytes } from "./format";
import { type KindColumn, KindTable } from "./KindTable";

const dash = <span className="muted">—</span>;

const SUBNET_COLUMNS: KindColumn[] = [
  { label: "Name", sort: "name", render: (row) => <span className="cell-strong">{row.name}</span> },
  { label: "Type", sort: "state", render: (row) => asString(row.columns.subnetType) ?? row.state ?? dash },
  { label: "CIDR", mono: true, render: (row) => asString(row.columns.cidr) ?? dash },
  { label: "VLAN", numeric: true, render: (row) => asNumber(row.columns.vlanId) ?? dash },
  { label: "Prism Element", sort: "parent", render: (row) => row.parentName ?? (row.parent ? row.parent : <span className="muted">Prism Central (overlay)</span>) },
];

const IMAGE_COLUMNS: KindColumn[] = [
  { label: "Name", sort: "name", render: (row) => <span className="cell-strong">{row.name}</span> },
  { label: "State", sort: "state", render: (row) => row.state ?? dash },
  { label: "Type", render: (row) => (asString(row.columns.imageType) === "ISO_IMAGE" ? "ISO" : asString(row.columns.imageType) === "DISK_IMAGE" ? "Disk" : (asString(row.columns.imageType) ?? dash)) },
  { label: "Size", numeric: true, render: (row) => formatBytes(asNumber(row.columns.sizeBytes)) },
];

export function SubnetsTab() {
  return <KindTable kind="subnet" noun={{ one: "subnet", many: "subnets" }} testPrefix="subnet" columns={SUBNET_COLUMNS} />;
}

export function ImagesTab() {
  return <KindTable kind="image" noun={{ one: "image", many: "images" }} testPrefix="image" columns={IMAGE_COLUMNS} />;
}
