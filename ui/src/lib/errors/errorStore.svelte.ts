// Errors on screen: each stays until dismissed and is copied into the log panel with context.
import { toReport } from "../backend/ipc";
import type { ErrorReport } from "../backend/ipc";
import { logStore } from "../logs/logStore.svelte";

export interface ShownError extends ErrorReport {
  id: number;
  /** What the user was doing, e.g. "create CA acme-root". */
  context: string;
}

class ErrorStore {
  shown = $state<ShownError[]>([]);
  private nextId = 1;

  /** Shows `error` and logs it; returns its report for callers that also show it inline. */
  report(error: unknown, context: string): ErrorReport {
    const report = toReport(error);
    this.shown = this.shown.concat({ ...report, id: this.nextId++, context });
    logStore.addLocal("ERROR", `${context}: ${report.message}`, {
      code: report.code,
      ...(report.hint ? { hint: report.hint } : {}),
    });
    return report;
  }

  dismiss(id: number) {
    this.shown = this.shown.filter((e) => e.id !== id);
  }
}

export const errorStore = new ErrorStore();
