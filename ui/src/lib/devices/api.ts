// Shell commands of the Devices screen: search a page, show one device, export the current search.
import { save } from "@tauri-apps/plugin-dialog";
import { call } from "../backend/ipc";
import type { DeviceDetail, DevicePage, DeviceQuery } from "./types";

export const searchDevices = (query: DeviceQuery) => call<DevicePage>("search_devices", { query });
export const deviceDetail = (serial: string) => call<DeviceDetail>("device_detail", { serial });

/** Asks where to save, then writes every device of `query`; resolves to the path, or null if cancelled. */
export async function exportDevicesAs(query: DeviceQuery, format: "csv" | "json"): Promise<string | null> {
  const path = await save({
    defaultPath: `devices.${format}`,
    filters: [{ name: format.toUpperCase(), extensions: [format] }],
  });
  if (!path) return null;
  await call<number>("export_devices", { query: { ...query, after: null }, format, path });
  return path;
}
