import { describe, expect, it } from "vitest";
import { applyEvent, emptyLine, failureAdvice, planSteps, printable, rates, segmentState, syncPorts, throughput } from "./cards";
import type { ProvisionOutcome, ShiftEvent } from "../backend/bindings";

/** A verified board's outcome, as the engine reports it. */
const verified = (serial: string, commonName = ""): ProvisionOutcome => ({
  outcome: "verified",
  port: "p",
  firmware: "rainbowtype",
  serial,
  commonName,
  certId: "ab".repeat(32),
  reusedCertificate: false,
  verifiedBy: ["device signature"],
  steps: [],
  totalMs: 400,
  bytesOut: 0,
  bytesIn: 0,
  productFlash: null,
});
const counters = { started: 1, passed: 0, alreadyProvisioned: 0, failed: 0, inFlight: 0 };
const run = (events: ShiftEvent[], start = 1000, step = 100) =>
  events.reduce((state, event, i) => applyEvent(state, event, start + i * step), emptyLine());

describe("factory line cards", () => {
  it("an idle-locked shift is remembered with its time and a new shift clears it", () => {
    const state = run([{ event: "portAppeared", port: "p" }, { event: "idleLocked", idleSeconds: 900 }]);
    expect(state.idleLockedSeconds).toBe(900);
    expect(state.cards["p"].status).toBe("working");
    expect(emptyLine().idleLockedSeconds).toBeNull();
  });
  it("a port with no run waits; an unplugged finished board's card goes", () => {
    let state = syncPorts(emptyLine(), ["/dev/pts/3"]);
    expect(state.cards["/dev/pts/3"].status).toBe("waiting");
    state = applyEvent(state, { event: "portAppeared", port: "/dev/pts/3" }, 0);
    expect(state.cards["/dev/pts/3"].status).toBe("working");
    expect(syncPorts(state, []).cards["/dev/pts/3"].present).toBe(false);
    state = applyEvent(state, { event: "boardFinished", port: "/dev/pts/3", outcome: verified("0123"), error: null, counters }, 10);
    expect(syncPorts(state, []).cards["/dev/pts/3"]).toBeUndefined();
  });

  it("steps move the card forward, the serial shows, and PASS counts with its time", () => {
    const state = run([
      { event: "portAppeared", port: "p" },
      { event: "board", inner: { event: "stepStarted", port: "p", step: "handshake" } },
      { event: "board", inner: { event: "stepDone", port: "p", step: "read_serial", elapsedMs: 5, detail: { serial: "01239a" } } },
      { event: "board", inner: { event: "stepStarted", port: "p", step: "issue" } },
      { event: "boardFinished", port: "p", outcome: verified("01239a", "CN1"), error: null, counters },
    ]);
    const card = state.cards.p;
    expect(card.status).toBe("pass");
    expect(card.serial).toBe("01239a");
    expect(card.stepsDone).toBe(9);
    expect(state.passed).toBe(1);
    expect(state.totalMs).toBe(400);
    expect(state.recent[0]).toMatchObject({ serial: "01239a", commonName: "CN1" });
    expect(rates(state, 1000 + 3_600_000).perHour).toBe(1);
    expect(rates(state, 2000).meanMs).toBe(400);
  });

  it("a failure keeps the failed step's message and says what to do with the board", () => {
    const state = run([
      { event: "portAppeared", port: "p" },
      { event: "board", inner: { event: "stepFailed", port: "p", step: "handshake", code: "timeout", message: "no answer", hint: "check firmware" } },
      { event: "boardFinished", port: "p", outcome: null, error: { code: "timeout", message: "no answer", hint: "check firmware" }, counters },
    ]);
    expect(state.cards.p.status).toBe("fail");
    expect(state.cards.p.error).toMatchObject({ code: "timeout", step: "handshake" });
    expect(state.failed).toBe(1);
    expect(failureAdvice("handshake")).toMatch(/cable/);
    expect(failureAdvice("write")).toMatch(/not re-issued/);
    // Retry: the port appears again and the card is WORKING with the error cleared.
    const retried = applyEvent(state, { event: "portAppeared", port: "p" }, 5000);
    expect(retried.cards.p).toMatchObject({ status: "working", error: null });
  });

  it("the serial log keeps both directions, readable", () => {
    const state = run([
      { event: "portAppeared", port: "p" },
      { event: "board", inner: { event: "serialBytes", port: "p", direction: "toBoard", bytes: [0x68, 0x69, 0x0d, 0x0a] } },
      { event: "board", inner: { event: "serialBytes", port: "p", direction: "fromBoard", bytes: [0x01, 0x4f, 0x4b] } },
    ]);
    expect(state.cards.p.log.map((l) => [l.dir, l.text])).toEqual([["tx", "hi⏎"], ["rx", "\\x01OK"]]);
    expect(printable([0x7f])).toBe("\\x7f");
  });

  it("a shift with firmware steps shows them, with byte progress and throughput on the flash step", () => {
    const steps = planSteps(true, true);
    expect(steps[0]).toBe("load_firmware");
    expect(steps.slice(-2)).toEqual(["product_flash", "finish"]);
    const progress = (done: number) => ({ event: "board", inner: { event: "stepProgress", port: "p", step: "product_flash", message: "writing app.bin @ 0x10000", done, total: 2048, elapsedMs: done / 2 } }) as ShiftEvent;
    let state = [
      { event: "portAppeared", port: "p" },
      { event: "board", inner: { event: "stepDone", port: "p", step: "verify", elapsedMs: 5, detail: {} } },
      { event: "board", inner: { event: "stepStarted", port: "p", step: "product_flash" } },
      progress(1024),
      progress(2048),
    ].reduce((s, e, i) => applyEvent(s, e as ShiftEvent, 1000 + i), emptyLine(steps));
    const card = state.cards["p"];
    expect(card.step).toBe("product_flash");
    expect(card.bytes.product_flash).toEqual({ done: 2048, total: 2048, elapsedMs: 1024 });
    expect(throughput(card.bytes.product_flash!)).toBe("2 KiB/s");
    expect(segmentState(card, steps, "verify")).toBe("done");
    expect(segmentState(card, steps, "product_flash")).toBe("running");
    expect(segmentState(card, steps, "finish")).toBe("pending");
    state = applyEvent(state, { event: "boardFinished", port: "p", outcome: verified("0123"), error: null, counters }, 2000);
    expect(segmentState(state.cards["p"], steps, "product_flash")).toBe("done");
    expect(state.cards["p"].stepsDone).toBe(steps.length);
  });
});
