import type { EntityKind } from "../../lib/bindings";

/** What each cached kind is called in the UI (plural, as progress and lists count them). */
export const KIND_WORDS: Record<EntityKind, string> = {
  pe_cluster: "Prism Element clusters",
  subnet: "Subnets",
  image: "Images",
  vm: "Virtual machines",
  host: "Hosts",
  project: "Projects",
  cloud_type: "Cloud types",
  pcg: "Private Cloud Gateways",
  cloud_account: "Cloud accounts",
  profile: "Cluster profiles",
  palette_cluster: "Palette clusters",
  machine_pool: "Machine pools",
  node: "Nodes",
};

/** 25000 → "25,000" regardless of the system locale, so numbers read the same everywhere. */
export function formatCount(n: number): string {
  return n.toLocaleString("en");
}
