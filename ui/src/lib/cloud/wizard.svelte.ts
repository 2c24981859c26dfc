// The Cloud connecting wizard's controller: seven steps, each pending → working → done or failed (or skipped
// when the choices make it unnecessary). Changing an earlier choice resets every later step. Renders nothing.
import { toReport } from "../backend/ipc";
import { listCas } from "../backend/services";
import type { CaSummary } from "../backend/bindings";
import type { ErrorReport } from "../backend/ipc";
import { logStore } from "../logs/logStore.svelte";
import { tc } from "../i18n";
import {
  cloudAllowList,
  cloudAllowListAdd,
  cloudAllowListSync,
  cloudAllowListSyncLedger,
  cloudCaState,
  cloudCancelTest,
  cloudDefaults,
  cloudDeploy,
  cloudIdentity,
  cloudRegisterCa,
  cloudStackStatus,
  cloudTestConnect,
  cloudVerification,
} from "./cloudService";
import { practiceEmulator, startPracticeEmulator } from "./practice";
import type { EmulatorStatus } from "../ports/types";
import type * as Cloud from "./types";

export const STEPS = ["connection", "ca", "verification", "register", "deploy", "allowList", "test"] as const;
export type StepId = (typeof STEPS)[number];
export type StepStatus = "pending" | "working" | "done" | "failed" | "skipped";
export type Target = "aws" | "emulator";

export interface StepState {
  status: Exclude<StepStatus, "skipped">;
  error: ErrorReport | null;
  /** When the step last started (ms since the epoch), for elapsed times. */
  startedAt: number;
}

export type PhaseRow = Cloud.ConnectEvent["data"];

/** The choices that decide whether a step is needed at all. */
export interface Choices {
  mode: Cloud.CaMode;
  method: Cloud.DeployMethod;
  allowList: boolean;
}

/** True when the choices make `step` unnecessary: no verification certificate in SNI_ONLY mode, no allow-list
 * without JITR's allow-list check. */
export function isSkipped(step: StepId, choices: Choices): boolean {
  if (step === "verification") return choices.mode === "SNI_ONLY";
  if (step === "allowList") return choices.method !== "jitr" || !choices.allowList;
  return false;
}

/** Adds a streamed phase, replacing the earlier message of the same phase (same key and attempt). */
export function applyPhase(rows: PhaseRow[], phase: PhaseRow): PhaseRow[] {
  const index = rows.findIndex((row) => row.key === phase.key && row.attempt === phase.attempt);
  if (index < 0) return rows.concat(phase);
  return rows.map((row, i) => (i === index ? phase : row));
}

/** Serials typed or scanned into a text box: separated by whitespace, commas or semicolons. */
export function parseSerialInput(text: string): string[] {
  return Array.from(new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter((s) => s !== "")));
}

/** Unlocks a CA for a step; resolves true when the CA was unlocked, false when the operator cancelled. */
export interface UnlockRequest {
  ca: string;
  resolve: (unlocked: boolean) => void;
}

const fresh = (): StepState => ({ status: "pending", error: null, startedAt: 0 });

export class CloudWizard {
  steps = $state<Record<StepId, StepState>>(Object.fromEntries(STEPS.map((s) => [s, fresh()])) as Record<StepId, StepState>);
  current = $state<StepId>("connection");

  defaults = $state<Cloud.CloudDefaults | null>(null);
  cas = $state<CaSummary[]>([]);
  target = $state<Target>("aws");
  profile = $state("");
  region = $state("");
  endpointUrl = $state("");
  emulatorUrl = $state("http://127.0.0.1:4566");
  mqttEndpoint = $state("");
  identity = $state<Cloud.CallerIdentity | null>(null);
  /** Practice mode's emulator, while the app runs it. */
  emulator = $state<EmulatorStatus | null>(null);

