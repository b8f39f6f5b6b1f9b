import { render } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ReactNode } from "react";
import { BackendProvider } from "../../lib/backend";
import type { DeploySpec, PoolSpec } from "../../lib/bindings";
import { MockBackend } from "../../lib/backend/mock";
import { ClusterTimingContext } from "./useClusterDetail";

/** Fast polling, so tests see the fake's transitions within a few ticks. */
export const FAST = { pollMs: 20, settledPollMs: 60 };

/** Renders `ui` against a fresh (or given) MockBackend with fast cluster polling. */
export function renderWithBackend(ui: ReactNode, backend = new MockBackend()) {
  const user = userEvent.setup();
  const utils = render(
    <BackendProvider backend={backend}>
      <ClusterTimingContext.Provider value={FAST}>{ui}</ClusterTimingContext.Provider>
    </BackendProvider>,
  );
  return { backend, user, ...utils };
}

const pool = (replicas: number): PoolSpec => ({
  name: "",
  replicas,
  vcpuSockets: 2,
  vcpusPerSocket: 1,
  memoryGib: 8,
  diskGib: 40,
  bootType: "legacy",
});

/** A deploy form as step 5 would send it (1 control-plane node, `workers` workers). */
export function deploySpec(name: string, workers = 2): DeploySpec {
  return {
    name,
    description: "",
    accountUid: "acc-1",
    profileUid: "none",
    layerValues: [],
    prismElement: { uuid: "pe-1", name: "pe-fra-a", useUuid: false },
    subnets: [{ uuid: "sn-1", name: "vlan-30-k8s", useUuid: false }],
    image: { uuid: "img-1", name: "ubuntu-2204-kube-v1.30.4", useUuid: false },
    kubernetesVersion: "v1.30.4",
    controlPlaneEndpoint: "10.30.0.150",
    controlPlanePort: 6443,
    controlPlane: pool(1),
    workers: [pool(workers)],
    sshPublicKey: "ssh-ed25519 AAAA test",
    podCidr: "192.168.0.0/16",
    serviceCidr: "10.96.0.0/12",
  };
}
