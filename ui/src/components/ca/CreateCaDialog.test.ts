import { afterEach, describe, expect, test, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import CreateCaDialog from "./CreateCaDialog.svelte";

afterEach(() => {
  cleanup();
  clearMocks();
});

async function fill(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

describe("Create CA dialog", () => {
  test("the keyring checkbox is disabled with the reason when the keyring is unavailable", () => {
    render(CreateCaDialog, {
      keyring: { available: false, backend: "Secret Service", reason: "no D-Bus session" },
      onclose: () => {},
      oncreated: () => {},
    });
    expect((screen.getByTestId("create-remember") as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByTestId("create-remember-reason").textContent).toContain("no D-Bus session");
  });

  test("mismatched passphrases are refused before anything is sent", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => void calls.push(cmd));
    render(CreateCaDialog, { keyring: null, onclose: () => {}, oncreated: () => {} });
    await fill("create-name", "acme-root");
    await fill("create-org", "Acme");
    await fill("create-passphrase", "long passphrase");
    await fill("create-confirm", "other passphrase");
    await fireEvent.click(screen.getByTestId("create-submit"));
    expect(screen.getByTestId("create-problem").textContent).toContain("differ");
    expect(calls).toEqual([]);
  });

  test("a valid form creates the root and signer and shows a failure in three parts", async () => {
    const oncreated = vi.fn();
    let attempt = 0;
    mockIPC((cmd, args) => {
      expect(cmd).toBe("create_ca");
      attempt += 1;
      if (attempt === 1) throw { code: "already_exists", message: 'CA "acme-root" already exists', hint: "Choose another name." };
      const request = (args as { request: { name: string; signer: string } }).request;
      return [{ name: request.name }, { name: request.signer }];
    });
    render(CreateCaDialog, { keyring: { available: true, backend: "Secret Service", reason: "" }, onclose: () => {}, oncreated });
    await fill("create-name", "acme-root");
    await fill("create-org", "Acme");
    await fill("create-signer", "acme-signer");
    await fill("create-passphrase", "long passphrase");
    await fill("create-confirm", "long passphrase");
    await fireEvent.click(screen.getByTestId("create-submit"));
    await vi.waitFor(() => expect(screen.getByTestId("error-code").textContent).toBe("already_exists"));
    expect(screen.getByTestId("error-hint").textContent).toBe("Choose another name.");
    expect(oncreated).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByTestId("create-submit"));
    await vi.waitFor(() => expect(oncreated).toHaveBeenCalledOnce());
    expect(oncreated.mock.calls[0][0].map((c: { name: string }) => c.name)).toEqual(["acme-root", "acme-signer"]);
  });

  test("each step the backend streams is shown with its label and position until the command ends", async () => {
    type Internals = { runCallback: (id: number, payload: unknown) => void };
    const internals = () => (window as unknown as { __TAURI_INTERNALS__: Internals }).__TAURI_INTERNALS__;
    const plan = ["generatingRootKey", "signingRootCertificate", "encryptingKeys", "writingFiles"];
    let channelId = 0;
    let sent = 0;
    let finish: (value: unknown) => void = () => {};
    mockIPC((_cmd, args) => {
      channelId = ((args as { onEvent: { id: number } }).onEvent).id;
      return new Promise((resolve) => (finish = resolve));
    });
    const send = (step: string) => {
      const message = { event: "step", data: { step, index: sent + 1, total: plan.length } };
      internals().runCallback(channelId, { index: sent, message });
      sent += 1;
    };
    const oncreated = vi.fn();
    render(CreateCaDialog, { keyring: null, onclose: () => {}, oncreated });
    await fill("create-name", "acme-root");
    await fill("create-org", "Acme");
    await fill("create-passphrase", "long passphrase");
    await fill("create-confirm", "long passphrase");
    await fireEvent.click(screen.getByTestId("create-submit"));
    await vi.waitFor(() => expect(channelId).not.toBe(0));

    const seen: string[] = [];
    for (const step of plan) {
      send(step);
      await vi.waitFor(() => expect(screen.getByTestId("progress").textContent).toContain(`Step ${sent} of 4`));
      seen.push(screen.getByTestId("progress-label").textContent ?? "");
    }
    expect(seen).toEqual([
      "Generating the root key",
      "Signing the root certificate",
      "Encrypting the private keys (scrypt)",
      "Writing the files",
    ]);

    finish([{ name: "acme-root" }]);
    await vi.waitFor(() => expect(oncreated).toHaveBeenCalledOnce());
    expect(screen.queryByTestId("progress")).toBeNull();
  });
});
