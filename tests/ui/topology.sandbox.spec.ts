/**
 * The Topology page against the real engine and the embedded sandbox (capstan-bridge):
 * the cache is filled by the engine's own background sync of a 2,000-VM sandbox estate.
 */
import type { APIRequestContext, Page } from "@playwright/test";
import { expect, rpc, shot, test, waitForCache } from "./fixtures";

interface Row {
  id: string;
  name: string;
  parentName: string | null;
  nodeId: string | null;
  columns: Record<string, unknown>;
}

async function vms(request: APIRequestContext, search?: string): Promise<Row[]> {
  const page = await rpc<{ rows: Row[] }>(request, "inventory_list", {
    kind: "vm",
    sort: "name",
    descending: false,
    offset: 0,
    limit: 1000,
    ...(search ? { search } : {}),
  });
  return page.rows;
}

async function openTopology(page: Page): Promise<void> {
  await page.goto("/#/topology");
  await expect(page.getByTestId("status-environment-name")).toHaveText("Local sandbox");
  await expect(page.getByTestId("topology-canvas")).toBeVisible();
}

test.describe.configure({ timeout: 120_000 });

test("the topology draws the sandbox estate: Prism Central, its PEs and the CAPX cluster behind its kube-vip address", async ({
  page,
  request,
}) => {
  await waitForCache(request);
  await openTopology(page);
  const canvas = page.getByTestId("topology-canvas");
  await expect(canvas.locator('[data-kind="prism_central"]').first()).toBeVisible({ timeout: 20_000 });
  await expect(canvas.locator('[data-kind="prism_element"]').first()).toBeVisible();
  const cluster = canvas.locator('[data-kind="cluster"]').first();
  await expect(cluster).toBeVisible();
  await expect(cluster).toContainText("demo-k8s");
  // 2,000 VMs: the PE groups start collapsed and say how many VMs they hold.
  await expect(canvas.locator('[data-kind="vm_group"]').first()).toContainText(/VMs/);
  // The minimap itself (its test-id wrapper has no box of its own: the map panel is positioned).
  await expect(page.getByTestId("topology-minimap").locator(".react-flow__minimap")).toBeVisible();
  await shot(page, "topology-sandbox.png");
});

test("search finds a VM inside a collapsed group, expands it, and the inspector shows its PE and subnet", async ({
  page,
  request,
}) => {
  await waitForCache(request);
  const plain = (await vms(request)).find((v) => !v.columns.cluster && v.nodeId);
  expect(plain, "a VM outside Kubernetes").toBeTruthy();
  await openTopology(page);
  await expect(page.getByTestId("topology-canvas").locator('[data-kind="prism_element"]').first()).toBeVisible({
    timeout: 20_000,
  });
  // Not drawn yet: it sits in a collapsed group.
  await expect(page.getByTestId(`topology-node-${plain!.nodeId}`)).toHaveCount(0);

  await page.getByTestId("topology-search").fill(plain!.name);
  await page.getByTestId("topology-search-result").filter({ hasText: plain!.name }).first().click();
  await expect(page.getByTestId(`topology-node-${plain!.nodeId}`)).toBeVisible({ timeout: 20_000 });
  const inspector = page.getByTestId("topology-inspector");
  await expect(inspector.getByTestId("inspector-title")).toHaveText(plain!.name);
  await expect(inspector.getByTestId("inspector-related-prism-element")).toContainText(plain!.parentName!);
  await expect(inspector.getByTestId("inspector-related-subnet").first()).toBeVisible();
  await shot(page, "topology-search-vm.png");
});

test("the inspector of a Kubernetes node VM shows its PE, subnet and cluster", async ({ page, request }) => {
  await waitForCache(request);
  const node = (await vms(request, "demo-k8s")).find((v) => v.columns.cluster === "demo-k8s" && v.nodeId);
  expect(node, "a demo-k8s VM").toBeTruthy();
  await openTopology(page);
  await page.getByTestId("topology-search").fill(node!.name);
  await page.getByTestId("topology-search-result").filter({ hasText: node!.name }).first().click();
  const inspector = page.getByTestId("topology-inspector");
  await expect(inspector.getByTestId("inspector-title")).toHaveText(node!.name, { timeout: 20_000 });
  await expect(inspector.getByTestId("inspector-related-prism-element")).toContainText(node!.parentName!);
  await expect(inspector.getByTestId("inspector-related-subnet").first()).toBeVisible();
  await expect(inspector.getByTestId("inspector-related-cluster")).toContainText("demo-k8s");
  // Following the cluster link selects the cluster, whose inspector shows the kube-vip address.
  await inspector.getByTestId("inspector-related-cluster").getByRole("button").first().click();
  await expect(inspector.getByTestId("inspector-title")).toHaveText("demo-k8s");
  await expect(page.getByTestId("topology-node-cluster:demo-k8s")).toBeVisible({ timeout: 20_000 });
  await shot(page, "topology-inspector-cluster.png");
});
