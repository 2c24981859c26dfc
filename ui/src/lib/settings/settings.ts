// The station's settings (station name, serial rates, step timeouts): read and saved by the station, checked there.
import type { StationSettings, StepTimeouts } from "../backend/bindings";
import { backend } from "../backend/ipc";

export const getSettings = () => backend.get_settings();
/** Saves `settings`; the station refuses a value out of range (`invalid_setting`) and saves nothing. */
export const saveSettings = (settings: StationSettings) => backend.save_settings(settings);

/** The rates the ROM loader syncs at (the station refuses others). */
export const LOADER_BAUDS = [115200, 230400, 460800, 576000, 921600];
/** The console rate both provisioning firmwares are built for. */
export const CONSOLE_BAUDS = [115200];

export const STEPS: (keyof StepTimeouts)[] = ["handshakeMs", "configureMs", "keyMs", "writeMs"];

/** Milliseconds shown as seconds with up to three decimals ("1.5"). */
export function toSeconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}

/** Seconds typed by the user to whole milliseconds. Text that is not a number, or a negative one, becomes 0 and
 * an enormous one the largest u32: the station refuses both with its own `invalid_setting` error and range. */
export function fromSeconds(text: string): number {
  const value = Number(text.trim().replace(",", "."));
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) return 0;
  return Math.min(Math.round(value * 1000), 4294967295);
}
