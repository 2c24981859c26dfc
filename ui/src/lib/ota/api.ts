// Shell commands of the OTA screen: the embedded server, a target's devices, images, and a push on a channel.
import { Channel } from "@tauri-apps/api/core";
import type { EmbeddedServerSettings, OtaPushChoice, OtaTargetChoice, PushEvent, PushReport } from "../backend/bindings";
import { backend } from "../backend/ipc";

export const otaStatus = () => backend.ota_status();
export const startOtaServer = (settings: EmbeddedServerSettings) => backend.start_ota_server(settings);
export const stopOtaServer = () => backend.stop_ota_server();
export const otaDevices = (target: OtaTargetChoice) => backend.ota_devices(target);
/** Inspects the image picked with `pickFile("otaImage")` (a handle: the path stays in the shell). */
export const inspectOtaImage = (image: number) => backend.inspect_ota_image(image);
/** Signs the picked image with the picked key; the shell asks where to save the signed copy (null if cancelled). */
export const signOtaImage = (key: number, passphrase: string, image: number) => backend.sign_ota_image(key, passphrase, image);
export const cancelOtaPush = () => backend.cancel_ota_push();

export function pushOta(target: OtaTargetChoice, request: OtaPushChoice, onEvent: (event: PushEvent) => void): Promise<PushReport> {
  const channel = new Channel<PushEvent>();
  channel.onmessage = onEvent;
  return backend.push_ota(target, request, channel);
}