  ca = $state<string | null>(null);
  caState = $state<Cloud.CloudCaState | null>(null);
  preview = $state<Cloud.VerificationPreview | null>(null);
  mode = $state<Cloud.CaMode>("DEFAULT");
  autoRegistration = $state(true);
  registration = $state<Cloud.RegisterCaOutcome | null>(null);
  method = $state<Cloud.DeployMethod>("jitr");
  allowList = $state(true);
  changes = $state<Cloud.PieceChange[] | null>(null);
  stack = $state<Cloud.StackStatus | null>(null);
  serials = $state<string[] | null>(null);
  syncReport = $state<Cloud.SyncReport | null>(null);
  phases = $state<PhaseRow[]>([]);
  report = $state<Cloud.ConnectReport | null>(null);
  unlock = $state<UnlockRequest | null>(null);

  /** Step status as shown: skipped steps say so whatever happened before. */
  status(step: StepId): StepStatus {
    return isSkipped(step, this.choices()) ? "skipped" : this.steps[step].status;
  }

  choices(): Choices {
    return { mode: this.mode, method: this.method, allowList: this.allowList };
  }

  /** True when every needed step before `step` is done (the step may run). */
  ready(step: StepId): boolean {
    const before = STEPS.slice(0, STEPS.indexOf(step));
    return before.every((s) => ["done", "skipped"].includes(this.status(s)));
  }

  busy(): boolean {
    return STEPS.some((s) => this.steps[s].status === "working");
  }

  /** The settings every command uses; fixed once the connection step is done. */
  settings(): Cloud.CloudSettings {
    const text = (value: string) => (value.trim() === "" ? null : value.trim());
    if (this.target === "emulator") {
      return { profile: null, region: null, endpointUrl: text(this.emulatorUrl), emulator: true };
    }
    return { profile: text(this.profile), region: text(this.region), endpointUrl: text(this.endpointUrl), emulator: false };
  }

  /** Loads the defaults (practice mode picks the emulator) and the store's CAs. */
  async load(): Promise<void> {
    const [defaults, cas] = await Promise.all([cloudDefaults(), listCas()]);
    this.defaults = defaults;
    this.cas = cas;
    this.emulatorUrl = defaults.emulatorEndpointUrl;
    this.mqttEndpoint = defaults.emulatorMqttEndpoint;
    this.target = defaults.practice ? "emulator" : "aws";
    this.profile = defaults.envProfile ?? "";
    this.region = defaults.envRegion ?? "";
    if (this.ca === null) this.ca = preferredCa(cas);
  }

  /** Practice mode: reads the emulator's state and, once it runs, points the emulator fields at it. */
  async refreshEmulator(start = false): Promise<void> {
    if (!this.defaults?.practice) return;
    this.emulator = start ? await startPracticeEmulator() : await practiceEmulator();
    const { endpointUrl, mqttAddress, state } = this.emulator;
    const changed = endpointUrl !== null && (endpointUrl !== this.emulatorUrl || (mqttAddress ?? "") !== this.mqttEndpoint);
    if (state === "running" && changed && this.target === "emulator" && this.steps.connection.status !== "done") {
      this.setConnection({ emulatorUrl: endpointUrl, mqttEndpoint: mqttAddress ?? this.mqttEndpoint });
    }
  }

  /** Changes a connection field; everything after the connection step starts over. */
  setConnection(patch: Partial<Pick<CloudWizard, "target" | "profile" | "region" | "endpointUrl" | "emulatorUrl" | "mqttEndpoint">>) {
    Object.assign(this, patch);
    this.identity = null;
    this.resetFrom("connection");
  }

  setMode(mode: Cloud.CaMode) {
    this.mode = mode;
    this.resetFrom("verification");
  }

  setDeploy(method: Cloud.DeployMethod, allowList: boolean) {
    this.method = method;
    this.allowList = allowList;
    this.resetFrom("deploy");
  }

  /** Step 1: who the settings resolve to. */
  connect(): Promise<boolean> {
    return this.run("connection", async () => {
      this.identity = await cloudIdentity(this.settings());
    });
  }

