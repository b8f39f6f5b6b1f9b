import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BACKEND_DIR = path.join(SRC, "lib", "backend");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx|js|jsx|mjs)$/.test(name) ? [full] : [];
  });
}

// Static imports, re-exports, dynamic import() and vi.mock() of any @tauri-apps package.
const TAURI_IMPORT = /(?:from\s*|import\s*\(\s*|import\s+|require\s*\(\s*|vi\.mock\s*\(\s*)["']@tauri-apps\//;

describe("the backend seam", () => {
  it("finds the source tree and the backend directory", () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    expect(files.some((f) => f.startsWith(BACKEND_DIR) && TAURI_IMPORT.test(readFileSync(f, "utf8")))).toBe(true);
  });

  it("no file outside src/lib/backend/ imports @tauri-apps", () => {
    const offenders = sourceFiles(SRC)
      .filter((f) => !f.startsWith(BACKEND_DIR + path.sep))
      .filter((f) => TAURI_IMPORT.test(readFileSync(f, "utf8")))
      .map((f) => path.relative(SRC, f));
    expect(offenders).toEqual([]);
  });
});
