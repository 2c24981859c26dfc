// Domain services: one function per shell command, named in the station's vocabulary, over the generated wrappers.
import { Channel } from "@tauri-apps/api/core";
import type { UnlistenFn } from "@tauri-apps/api/event";
import { events, type CaSummary, type CreateCa, type ImportCa, type LogEntry, type ProgressEvent } from "./bindings";
import { backend } from "./ipc";

/** The store passphrase for new keys and whether to remember it in the OS keyring. */
export interface Secret {
  passphrase: string;
  remember: boolean;
}

export const appInfo = () => backend.app_info();
export const keyringStatus = () => backend.keyring_status();
export const getLogs = () => backend.get_logs();

/** Subscribes to live log lines (the shell's `keyline://log` event); returns the unsubscribe function. */
export function onLog(handler: (entry: LogEntry) => void): Promise<UnlistenFn> {
  return events.keyline_log.listen((event) => handler(event.payload));
}

export const listCas = () => backend.list_cas();
export const showCa = (name: string) => backend.show_ca(name);
export const exportCaPem = (name: string) => backend.export_ca_pem(name);
/** Opens the save dialog (in the shell) and writes the CA certificate there; the path, or null if cancelled. */
export const saveCaPem = (name: string) => backend.save_ca_pem(name);
export const unlockCa = (name: string, passphrase: string, remember: boolean) => backend.unlock_ca(name, passphrase, remember);
export const lockCa = (name: string, forget: boolean) => backend.lock_ca(name, forget);
export const deviceTemplate = (ca: string, profile: string) => backend.device_template(ca, profile);
/** Opens the save dialog (in the shell) offering `suggestedName`; the path written, or null if cancelled. */
export const saveTextFile = (suggestedName: string, contents: string) => backend.save_text_file(suggestedName, contents);

/** Creates a CA, reporting each step to `onProgress`; resolves to the created CAs. */
export function createCa(request: CreateCa, secret: Secret, onProgress: (event: ProgressEvent) => void): Promise<CaSummary[]> {
  const channel = new Channel<ProgressEvent>();
  channel.onmessage = onProgress;
  return backend.create_ca(request, secret.passphrase, secret.remember, channel);
}

/** Creates a CA whose keys are generated in the PKCS#11 token `token` of the library picked as `module` (a handle). */
export function createCaInToken(request: CreateCa, module: number, token: string, secret: Secret, onProgress: (event: ProgressEvent) => void): Promise<CaSummary[]> {
  const channel = new Channel<ProgressEvent>();
  channel.onmessage = onProgress;
  return backend.create_ca_in_token(request, module, token, secret.passphrase, secret.remember, channel);
}

export function importCa(request: ImportCa, secret: Secret, onProgress: (event: ProgressEvent) => void): Promise<CaSummary[]> {
  const channel = new Channel<ProgressEvent>();
  channel.onmessage = onProgress;
  return backend.import_ca(request, secret.passphrase, secret.remember, channel);
}

/** Opens the save dialog (in the shell), exports the root's encrypted key there and removes it from the station;
 * what was done, or null when the user cancelled. */
export const takeRootOffline = (name: string, passphrase: string) => backend.take_root_offline(name, passphrase);
/** Restores an offline root from a key file picked for `rootKey` (its handle), decrypted with the root's passphrase. */
export const restoreRoot = (name: string, key: number, passphrase: string) => backend.restore_root(name, key, passphrase);
