import { describe, expect, test } from "vitest";
import type { CaSummary } from "../backend/bindings";
import { buildTree, colonHex, expiry } from "./tree";
import { checkCreate } from "./validation";

function ca(name: string, role: CaSummary["role"], issuerName: string | null): CaSummary {
  return {
    name,
    role,
    subject: `CN=${name}`,
    issuer: issuerName ? `CN=${issuerName}` : `CN=${name}`,
    issuerName,
    notBefore: "2026-01-01T00:00:00Z",
    notAfter: "2036-01-01T00:00:00Z",
    daysUntilExpiry: 3000,
    sha256: "AA:BB",
    sha1: "CC:DD",
    keyStatus: "locked",
    keyCustody: { kind: "file" },
    chain: [],
  };
}

describe("CA tree", () => {
  test("signers are nested under their root, roots first and sorted by name", () => {
    const tree = buildTree([
      ca("zeta-signer", "signer", "zeta"),
      ca("acme-signer-b", "signer", "acme"),
      ca("zeta", "root", null),
      ca("acme", "root", "acme"),
      ca("acme-signer-a", "signer", "acme"),
    ]);
    expect(tree.map((n) => n.ca.name)).toEqual(["acme", "zeta"]);
    expect(tree[0].children.map((n) => n.ca.name)).toEqual(["acme-signer-a", "acme-signer-b"]);
    expect(tree[1].children.map((n) => n.ca.name)).toEqual(["zeta-signer"]);
  });

  test("a signer whose issuer is not in the store is shown at the top level", () => {
    const tree = buildTree([ca("orphan", "signer", null), ca("other", "signer", "missing-root")]);
    expect(tree.map((n) => n.ca.name)).toEqual(["orphan", "other"]);
  });
});

describe("expiry", () => {
  const now = new Date("2026-06-01T00:00:00Z");
  const span = (notBefore: string, notAfter: string) => expiry({ notBefore, notAfter }, now);

  test("amber under 90 days, red when expired, green otherwise", () => {
    expect(span("2026-01-01T00:00:00Z", "2026-08-01T00:00:00Z")).toEqual({ state: "soon", daysLeft: 61 });
    expect(span("2026-01-01T00:00:00Z", "2026-05-31T00:00:00Z").state).toBe("expired");
    expect(span("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z").state).toBe("ok");
    expect(span("2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z").state).toBe("notYet");
  });

  test("fingerprints print as colon-separated upper-case hex", () => {
    expect(colonHex("ab12cd")).toBe("AB:12:CD");
  });
});

describe("create form", () => {
  const good = { name: "acme-root", org: "Acme", signerName: "", years: 10, passphrase: "longenough", confirm: "longenough" };

  test("accepts a valid form and names the first problem otherwise", () => {
    expect(checkCreate(good)).toBeNull();
    expect(checkCreate({ ...good, name: "bad name" })).toBe("nameInvalid");
    expect(checkCreate({ ...good, signerName: "../x" })).toBe("nameInvalid");
    expect(checkCreate({ ...good, org: " " })).toBe("orgRequired");
    expect(checkCreate({ ...good, years: 0 })).toBe("yearsInvalid");
    expect(checkCreate({ ...good, passphrase: "short", confirm: "short" })).toBe("tooShort");
    expect(checkCreate({ ...good, confirm: "different!" })).toBe("mismatch");
  });
});
