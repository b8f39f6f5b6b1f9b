import { configure, render, screen, waitFor, within } from "@testing-library/react";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { ProfileCreateRequest, ProfileLayerInput, ProfileNewVersionRequest } from "../../lib/bindings";
import { BackendProvider } from "../../lib/backend";
import { FakeWorkflow } from "../../lib/backend/fake-workflow";
import { MockBackend } from "../../lib/backend/mock";
import { WorkflowPage } from "./WorkflowPage";

// The whole suite shares two cores: give the page's timers room before a wait gives up.
configure({ asyncUtilTimeout: 4_000 });

/** Short waits so the tests run in real time: state is only re-read when a test asks. */
const FAST = { statePollMs: 60_000, pcgPollMs: 30, draftSaveMs: 20, planMs: 5, nameCheckMs: 5 };

const PUBLIC = "reg-public";
const CUSTOM = "reg-custom";

/** Steps 1–3 done, as when a user arrives at step 4. */
function backendAtStep4(): MockBackend {
  const backend = new MockBackend();
  backend.server.workflow = new FakeWorkflow(undefined, { draftStorage: null, start: "account" });
  return backend;
}

function renderStep(backend: MockBackend) {
  window.location.hash = "#/workflow?step=profile";
  const user = userEvent.setup();
  const utils = render(
    <BackendProvider backend={backend}>
      <WorkflowPage timing={FAST} />
    </BackendProvider>,
  );
  return { user, ...utils };
}

const LAYERS: ProfileLayerInput[] = [
  { layer: "os", registryUid: CUSTOM, packName: "os-nutanix", version: "1.0.0", values: "" },
  { layer: "k8s", registryUid: PUBLIC, packName: "kubernetes", version: "1.30.6", values: "" },
  { layer: "cni", registryUid: PUBLIC, packName: "cni-cilium-oss", version: "1.16.3", values: "" },
  { layer: "csi", registryUid: PUBLIC, packName: "nutanix-csi", version: "3.1.0", values: "charts:\n  nutanix-csi-storage:\n    volumeClass: true\n" },
];

const optionTexts = (select: HTMLElement) => Array.from((select as HTMLSelectElement).options).map((o) => o.textContent);
const groupOf = (select: HTMLElement, label: string) => select.querySelector(`optgroup[label="${label}"]`);

/** Picks a pack for each required layer (newest version, as the page does). */
async function pickRequired(user: UserEvent) {
  await user.selectOptions(await screen.findByTestId("profile-pack-os"), `${CUSTOM}|os-nutanix`);
  await user.selectOptions(screen.getByTestId("profile-pack-k8s"), `${PUBLIC}|kubernetes`);
  await user.selectOptions(screen.getByTestId("profile-pack-cni"), `${PUBLIC}|cni-cilium-oss`);
  await user.selectOptions(screen.getByTestId("profile-pack-csi"), `${PUBLIC}|nutanix-csi`);
}

