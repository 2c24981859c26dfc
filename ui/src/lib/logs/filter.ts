// Pure log helpers: level ordering, filtering by level and text, and the download format.
import type { LogEntry } from "../backend/bindings";

/** The levels the shell sends in `LogEntry.level` (a string on the wire), most severe first. */
export type LogLevel = "ERROR" | "WARN" | "INFO" | "DEBUG" | "TRACE";

export const LEVELS: LogLevel[] = ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"];

/** Lower is more severe. */
export function severity(level: string): number {
  return LEVELS.indexOf(level as LogLevel);
}

export interface LogFilter {
  /** Show this level and everything more severe; `null` shows all. */
  minLevel: LogLevel | null;
  /** Case-insensitive; matched against message, target and field values (board, port…). */
  text: string;
}

export function matches(entry: LogEntry, filter: LogFilter): boolean {
  if (filter.minLevel !== null && severity(entry.level) > severity(filter.minLevel)) return false;
  const needle = filter.text.trim().toLowerCase();
  if (needle === "") return true;
  if (entry.message.toLowerCase().includes(needle)) return true;
  if (entry.target.toLowerCase().includes(needle)) return true;
  return Object.entries(entry.fields).some(
    ([key, value]) =>
      value.toLowerCase().includes(needle) || `${key}=${value}`.toLowerCase().includes(needle),
  );
}

export function formatFields(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");
}

/** One line per entry: ISO time, level, target, message, fields. */
export function toText(entries: LogEntry[]): string {
  return entries
    .map((e) => {
      const fields = formatFields(e.fields);
      const time = new Date(e.timestampMs).toISOString();
      return `${time} ${e.level.padEnd(5)} ${e.target}: ${e.message}${fields ? " " + fields : ""}`;
    })
    .join("\n")
    .concat(entries.length ? "\n" : "");
}

/** Drops the oldest entries beyond `capacity`. */
export function bounded(entries: LogEntry[], capacity: number): LogEntry[] {
  return entries.length > capacity ? entries.slice(entries.length - capacity) : entries;
}

/** Shell entries newer than `afterSeq`, in sequence order (the fetched buffer and live events overlap). */
export function newerThan(incoming: LogEntry[], afterSeq: number): LogEntry[] {
  return incoming.filter((e) => e.seq > afterSeq).sort((a, b) => a.seq - b.seq);
}
