// The firmware profiles the station generates cert_chain.c for, and the signer choices for the screen.
import type { CaSummary } from "../backend/bindings";

export const PROFILES = ["rainbowtype", "esp-cryptoauthlib", "trustflex"] as const;
export type ProfileId = (typeof PROFILES)[number];

/** CAs that can be chosen as the signer: signer CAs first, then roots, each group by name. */
export function signerChoices(cas: CaSummary[]): CaSummary[] {
  const rank = (ca: CaSummary) => (ca.role === "signer" ? 0 : 1);
  return [...cas].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** The signer to preselect: keep the current one if it still exists, else the first signer CA. */
export function defaultSigner(cas: CaSummary[], current: string | null): string | null {
  if (current && cas.some((ca) => ca.name === current)) return current;
  return signerChoices(cas)[0]?.name ?? null;
}