describe("step 4: the cluster profile", () => {
  it("lists each layer's packs by registry with their versions, nutanix-csi for CSI and the custom registry marked", async () => {
    const backend = backendAtStep4();
    const { user } = renderStep(backend);
    const os = await screen.findByTestId("profile-pack-os");

    const registries = screen.getAllByTestId("profile-registry");
    expect(registries.map((r) => r.getAttribute("data-uid"))).toEqual([PUBLIC, CUSTOM]);
    expect(registries[1]).toHaveAttribute("data-custom", "true");
    expect(registries[1]).toHaveTextContent("capstan-custom-packs");
    expect(registries[1]).toHaveTextContent("custom");
    expect(registries[0]).not.toHaveTextContent("custom");

    // The custom OS pack sits under its registry, labelled custom.
    expect(within(groupOf(os, "capstan-custom-packs (custom)") as HTMLElement).getByRole("option")).toHaveTextContent("Nutanix OS (CAPX image) (os-nutanix)");
    expect(within(groupOf(os, "Public Repo") as HTMLElement).getByRole("option")).toHaveTextContent("Ubuntu (ubuntu)");
    expect(optionTexts(screen.getByTestId("profile-pack-k8s"))).toContain("Palette eXtended Kubernetes (kubernetes)");
    expect(optionTexts(screen.getByTestId("profile-pack-csi"))).toEqual(["Choose a pack…", "Nutanix CSI (nutanix-csi)"]);
    expect(backend.callsOf("packs_by_layer")).toEqual(expect.arrayContaining(["os", "k8s", "cni", "csi", "addon"].map((layer) => ({ layer }))));

    // Versions newest first; choosing a pack takes the newest.
    expect(screen.getByTestId("profile-version-csi")).toBeDisabled();
    await user.selectOptions(screen.getByTestId("profile-pack-csi"), `${PUBLIC}|nutanix-csi`);
    const csiVersion = screen.getByTestId("profile-version-csi");
    expect(optionTexts(csiVersion)).toEqual(["3.2.0 (newest)", "3.1.0"]);
    expect(csiVersion).toHaveValue("3.2.0");
    await user.selectOptions(screen.getByTestId("profile-pack-os"), `${CUSTOM}|os-nutanix`);
    expect(optionTexts(screen.getByTestId("profile-version-os"))).toEqual(["1.0.0 (newest)"]);

    // The editor shows the chosen layer's defaults, read from the backend.
    await user.click(screen.getByTestId("profile-edit-csi"));
    const values = await screen.findByRole("textbox", { name: "Storage (CSI) values" });
    await waitFor(() => expect(values).toHaveValue("# nutanix-csi 3.2.0\ncharts:\n  nutanix-csi:\n    enabled: true\n"));
    expect(backend.callsOf("pack_values")).toContainEqual({ registryUid: PUBLIC, packName: "nutanix-csi", version: "3.2.0" });
    // A missing layer blocks create, and says which.
    expect(screen.getByTestId("profile-blockers")).toHaveTextContent("Choose a pack for the Kubernetes layer.");
    expect(screen.getByTestId("profile-create")).toBeDisabled();
  });

  it("shows why a name and version are taken at the field and keeps create disabled until they are free", async () => {
    const backend = backendAtStep4();
    backend.server.profile.profileCreate({ name: "nutanix-k8s", version: "1.0.0", description: "", layers: LAYERS, publish: true });
    const { user } = renderStep(backend);
    await pickRequired(user);
    await user.type(screen.getByTestId("profile-name"), "nutanix-k8s");

    const problem = await screen.findByTestId("profile-version-problem");
    expect(problem).toHaveTextContent("A cluster profile named nutanix-k8s with version 1.0.0 already exists.");
    expect(screen.getByTestId("profile-version")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("profile-create")).toBeDisabled();
    expect(backend.callsOf("profile_name_check")).toContainEqual({ name: "nutanix-k8s", version: "1.0.0" });

    const version = screen.getByTestId("profile-version");
    await user.clear(version);
    await user.type(version, "1.0");
    await waitFor(() => expect(screen.getByTestId("profile-version-problem")).toHaveTextContent("not a version Palette accepts"));
    expect(screen.getByTestId("profile-create")).toBeDisabled();

    await user.type(version, ".1");
    await waitFor(() => expect(screen.getByTestId("profile-name-check")).toHaveAttribute("data-state", "available"));
    expect(screen.queryByTestId("profile-version-problem")).not.toBeInTheDocument();
    expect(screen.getByTestId("profile-version")).not.toHaveAttribute("aria-invalid");
    expect(screen.getByTestId("profile-create")).toBeEnabled();
  });

  it("creates and publishes the profile with the edited values only, shows the result and refreshes the stepper", async () => {
    const backend = backendAtStep4();
    const { user } = renderStep(backend);
    await pickRequired(user);
    await user.selectOptions(screen.getByTestId("profile-version-k8s"), "1.30.6");
    await user.click(screen.getByTestId("profile-edit-csi"));
    const values = await screen.findByRole("textbox", { name: "Storage (CSI) values" });
    await waitFor(() => expect(values).toHaveValue("# nutanix-csi 3.2.0\ncharts:\n  nutanix-csi:\n    enabled: true\n"));
    await user.type(values, "    storageClass: nutanix-volume\n");
    expect(screen.getByTestId("profile-values-state-csi")).toHaveAttribute("data-edited", "true");
    expect(screen.getByTestId("profile-values-state-os")).toHaveAttribute("data-edited", "false");

    // The diff compares the defaults with the edited text.
    await user.click(screen.getByTestId("profile-view-diff"));
    expect(screen.getByLabelText("Defaults of nutanix-csi 3.2.0")).not.toHaveTextContent("storageClass");
    expect(screen.getByLabelText("This profile")).toHaveTextContent("storageClass: nutanix-volume");

    await user.type(screen.getByTestId("profile-name"), "nutanix-k8s");
    await waitFor(() => expect(screen.getByTestId("profile-create")).toBeEnabled());
    expect(screen.getByTestId("profile-publish")).toBeChecked();
    const polled = backend.callsOf("workflow_state").length;
    await user.click(screen.getByTestId("profile-create"));

    const result = await screen.findByTestId("profile-result");
    expect(result).toHaveAttribute("data-created", "true");
    expect(result).toHaveTextContent("Cluster profile nutanix-k8s 1.0.0 created");
    expect(result).toHaveTextContent("Created and published the cluster profile nutanix-k8s 1.0.0.");
    expect(result).toHaveTextContent(backend.server.profile.profiles[0].uid);
    const sent = backend.callsOf("profile_create") as ProfileCreateRequest[];
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ name: "nutanix-k8s", version: "1.0.0", publish: true });
    expect(sent[0].layers.map((l) => [l.layer, l.packName, l.version])).toEqual([
      ["os", "os-nutanix", "1.0.0"],
      ["k8s", "kubernetes", "1.30.6"],
      ["cni", "cni-cilium-oss", "1.16.3"],
      ["csi", "nutanix-csi", "3.2.0"],
    ]);
    // Untouched layers go empty (Palette's defaults); the edited one carries its text.
    expect(sent[0].layers.slice(0, 3).every((l) => l.values === "")).toBe(true);
    expect(sent[0].layers[3].values).toContain("storageClass: nutanix-volume");
    expect(backend.server.profile.profiles[0]).toMatchObject({ name: "nutanix-k8s", published: true });

    await waitFor(() => expect(backend.callsOf("workflow_state").length).toBeGreaterThan(polled));
    expect(backend.server.workflow.drafts.has("profile")).toBe(false);
    // The name is now taken: the check says so and create is off.
    await waitFor(() => expect(screen.getByTestId("profile-version-problem")).toHaveTextContent("already exists"));
    expect(screen.getByTestId("profile-create")).toBeDisabled();
  });

  it("shows the backend's refusal with its message and marks the layer it names", async () => {
    const backend = backendAtStep4();
    backend.server.override("profile_create", () => {
      throw { code: "invalid_input", message: "The storage (CSI) layer's values (nutanix-csi) are not valid YAML at line 3.", details: { field: "layers[3].values" } };
    });
    const { user } = renderStep(backend);
    await pickRequired(user);
    await user.type(screen.getByTestId("profile-name"), "nutanix-k8s");
    await waitFor(() => expect(screen.getByTestId("profile-create")).toBeEnabled());
    await user.click(screen.getByTestId("profile-create"));
    const error = await screen.findByTestId("profile-error");
    expect(error).toHaveAttribute("data-code", "invalid_input");
    expect(error).toHaveTextContent("not valid YAML at line 3");
    expect(screen.getByTestId("profile-layer-csi")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByTestId("profile-layer-os")).not.toHaveAttribute("aria-invalid");
    expect(screen.getByTestId("profile-name")).toHaveValue("nutanix-k8s");
    expect(screen.queryByTestId("profile-result")).not.toBeInTheDocument();
  });

  it("makes a new version of an existing profile, prefilled from it", async () => {
    const backend = backendAtStep4();
    const first = backend.server.profile.profileCreate({ name: "nutanix-k8s", version: "1.0.0", description: "Lab", layers: LAYERS, publish: true });
    const { user } = renderStep(backend);
    await user.click(await screen.findByTestId("profile-mode-version"));
    expect(screen.getByTestId("profile-create")).toBeDisabled();
    expect(screen.getByTestId("profile-blockers")).toHaveTextContent("Choose the profile to make a new version of");

    const base = await screen.findByTestId("profile-base");
    expect(base).toHaveValue(first.uid);
    expect(optionTexts(base)).toEqual(["nutanix-k8s 1.0.0"]);
    await user.click(screen.getByTestId("profile-base-load"));

    await waitFor(() => expect(screen.getByTestId("profile-version")).toHaveValue("1.0.1"));
    expect(backend.callsOf("profile_get")).toEqual([{ uid: first.uid }]);
    expect(screen.getByTestId("profile-name")).toHaveValue("nutanix-k8s");
    expect(screen.getByTestId("profile-name")).toHaveAttribute("readonly");
    expect(screen.getByTestId("profile-pack-os")).toHaveValue(`${CUSTOM}|os-nutanix`);
    expect(screen.getByTestId("profile-version-k8s")).toHaveValue("1.30.6");
    expect(screen.getByTestId("profile-version-csi")).toHaveValue("3.1.0");
    expect(screen.getByTestId("profile-values-state-csi")).toHaveAttribute("data-edited", "true");
    await user.click(screen.getByTestId("profile-edit-csi"));
    expect(await screen.findByRole("textbox", { name: "Storage (CSI) values" })).toHaveValue(LAYERS[3].values);

    // Upgrade one layer in the new version.
    await user.selectOptions(screen.getByTestId("profile-version-k8s"), "1.31.4");
    await waitFor(() => expect(screen.getByTestId("profile-create")).toBeEnabled());
    expect(screen.getByTestId("profile-create")).toHaveTextContent("Create and publish the version 1.0.1");
    await user.click(screen.getByTestId("profile-create"));

    const result = await screen.findByTestId("profile-result");
    expect(result).toHaveTextContent("Cluster profile nutanix-k8s 1.0.1 created");
    const sent = backend.callsOf("profile_new_version") as ProfileNewVersionRequest[];
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ uid: first.uid, version: "1.0.1", description: "", publish: true });
    expect(sent[0].layers).toEqual([LAYERS[0], { ...LAYERS[1], version: "1.31.4" }, LAYERS[2], LAYERS[3]]);
    expect(backend.callsOf("profile_create")).toHaveLength(0);
    expect(backend.server.profile.profilesList().profiles[0].versions.map((v) => v.version)).toEqual(["1.0.0", "1.0.1"]);
  });

  it("saves the form as a draft while typing and restores it after a remount", async () => {
    const backend = backendAtStep4();
    const first = renderStep(backend);
    await first.user.selectOptions(await screen.findByTestId("profile-pack-csi"), `${PUBLIC}|nutanix-csi`);
    await first.user.selectOptions(screen.getByTestId("profile-version-csi"), "3.1.0");
    await first.user.click(screen.getByTestId("profile-edit-csi"));
    const values = await screen.findByRole("textbox", { name: "Storage (CSI) values" });
    await waitFor(() => expect(values).toHaveValue("# nutanix-csi 3.1.0\ncharts:\n  nutanix-csi:\n    enabled: true\n"));
    await first.user.type(values, "    volumeClass: true\n");
    await first.user.type(screen.getByTestId("profile-name"), "draft-profile");
    await first.user.click(screen.getByTestId("profile-publish"));
    await waitFor(() =>
      expect(backend.server.workflow.draftGet({ step: "profile" }).draft?.data).toMatchObject({
        name: "draft-profile",
        publish: false,
        layers: expect.arrayContaining([expect.objectContaining({ layer: "csi", packName: "nutanix-csi", version: "3.1.0", values: expect.stringContaining("volumeClass: true") })]),
      }),
    );
    first.unmount();

    const second = renderStep(backend);
    await waitFor(() => expect(screen.getByTestId("profile-name")).toHaveValue("draft-profile"));
    expect(screen.getByTestId("draft-saved")).toHaveTextContent("Draft restored");
    expect(screen.getByTestId("profile-publish")).not.toBeChecked();
    expect(screen.getByTestId("profile-create")).toHaveTextContent("Create the profile as a draft");
    expect(await screen.findByTestId("profile-pack-csi")).toHaveValue(`${PUBLIC}|nutanix-csi`);
    expect(screen.getByTestId("profile-version-csi")).toHaveValue("3.1.0");
    await second.user.click(screen.getByTestId("profile-edit-csi"));
    expect(await screen.findByRole("textbox", { name: "Storage (CSI) values" })).toHaveValue("# nutanix-csi 3.1.0\ncharts:\n  nutanix-csi:\n    enabled: true\n    volumeClass: true\n");

    // Discarding it brings back an empty form.
    await second.user.click(screen.getByTestId("draft-discard"));
    expect(screen.getByTestId("profile-name")).toHaveValue("");
    expect(screen.getByTestId("profile-pack-csi")).toHaveValue("");
    await waitFor(() => expect(backend.server.workflow.drafts.has("profile")).toBe(false));
  });

  it("says what the packs could not be read for, and reads them again on Retry", async () => {
    const backend = backendAtStep4();
    backend.fail("packs_by_layer", { code: "unavailable", message: "Palette did not answer in 10 s." });
    const { user } = renderStep(backend);
    const error = await screen.findByTestId("profile-catalog-error");
    expect(error).toHaveTextContent("Palette did not answer in 10 s.");
    expect(screen.queryByTestId("profile-pack-os")).not.toBeInTheDocument();
    backend.clearFailure("packs_by_layer");
    await user.click(within(error).getByRole("button", { name: "Retry" }));
    expect(await screen.findByTestId("profile-pack-os")).toBeInTheDocument();
    expect(screen.queryByTestId("profile-catalog-error")).not.toBeInTheDocument();
  });
});
