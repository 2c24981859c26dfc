import { describe, expect, test } from "vitest";
import { fromSeconds, toSeconds } from "./settings";

describe("timeouts shown in seconds", () => {
  test("round-trip whole and fractional seconds", () => {
    expect(toSeconds(10000)).toBe("10");
    expect(toSeconds(1500)).toBe("1.5");
    expect(fromSeconds("1.5")).toBe(1500);
    expect(fromSeconds("0,25")).toBe(250);
  });
  test("text that is not a number becomes 0 and a huge one u32's top, for the station to refuse", () => {
    expect(fromSeconds("")).toBe(0);
    expect(fromSeconds("ten")).toBe(0);
    expect(fromSeconds("-3")).toBe(0);
    expect(fromSeconds("1e12")).toBe(4294967295);
  });
});
