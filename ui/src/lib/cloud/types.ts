// Shapes of the Cloud connecting data that crosses the IPC boundary (mirrors src-tauri/src/commands/cloud*.rs,
// keyline_cloud and keyline_station::cloud_wizard).

/** Where the SDK clients point (keyline_cloud `CloudSettings`). Never holds secrets. */
export interface CloudSettings {
  profile: string | null;
  region: string | null;
  endpointUrl: string | null;
  emulator: boolean;
}

export interface CloudDefaults {
  practice: boolean;
  emulatorEndpointUrl: string;
  emulatorMqttEndpoint: string;
  emulatorRegion: string;
  profiles: string[];
  envProfile: string | null;
  envRegion: string | null;
}

export interface CallerIdentity {
  account: string;
  arn: string;
  region: string;
  endpointUrl: string | null;
  emulator: boolean;
}

/** A CA as AWS IoT holds it. */
export interface CaInfo {
  caId: string;
  arn: string;
  /** ACTIVE or INACTIVE. */
  status: string;
  /** ENABLE, DISABLE or UNKNOWN. */
  autoRegistration: string;
  /** DEFAULT or SNI_ONLY. */
  mode: string;
}

export interface CloudCaState {
  caName: string;
  caId: string;
  registration: CaInfo | null;
}

export interface VerificationPreview {
  state: CloudCaState;
  registrationCode: string | null;
  verificationCertPem: string | null;
}

export type CaMode = "DEFAULT" | "SNI_ONLY";

export interface CaRegistration {
  ca: CaInfo;
  alreadyRegistered: boolean;
  changes: string[];
  warnings: string[];
}

export interface RegisterCaOutcome {
  caName: string;
  registrationCode: string | null;
  verificationCertPem: string | null;
  registration: CaRegistration;
}

export type DeployMethod = "jitr" | "jitp";
export type Change = "created" | "updated" | "unchanged" | "deleted" | "absent";

export interface PieceChange {
  piece: string;
  name: string;
  change: Change;
}

export type Health = { state: "ok" } | { state: "missing" } | { state: "drifted"; detail: string };

export interface PieceStatus {
  piece: string;
  name: string;
  health: Health;
}

export interface StackStatus {
  names: Record<string, string>;
  pieces: PieceStatus[];
}

export interface SyncReport {
  written: number;
  deleted: number;
  batches: number;
}

export type PhaseState = "working" | "done" | "refused" | "failed";
export type PhaseKey = "identity" | "allowList" | "endpoint" | "serverTrust" | "attempt" | "backoff" | "roundTrip";

/** One streamed message of the connection test. */
export type ConnectEvent = {
  event: "phase";
  data: { key: PhaseKey; attempt: number; state: PhaseState; millis: number; detail: string };
};

export type AttemptOutcome =
  | { outcome: "connected" }
  | { outcome: "refused"; detail: string }
  | { outcome: "closed_without_connack"; detail: string };

export interface ConnectReport {
  endpoint: string;
  address: string;
  serial: string;
  certificateId: string;
  attempts: AttemptOutcome[];
  connected: boolean;
  roundTrip: boolean;
  phases: { name: string; millis: number; detail: string }[];
}
