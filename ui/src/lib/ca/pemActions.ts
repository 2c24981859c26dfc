// Export and copy of a CA certificate: the shell's save dialog and write, and the clipboard plugin.
import { writeText } from "@tauri-apps/plugin-clipboard-manager";
import { exportCaPem, saveCaPem } from "../backend/services";

/** Copies the CA's certificate PEM to the clipboard. */
export async function copyPem(name: string): Promise<void> {
  await writeText(await exportCaPem(name));
}

/** Asks where to save the certificate and writes it there; resolves to the path, or null if cancelled. */
export async function savePemAs(name: string): Promise<string | null> {
  return saveCaPem(name);
}
