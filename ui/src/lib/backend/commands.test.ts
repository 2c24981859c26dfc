// The UI can only call commands the desktop shell has: every call goes through the generated wrappers of
// bindings.ts (checked against the Rust commands by src-tauri/tests/bindings.rs, and against the UI by svelte-check),
// so a call to a command that does not exist, or with the wrong arguments, is a type error.
import { describe, expect, test } from "vitest";
import { commands } from "./bindings";
import { backend } from "./ipc";

const uiSources = import.meta.glob(["../../**/*.ts", "../../**/*.svelte", "!../../**/*.test.ts", "!./bindings.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

describe("commands", () => {
  test("no UI source invokes a command by name: only the generated bindings do", () => {
    const direct = Object.entries(uiSources)
      .filter(([, text]) => /\binvoke\s*(<[^>]*>)?\s*\(|import\s*\{[^}]*\binvoke\b[^}]*\}\s*from\s*"@tauri-apps\/api\/core"/.test(text))
      .map(([path]) => path);
    expect(direct).toEqual([]);
  });

  test("the guarded backend offers exactly the generated commands", () => {
    expect(Object.keys(backend).sort()).toEqual(Object.keys(commands).sort());
    expect(Object.keys(commands).length).toBeGreaterThan(30);
  });
});
