// The log panel's state: the lines fetched at start-up plus live ones, and UI-side entries.
import { getLogs, onLog } from "../backend/services";
import type { LogEntry } from "../backend/bindings";
import type { LogLevel } from "./filter";
import { bounded, newerThan } from "./filter";

const CAPACITY = 5000;

class LogStore {
  entries = $state<LogEntry[]>([]);
  /** Highest shell sequence number shown, so overlapping sources never duplicate a line. */
  private lastShellSeq = -1;

  private addShell(incoming: LogEntry[]) {
    const fresh = newerThan(incoming, this.lastShellSeq);
    if (!fresh.length) return;
    this.lastShellSeq = fresh[fresh.length - 1].seq;
    this.entries = bounded(this.entries.concat(fresh), CAPACITY);
  }

  /** Loads the shell's ring buffer, then follows new lines. */
  async start(): Promise<() => void> {
    const pending: LogEntry[] = [];
    let loaded = false;
    const unlisten = await onLog((entry) => {
      if (loaded) this.addShell([entry]);
      else pending.push(entry);
    });
    try {
      this.addShell((await getLogs()).concat(pending));
    } finally {
      loaded = true;
    }
    return unlisten;
  }

  /** Records something the UI itself observed (e.g. a failed command) in the panel. */
  addLocal(level: LogLevel, message: string, fields: Record<string, string> = {}) {
    const entry: LogEntry = { seq: -1, timestampMs: Date.now(), level, target: "ui", message, fields };
    this.entries = bounded(this.entries.concat(entry), CAPACITY);
  }
}

export const logStore = new LogStore();
