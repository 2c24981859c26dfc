// Shapes of the OTA screen's IPC (station ota::{EmbeddedServerInfo, OtaTarget, OtaDeviceRow, PushRequest,
// PushReport, ImageReport, SignedImage}, keyline_ota PushEvent, src-tauri OtaServerStatus). Kept in one
// file so generated bindings can replace it.

export interface EmbeddedServerSettings {
  listen: string;
  ca: string;
  hosts?: string[];
  maxUpload?: number | null;
}

export interface EmbeddedServerInfo {
  url: string;
  address: string;
  ca: string;
  hosts: string[];
}

export interface SimOtaDevice {
  serial: string;
  installedSha256: string | null;
}

export interface OtaServerStatus {
  server: EmbeddedServerInfo | null;
  simDevices: SimOtaDevice[];
  pushing: boolean;
}

export type OtaTarget =
  | { kind: "embedded"; url: string; ca: string }
  | { kind: "remote"; url: string; cert: string; ca: string };

export interface OtaDeviceRow {
  serial: string;
  request: string;
  state: string;
  keynum: number;
  lastSeen: string | null;
  provisioned: boolean;
}

export interface PushRequest {
  serial: string;
  image: string;
  signKey?: string | null;
  signPassphrase?: string | null;
  timeoutSecs?: number | null;
}

export interface PushReport {
  serial: string;
  bytes: number;
  sha256: string;
}

export type PushEvent =
  | { event: "uploading"; data: { sent: number; total: number } }
  | { event: "uploaded" }
  | { event: "requested" }
  | { event: "accepted" }
  | { event: "completed" };

export interface AppDesc {
  secureVersion: number;
  version: string;
  projectName: string;
  time: string;
  date: string;
  idfVersion: string;
  elfSha256: string;
}

export interface AppImage {
  chipId: number;
  chip: string;
  entry: number;
  minChipRevFull: number;
  maxChipRevFull: number;
  segments: unknown[];
  sha256: string | null;
  imageLen: number;
  fileLen: number;
  appDesc: AppDesc | null;
  signature: { blocks: unknown[]; digestMatches: boolean } | null;
}

export interface ImageReport {
  path: string;
  image: AppImage;
  signatureValid: boolean | null;
  signatureError: string | null;
}

export interface SignedImage {
  out: string;
  size: number;
  sha256: string;
  keyDigest: string;
}
