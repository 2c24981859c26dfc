// Practice panel state: status and ports from the shell, refreshed after each action and while the emulator starts.
import { toReport } from "../backend/ipc";
import type { ErrorReport } from "../backend/ipc";
import * as api from "./api";
import { SIM_FIRMWARES, SIM_TIMINGS, type BoardRequest, type PortList, type PracticeStatus } from "./types";

/** How often the panel asks again while the emulator is starting. */
export const POLL_MS = 1000;

export class PracticeModel {
  status = $state<PracticeStatus | null>(null);
  ports = $state<PortList | null>(null);
  busy = $state(false);
  error = $state<ErrorReport | null>(null);
  request = $state<BoardRequest>({ count: 2, firmware: "rainbowtype", timing: "datasheet" });
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** Loads status and ports; keeps polling while the emulator is starting. */
  async refresh(): Promise<void> {
    try {
      const [status, ports] = await Promise.all([api.practiceStatus(), api.listPorts()]);
      this.status = status;
      this.ports = ports;
      const firmware = SIM_FIRMWARES.find((known) => known === status.boards[0]?.firmware);
      const timing = SIM_TIMINGS.find((known) => known === status.timing);
      if (firmware && timing) this.request = { count: status.boards.length, firmware, timing };
    } catch (error) {
      this.error = toReport(error);
    }
    this.#schedule();
  }

  startBoards = () => this.#act(() => api.startSimBoards({ ...this.request }));
  stopBoards = () => this.#act(api.stopSimBoards);
  startEmulator = () => this.#act(api.startEmulator);
  stopEmulator = () => this.#act(api.stopEmulator);

  /** Stops polling (the panel is gone). */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #act(action: () => Promise<PracticeStatus>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      this.status = await action();
      this.ports = await api.listPorts();
    } catch (error) {
      this.error = toReport(error);
    } finally {
      this.busy = false;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.status?.emulator.state === "starting") {
      this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
    }
  }
}
