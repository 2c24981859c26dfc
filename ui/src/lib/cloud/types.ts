// The Cloud connecting data that crosses the IPC boundary, generated from keyline_cloud, keyline_station and
// src-tauri (../backend/bindings.ts); nothing here is written by hand.
export type {
  CloudSettings,
  CloudDefaults,
  CallerIdentity,
  CaInfo,
  CloudCaState,
  VerificationPreview,
  CaMode,
  CaRegistration,
  RegisterCaOutcome,
  DeployMethod,
  Change,
  PieceChange,
  Health,
  PieceStatus,
  StackStatus,
  SyncReport,
  AllowListSync,
  PhaseState,
  ConnectEvent,
  AttemptOutcome,
  ConnectReport,
} from "../backend/bindings";

/** The phase keys the connection test sends (`ConnectEvent.data.key`, a string on the wire), as the UI translates them. */
export type PhaseKey = "identity" | "allowList" | "endpoint" | "serverTrust" | "attempt" | "backoff" | "roundTrip";
