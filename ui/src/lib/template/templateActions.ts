// Copy and save of the generated files: the clipboard plugin, and the shell's save dialog and write.
import { writeText } from "@tauri-apps/plugin-clipboard-manager";
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
  return saveTextFile(FILE_NAMES[file], fileText(template, file));
}
