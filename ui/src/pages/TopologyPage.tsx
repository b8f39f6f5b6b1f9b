import { ComingSoon } from "../components/EmptyState";
import { EnvironmentCard } from "../components/EnvironmentCard";
import { PageHeader } from "../components/Page";

const LEVELS: Array<{ name: string; example: string }> = [
  { name: "Palette", example: "tenant · projects" },
  { name: "Private Cloud Gateway", example: "pcg-nutanix-01" },
  { name: "Prism Central", example: "pc.example.net" },
  { name: "Prism Element", example: "PE-A · PE-B" },
  { name: "Clusters", example: "prod-apps · staging" },
  { name: "Node pools", example: "control-plane · workers" },
  { name: "VMs", example: "kube-vip holds the API address" },
];

function TopologyLadder() {
  return (
    <ol className="ladder" aria-label="Topology levels">
      {LEVELS.map((level, i) => (
        <li key={level.name} className="ladder-level" style={{ marginLeft: `${i * 10}px` }}>
          <span className="ladder-dot" aria-hidden="true" />
          <span className="ladder-name">{level.name}</span>
          <span className="ladder-example">{level.example}</span>
        </li>
      ))}
    </ol>
  );
}

export function TopologyPage() {
  return (
    <>
      <PageHeader title="Topology" subtitle="Everything Capstan manages, as one connected map." />
      <EnvironmentCard />
      <ComingSoon
        testId="topology-empty"
        heading="Palette → PCG → Prism Central → Prism Element → clusters → node pools → VMs"
        intro="This page will draw the live hierarchy as an interactive map, grouped per cluster so large estates stay readable."
        points={[
          { title: "Every layer in one view", text: "From the Palette project down to each VM, with health on every node." },
          { title: "kube-vip and addresses", text: "Which VM holds the control-plane virtual IP, and the subnets each node pool uses." },
          { title: "Filter and focus", text: "Collapse or expand per cluster, filter by health, and open any item in Clusters or Activity." },
        ]}
        aside={<TopologyLadder />}
      />
    </>
  );
}
