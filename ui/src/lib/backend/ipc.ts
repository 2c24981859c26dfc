// The window's one way to the desktop shell: the generated `commands` of ./bindings.ts (one typed wrapper per
// Rust command), each made to reject with an IpcError that carries the shell's ErrorReport.
import { commands, type ErrorCode, type ErrorReport as ShellReport } from "./bindings";

/** Codes the window itself gives to failures that never reached the shell. */
export type UiErrorCode = "ui.unexpected" | "file_too_large" | "unknown";

/** What an error card shows: the shell's report (its code is a Rust `ErrorCode`) or one the window made. */
export type ErrorReport = Omit<ShellReport, "code"> & { code: ErrorCode | UiErrorCode };

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

/** Turns anything thrown by a command (or by the UI itself) into an ErrorReport. */
export function toReport(error: unknown): ErrorReport {
  if (error instanceof IpcError) return error.report;
  if (isReport(error)) return { code: error.code, message: error.message, hint: error.hint ?? "" };
  if (error instanceof Error) return { code: "ui.unexpected", message: error.message, hint: "" };
  return { code: "ui.unexpected", message: String(error), hint: "" };
}

type Commands = typeof commands;

function guard<K extends keyof Commands>(name: K): Commands[K] {
  const command = commands[name] as (...args: unknown[]) => Promise<unknown>;
  const guarded = async (...args: unknown[]) => {
    try {
      return await command(...args);
    } catch (error) {
      throw new IpcError(name, toReport(error));
    }
  };
  return guarded as Commands[K];
}

/** Every shell command, typed from its Rust signature; a failure rejects with an IpcError. */
export const backend = Object.fromEntries(
  (Object.keys(commands) as (keyof Commands)[]).map((name) => [name, guard(name)]),
) as Commands;
