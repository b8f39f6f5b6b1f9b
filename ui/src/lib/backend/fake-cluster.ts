import type {
  ClusterDeleteRequest,
  ClusterDetail,
  ClusterScaleRequest,
  ClusterUidRequest,
  DeploySpec,
  KubeconfigSaveRequest,
  KubeconfigSaved,
  ProfileUpdatePlan,
  ProfileUpdateRequest,
} from "../bindings";

/** The day-2 half of the `FakeServer` (being built: this fixes the interface only). */
export class FakeClusters {
  create(input: { name: string; spec: DeploySpec }): string {
    void input;
    throw new Error("FakeClusters.create is not implemented yet");
  }

  findByName(name: string): string | undefined {
    void name;
    return undefined;
  }

  clusterDetail(request: ClusterUidRequest): ClusterDetail {
    void request;
    throw new Error("not implemented");
  }

  kubeconfigSave(request: KubeconfigSaveRequest): KubeconfigSaved {
    void request;
    throw new Error("not implemented");
  }

  clusterScale(request: ClusterScaleRequest): ClusterDetail {
    void request;
    throw new Error("not implemented");
  }

  clusterProfilePlan(request: ProfileUpdateRequest): ProfileUpdatePlan {
    void request;
    throw new Error("not implemented");
  }

  clusterProfileUpdate(request: ProfileUpdateRequest): ClusterDetail {
    void request;
    throw new Error("not implemented");
  }

  clusterDelete(request: ClusterDeleteRequest): ClusterDetail {
    void request;
    throw new Error("not implemented");
  }
}
