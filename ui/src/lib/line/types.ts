// Shapes of the factory line's IPC (station ShiftEvent, ProvisionEvent, LineSettings, ShiftCounters).
import type { ErrorReport } from "../backend/types";

export type Step =
  | "open"
  | "handshake"
  | "configure_lock"
  | "read_serial"
  | "public_key"
  | "check_key"
  | "issue"
  | "write"
  | "verify";

export const STEPS: Step[] = ["open", "handshake", "configure_lock", "read_serial", "public_key", "check_key", "issue", "write", "verify"];

export type ProvisionEvent =
  | { event: "stepStarted"; port: string; step: Step }
  | { event: "stepProgress"; port: string; step: Step; message: string }
  | { event: "stepDone"; port: string; step: Step; elapsedMs: number; detail: Record<string, unknown> }
  | { event: "stepFailed"; port: string; step: Step; code: string; message: string; hint: string }
  | { event: "serialBytes"; port: string; direction: "toBoard" | "fromBoard" | string; bytes: number[] };

export interface ShiftCounters {
  started: number;
  passed: number;
  alreadyProvisioned: number;
  failed: number;
  inFlight: number;
}

export interface ProvisionOutcome {
  outcome: string;
  serial?: string;
  [key: string]: unknown;
}

export type ShiftEvent =
  | { event: "portAppeared"; port: string }
  | { event: "board"; inner: ProvisionEvent }
  | { event: "boardFinished"; port: string; outcome: ProvisionOutcome | null; error: ErrorReport | null; counters: ShiftCounters };

export interface LineSettings {
  firmware: string;
  ca: string;
  profile: string | null;
  ports: string[] | null;
  reprovision: boolean;
  stationName: string | null;
}
