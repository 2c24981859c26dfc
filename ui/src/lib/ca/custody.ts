// Where a CA's key is (a file here, a PKCS#11 token, or offline) and what the window offers for it.
import type { CaSummary, KeyCustody, PickedFile } from "../backend/bindings";
import type { ErrorReport } from "../backend/ipc";
import { format, tk } from "../i18n";
import { checkCreate, type CreateForm, type CreateProblem } from "./validation";

/** What the CA card shows for a custody: the word, the icon, the tooltip. */
export interface CustodyLook {
  icon: "key" | "shield" | "alert";
  text: string;
  title: string;
  tone: "neutral" | "attention";
}

/** The custody in word and icon. */
export function custodyLook(custody: KeyCustody): CustodyLook {
  switch (custody.kind) {
    case "token":
      return {
        icon: "shield",
        tone: "neutral",
        text: format(tk.token, { token: custody.token }),
        title: format(tk.tokenHint, { token: custody.token, keyLabel: custody.keyLabel, module: custody.module }),
      };
    case "offline":
      return { icon: "alert", tone: "attention", text: tk.offline, title: tk.offlineHint };
    default:
      return { icon: "key", tone: "neutral", text: tk.file, title: tk.fileHint };
  }
}

/** The secret that unlocks the CA: its passphrase, its token's PIN, or nothing (an offline root cannot be unlocked). */
export type UnlockSecret = { kind: "passphrase" } | { kind: "pin"; token: string } | { kind: "none" };

export function unlockSecret(ca: Pick<CaSummary, "keyCustody">): UnlockSecret {
  const custody = ca.keyCustody;
  if (custody.kind === "token") return { kind: "pin", token: custody.token };
  if (custody.kind === "offline") return { kind: "none" };
  return { kind: "passphrase" };
}

/** The custody actions of a CA: only a root whose key is a file here can go offline; only an offline root is restored. */
export function custodyActions(ca: Pick<CaSummary, "role" | "keyCustody">): { takeOffline: boolean; restore: boolean } {
  return {
    takeOffline: ca.role === "root" && ca.keyCustody.kind === "file",
    restore: ca.keyCustody.kind === "offline",
  };
}

/** What to tell the user about a failed token unlock, by the error's code; `null` when the report says enough. */
export function tokenAdvice(error: ErrorReport): string | null {
  switch (error.code) {
    case "token_wrong_pin":
      return tk.wrongPin;
    case "token_pin_locked":
      return tk.pinLocked;
    case "token_not_found":
    case "token_module_not_found":
    case "token_module_load":
      return tk.tokenMissing;
    default:
      return null;
  }
}

/** Where a new CA's keys go, chosen in the Create CA dialog. */
export interface TokenChoice {
  /** The token's PKCS#11 library, picked in the open dialog (the page holds its handle, never its path). */
  module: PickedFile | null;
  token: string;
  pin: string;
}

export type TokenProblem = "moduleRequired" | "tokenRequired" | "pinRequired";

/** The form checks of a CA created in a token: the names, organization and years as for files, then the token. */
export function checkCreateInToken(form: Omit<CreateForm, "passphrase" | "confirm">, choice: TokenChoice): CreateProblem | TokenProblem | null {
  const base = checkCreate({ ...form, passphrase: "", confirm: "" });
  if (base !== "tooShort") return base;
  if (!choice.module) return "moduleRequired";
  if (choice.token.trim() === "") return "tokenRequired";
  if (choice.pin === "") return "pinRequired";
  return null;
}