  /** Step 2: choose the CA and see whether it is registered already. */
  chooseCa(name: string | null): Promise<boolean> {
    this.ca = name;
    this.resetFrom("ca");
    if (name === null) return Promise.resolve(false);
    return this.run("ca", async () => {
      this.caState = await cloudCaState(this.settings(), name);
      const registered = this.caState.registration?.mode;
      if (registered === "DEFAULT" || registered === "SNI_ONLY") this.mode = registered;
    });
  }

  /** Step 3: the registration code and the verification certificate (the CA may need unlocking). */
  fetchVerification(): Promise<boolean> {
    const ca = this.requireCa();
    return this.run("verification", async () => {
      this.preview = await cloudVerification(this.settings(), ca);
    }, ca);
  }

  /** Step 4: register the CA, or reconcile the existing registration. */
  register(): Promise<boolean> {
    const ca = this.requireCa();
    return this.run("register", async () => {
      this.registration = await cloudRegisterCa(this.settings(), ca, this.mode, this.autoRegistration);
      if (this.caState) this.caState = { ...this.caState, registration: this.registration.registration.ca };
    }, ca);
  }

  /** The JITR stack's pieces and health, shown before and after deploy. */
  async refreshStack(): Promise<void> {
    if (this.ca === null || this.method !== "jitr") return;
    this.stack = await cloudStackStatus(this.settings(), this.ca);
  }

  /** Step 5: deploy JITR (with or without the allow-list) or JITP; JITR must then report every piece healthy. */
  deploy(): Promise<boolean> {
    const ca = this.requireCa();
    return this.run("deploy", async () => {
      this.changes = await cloudDeploy(this.settings(), ca, this.method, this.allowList);
      if (this.method !== "jitr") return;
      await this.refreshStack();
      const unhealthy = this.stack?.pieces.filter((p) => p.health.state !== "ok") ?? [];
      if (unhealthy.length > 0) {
        throw {
          code: "cloud_stack_incomplete",
          message: `after deploy, these pieces are not healthy: ${unhealthy.map((p) => `${p.piece} ${p.name}`).join(", ")}`,
          hint: "Deploy again; if a piece stays missing, check the identity's IAM permissions in the log panel.",
        };
      }
    });
  }

  /** Step 6: the serials on the allow-list. */
  loadAllowList(): Promise<boolean> {
    return this.run("allowList", async () => {
      this.serials = await cloudAllowList(this.settings(), this.requireCa());
    });
  }

  addSerials(text: string): Promise<boolean> {
    const serials = parseSerialInput(text);
    return this.run("allowList", async () => {
      this.serials = await cloudAllowListAdd(this.settings(), this.requireCa(), serials);
    });
  }

  syncFile(): Promise<boolean> {
    return this.run("allowList", async () => {
      const report = await cloudAllowListSync(this.settings(), this.requireCa());
      if (report === null) return;
      this.syncReport = report;
      this.serials = await cloudAllowList(this.settings(), this.requireCa());
    });
  }

  /** Pushes the serials of the devices in the station's ledger. */
  syncLedger(): Promise<boolean> {
    return this.run("allowList", async () => {
      this.syncReport = await cloudAllowListSyncLedger(this.settings(), this.requireCa());
      this.serials = await cloudAllowList(this.settings(), this.requireCa());
    });
  }

  /** Step 7: connect like a device; phases stream into `phases`. Green only when it published and received. */
  runTest(serial: string | null): Promise<boolean> {
    const ca = this.requireCa();
    this.phases = [];
    this.report = null;
    const options = {
      ca,
      serial: serial?.trim() || null,
      allowList: this.method === "jitr" && this.allowList,
      mqttEndpoint: this.target === "emulator" ? this.mqttEndpoint.trim() || null : null,
    };
    return this.run("test", async () => {
      this.report = await cloudTestConnect(this.settings(), options, (event) => {
        this.phases = applyPhase(this.phases, event.data);
      });
      if (!this.report.connected || !this.report.roundTrip) {
        throw {
          code: "cloud_connection_test_failed",
          message: `device ${this.report.serial} did not get to publish and receive (${this.report.attempts.length} attempt(s))`,
          hint: "Check the JITR pieces in step 5, the allow-list, and that the CA is ACTIVE with auto-registration; a revoked device stays out.",
        };
      }
    }, ca);
  }

