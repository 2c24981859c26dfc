import { afterEach, describe, expect, test } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { CloudWizard, applyPhase, isSkipped, nextStep, parseSerialInput, preferredCa, type PhaseRow } from "./wizard.svelte";
import type { CaSummary } from "../backend/bindings";
import type { CloudSettings } from "./types";

type Internals = { runCallback: (id: number, payload: unknown) => void };
const internals = () => (window as unknown as { __TAURI_INTERNALS__: Internals }).__TAURI_INTERNALS__;

afterEach(() => clearMocks());

function ca(name: string, role: "root" | "signer", keyStatus: "locked" | "unlocked" = "locked"): CaSummary {
  return {
    name, role, issuerName: role === "signer" ? "acme-root" : null, subject: `CN=${name}`, issuer: "CN=acme-root",
    notBefore: "2026-01-01T00:00:00Z", notAfter: "2031-01-01T00:00:00Z", daysUntilExpiry: 1800,
    sha256: "AA", sha1: "BB", keyStatus, keyCustody: { kind: "file" }, chain: [],
  };
}

const CA_ID = "ab".repeat(32);
const DEFAULTS = {
  practice: true, emulatorEndpointUrl: "http://127.0.0.1:4566", emulatorMqttEndpoint: "127.0.0.1:8883",
  emulatorRegion: "us-east-1", profiles: ["default", "factory"], envProfile: null, envRegion: null,
};
const IDENTITY = { account: "000000000000", arn: "arn:aws:iam::000000000000:root", region: "us-east-1", endpointUrl: "http://127.0.0.1:4566", emulator: true };
const CA_INFO = { caId: CA_ID, arn: `arn:aws:iot:us-east-1:000000000000:cacert/${CA_ID}`, status: "ACTIVE", autoRegistration: "ENABLE", mode: "DEFAULT" };
const PIECES = ["CA registration", "allow-list table", "device policy", "lambda role", "lambda function", "topic rule", "lambda permission"];

/** A shell that behaves like the Rust commands: the signer is locked until unlocked, JITR turns the first
 * connect away. Records every call. */
