import { describe, expect, test } from "vitest";
import type { KeyCustody } from "../backend/bindings";
import { checkCreateInToken, custodyActions, custodyLook, tokenAdvice, unlockSecret } from "./custody";

const token: KeyCustody = { kind: "token", module: "/usr/lib/softhsm/libsofthsm2.so", token: "line", keyLabel: "signer" };
const file: KeyCustody = { kind: "file" };
const offline: KeyCustody = { kind: "offline" };

describe("CA key custody", () => {
  test("the card says where the key is, in word and icon", () => {
    expect(custodyLook(token)).toMatchObject({ icon: "shield", text: "Key in token line", tone: "neutral" });
    expect(custodyLook(token).title).toContain("libsofthsm2.so");
    expect(custodyLook(token).title).toContain('key "signer"');
    expect(custodyLook(file)).toMatchObject({ icon: "key", text: "Key file on this station" });
    const off = custodyLook(offline);
    expect(off).toMatchObject({ icon: "alert", tone: "attention", text: "Root offline" });
    expect(off.title).toMatch(/not on this station/);
    expect(off.title).toMatch(/[Ss]igners still issue/);
  });

  test("a token CA is unlocked with its PIN, a file CA with its passphrase, an offline root not at all", () => {
    expect(unlockSecret({ keyCustody: token })).toEqual({ kind: "pin", token: "line" });
    expect(unlockSecret({ keyCustody: file })).toEqual({ kind: "passphrase" });
    expect(unlockSecret({ keyCustody: offline })).toEqual({ kind: "none" });
  });

  test("only a root whose key is a file here can be taken offline; only an offline root is restored", () => {
    expect(custodyActions({ role: "root", keyCustody: file })).toEqual({ takeOffline: true, restore: false });
    expect(custodyActions({ role: "signer", keyCustody: file })).toEqual({ takeOffline: false, restore: false });
    expect(custodyActions({ role: "root", keyCustody: token })).toEqual({ takeOffline: false, restore: false });
    expect(custodyActions({ role: "root", keyCustody: offline })).toEqual({ takeOffline: false, restore: true });
  });

  test("a refused token PIN is said in words, by its code", () => {
    expect(tokenAdvice({ code: "token_wrong_pin", message: "m", hint: "h" })).toMatch(/refused this PIN/);
    expect(tokenAdvice({ code: "token_pin_locked", message: "m", hint: "h" })).toMatch(/locked its user PIN/);
    expect(tokenAdvice({ code: "token_not_found", message: "m", hint: "h" })).toMatch(/not present/);
    expect(tokenAdvice({ code: "wrong_passphrase", message: "m", hint: "h" })).toBeNull();
  });

  test("a CA created in a token needs the library, the token label and the PIN, not a passphrase", () => {
    const form = { name: "root", org: "Acme", signerName: "signer", years: 10 };
    const library = { handle: 3, name: "libsofthsm2.so", purpose: "pkcs11Module" as const, image: null };
    expect(checkCreateInToken(form, { module: null, token: "line", pin: "1234" })).toBe("moduleRequired");
    expect(checkCreateInToken(form, { module: library, token: " ", pin: "1234" })).toBe("tokenRequired");
    expect(checkCreateInToken(form, { module: library, token: "line", pin: "" })).toBe("pinRequired");
    expect(checkCreateInToken(form, { module: library, token: "line", pin: "1234" })).toBeNull();
    expect(checkCreateInToken({ ...form, name: "bad name" }, { module: library, token: "line", pin: "1" })).toBe("nameInvalid");
    expect(checkCreateInToken({ ...form, org: "" }, { module: null, token: "", pin: "" })).toBe("orgRequired");
  });
});