  cancelTest(): Promise<void> {
    return cloudCancelTest();
  }

  /** Runs every remaining needed step from the registration code on, stopping at the first failure. */
  async runRemaining(): Promise<boolean> {
    const actions: [StepId, () => Promise<boolean>][] = [
      ["verification", () => this.fetchVerification()],
      ["register", () => this.register()],
      ["deploy", () => this.deploy()],
      ["allowList", () => this.loadAllowList()],
      ["test", () => this.runTest(null)],
    ];
    for (const [step, action] of actions) {
      if (this.status(step) === "done" || this.status(step) === "skipped") continue;
      if (!(await action())) return false;
    }
    return true;
  }

  /** The operator answered the unlock prompt. */
  finishUnlock(unlocked: boolean) {
    const request = this.unlock;
    this.unlock = null;
    request?.resolve(unlocked);
  }

  private requireCa(): string {
    if (this.ca === null) throw new Error("choose a CA first");
    return this.ca;
  }

  private requestUnlock(ca: string): Promise<boolean> {
    return new Promise((resolve) => (this.unlock = { ca, resolve }));
  }

  /** Runs one step; a locked CA (`passphrase_required`) prompts for the passphrase and retries once. */
  private async run(step: StepId, work: () => Promise<void>, unlockCa?: string): Promise<boolean> {
    this.current = step;
    this.steps[step] = { status: "working", error: null, startedAt: Date.now() };
    let outcome = await attempt(work);
    if (outcome?.code === "passphrase_required" && unlockCa !== undefined && (await this.requestUnlock(unlockCa))) {
      outcome = await attempt(work);
    }
    this.steps[step] = { ...this.steps[step], status: outcome ? "failed" : "done", error: outcome };
    if (outcome) {
      logStore.addLocal("ERROR", `Cloud connecting, ${step}: ${outcome.message}`, { code: outcome.code, step });
      return false;
    }
    this.current = nextStep(step, this.choices());
    return true;
  }

  private resetFrom(step: StepId) {
    const from = STEPS.indexOf(step);
    for (const s of STEPS.slice(from)) this.steps[s] = fresh();
    const cleared = new Set(STEPS.slice(from));
    if (cleared.has("connection")) this.identity = null;
    if (cleared.has("ca")) this.caState = null;
    if (cleared.has("verification")) this.preview = null;
    if (cleared.has("register")) this.registration = null;
    if (cleared.has("deploy")) {
      this.changes = null;
      this.stack = null;
    }
    if (cleared.has("allowList")) {
      this.serials = null;
      this.syncReport = null;
    }
    if (cleared.has("test")) {
      this.phases = [];
      this.report = null;
    }
    if (STEPS.indexOf(this.current) > from) this.current = step;
  }
}

async function attempt(work: () => Promise<void>): Promise<ErrorReport | null> {
  try {
    await work();
    return null;
  } catch (error) {
    return inWindow(toReport(error));
  }
}

/** The report with what to do in this window, when the shell's hint speaks of the command line. */
export function inWindow(report: ErrorReport): ErrorReport {
  const hint = tc.hints[report.code];
  return hint ? { ...report, hint } : report;
}

/** The step after `step` that is needed (the last step stays current). */
export function nextStep(step: StepId, choices: Choices): StepId {
  for (const next of STEPS.slice(STEPS.indexOf(step) + 1)) {
    if (!isSkipped(next, choices)) return next;
  }
  return step;
}

/** The CA that signs device certificates is the one AWS IoT registers: the first signer, else the first CA. */
export function preferredCa(cas: CaSummary[]): string | null {
  return (cas.find((ca) => ca.role === "signer") ?? cas[0])?.name ?? null;
}
