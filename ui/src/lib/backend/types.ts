// Shapes of the data that crosses the IPC boundary (mirrors src-tauri/src/dto.rs).

/** A failure as the shell reports it: what happened, a stable code, what to do. */
export interface ErrorReport {
  code: string;
  message: string;
  hint: string;
}

export type KeyStatus = "locked" | "unlocked" | "remembered";
export type CaRole = "root" | "signer";

/** One certificate in a CA's chain, from the CA itself up to the root. */
export interface ChainLink {
  name: string | null;
  subject: string;
}

/** One certificate authority in the store (station `CaSummary`). */
export interface CaSummary {
  name: string;
  role: CaRole;
  subject: string;
  issuer: string;
  /** Store name of the issuing CA, when it is in the store. */
  issuerName: string | null;
  /** RFC 3339 timestamps. */
  notBefore: string;
  notAfter: string;
  daysUntilExpiry: number;
  /** `AB:CD:…` */
  sha256: string;
  sha1: string;
  keyStatus: KeyStatus;
  chain: ChainLink[];
}

export interface ExtensionSummary {
  name: string;
  critical: boolean;
  value: string;
}

/** Everything `ca show` prints (station `CaDetails`). */
export interface CaDetails extends CaSummary {
  serial: string;
  signatureAlgorithm: string;
  publicKey: string;
  extensions: ExtensionSummary[];
  pem: string;
}

export interface KeyringStatus {
  available: boolean;
  backend: string;
  /** Why the keyring cannot be used (empty when it can). */
  reason: string;
}

export interface AppInfo {
  version: string;
  dataDir: string;
  practice: boolean;
  keyring: KeyringStatus;
}

export type LogLevel = "ERROR" | "WARN" | "INFO" | "DEBUG" | "TRACE";

export interface LogEntry {
  seq: number;
  /** Milliseconds since the Unix epoch. */
  timestampMs: number;
  level: LogLevel;
  target: string;
  message: string;
  fields: Record<string, string>;
}

export interface CreateCaRequest {
  name: string;
  org: string;
  signer: string | null;
  years: number;
}

export interface ImportCaRequest {
  name: string;
  certPem: string;
  keyPem: string;
  keyPassphrase: string | null;
}

/** Progress of a long operation, streamed over a Tauri channel. */
export type ProgressEvent =
  | { event: "step"; data: { step: string; index: number; total: number } }
  | { event: "finished"; data: { names: string[] } };

/** One chip location the certificate definitions read (station `SlotRow`). */
export interface SlotRow {
  /** "data", "config" or "genkey". */
  zone: string;
  slot: number;
  offset: number;
  count: number;
  /** What is stored there, e.g. "device compressed certificate". */
  contents: string;
}

/** One variable field of a template certificate (station `TemplateField`). */
export interface TemplateField {
  certificate: "signer" | "device";
  /** `STDCERT_*`, `TBS` or an extra element's id. */
  element: string;
  offset: number;
  count: number;
}

/** The Device template screen's data (station `DeviceTemplate`). */
export interface DeviceTemplate {
  profile: string;
  signer: string;
  certChainC: string;
  certChainH: string;
  slotMap: SlotRow[];
  templateFields: TemplateField[];
  deviceTemplateHex: string;
  signerTemplateHex: string;
  /** esp-cryptoauthlib only: the string for the helper firmware's `provide-cert-def 1`. */
  signerCertDefString: string | null;
}
