import { describe, expect, test } from "vitest";
import type { LogEntry } from "../backend/bindings";
import { bounded, matches, newerThan, toText } from "./filter";

const entry = (seq: number, level: LogEntry["level"], message: string, fields = {}): LogEntry => ({
  seq,
  timestampMs: Date.UTC(2026, 0, 2, 3, 4, 5),
  level,
  target: "keyline_station::ca",
  message,
  fields,
});

describe("log filter", () => {
  test("a minimum level keeps that level and everything more severe", () => {
    const lines = [entry(1, "ERROR", "a"), entry(2, "WARN", "b"), entry(3, "INFO", "c"), entry(4, "DEBUG", "d")];
    const shown = lines.filter((e) => matches(e, { minLevel: "WARN", text: "" }));
    expect(shown.map((e) => e.level)).toEqual(["ERROR", "WARN"]);
  });

  test("text matches message, target and field values such as the board or port", () => {
    const line = entry(1, "INFO", "chip locked", { board: "B-0042", port: "/dev/ttyUSB1" });
    expect(matches(line, { minLevel: null, text: "ttyusb1" })).toBe(true);
    expect(matches(line, { minLevel: null, text: "board=b-0042" })).toBe(true);
    expect(matches(line, { minLevel: null, text: "CHIP" })).toBe(true);
    expect(matches(line, { minLevel: null, text: "station::ca" })).toBe(true);
    expect(matches(line, { minLevel: null, text: "B-0043" })).toBe(false);
  });

  test("download text has one line per entry with ISO time, level, target, message and fields", () => {
    const text = toText([entry(1, "WARN", "expiring", { ca: "acme-root" })]);
    expect(text).toBe("2026-01-02T03:04:05.000Z WARN  keyline_station::ca: expiring ca=acme-root\n");
  });

  test("overlapping buffer and live events merge by sequence number without duplicates", () => {
    const fetched = [entry(1, "INFO", "a"), entry(2, "INFO", "b")];
    const live = [entry(3, "INFO", "c"), entry(2, "INFO", "b")];
    const merged = newerThan(fetched.concat(live), 0);
    expect(merged.map((e) => e.seq)).toEqual([1, 2, 2, 3]);
    expect(newerThan(live, 2).map((e) => e.seq)).toEqual([3]);
    expect(bounded([1, 2, 3, 4].map((n) => entry(n, "INFO", "x")), 2).map((e) => e.seq)).toEqual([3, 4]);
  });
});
