// Domain services: one function per shell command, named in the station's vocabulary.
import { Channel } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { call } from "./ipc";
import type {
  AppInfo,
  CaDetails,
  CaSummary,
  CreateCaRequest,
  DeviceTemplate,
  ImportCaRequest,
  KeyringStatus,
  LogEntry,
  ProgressEvent,
} from "./types";

/** The store passphrase for new keys and whether to remember it in the OS keyring. */
export interface Secret {
  passphrase: string;
  remember: boolean;
}

/** Name of the app event that carries each new log line. */
export const LOG_EVENT = "keyline://log";

export const appInfo = () => call<AppInfo>("app_info");
export const keyringStatus = () => call<KeyringStatus>("keyring_status");
export const getLogs = () => call<LogEntry[]>("get_logs");

/** Subscribes to live log lines; returns the unsubscribe function. */
export function onLog(handler: (entry: LogEntry) => void): Promise<UnlistenFn> {
  return listen<LogEntry>(LOG_EVENT, (event) => handler(event.payload));
}

export const listCas = () => call<CaSummary[]>("list_cas");
export const showCa = (name: string) => call<CaDetails>("show_ca", { name });
export const exportCaPem = (name: string) => call<string>("export_ca_pem", { name });
/** Opens the save dialog (in the shell) and writes the CA certificate there; the path, or null if cancelled. */
export const saveCaPem = (name: string) => call<string | null>("save_ca_pem", { name });
export const unlockCa = (name: string, passphrase: string, remember: boolean) =>
  call<CaSummary>("unlock_ca", { name, passphrase, remember });
export const lockCa = (name: string, forget: boolean) => call<CaSummary>("lock_ca", { name, forget });
export const deviceTemplate = (ca: string, profile: string) => call<DeviceTemplate>("device_template", { ca, profile });
/** Opens the save dialog (in the shell) offering `suggestedName`; the path written, or null if cancelled. */
export const saveTextFile = (suggestedName: string, contents: string) =>
  call<string | null>("save_text_file", { suggestedName, contents });

/** Creates a CA, reporting each step to `onProgress`; resolves to the created CAs. */
export function createCa(
  request: CreateCaRequest,
  secret: Secret,
  onProgress: (event: ProgressEvent) => void,
): Promise<CaSummary[]> {
  const channel = new Channel<ProgressEvent>();
  channel.onmessage = onProgress;
  return call<CaSummary[]>("create_ca", { request, ...secret, onEvent: channel });
}

export function importCa(
  request: ImportCaRequest,
  secret: Secret,
  onProgress: (event: ProgressEvent) => void,
): Promise<CaSummary[]> {
  const channel = new Channel<ProgressEvent>();
  channel.onmessage = onProgress;
  return call<CaSummary[]>("import_ca", { request, ...secret, onEvent: channel });
}
