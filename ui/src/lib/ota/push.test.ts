import { describe, expect, it } from "vitest";
import { applyPushEvent, deviceBadge, finishPush, formatBytes, idlePush, imageSummary, lastSeenText, percent, pushBlocker, pushVerdict, startPush, stepTone } from "./push";
import type { ImageReport, OtaDeviceRow, PushEvent } from "./types";

const fold = (events: PushEvent[]) => events.reduce(applyPushEvent, startPush("0123a1b2c3d4e5f6ee", 1000));

const image = (chip: string, signatureValid: boolean | null): ImageReport => ({
  path: "/fw/app.bin",
  image: {
    chipId: 0,
    chip,
    entry: 0,
    flashMode: 0,
    checksum: 0,
    minChipRevFull: 0,
    maxChipRevFull: 0,
    segments: [],
    sha256: null,
    imageLen: 1000,
    fileLen: 8192,
    appDesc: { secureVersion: 0, version: "3.1.0", projectName: "blink", time: "", date: "", idfVersion: "v5.1", elfSha256: "" },
    signature: null,
  },
  signatureValid,
  signatureError: null,
});

describe("OTA push state", () => {
  it("bytes move the bar, then the device's phases move the steps to COMPLETED", () => {
    let state = fold([{ event: "uploading", data: { sent: 500, total: 2000 } }]);
    expect(percent(state)).toBe(25);
    expect(pushVerdict(state)).toMatchObject({ tone: "working", text: "UPLOADING" });
    state = fold([
      { event: "uploading", data: { sent: 2000, total: 2000 } },
      { event: "uploaded" },
      { event: "requested" },
      { event: "accepted" },
    ]);
    expect(state.phase).toBe("accepted");
    expect(pushVerdict(state).text).toBe("DOWNLOADING");
    expect(stepTone(state, "requested")).toBe("pass");
    expect(stepTone(state, "accepted")).toBe("working");
    expect(stepTone(state, "completed")).toBe("neutral");
    state = finishPush(applyPushEvent(state, { event: "completed" }), { report: { serial: "s", bytes: 2000, sha256: "ab" } }, 9000);
    expect(pushVerdict(state)).toMatchObject({ tone: "pass", icon: "check", text: "COMPLETED" });
    expect(stepTone(state, "completed")).toBe("pass");
    expect(state.finishedAt! - state.startedAt).toBe(8000);
  });

  it("phases never go back, and events after the end are ignored", () => {
    const state = fold([{ event: "uploaded" }, { event: "accepted" }, { event: "requested" }]);
    expect(state.phase).toBe("accepted");
    const done = finishPush(state, { error: { code: "ota_timeout", message: "no updatecompleted", hint: "power the device" } }, 5);
    expect(applyPushEvent(done, { event: "completed" }).phase).toBe("failed");
    expect(stepTone(done, "accepted")).toBe("fail");
    expect(stepTone(done, "requested")).toBe("pass");
    expect(pushVerdict(done)).toMatchObject({ tone: "fail", text: "FAILED" });
  });

  it("a cancelled push is not a failed device", () => {
    const state = finishPush(fold([{ event: "uploaded" }]), { error: { code: "cancelled", message: "cancelled", hint: "" } }, 5);
    expect(state.phase).toBe("cancelled");
    expect(pushVerdict(state).tone).toBe("attention");
    expect(pushVerdict(idlePush()).text).toBe("READY");
  });
});

describe("OTA device list and image", () => {
  const row = (request: string, state = "offlineboot"): OtaDeviceRow => ({ serial: "s", request, state, keynum: 0, lastSeen: null, provisioned: true });

  it("device states have a word and a colour", () => {
    expect(deviceBadge(row("none"))).toEqual({ tone: "neutral", text: "idle" });
    expect(deviceBadge(row("ota"))).toEqual({ tone: "working", text: "update requested" });
    expect(deviceBadge(row("pkeyissued")).tone).toBe("attention");
    expect(deviceBadge(row("none", "bootprohibited")).tone).toBe("fail");
  });

  it("last seen reads as an age", () => {
    const now = Date.parse("2026-12-05T12:00:00Z");
    expect(lastSeenText(null, now)).toBe("never");
    expect(lastSeenText("2026-12-05T11:59:55Z", now)).toBe("5 s ago");
    expect(lastSeenText("2026-12-05T11:50:00Z", now)).toBe("10 min ago");
    expect(lastSeenText("2026-12-05T09:00:00Z", now)).toBe("3 h ago");
  });

  it("the inspector says chip, version and whether the image is signed", () => {
    expect(imageSummary(image("esp32", null))).toMatchObject({ project: "blink", version: "3.1.0", chip: "esp32", signed: "unsigned", size: 8192 });
    expect(imageSummary(image("esp32", true)).signed).toBe("valid");
    expect(imageSummary(image("esp32", false)).signed).toBe("invalid");
    expect(formatBytes(8192)).toBe("8.0 KiB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.00 MiB");
  });

  it("Push says why it cannot run", () => {
    const ok = { target: true, serial: "s", image: image("esp32", true), signWith: "", busy: false };
    expect(pushBlocker(ok)).toBeNull();
    expect(pushBlocker({ ...ok, target: false })).toMatch(/server/);
    expect(pushBlocker({ ...ok, serial: null })).toMatch(/device/);
    expect(pushBlocker({ ...ok, image: image("esp32s3", null) })).toMatch(/esp32s3/);
    expect(pushBlocker({ ...ok, image: image("esp32", false) })).toMatch(/sign it again/);
  });
});
