// Form checks for the create and import dialogs; each returns the message key that failed, or null.
export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const MIN_PASSPHRASE = 8;

export type CreateProblem = "nameInvalid" | "orgRequired" | "yearsInvalid" | "tooShort" | "mismatch";

export interface CreateForm {
  name: string;
  org: string;
  signerName: string;
  years: number;
  passphrase: string;
  confirm: string;
}

export function checkCreate(form: CreateForm): CreateProblem | null {
  if (!NAME_PATTERN.test(form.name)) return "nameInvalid";
  if (form.signerName.trim() !== "" && !NAME_PATTERN.test(form.signerName.trim())) return "nameInvalid";
  if (form.org.trim() === "") return "orgRequired";
  if (!Number.isInteger(form.years) || form.years < 1 || form.years > 50) return "yearsInvalid";
  if (form.passphrase.length < MIN_PASSPHRASE) return "tooShort";
  if (form.passphrase !== form.confirm) return "mismatch";
  return null;
}
