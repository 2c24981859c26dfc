// Shapes of the Devices screen's IPC (station ledger DeviceQuery, DevicePage, DeviceDetail).
export interface DeviceQuery {
  text?: string | null;
  caName?: string | null;
  profile?: string | null;
  status?: string | null;
  issuedFrom?: string | null;
  issuedTo?: string | null;
  after?: string | null;
  limit: number;
}

export interface Device {
  serial: string;
  commonName: string;
  profile: string;
  caName: string;
  certId: string;
  certPem: string;
  publicKey: string;
  issuedAt: string;
  provisionedAt: string | null;
  status: string;
}

export interface DevicePage {
  devices: Device[];
  next: string | null;
  total: number;
}

export interface DeviceEvent {
  serial: string;
  seq: number;
  at: string;
  kind: string;
  detail: Record<string, unknown>;
}

export interface CertFields {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  serial: string;
  signatureAlgorithm: string;
  publicKey: string;
  sha256: string;
  extensions: { name: string; critical: boolean; value: string }[];
}

export interface DeviceDetail {
  device: Device;
  cert: CertFields | null;
  certError: string | null;
  chainPem: string | null;
  events: DeviceEvent[];
  cloudStatus: string | null;
}