function shell() {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  let unlocked = false;
  let registered = false;
  let deployed = false;
  const allowList = new Set<string>();
  mockIPC((cmd, raw) => {
    const args = (raw ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    const locked = () => {
      if (!unlocked) throw { code: "passphrase_required", message: 'the passphrase of CA "acme-signer" is needed', hint: "Unlock the CA." };
    };
    switch (cmd) {
      case "cloud_defaults": return DEFAULTS;
      case "list_cas": return [ca("acme-root", "root"), ca("acme-signer", "signer")];
      case "cloud_identity": return IDENTITY;
      case "cloud_ca_state": return { caName: args.ca, caId: CA_ID, registration: registered ? CA_INFO : null };
      case "cloud_verification":
        locked();
        return { state: { caName: args.ca, caId: CA_ID, registration: null }, registrationCode: "c0de".repeat(16), verificationCertPem: "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n" };
      case "unlock_ca":
        unlocked = args.passphrase === "correct horse";
        return ca(args.name as string, "signer", "unlocked");
      case "cloud_register_ca":
        registered = true;
        return { caName: args.ca, registrationCode: null, verificationCertPem: null, registration: { ca: CA_INFO, alreadyRegistered: false, changes: ["registered the CA"], warnings: [] } };
      case "cloud_stack_status":
        return { names: {}, pieces: PIECES.map((piece) => ({ piece, name: piece, health: deployed ? { state: "ok" } : { state: "missing" } })) };
      case "cloud_deploy":
        deployed = true;
        return PIECES.slice(1).map((piece) => ({ piece, name: piece, change: "created" }));
      case "cloud_allow_list": return [...allowList].sort();
      case "cloud_allow_list_add":
        for (const s of args.serials as string[]) allowList.add(s);
        return [...allowList].sort();
      case "cloud_allow_list_sync_ledger":
        for (const s of ["LEDGER01", "LEDGER02"]) allowList.add(s);
        return { written: 2, deleted: 0, batches: 1 };
      case "cloud_cancel_test":
        return null;
      case "cloud_test_connect": {
        locked();
        const channel = (args.onEvent as { id: number }).id;
        const send = (index: number, data: PhaseRow) => internals().runCallback(channel, { index, message: { event: "phase", data } });
        send(0, { key: "attempt", attempt: 1, state: "working", millis: 0, detail: "" });
        send(1, { key: "attempt", attempt: 1, state: "refused", millis: 40, detail: "closed without CONNACK (connection reset)" });
        send(2, { key: "attempt", attempt: 2, state: "done", millis: 30, detail: "CONNACK accepted" });
        send(3, { key: "roundTrip", attempt: 2, state: "done", millis: 12, detail: "message came back on the own topic" });
        return {
          endpoint: "x-ats.iot.us-east-1.amazonaws.com", address: "127.0.0.1:8883", serial: (args.serial as string) ?? "0123AB",
          certificateId: "cd".repeat(32), attempts: [{ outcome: "closed_without_connack", detail: "reset" }, { outcome: "connected" }],
          connected: true, roundTrip: true, phases: [],
        };
      }
      default:
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  return calls;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("wizard step logic", () => {
  test("SNI_ONLY needs no verification certificate; the allow-list step exists only for JITR with the allow-list", () => {
    expect(isSkipped("verification", { mode: "SNI_ONLY", method: "jitr", allowList: true })).toBe(true);
    expect(isSkipped("verification", { mode: "DEFAULT", method: "jitr", allowList: true })).toBe(false);
    expect(isSkipped("allowList", { mode: "DEFAULT", method: "jitp", allowList: true })).toBe(true);
    expect(isSkipped("allowList", { mode: "DEFAULT", method: "jitr", allowList: false })).toBe(true);
    expect(nextStep("ca", { mode: "SNI_ONLY", method: "jitr", allowList: true })).toBe("register");
    expect(nextStep("deploy", { mode: "DEFAULT", method: "jitp", allowList: true })).toBe("test");
    expect(nextStep("test", { mode: "DEFAULT", method: "jitr", allowList: true })).toBe("test");
  });

  test("a streamed phase replaces the earlier message of the same phase and attempt", () => {
    let rows: PhaseRow[] = [];
    rows = applyPhase(rows, { key: "attempt", attempt: 1, state: "working", millis: 0, detail: "" });
    rows = applyPhase(rows, { key: "attempt", attempt: 1, state: "refused", millis: 40, detail: "closed" });
    rows = applyPhase(rows, { key: "attempt", attempt: 2, state: "working", millis: 0, detail: "" });
    expect(rows.map((r) => `${r.key}${r.attempt}:${r.state}`)).toEqual(["attempt1:refused", "attempt2:working"]);
  });

  test("serials typed or scanned are split and de-duplicated; the signer is the preferred CA", () => {
    expect(parseSerialInput(" 0123AB, 0456CD;0123AB\n0789EF  ")).toEqual(["0123AB", "0456CD", "0789EF"]);
    expect(preferredCa([ca("acme-root", "root"), ca("acme-signer", "signer")])).toBe("acme-signer");
    expect(preferredCa([ca("acme-root", "root")])).toBe("acme-root");
    expect(preferredCa([])).toBeNull();
  });
});

describe("CloudWizard against the mocked shell", () => {
  test("practice mode preselects the emulator, and every command gets its settings", async () => {
    const calls = shell();
    const wizard = new CloudWizard();
    await wizard.load();
    expect(wizard.target).toBe("emulator");
    expect(wizard.ca).toBe("acme-signer");
    expect(await wizard.connect()).toBe(true);
    expect(wizard.identity?.emulator).toBe(true);
    expect(wizard.status("connection")).toBe("done");
    expect(wizard.current).toBe("ca");
    const sent = calls.find((c) => c.cmd === "cloud_identity")?.args.settings as CloudSettings;
    expect(sent).toEqual({ profile: null, region: null, endpointUrl: "http://127.0.0.1:4566", emulator: true });
  });

  test("steps run in order to a green connection test, unlocking the CA when asked", async () => {
    const calls = shell();
    const wizard = new CloudWizard();
    await wizard.load();
    expect(wizard.ready("verification")).toBe(false);
    await wizard.connect();
    expect(await wizard.chooseCa("acme-signer")).toBe(true);
    expect(wizard.caState?.registration).toBeNull();

    const verification = wizard.fetchVerification();
    await settle();
    expect(wizard.unlock?.ca).toBe("acme-signer");
    expect(wizard.status("verification")).toBe("working");
    // The operator types the passphrase in the CA screen's UnlockDialog, which calls unlock_ca.
    await (await import("../backend/services")).unlockCa("acme-signer", "correct horse", false);
    wizard.finishUnlock(true);
    expect(await verification).toBe(true);
    expect(wizard.preview?.registrationCode).toBe("c0de".repeat(16));
    expect(wizard.status("verification")).toBe("done");

    expect(await wizard.register()).toBe(true);
    expect(calls.find((c) => c.cmd === "cloud_register_ca")?.args).toMatchObject({ ca: "acme-signer", mode: "DEFAULT", autoRegistration: true });
    expect(wizard.caState?.registration?.status).toBe("ACTIVE");

    await wizard.refreshStack();
    expect(wizard.stack?.pieces.every((p) => p.health.state === "missing")).toBe(true);
    expect(await wizard.deploy()).toBe(true);
    expect(calls.find((c) => c.cmd === "cloud_deploy")?.args).toMatchObject({ method: "jitr", allowList: true });
    expect(wizard.stack?.pieces.every((p) => p.health.state === "ok")).toBe(true);

    expect(await wizard.addSerials("0123AB 0456CD")).toBe(true);
    expect(wizard.serials).toEqual(["0123AB", "0456CD"]);
    expect(wizard.status("allowList")).toBe("done");

    expect(await wizard.runTest("0123AB")).toBe(true);
    await settle();
    expect(wizard.status("test")).toBe("done");
    expect(wizard.report?.connected && wizard.report.roundTrip).toBe(true);
    expect(wizard.phases.map((p) => `${p.key}${p.attempt}:${p.state}`)).toEqual(["attempt1:refused", "attempt2:done", "roundTrip2:done"]);
    const test = calls.find((c) => c.cmd === "cloud_test_connect")!.args;
    expect(test).toMatchObject({ ca: "acme-signer", serial: "0123AB", allowList: true, mqttEndpoint: "127.0.0.1:8883" });
  });

  test("a cancelled unlock leaves the step failed with the station's report", async () => {
    shell();
    const wizard = new CloudWizard();
    await wizard.load();
    await wizard.connect();
    await wizard.chooseCa("acme-signer");
    const verification = wizard.fetchVerification();
    await settle();
    wizard.finishUnlock(false);
    expect(await verification).toBe(false);
    expect(wizard.status("verification")).toBe("failed");
    expect(wizard.steps.verification.error?.code).toBe("passphrase_required");
    expect(wizard.steps.verification.error?.hint).toBe("Unlock the CA.");
  });

  test("changing an earlier choice resets every later step", async () => {
    shell();
    const wizard = new CloudWizard();
    await wizard.load();
    await wizard.connect();
    await wizard.chooseCa("acme-signer");
    await wizard.register();
    expect(wizard.status("register")).toBe("done");
    wizard.setMode("SNI_ONLY");
    expect(wizard.status("verification")).toBe("skipped");
    expect(wizard.status("register")).toBe("pending");
    expect(wizard.registration).toBeNull();
    expect(wizard.ready("register")).toBe(true);
    wizard.setConnection({ target: "aws", region: "eu-west-1" });
    expect(wizard.status("connection")).toBe("pending");
    expect(wizard.status("ca")).toBe("pending");
    expect(wizard.identity).toBeNull();
    expect(wizard.current).toBe("connection");
    expect(wizard.settings()).toEqual({ profile: null, region: "eu-west-1", endpointUrl: null, emulator: false });
  });

  test("an AWS error keeps the step failed with what happened, the code and what to do", async () => {
    mockIPC((cmd) => {
      if (cmd === "cloud_identity") {
        throw { code: "cloud_no_credentials", message: "no usable AWS credentials (no providers in chain)", hint: "Run `keyline cloud identity`." };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    const wizard = new CloudWizard();
    expect(await wizard.connect()).toBe(false);
    expect(wizard.status("connection")).toBe("failed");
    expect(wizard.steps.connection.error?.code).toBe("cloud_no_credentials");
    expect(wizard.steps.connection.error?.message).toBe("no usable AWS credentials (no providers in chain)");
    expect(wizard.steps.connection.error?.hint).toMatch(/aws sso login --profile NAME.*local emulator/);
    expect(wizard.ready("ca")).toBe(false);
  });

  test("the ledger's devices are synced, the list reloaded, and a cancel reaches the shell", async () => {
    const calls = shell();
    const wizard = new CloudWizard();
    await wizard.load();
    expect(await wizard.syncLedger()).toBe(true);
    expect(wizard.syncReport).toEqual({ written: 2, deleted: 0, batches: 1 });
    expect(wizard.serials).toEqual(["LEDGER01", "LEDGER02"]);
    await wizard.cancelTest();
    expect(calls.map((c) => c.cmd)).toContain("cloud_cancel_test");
  });

  test("run remaining steps stops at the first failure", async () => {
    shell();
    const wizard = new CloudWizard();
    await wizard.load();
    await wizard.connect();
    await wizard.chooseCa("acme-signer");
    const run = wizard.runRemaining();
    await settle();
    wizard.finishUnlock(false);
    expect(await run).toBe(false);
    expect(wizard.status("verification")).toBe("failed");
    expect(wizard.status("register")).toBe("pending");
  });
});
