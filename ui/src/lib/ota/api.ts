// Shell commands of the OTA screen: the embedded server, a target's devices, images, and a push on a channel.
import { Channel } from "@tauri-apps/api/core";
import { call } from "../backend/ipc";
import type { EmbeddedServerSettings, ImageReport, OtaDeviceRow, OtaServerStatus, OtaTarget, PushEvent, PushReport, PushRequest, SignedImage } from "./types";

export const otaStatus = () => call<OtaServerStatus>("ota_status");
export const startOtaServer = (settings: EmbeddedServerSettings) => call<OtaServerStatus>("start_ota_server", { settings });
export const stopOtaServer = () => call<OtaServerStatus>("stop_ota_server");
export const otaDevices = (target: OtaTarget) => call<OtaDeviceRow[]>("ota_devices", { target });
export const inspectOtaImage = (path: string) => call<ImageReport>("inspect_ota_image", { path });
export const signOtaImage = (key: string, passphrase: string, image: string, out: string) =>
  call<SignedImage>("sign_ota_image", { key, passphrase, image, out });
export const cancelOtaPush = () => call<boolean>("cancel_ota_push");

export function pushOta(target: OtaTarget, request: PushRequest, onEvent: (event: PushEvent) => void): Promise<PushReport> {
  const channel = new Channel<PushEvent>();
  channel.onmessage = onEvent;
  return call<PushReport>("push_ota", { target, request, onEvent: channel });
}
