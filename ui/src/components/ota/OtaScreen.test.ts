import { afterEach, describe, expect, test } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import OtaScreen from "./OtaScreen.svelte";
import type { ImageReport, OtaDeviceRow, OtaServerStatus } from "../../lib/ota/types";

afterEach(() => {
  cleanup();
  clearMocks();
});

const SERIAL = "0123a1b2c3d4e5f6ee";
const running: OtaServerStatus = {
  server: { url: "https://127.0.0.1:3000", address: "0.0.0.0:3000", ca: "acme-signer", hosts: ["localhost", "127.0.0.1"] },
  simDevices: [{ serial: SERIAL, installedSha256: null }],
  pushing: false,
};
const device: OtaDeviceRow = { serial: SERIAL, request: "ota", state: "offlineboot", keynum: 0, lastSeen: new Date().toISOString(), provisioned: true };
const report: ImageReport = {
  path: "/fw/blink.bin",
  image: {
    chipId: 0, chip: "esp32", entry: 0, flashMode: 0, checksum: 0, minChipRevFull: 0, maxChipRevFull: 399, segments: [], sha256: "ab", imageLen: 4000, fileLen: 4096,
    appDesc: { secureVersion: 0, version: "3.1.0", projectName: "blink", time: "", date: "", idfVersion: "v4.2", elfSha256: "" },
    signature: null,
  },
  signatureValid: null,
  signatureError: null,
};

/** What the (shell's) open dialog picks next, in order. */
let picks: { handle: number; name: string; purpose: string }[] = [];

function backend(calls: string[]) {
  mockIPC((cmd, args) => {
    calls.push(cmd);
    switch (cmd) {
      case "list_cas":
        return [{ name: "acme-signer", role: "signer", keyStatus: "unlocked" }];
      case "ota_status":
        return running;
      case "ota_devices":
        expect((args as { target: { kind: string; url: string } }).target).toEqual({ kind: "embedded", url: running.server!.url, ca: "acme-signer" });
        return [device];
      case "pick_file": {
        const next = picks.shift() ?? null;
        if (next) expect((args as { purpose: string }).purpose).toBe(next.purpose);
        return next;
      }
      case "inspect_ota_image":
        if ((args as { image: number }).image !== 2) throw { code: "ota_bad_image", message: "bad magic", hint: "pass the app image" };
        return report;
      default:
        throw new Error(`unexpected command ${cmd}`);
    }
  });
}

describe("OTA screen", () => {
  test("the running embedded server, its simulated devices and the live device list with state words", async () => {
    const calls: string[] = [];
    backend(calls);
    render(OtaScreen);
    expect(await screen.findByText("Running")).toBeTruthy();
    expect(screen.getByTestId("ota-server-url").textContent).toBe("https://127.0.0.1:3000");
    expect(screen.getByTestId("ota-sim-devices").textContent).toContain("1 simulated device");
    const row = await screen.findByText(SERIAL, { selector: "td" });
    const tr = row.closest("tr")!;
    expect(tr.textContent).toContain("update requested");
    expect(tr.textContent).toContain("provisioned here");
    expect(screen.getByTestId("ota-push-blocker").textContent).toMatch(/Choose a device/);
  });

  test("an image is inspected before upload: project, version, chip, unsigned; a bad file says why", async () => {
    backend([]);
    render(OtaScreen);
    await screen.findByText("Running");
    picks = [
      { handle: 1, name: "junk.bin", purpose: "otaImage" },
      { handle: 2, name: "blink.bin", purpose: "otaImage" },
      { handle: 3, name: "sb.key", purpose: "signingKey" },
    ];
    await fireEvent.click(screen.getByTestId("ota-choose-image"));
    expect((await screen.findByTestId("ota-image-error")).textContent).toContain("bad magic");
    await fireEvent.click(screen.getByTestId("ota-choose-image"));
    expect((await screen.findByTestId("ota-image-name")).textContent).toBe("blink.bin");
    expect((await screen.findByTestId("ota-image-project")).textContent).toBe("blink");
    expect(screen.getByTestId("ota-image-version").textContent).toBe("3.1.0");
    expect(screen.getByTestId("ota-image-signed").dataset.signed).toBe("unsigned");
    // Unsigned images are offered for signing; with a device chosen, Push waits for the key.
    expect((screen.getByTestId("ota-sign") as HTMLInputElement).checked).toBe(true);
    await fireEvent.click((await screen.findByText(SERIAL, { selector: "td" })).closest("tr")!);
    expect(screen.getByTestId("ota-push-blocker").textContent).toMatch(/signing key/);
    await fireEvent.click(screen.getByTestId("ota-choose-key"));
    expect((await screen.findByTestId("ota-sign-key-name")).textContent).toBe("sb.key");
    expect(screen.queryByTestId("ota-push-blocker")).toBeNull();
    expect((screen.getByTestId("ota-push-start") as HTMLButtonElement).disabled).toBe(false);
  });
});
