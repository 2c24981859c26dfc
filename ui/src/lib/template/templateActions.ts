// Copy and save of the generated files: the clipboard plugin, the native save dialog + a shell write.
import { writeText } from "@tauri-apps/plugin-clipboard-manager";
import { save } from "@tauri-apps/plugin-dialog";
import { saveTextFile } from "../backend/services";
import type { DeviceTemplate } from "../backend/bindings";

/** The two generated files, as the preview's tabs show them. */
export type TemplateFile = "source" | "header";

export const FILE_NAMES: Record<TemplateFile, string> = { source: "cert_chain.c", header: "cert_chain.h" };

export function fileText(template: DeviceTemplate, file: TemplateFile): string {
  return file === "source" ? template.certChainC : template.certChainH;
}

export async function copyText(text: string): Promise<void> {
  await writeText(text);
}

export async function copyFile(template: DeviceTemplate, file: TemplateFile): Promise<void> {
  await copyText(fileText(template, file));
}

/** Asks where to save the file and writes it; resolves to the path, or null if cancelled. */
export async function saveFileAs(template: DeviceTemplate, file: TemplateFile): Promise<string | null> {
  const path = await save({
    defaultPath: FILE_NAMES[file],
    filters: [{ name: file === "source" ? "C source" : "C header", extensions: [file === "source" ? "c" : "h"] }],
  });
  if (!path) return null;
  await saveTextFile(path, fileText(template, file));
  return path;
}
