// Text lookup: the active language's strings and `{placeholder}` formatting.
import { en } from "./en";

/** The strings of the active language (only English so far). */
export const t = en;

/** Replaces `{key}` placeholders in a template with the given values. */
export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in values ? String(values[key]) : whole,
  );
}

/** The Cloud connecting screen's strings in the active language. */
export { cloudEn as tc } from "./cloud.en";

/** The CA key custody strings (token, offline root) in the active language. */
export { custodyEn as tk } from "./custody.en";
