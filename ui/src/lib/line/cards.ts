// The factory line's state as plain data: one card per port, counters and the last devices, folded from
// the shift's events. No Svelte and no IPC here, so the card logic is unit-tested.
import type { ErrorReport } from "../backend/ipc";
import type { ShiftEvent, Step } from "../backend/bindings";

/** The provisioning steps in the order the engine runs them (the `Step` enum of the station). */
export const STEPS: Step[] = ["open", "handshake", "configure_lock", "read_serial", "public_key", "check_key", "issue", "write", "verify"];

/** The steps of a shift: loading the provisioning firmware, the provisioning steps, the product flash, finish. */
export function planSteps(load: boolean, product: boolean): Step[] {
  if (!load && !product) return STEPS;
  return [...(load ? (["load_firmware"] as Step[]) : []), ...STEPS, ...(product ? (["product_flash"] as Step[]) : []), "finish"];
}

/** Byte progress of a flash or RAM-load step. */
export interface ByteProgress {
  done: number;
  total: number;
  elapsedMs: number;
}

/** Bytes per second of a step so far, as text ("312 KiB/s"). */
export function throughput(p: ByteProgress): string {
  const perSecond = p.elapsedMs > 0 ? (p.done * 1000) / p.elapsedMs : 0;
  return perSecond >= 1024 * 1024 ? `${(perSecond / 1024 / 1024).toFixed(1)} MiB/s` : `${Math.round(perSecond / 1024)} KiB/s`;
}

export type SegmentState = "pending" | "running" | "done" | "fail";

/** The state of one step's segment on a card's step bar. */
export function segmentState(card: Card, steps: Step[], step: Step): SegmentState {
  if (card.status === "pass") return "done";
  if (card.status === "fail" && card.error?.step === step) return "fail";
  if (steps.indexOf(step) + 1 <= card.stepsDone) return "done";
  if (card.status === "working" && card.step === step) return "running";
  return "pending";
}

export type CardStatus = "waiting" | "working" | "pass" | "fail";

export interface LogLine {
  at: number;
  dir: "tx" | "rx";
  text: string;
}

export interface Card {
  port: string;
  serial: string | null;
  status: CardStatus;
  step: Step | null;
  stepsDone: number;
  startedAt: number;
  finishedAt: number | null;
  error: (ErrorReport & { step: Step | null }) | null;
  log: LogLine[];
  present: boolean;
  /** Byte progress of the flash and RAM-load steps. */
  bytes: Partial<Record<Step, ByteProgress>>;
}

export interface Finished {
  port: string;
  serial: string;
  commonName: string;
  at: number;
}

export interface LineState {
  /** The steps every board of this shift goes through ([`planSteps`]). */
  steps: Step[];
  cards: Record<string, Card>;
  passed: number;
  failed: number;
  totalMs: number;
  firstStart: number | null;
  recent: Finished[];
  /** Set when the shift ended by itself after this many seconds with no board (its signer CA is locked again). */
  idleLockedSeconds: number | null;
}

/** Lines kept per port's serial log. */
export const MAX_LOG_LINES = 2000;
/** Devices kept in "last provisioned". */
export const MAX_RECENT = 10;

export const emptyLine = (steps: Step[] = STEPS): LineState => ({ steps, cards: {}, passed: 0, failed: 0, totalMs: 0, firstStart: null, recent: [], idleLockedSeconds: null });

/** Printable text of bytes on the wire: control bytes as \xNN, line breaks kept out. */
export function printable(bytes: number[]): string {
  return bytes
    .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : b === 0x0a ? "⏎" : b === 0x0d ? "" : `\\x${b.toString(16).padStart(2, "0")}`))
    .join("");
}

/** The card's step position (1-based) out of the shift's steps. */
export const stepIndex = (step: Step | null, steps: Step[] = STEPS): number => (step ? steps.indexOf(step) + 1 : 0);

