// The one wrapper around Tauri's invoke: failures become a typed IpcError with an ErrorReport.
import { invoke } from "@tauri-apps/api/core";
import type { ErrorReport } from "./types";

/** A failed command; `report` carries the shell's code, message and hint. */
export class IpcError extends Error {
  readonly report: ErrorReport;
  readonly command: string;

  constructor(command: string, report: ErrorReport) {
    super(report.message);
    this.name = "IpcError";
    this.command = command;
    this.report = report;
  }
}

function isReport(value: unknown): value is ErrorReport {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ErrorReport).code === "string" &&
    typeof (value as ErrorReport).message === "string"
  );
}

/** Turns anything thrown by invoke (or by the UI itself) into an ErrorReport. */
export function toReport(error: unknown): ErrorReport {
  if (error instanceof IpcError) return error.report;
  if (isReport(error)) return { code: error.code, message: error.message, hint: error.hint ?? "" };
  if (error instanceof Error) return { code: "ui.unexpected", message: error.message, hint: "" };
  return { code: "ui.unexpected", message: String(error), hint: "" };
}

/** Calls a shell command; rejects with IpcError. */
export async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw new IpcError(command, toReport(error));
  }
}
