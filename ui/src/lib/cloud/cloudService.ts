// Cloud connecting services: one function per shell command, named like the wizard's steps.
import { Channel } from "@tauri-apps/api/core";
import { backend } from "../backend/ipc";
import type {
  CaMode,
  CloudSettings,
  ConnectEvent,
  ConnectReport,
  DeployMethod,
} from "./types";

export const cloudDefaults = () => backend.cloud_defaults();
export const cloudIdentity = (settings: CloudSettings) => backend.cloud_identity(settings);
export const cloudCaState = (settings: CloudSettings, ca: string) => backend.cloud_ca_state(settings, ca);
export const cloudVerification = (settings: CloudSettings, ca: string) => backend.cloud_verification(settings, ca);
export const cloudRegisterCa = (settings: CloudSettings, ca: string, mode: CaMode, autoRegistration: boolean) =>
  backend.cloud_register_ca(settings, ca, mode, autoRegistration);
export const cloudDeploy = (settings: CloudSettings, ca: string, method: DeployMethod, allowList: boolean) =>
  backend.cloud_deploy(settings, ca, method, allowList);
export const cloudStackStatus = (settings: CloudSettings, ca: string) => backend.cloud_stack_status(settings, ca);
export const cloudAllowList = (settings: CloudSettings, ca: string) => backend.cloud_allow_list(settings, ca);
export const cloudAllowListAdd = (settings: CloudSettings, ca: string, serials: string[]) =>
  backend.cloud_allow_list_add(settings, ca, serials);
/** The shell asks for the serials file (open dialog); null if the user cancelled. */
export const cloudAllowListSync = (settings: CloudSettings, ca: string) => backend.cloud_allow_list_sync(settings, ca);
export const cloudAllowListSyncLedger = (settings: CloudSettings, ca: string) => backend.cloud_allow_list_sync_ledger(settings, ca);
export const cloudCancelTest = () => backend.cloud_cancel_test();

export interface TestOptions {
  ca: string;
  serial: string | null;
  allowList: boolean;
  mqttEndpoint: string | null;
}

/** Runs the connection test; each phase arrives on `onEvent` as it happens. */
export function cloudTestConnect(
  settings: CloudSettings,
  options: TestOptions,
  onEvent: (event: ConnectEvent) => void,
): Promise<ConnectReport> {
  const channel = new Channel<ConnectEvent>();
  channel.onmessage = onEvent;
  return backend.cloud_test_connect(settings, options.ca, options.serial, options.allowList, options.mqttEndpoint, channel);
}
