// The port list and practice-mode status, generated from keyline_station::ports and src-tauri's practice module
// (../backend/bindings.ts), plus the choices the practice panel offers.
export type {
  PortKind,
  PortInfo,
  PortList,
  SimBoard,
  EmulatorState,
  EmulatorStatus,
  PracticeStatus,
} from "../backend/bindings";

/** Firmware a simulated board can run (`start_sim_boards` takes it as a string). */
export const SIM_FIRMWARES = ["rainbowtype", "esp-helper", "rom"] as const;
export type SimFirmware = (typeof SIM_FIRMWARES)[number];
/** How fast simulated boards answer. */
export const SIM_TIMINGS = ["instant", "datasheet"] as const;
export type SimTiming = (typeof SIM_TIMINGS)[number];

/** The arguments of `start_sim_boards`. */
export interface BoardRequest {
  count: number;
  firmware: SimFirmware;
  timing: SimTiming;
}
