/**
 * The Clusters page (clusters and the VM list) against the real engine and the embedded
 * sandbox through capstan-bridge: the lists are the engine's SQLite cache, filled by its
 * own background sync.
 */
import { expect, rpc, shot, test, waitForCache } from "./fixtures";

test.describe.configure({ timeout: 120_000 });

test("the clusters tab lists the sandbox's CAPX cluster with its kube-vip endpoint", async ({ page, request }) => {
  await waitForCache(request);
  await page.goto("/#/clusters");
  const row = page.locator('[data-testid="cluster-row"][data-name="demo-k8s"]');
  await expect(row).toBeVisible({ timeout: 20_000 });
  await expect(row.getByTestId("cluster-endpoint")).toHaveText(/\d+\.\d+\.\d+\.\d+/);
  await shot(page, "clusters-sandbox.png");
});

test("the VM list searches, filters and sorts the cached estate as you type", async ({ page, request }) => {
  await waitForCache(request);
  const all = await rpc<{ total: number; rows: Array<{ name: string }> }>(request, "inventory_list", {
    kind: "vm",
    sort: "name",
    descending: false,
    offset: 0,
    limit: 5,
  });
  expect(all.total).toBeGreaterThanOrEqual(2000);
  await page.goto("/#/clusters?tab=vms");
  await expect(page.getByTestId("vm-total")).toContainText(all.total.toLocaleString("en-US"), { timeout: 20_000 });
  await expect(page.getByTestId("vm-row").first()).toHaveAttribute("data-name", all.rows[0].name);

  // Sorting by name the other way puts the last name first.
  const last = await rpc<{ rows: Array<{ name: string }> }>(request, "inventory_list", {
    kind: "vm",
    sort: "name",
    descending: true,
    offset: 0,
    limit: 1,
  });
  await page.getByTestId("vm-sort-name").click();
  await expect(page.getByTestId("vm-row").first()).toHaveAttribute("data-name", last.rows[0].name);

  // Searching narrows to the matches the engine finds.
  const target = all.rows[1].name;
  const matches = await rpc<{ total: number }>(request, "inventory_list", {
    kind: "vm",
    search: target,
    sort: "name",
    descending: false,
    offset: 0,
    limit: 1,
  });
  await page.getByTestId("vm-search").fill(target);
  await expect(page.getByTestId("vm-total")).toContainText(matches.total.toLocaleString("en-US"));
  await expect(page.locator(`[data-testid="vm-row"][data-name="${target}"]`)).toBeVisible();
  await shot(page, "clusters-vms-sandbox.png");
});
