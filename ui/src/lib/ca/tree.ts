// Pure CA helpers: root → signer trees, expiry classification, fingerprint formatting.
import type { CaSummary } from "../backend/bindings";

export interface CaNode {
  ca: CaSummary;
  children: CaNode[];
}

/** Groups CAs under their issuer; CAs whose issuer is not in the store are shown at the top level. */
export function buildTree(cas: CaSummary[]): CaNode[] {
  const byName = new Map(cas.map((ca) => [ca.name, { ca, children: [] as CaNode[] }]));
  const roots: CaNode[] = [];
  for (const node of byName.values()) {
    const parent = node.ca.issuerName ? byName.get(node.ca.issuerName) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const byRoleThenName = (a: CaNode, b: CaNode) =>
    (a.ca.role === b.ca.role ? 0 : a.ca.role === "root" ? -1 : 1) || a.ca.name.localeCompare(b.ca.name);
  const sortDeep = (nodes: CaNode[]) => {
    nodes.sort(byRoleThenName);
    nodes.forEach((n) => sortDeep(n.children));
  };
  sortDeep(roots);
  return roots;
}

export type ExpiryState = "ok" | "soon" | "expired" | "notYet";

/** Warn (amber) when fewer than this many days remain. */
export const EXPIRY_WARNING_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface Expiry {
  state: ExpiryState;
  daysLeft: number;
}

export function expiry(ca: Pick<CaSummary, "notBefore" | "notAfter">, now: Date = new Date()): Expiry {
  const notBefore = Date.parse(ca.notBefore);
  const notAfter = Date.parse(ca.notAfter);
  const daysLeft = Math.floor((notAfter - now.getTime()) / DAY_MS);
  if (now.getTime() > notAfter) return { state: "expired", daysLeft };
  if (now.getTime() < notBefore) return { state: "notYet", daysLeft };
  return { state: daysLeft < EXPIRY_WARNING_DAYS ? "soon" : "ok", daysLeft };
}

/** `ab12cd…` → `AB:12:CD…`, the way openssl prints fingerprints. */
export function colonHex(hex: string): string {
  const clean = hex.replace(/[^0-9a-fA-F]/g, "").toUpperCase();
  return clean.match(/.{1,2}/g)?.join(":") ?? "";
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(0, 10);
}
