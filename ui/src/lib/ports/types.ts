// Shapes of the port list and practice-mode status (mirror station `ports::PortList` and src-tauri `practice`).
import type { ErrorReport } from "../backend/types";

export type PortKind = "simulated" | "usb" | "pci" | "bluetooth" | "other";

/** One serial port a board can be on. */
export interface PortInfo {
  path: string;
  label: string;
  kind: PortKind;
  likelyEsp32: boolean;
  /** `10c4:ea60` for USB ports. */
  usbId: string | null;
  serialNumber: string | null;
  manufacturer: string | null;
  product: string | null;
  /** Firmware of a simulated board. */
  firmware: string | null;
}

export interface PortList {
  ports: PortInfo[];
  /** What was skipped (a corrupt simulator list), with what to do. */
  warnings: string[];
}

export type SimFirmware = "rainbowtype" | "esp-helper" | "rom";
export type SimTiming = "instant" | "datasheet";

export interface SimBoard {
  index: number;
  label: string;
  path: string;
  firmware: SimFirmware;
}

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

export interface PracticeStatus {
  enabled: boolean;
  simAvailable: boolean;
  boards: SimBoard[];
  timing: SimTiming | null;
  emulator: EmulatorStatus;
}

export interface BoardRequest {
  count: number;
  firmware: SimFirmware;
  timing: SimTiming;
}
