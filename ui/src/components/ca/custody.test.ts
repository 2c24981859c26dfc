import { afterEach, describe, expect, test, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { CaSummary, KeyCustody } from "../../lib/backend/bindings";
import CaCard, { type CaActions } from "./CaCard.svelte";
import UnlockDialog from "./UnlockDialog.svelte";
import TakeOfflineDialog from "./TakeOfflineDialog.svelte";
import RestoreRootDialog from "./RestoreRootDialog.svelte";
import CreateCaDialog from "./CreateCaDialog.svelte";

afterEach(() => {
  cleanup();
  clearMocks();
});

function ca(name: string, role: CaSummary["role"], keyCustody: KeyCustody): CaSummary {
  return {
    name, role, subject: `CN=${name}`, issuer: "CN=root", issuerName: role === "signer" ? "root" : null,
    notBefore: "2026-01-01T00:00:00Z", notAfter: "2036-01-01T00:00:00Z", daysUntilExpiry: 3000,
    sha256: "AA", sha1: "BB", keyStatus: "locked", keyCustody, chain: [],
  };
}

function actions(): CaActions & Record<string, ReturnType<typeof vi.fn>> {
  return { unlock: vi.fn(), lock: vi.fn(), showPem: vi.fn(), copyPem: vi.fn(), takeOffline: vi.fn(), restore: vi.fn() };
}

async function type(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

const token: KeyCustody = { kind: "token", module: "/usr/lib/softhsm/libsofthsm2.so", token: "line", keyLabel: "signer" };

describe("CA key custody in the window", () => {
  test("a token CA's card names its token and unlocks; an offline root says why it cannot and offers the restore", async () => {
    const tokenActions = actions();
    render(CaCard, { node: { ca: ca("signer", "signer", token), children: [] }, actions: tokenActions });
    expect(screen.getByTestId("ca-key-custody").textContent).toContain("Key in token line");
    expect(screen.getByTestId("ca-key-status").title).toMatch(/token PIN is needed/);
    await fireEvent.click(screen.getByTestId("ca-unlock"));
    expect(tokenActions.unlock).toHaveBeenCalledWith("signer");
    cleanup();

    const offlineActions = actions();
    render(CaCard, { node: { ca: ca("root", "root", { kind: "offline" }), children: [] }, actions: offlineActions });
    expect(screen.getByTestId("ca-key-custody").textContent).toContain("Root offline");
    expect(screen.getByTestId("ca-key-custody").dataset.tone).toBe("attention");
    expect(screen.getByTestId("ca-offline-note").textContent).toMatch(/not on this station; signers still issue/);
    expect(screen.queryByTestId("ca-unlock")).toBeNull();
    await fireEvent.click(screen.getByTestId("ca-restore"));
    expect(offlineActions.restore).toHaveBeenCalledWith("root");
  });

  test("a file root offers Take root offline in its details; a token root does not", async () => {
    mockIPC(() => ({ ...ca("root", "root", { kind: "file" }), serial: "01", signatureAlgorithm: "", publicKey: "", extensions: [], pem: "" }));
    const fileActions = actions();
    render(CaCard, { node: { ca: ca("root", "root", { kind: "file" }), children: [] }, actions: fileActions });
    await fireEvent.click(screen.getByTestId("ca-details-toggle"));
    await fireEvent.click(screen.getByTestId("ca-take-offline"));
    expect(fileActions.takeOffline).toHaveBeenCalledWith("root");
    cleanup();

    render(CaCard, { node: { ca: ca("troot", "root", token), children: [] }, actions: actions() });
    await fireEvent.click(screen.getByTestId("ca-details-toggle"));
    expect(screen.getByTestId("ca-custody-token").textContent).toBe("line");
    expect(screen.queryByTestId("ca-take-offline")).toBeNull();
  });

  test("the unlock dialog asks a token CA for its PIN and says what is wrong on a refused PIN", async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      expect(cmd).toBe("unlock_ca");
      sent.push(args);
      throw { code: "token_wrong_pin", message: 'the token "line" refused the PIN', hint: "Check the token PIN." };
    });
    render(UnlockDialog, { name: "signer", secret: { kind: "pin", token: "line" }, keyring: null, onclose: () => {}, onunlocked: () => {} });
    expect(screen.getByText("Token PIN")).toBeTruthy();
    expect(screen.getByText(/user PIN of the PKCS#11 token "line"/)).toBeTruthy();
    await type("unlock-passphrase", "000000");
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    await vi.waitFor(() => expect(screen.getByTestId("unlock-advice").textContent).toMatch(/refused this PIN/));
    expect(screen.getByTestId("error-code").textContent).toBe("token_wrong_pin");
    expect(sent).toEqual([{ name: "signer", passphrase: "000000", remember: false }]);
  });

  test("taking a root offline sends the passphrase only (the shell asks where); restoring sends the picked handle", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "take_root_offline") return { name: "root", exportedTo: "/media/usb/root.key", removed: "/data/keys/root.key" };
      if (cmd === "pick_file") return { handle: 4, name: "root.key", purpose: "rootKey", image: null };
      return ca("root", "root", { kind: "file" });
    });
    const ondone = vi.fn();
    render(TakeOfflineDialog, { name: "root", onclose: () => {}, ondone });
    expect(screen.getByText(/removed from this station/)).toBeTruthy();
    await type("offline-passphrase", "root passphrase");
    await fireEvent.click(screen.getByTestId("offline-submit"));
    await vi.waitFor(() => expect(ondone).toHaveBeenCalledWith(expect.objectContaining({ exportedTo: "/media/usb/root.key" })));
    cleanup();

    const onrestored = vi.fn();
    render(RestoreRootDialog, { name: "root", onclose: () => {}, onrestored });
    expect((screen.getByTestId("restore-submit") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId("restore-choose"));
    await vi.waitFor(() => expect(screen.getByTestId("restore-file").textContent).toContain("root.key"));
    await type("restore-passphrase", "root passphrase");
    await fireEvent.click(screen.getByTestId("restore-submit"));
    await vi.waitFor(() => expect(onrestored).toHaveBeenCalled());
    expect(calls.map(([cmd]) => cmd)).toEqual(["take_root_offline", "pick_file", "restore_root"]);
    expect(calls[0][1]).toEqual({ name: "root", passphrase: "root passphrase" });
    expect(calls[1][1]).toEqual({ purpose: "rootKey" });
    expect(calls[2][1]).toEqual({ name: "root", key: 4, passphrase: "root passphrase" });
  });

  test("a CA is created in a token with the picked library's handle, the token label and the PIN", async () => {
    const calls: [string, Record<string, unknown>][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args as Record<string, unknown>]);
      if (cmd === "pick_file") return { handle: 6, name: "libsofthsm2.so", purpose: "pkcs11Module", image: null };
      return [ca("root", "root", token)];
    });
    const oncreated = vi.fn();
    render(CreateCaDialog, { keyring: null, onclose: () => {}, oncreated });
    await type("create-name", "root");
    await type("create-org", "Acme");
    await fireEvent.click(screen.getByTestId("create-storage-token"));
    expect(screen.queryByTestId("create-confirm")).toBeNull();
    await fireEvent.click(screen.getByTestId("create-submit"));
    expect(screen.getByTestId("create-problem").textContent).toMatch(/PKCS#11 library/);
    await fireEvent.click(screen.getByTestId("create-token-module"));
    await vi.waitFor(() => expect(screen.getByTestId("create-token-module-name").textContent).toBe("libsofthsm2.so"));
    await type("create-token-label", "line");
    await type("create-token-pin", "314159");
    await fireEvent.click(screen.getByTestId("create-submit"));
    await vi.waitFor(() => expect(oncreated).toHaveBeenCalled());
    const [cmd, args] = calls[1];
    expect(cmd).toBe("create_ca_in_token");
    expect(args).toMatchObject({ request: { name: "root", org: "Acme", signer: null, years: 10 }, module: 6, token: "line", pin: "314159", remember: false });
  });
});
