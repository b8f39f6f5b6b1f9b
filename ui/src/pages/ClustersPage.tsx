import { type KeyboardEvent, useId, useRef } from "react";
import { PageHeader } from "../components/Page";
import { navigate, useRoute } from "../lib/router";
import { ClusterDetailPage } from "./cluster/ClusterDetailPage";
import { ClustersTab } from "./inventory/ClustersTab";
import { ImagesTab, SubnetsTab } from "./inventory/SmallKindTabs";
import { VmsTab } from "./inventory/VmsTab";
import "./inventory/inventory.css";

const TABS = [
  { id: "clusters", label: "Clusters" },
  { id: "vms", label: "VMs" },
  { id: "subnets", label: "Subnets" },
  { id: "images", label: "Images" },
] as const;

type TabId = (typeof TABS)[number]["id"];

/** The tab lives in the address (`#/clusters?tab=vms`), so links and reloads keep it. */
function openTab(id: TabId) {
  navigate("clusters", id === "clusters" ? undefined : { tab: id });
}

export function ClustersPage() {
  const route = useRoute();
  const tab: TabId = TABS.find((t) => t.id === route.params.get("tab"))?.id ?? "clusters";
  const ids = useId();
  const tabRefs = useRef(new Map<TabId, HTMLButtonElement>());

  function onTabKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    const index = TABS.findIndex((t) => t.id === tab);
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: TABS.length - 1 - index };
    if (!(e.key in moves)) return;
    e.preventDefault();
    const next = TABS[(index + moves[e.key] + TABS.length) % TABS.length].id;
    openTab(next);
    tabRefs.current.get(next)?.focus();
  }

  // `#/clusters?cluster=<Palette uid>`: one cluster's day-2 page.
  const clusterUid = route.params.get("cluster");
  if (clusterUid) return <ClusterDetailPage key={clusterUid} uid={clusterUid} />;

  return (
    <div className="inventory-page">
      <PageHeader title="Clusters" subtitle="Kubernetes clusters and the Nutanix inventory behind them, from the local cache." />
      <div className="tabs" role="tablist" aria-label="Inventory" onKeyDown={onTabKeyDown}>
        {TABS.map((t) => (
          <button
            key={t.id}
            ref={(el) => {
              if (el) tabRefs.current.set(t.id, el);
              else tabRefs.current.delete(t.id);
            }}
            type="button"
            role="tab"
            id={`${ids}-tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`${ids}-panel`}
            tabIndex={tab === t.id ? 0 : -1}
            className="tab"
            data-testid={`clusters-tab-${t.id}`}
            onClick={() => openTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div className="tab-panel" role="tabpanel" id={`${ids}-panel`} aria-labelledby={`${ids}-tab-${tab}`} data-testid={`clusters-panel-${tab}`}>
        {tab === "clusters" && <ClustersTab />}
        {tab === "vms" && <VmsTab />}
        {tab === "subnets" && <SubnetsTab />}
        {tab === "images" && <ImagesTab />}
      </div>
    </div>
  );
}
