// The OTA screen's state as plain data: a push folded from its events (bytes, then the device's phases),
// device-list labels, and the image summary. No Svelte and no IPC here, so it is unit-tested.
import type { ErrorReport } from "../backend/ipc";
import type { ImageReport, OtaDeviceRow, PushEvent, PushReport } from "./types";

export type Phase = "idle" | "uploading" | "uploaded" | "requested" | "accepted" | "completed" | "failed" | "cancelled";
export type Tone = "neutral" | "working" | "pass" | "fail" | "attention";

export interface PushState {
  serial: string | null;
  phase: Phase;
  /** The furthest phase the device reached (kept when the push fails, to say where). */
  reached: Phase;
  sent: number;
  total: number;
  startedAt: number;
  finishedAt: number | null;
  error: ErrorReport | null;
  report: PushReport | null;
}

/** The phases shown as steps, in order, with what each means. */
export const STEPS: { phase: Phase; label: string; detail: string }[] = [
  { phase: "uploaded", label: "Uploaded", detail: "the server stored the image" },
  { phase: "requested", label: "Requested", detail: "the device's request is now ota; it picks it up at its next boot" },
  { phase: "accepted", label: "Downloading", detail: "the device answered otaaccepted and downloads /fw/<serial>" },
  { phase: "completed", label: "Completed", detail: "the device rebooted into the image and reported updatecompleted" },
];

const ORDER: Phase[] = ["idle", "uploading", "uploaded", "requested", "accepted", "completed"];

export const idlePush = (): PushState => ({
  serial: null,
  phase: "idle",
  reached: "idle",
  sent: 0,
  total: 0,
  startedAt: 0,
  finishedAt: null,
  error: null,
  report: null,
});

export const startPush = (serial: string, now: number): PushState => ({ ...idlePush(), serial, phase: "uploading", reached: "uploading", startedAt: now });

export const running = (state: PushState): boolean => ORDER.includes(state.phase) && state.phase !== "idle" && state.phase !== "completed";

/** Folds one push event in; phases only move forward. */
export function applyPushEvent(state: PushState, event: PushEvent): PushState {
  if (!running(state)) return state;
  if (event.event === "uploading") {
    return { ...state, sent: Math.max(state.sent, event.data.sent), total: event.data.total };
  }
  const next = event.event as Phase;
  if (ORDER.indexOf(next) <= ORDER.indexOf(state.phase)) return state;
  const sent = next === "uploaded" ? Math.max(state.sent, state.total) : state.sent;
  return { ...state, phase: next, reached: next, sent };
}

/** The push call's outcome: the report, or its error (`cancelled` is not a failure of the device). */
export function finishPush(state: PushState, outcome: { report: PushReport } | { error: ErrorReport }, now: number): PushState {
  if ("report" in outcome) return { ...state, phase: "completed", reached: "completed", report: outcome.report, finishedAt: now };
  const phase: Phase = outcome.error.code === "cancelled" ? "cancelled" : "failed";
  return { ...state, phase, error: outcome.error, finishedAt: now };
}

/** Upload progress, 0-100. */
export const percent = (state: PushState): number => (state.total > 0 ? Math.min(100, Math.floor((state.sent * 100) / state.total)) : 0);

/** Each step's tone for the stepper ("Downloading" stays blue until the device reports completion). */
export function stepTone(state: PushState, step: Phase): Tone {
  if (state.phase === "completed") return "pass";
  const at = ORDER.indexOf(state.reached);
  const index = ORDER.indexOf(step);
  const inProgress = running(state) || state.phase === "failed";
  const current = state.reached === "accepted" ? at : at + 1;
  if (index === current && inProgress) return state.phase === "failed" ? "fail" : "working";
  if (index <= at) return "pass";
  return "neutral";
}

/** The push's one big state: colour, icon and word. */
export function pushVerdict(state: PushState): { tone: Tone; icon: "check" | "error" | "clock" | "upload" | "info"; text: string } {
  switch (state.phase) {
    case "completed":
      return { tone: "pass", icon: "check", text: "COMPLETED" };
    case "failed":
      return { tone: "fail", icon: "error", text: "FAILED" };
    case "cancelled":
      return { tone: "attention", icon: "info", text: "CANCELLED" };
    case "uploading":
      return { tone: "working", icon: "upload", text: "UPLOADING" };
    case "idle":
      return { tone: "neutral", icon: "clock", text: "READY" };
    default:
      return { tone: "working", icon: "clock", text: state.phase === "accepted" ? "DOWNLOADING" : "WAITING FOR DEVICE" };
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
}

/** A device row's state as colour + word. */
export function deviceBadge(row: OtaDeviceRow): { tone: Tone; text: string } {
  if (row.state === "bootprohibited") return { tone: "fail", text: "boot prohibited" };
  switch (row.request) {
    case "ota":
      return { tone: "working", text: "update requested" };
    case "pkeyissued":
      return { tone: "attention", text: "waiting for a certificate" };
    case "none":
      return { tone: "neutral", text: "idle" };
    default:
      return { tone: "working", text: `request ${row.request}` };
  }
}

/** "4 s ago", "3 min ago", "2 h ago", "never". */
export function lastSeenText(iso: string | null, now: number): string {
  if (!iso) return "never";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

export type Signed = "valid" | "invalid" | "unsigned";

/** What the inspector shows at a glance. */
export function imageSummary(report: ImageReport): { project: string; version: string; chip: string; idf: string; size: number; signed: Signed } {
  const desc = report.image.appDesc;
  return {
    project: desc?.projectName || "(no app descriptor)",
    version: desc?.version || "?",
    chip: report.image.chip,
    idf: desc?.idfVersion || "?",
    size: report.image.fileLen,
    signed: report.signatureValid === null ? "unsigned" : report.signatureValid ? "valid" : "invalid",
  };
}

/** Why Push is disabled, or null when it can run. */
export function pushBlocker(input: { target: boolean; serial: string | null; image: ImageReport | null; signWith: string; busy: boolean }): string | null {
  if (input.busy) return "A push is running.";
  if (!input.target) return "Start the embedded server or connect to a remote one.";
  if (!input.serial) return "Choose a device in the list.";
  if (!input.image) return "Choose an image and inspect it.";
  if (input.image.image.chip !== "esp32") return `The image is for ${input.image.image.chip}; rainbowtype devices are ESP32.`;
  if (input.image.signatureValid === false) return "The image's signature does not verify; sign it again.";
  return null;
}
