// Shell commands of the factory line: start a shift (events on a channel), stop it, retry a board.
import { Channel } from "@tauri-apps/api/core";
import { call } from "../backend/ipc";
import type { LineSettings, ShiftCounters, ShiftEvent } from "./types";

export function startLine(settings: LineSettings, onEvent: (event: ShiftEvent) => void): Promise<void> {
  const channel = new Channel<ShiftEvent>();
  channel.onmessage = onEvent;
  return call<void>("start_line", { settings, onEvent: channel });
}

export const stopLine = (abort = false) => call<ShiftCounters>("stop_line", { abort });
export const retryBoard = (port: string) => call<boolean>("retry_board", { port });