/** Folds one shift event into the state (returns a new state; `now` is milliseconds). */
export function applyEvent(state: LineState, event: ShiftEvent, now: number): LineState {
  if (event.event === "idleLocked") return { ...state, idleLockedSeconds: event.idleSeconds };
  const cards = { ...state.cards };
  if (event.event === "portAppeared") {
    cards[event.port] = {
      port: event.port,
      serial: cards[event.port]?.serial ?? null,
      status: "working",
      step: state.steps[0],
      stepsDone: 0,
      startedAt: now,
      finishedAt: null,
      error: null,
      log: cards[event.port]?.log ?? [],
      present: true,
      bytes: {},
    };
    return { ...state, cards, firstStart: state.firstStart ?? now };
  }
  if (event.event === "board") {
    const inner = event.inner;
    const card = cards[inner.port];
    if (!card) return state;
    const next: Card = { ...card };
    switch (inner.event) {
      case "stepStarted":
        next.step = inner.step;
        break;
      case "stepDone": {
        next.stepsDone = Math.max(next.stepsDone, stepIndex(inner.step, state.steps));
        const detail = inner.detail;
        const serial = detail !== null && typeof detail === "object" && !Array.isArray(detail) ? detail.serial : undefined;
        if (typeof serial === "string") next.serial = serial;
        break;
      }
      case "stepProgress":
        if (inner.done !== null && inner.total !== null) {
          next.bytes = { ...card.bytes, [inner.step]: { done: inner.done, total: inner.total, elapsedMs: inner.elapsedMs } };
        }
        break;
      case "stepFailed":
        next.error = { code: inner.code, message: inner.message, hint: inner.hint, step: inner.step };
        break;
      case "serialBytes": {
        const line: LogLine = { at: now, dir: inner.direction === "toBoard" ? "tx" : "rx", text: printable(inner.bytes) };
        next.log = [...card.log, line].slice(-MAX_LOG_LINES);
        break;
      }
      default:
        break;
    }
    cards[inner.port] = next;
    return { ...state, cards };
  }
  // boardFinished
  const card = cards[event.port];
  if (!card) return state;
  const ok = event.outcome !== null && !event.error;
  const elapsed = now - card.startedAt;
  const serial = event.outcome?.serial ?? card.serial;
  cards[event.port] = {
    ...card,
    serial,
    status: ok ? "pass" : "fail",
    finishedAt: now,
    stepsDone: ok ? state.steps.length : card.stepsDone,
    error: ok ? null : (card.error ?? { ...(event.error ?? { code: "unknown", message: "The run ended without a result.", hint: "" }), step: card.step }),
  };
  const recent = ok && serial
    ? [{ port: event.port, serial, commonName: event.outcome?.commonName ?? "", at: now }, ...state.recent].slice(0, MAX_RECENT)
    : state.recent;
  return {
    ...state,
    cards,
    passed: state.passed + (ok ? 1 : 0),
    failed: state.failed + (ok ? 0 : 1),
    totalMs: state.totalMs + (ok ? elapsed : 0),
    recent,
  };
}

/** Marks cards whose port is gone (unplugged) and adds waiting cards for ports that appeared but have no run yet. */
export function syncPorts(state: LineState, ports: string[]): LineState {
  const cards: Record<string, Card> = {};
  for (const [port, card] of Object.entries(state.cards)) {
    const present = ports.includes(port);
    // A finished card of an unplugged board goes; a running one stays until its run ends.
    if (present || card.status === "working") cards[port] = { ...card, present };
  }
  for (const port of ports) {
    if (!cards[port]) {
      cards[port] = { port, serial: null, status: "waiting", step: null, stepsDone: 0, startedAt: 0, finishedAt: null, error: null, log: [], present: true, bytes: {} };
    }
  }
  return { ...state, cards };
}

/** Boards per hour and mean time per passed board, over the shift so far. */
export function rates(state: LineState, now: number): { perHour: number; meanMs: number } {
  const done = state.passed + state.failed;
  const hours = state.firstStart === null ? 0 : (now - state.firstStart) / 3_600_000;
  return {
    perHour: hours > 0 ? Math.round(done / hours) : 0,
    meanMs: state.passed > 0 ? Math.round(state.totalMs / state.passed) : 0,
  };
}

/** What the operator does with the board in hand after a failure, by the step that failed. */
export function failureAdvice(step: Step | null): string {
  switch (step) {
    case "load_firmware":
      return "Check the cable and that the board can enter download mode (BOOT + EN on a real board), then press Retry.";
    case "product_flash":
      return "Keep the board plugged in and press Retry: it is already provisioned, only the product firmware is written again.";
    case "open":
    case "handshake":
      return "Check the cable and that the board runs the chosen firmware, then press Retry. Put the board aside if it fails again.";
    case "configure_lock":
    case "read_serial":
    case "public_key":
    case "check_key":
      return "Keep the board on the port and press Retry. If it fails again, put it in the reject tray: the secure element may be faulty or belong to another product.";
    case "issue":
    case "write":
    case "verify":
      return "Keep the board plugged in and press Retry: the certificate is already in the ledger and is written again, not re-issued.";
    default:
      return "Press Retry; if it fails again, put the board in the reject tray and note its serial.";
  }
}
