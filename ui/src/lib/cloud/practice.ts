// The practice-mode emulator as the Cloud connecting screen sees it (the shell's practice_status / start_emulator).
import { call } from "../backend/ipc";
import type { ErrorReport } from "../backend/types";

export type EmulatorState = "off" | "starting" | "running" | "failed" | "notInstalled";

/** The local AWS emulator started by practice mode (src-tauri practice `EmulatorStatus`). */
export interface EmulatorStatus {
  state: EmulatorState;
  version: string;
  region: string;
  endpointUrl: string | null;
  mqttAddress: string | null;
  binary: string | null;
  logPath: string | null;
  error: ErrorReport | null;
}

export const practiceEmulator = async () => (await call<{ emulator: EmulatorStatus }>("practice_status")).emulator;
export const startPracticeEmulator = async () => (await call<{ emulator: EmulatorStatus }>("start_emulator")).emulator;
