// Shell commands of the factory line: start a shift (events on a channel), stop it, retry a board.
import { Channel } from "@tauri-apps/api/core";
import type { LineSettings, ShiftEvent } from "../backend/bindings";
import { backend } from "../backend/ipc";

export function startLine(settings: LineSettings, onEvent: (event: ShiftEvent) => void): Promise<null> {
  const channel = new Channel<ShiftEvent>();
  channel.onmessage = onEvent;
  return backend.start_line(settings, channel);
}

export const stopLine = (abort = false) => backend.stop_line(abort);
export const retryBoard = (port: string) => backend.retry_board(port);
