import { describe, expect, it } from "vitest";
import { formatAge } from "./time";

describe("formatAge", () => {
  const now = Date.parse("2026-11-21T08:00:00Z");
  it.each([
    [undefined, "never"],
    ["not a date", "unknown"],
    ["2026-11-21T07:59:58Z", "just now"],
    ["2026-11-21T07:59:18Z", "42 s ago"],
    ["2026-11-21T07:55:00Z", "5 min ago"],
    ["2026-11-21T05:00:00Z", "3 h ago"],
    ["2026-11-18T08:00:00Z", "3 d ago"],
  ])("%s → %s", (iso, expected) => {
    expect(formatAge(iso, now)).toBe(expected);
  });
});
