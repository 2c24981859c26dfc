import { afterEach, describe, expect, test } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { IpcError } from "./ipc";
import { createCa, listCas } from "./services";
import type { ProgressEvent } from "./bindings";

type Internals = { runCallback: (id: number, payload: unknown) => void };
const internals = () => (window as unknown as { __TAURI_INTERNALS__: Internals }).__TAURI_INTERNALS__;

afterEach(() => clearMocks());

describe("services", () => {
  test("createCa sends the request and secret, and streams progress from the channel", async () => {
    let received: Record<string, unknown> = {};
    mockIPC((cmd, args) => {
      if (cmd !== "create_ca") throw new Error(`unexpected ${cmd}`);
      received = args as Record<string, unknown>;
      const channel = received.onEvent as { id: number };
      internals().runCallback(channel.id, { index: 0, message: { event: "step", data: { step: "writingFiles", index: 1, total: 2 } } });
      internals().runCallback(channel.id, { index: 1, message: { event: "step", data: { step: "remembering", index: 2, total: 2 } } });
      return [{ name: "acme-root" }, { name: "acme-signer" }];
    });
    const events: ProgressEvent[] = [];
    const created = await createCa(
      { name: "acme-root", org: "Acme", signer: "acme-signer", years: 10 },
      { passphrase: "correct horse", remember: true },
      (e) => events.push(e),
    );
    expect(created.map((c) => c.name)).toEqual(["acme-root", "acme-signer"]);
    expect(received.request).toEqual({ name: "acme-root", org: "Acme", signer: "acme-signer", years: 10 });
    expect(received.passphrase).toBe("correct horse");
    expect(received.remember).toBe(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(events.map((e) => (e.event === "step" ? e.data.step : e.event))).toEqual(["writingFiles", "remembering"]);
  });

  test("a failed command rejects with an IpcError carrying code, message and hint", async () => {
    mockIPC(() => {
      throw { code: "not_found", message: 'no CA named "x"', hint: "Run `keyline ca list`." };
    });
    const error = await listCas().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect((error as IpcError).report).toEqual({ code: "not_found", message: 'no CA named "x"', hint: "Run `keyline ca list`." });
    expect((error as IpcError).command).toBe("list_cas");
  });
});
