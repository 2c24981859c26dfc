// Shell commands of the Devices screen: search a page, show one device, export the current search.
import type { DeviceQuery, ExportFormat } from "../backend/bindings";
import { backend } from "../backend/ipc";

export const searchDevices = (query: DeviceQuery) => backend.search_devices(query);
export const deviceDetail = (serial: string) => backend.device_detail(serial);

/** The shell asks where to save, then writes every device of `query`; resolves to the path, or null if cancelled. */
export async function exportDevicesAs(query: DeviceQuery, format: ExportFormat): Promise<string | null> {
  const done = await backend.export_devices({ ...query, after: null }, format);
  return done?.path ?? null;
}
