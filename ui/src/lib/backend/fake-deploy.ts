import type {
  DeployOptions,
  DeployRender,
  DeployRequest,
  DeployResult,
  DeploySpec,
  PlacementOptions,
  PlacementRequest,
  PreflightReport,
  YamlReadBack,
  YamlReadBackRequest,
} from "../bindings";
import type { FakeClusters } from "./fake-cluster";
import type { FakeProfile } from "./fake-profile";

/** The step-5 half of the `FakeServer` (being built: this fixes the interface only). */
export class FakeDeploy {
  constructor(
    private readonly clusters: FakeClusters,
    private readonly profiles: FakeProfile,
  ) {}

  deployOptions(): DeployOptions {
    void this.profiles;
    throw new Error("not implemented");
  }

  deployPlacement(request: PlacementRequest): PlacementOptions {
    void request;
    throw new Error("not implemented");
  }

  deployRender(spec: DeploySpec): DeployRender {
    void spec;
    throw new Error("not implemented");
  }

  deployYamlReadBack(request: YamlReadBackRequest): YamlReadBack {
    void request;
    throw new Error("not implemented");
  }

  deployPreflight(spec: DeploySpec): PreflightReport {
    void spec;
    throw new Error("not implemented");
  }

  clusterDeploy(request: DeployRequest): DeployResult {
    void request;
    void this.clusters;
    throw new Error("not implemented");
  }
}
