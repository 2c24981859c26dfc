// The UI can only call commands the desktop shell registers: every command name the UI sources invoke must be in
// `tauri::generate_handler![...]` of src-tauri/src/lib.rs.
import { describe, expect, test } from "vitest";
import shellLib from "../../../../src-tauri/src/lib.rs?raw";

const uiSources = import.meta.glob(["../../**/*.ts", "../../**/*.svelte", "!../../**/*.test.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

function registered(): Set<string> {
  const list = shellLib.match(/generate_handler!\[([\s\S]*?)\]/);
  if (!list) throw new Error("generate_handler! not found in src-tauri/src/lib.rs");
  return new Set(list[1].split(",").map((entry) => entry.trim().split("::").pop() ?? "").filter((name) => name.length > 0));
}

function called(): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = /\b(?:call|invoke)\s*(?:<[^>]*>)?\(\s*"([a-z_]+)"/g;
  for (const [path, text] of Object.entries(uiSources)) {
    for (const match of text.matchAll(pattern)) found.set(match[1], path);
  }
  return found;
}

describe("commands", () => {
  test("every command the UI calls is registered by the shell", () => {
    const commands = registered();
    const calls = called();
    expect(calls.size).toBeGreaterThan(20);
    const missing = [...calls].filter(([name]) => !commands.has(name)).map(([name, path]) => `${name} (${path})`);
    expect(missing).toEqual([]);
  });
});
