import { describe, expect, test } from "vitest";
import { eta, formatEta, formatRate, hex, parseOffset, throughput } from "./flash";

describe("offsets", () => {
  test("hex and decimal offsets parse; anything else is refused", () => {
    expect(parseOffset("0x10000")).toBe(0x10000);
    expect(parseOffset(" 4096 ")).toBe(4096);
    expect(parseOffset("0x1_000")).toBeNull();
    expect(parseOffset("-1")).toBeNull();
    expect(parseOffset("0x100000000")).toBeNull();
    expect(hex(0x8000)).toBe("0x08000");
  });
});

describe("throughput and ETA from byte progress", () => {
  test("bytes per second over the recent window, and the time left at that rate", () => {
    const samples = [
      { done: 0, at: 0 },
      { done: 46_000, at: 1000 },
      { done: 92_000, at: 2000 },
    ];
    expect(throughput(samples)).toBe(46_000);
    expect(eta(92_000, 230_000, 46_000)).toBe(3);
    expect(formatEta(3)).toBe("3 s");
    expect(formatEta(125)).toBe("2 min 5 s");
    expect(formatRate(46_000)).toBe("44.9 KiB/s");
  });
  test("unknown before two samples", () => {
    expect(throughput([{ done: 10, at: 5 }])).toBeNull();
    expect(eta(0, 100, null)).toBeNull();
    expect(formatRate(null)).toBe("–");
  });
  test("an old burst falls out of the window", () => {
    const samples = [
      { done: 0, at: 0 },
      { done: 500_000, at: 100 },
      { done: 510_000, at: 10_000 },
      { done: 520_000, at: 11_000 },
    ];
    expect(throughput(samples)).toBe(10_000);
  });
});
