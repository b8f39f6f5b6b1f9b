import { describe, expect, it } from "vitest";
import { fuzzyFilter, fuzzyMatch } from "./fuzzy";

describe("fuzzyMatch", () => {
  it("matches subsequences and reports their positions", () => {
    expect(fuzzyMatch("gta", "Go to Activity")?.positions).toEqual([0, 3, 6]);
    expect(fuzzyMatch("xyz", "Go to Activity")).toBeNull();
  });

  it("an empty query matches everything with score 0", () => {
    expect(fuzzyMatch("  ", "anything")).toEqual({ score: 0, positions: [] });
  });

  it("ranks word-start and consecutive matches higher", () => {
    const ranked = fuzzyFilter(["Toggle sidebar", "Go to Topology", "Theme: dark"], "topo", (s) => s).map((r) => r.item);
    expect(ranked[0]).toBe("Go to Topology");
  });

  it("keeps the original order for an empty query", () => {
    expect(fuzzyFilter(["b", "a", "c"], "", (s) => s).map((r) => r.item)).toEqual(["b", "a", "c"]);
  });
});
