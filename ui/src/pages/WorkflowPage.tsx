import { ComingSoon } from "../components/EmptyState";
import { EnvironmentCard } from "../components/EnvironmentCard";
import { PageHeader } from "../components/Page";

/** Where each workflow step acts: Palette, the PCG inside Nutanix, and the cluster VMs. */
function ArchitectureDiagram() {
  const box = (x: number, y: number, w: number, title: string, sub: string, tone: "accent" | "plain" = "plain") => (
    <g transform={`translate(${x} ${y})`}>
      <rect width={w} height="46" rx="7" className={tone === "accent" ? "diagram-box diagram-box-accent" : "diagram-box"} />
      <text x={w / 2} y="20" textAnchor="middle" className="diagram-title">
        {title}
      </text>
      <text x={w / 2} y="35" textAnchor="middle" className="diagram-sub">
        {sub}
      </text>
    </g>
  );
  return (
    <svg viewBox="0 0 300 352" className="diagram" role="img" aria-label="Architecture: Capstan drives Palette, which manages a Private Cloud Gateway inside Nutanix that provisions cluster VMs through Prism Central">
      <defs>
        <marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M0 0 8 4 0 8z" className="diagram-arrowhead" />
        </marker>
      </defs>
      <rect x="8" y="120" width="284" height="224" rx="10" className="diagram-zone" />
      <text x="282" y="138" textAnchor="end" className="diagram-zone-label">
        Nutanix (on-premises)
      </text>
      {box(80, 8, 140, "Capstan", "this app", "accent")}
      {box(80, 72, 140, "Palette", "cloud type · account · profile")}
      {box(24, 152, 120, "PCG", "self-hosted gateway")}
      {box(160, 152, 120, "Prism Central", "v3 API · :9440")}
      {box(160, 220, 120, "Prism Element", "AHV clusters")}
      {box(40, 288, 220, "Workload cluster", "CAPX VMs · kube-vip control plane")}
      <path d="M150 54v16" className="diagram-edge" markerEnd="url(#arrow)" />
      <path d="M120 118 84 150" className="diagram-edge" markerEnd="url(#arrow)" />
      <path d="M144 175h14" className="diagram-edge" markerEnd="url(#arrow)" />
      <path d="M220 198v20" className="diagram-edge" markerEnd="url(#arrow)" />
      <path d="M220 266v20" className="diagram-edge" markerEnd="url(#arrow)" />
      <path d="M84 198v88" className="diagram-edge diagram-edge-dashed" markerEnd="url(#arrow)" />
    </svg>
  );
}

export function WorkflowPage() {
  return (
    <>
      <PageHeader title="Workflow" subtitle="From an empty Palette to a running Kubernetes cluster on Nutanix." />
      <EnvironmentCard />
      <ComingSoon
        testId="workflow-empty"
        heading="Five steps, each checked before it runs"
        intro="This page will walk through the whole path with a live state for every step, what it will change, and a resumable progress log."
        points={[
          { title: "Register the Nutanix cloud type", text: "Add Nutanix as a custom cloud type in Palette, with the CAPX provider templates." },
          { title: "Deploy a self-hosted Private Cloud Gateway", text: "Create the PCG that lets Palette reach Prism Central from inside your network." },
          { title: "Add the Nutanix cloud account", text: "Link Prism Central to Palette through the PCG, with its credentials and certificate." },
          { title: "Create a cluster profile", text: "OS, Kubernetes, network and storage layers, edited as YAML with schema validation." },
          { title: "Deploy the cluster", text: "Pick Prism Element, subnet, node pools and the kube-vip address, then watch the VMs come up." },
        ]}
        aside={<ArchitectureDiagram />}
      />
    </>
  );
}
