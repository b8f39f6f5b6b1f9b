import { ComingSoon } from "../components/EmptyState";
import { EnvironmentCard } from "../components/EnvironmentCard";
import { PageHeader } from "../components/Page";

const COLUMNS = ["Name", "Profile", "Kubernetes", "Nodes", "Prism Element", "Health"];

function InventoryPreview() {
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            {COLUMNS.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            <td colSpan={COLUMNS.length} className="table-empty">
              No clusters yet. Clusters you deploy through Workflow, and those already in Palette, will be listed here.
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

export function ClustersPage() {
  return (
    <>
      <PageHeader title="Clusters" subtitle="Inventory of Nutanix clusters managed by Palette, and what you can do with them." />
      <EnvironmentCard />
      <InventoryPreview />
      <ComingSoon
        testId="clusters-empty"
        heading="Inventory with day-2 actions"
        intro="This page will list every cluster with its profile, version and node pools, kept in a local cache so it opens instantly and works offline."
        points={[
          { title: "Scale", text: "Change node-pool sizes and watch VMs join or drain." },
          { title: "Upgrade", text: "Move to a new profile version, with a diff of what changes before it runs." },
          { title: "Kubeconfig", text: "Download or copy the kubeconfig for a cluster." },
          { title: "Delete", text: "Tear a cluster down with an explicit confirmation and progress." },
        ]}
      />
    </>
  );
}
