/** Checks on values a request carries (protocol.md, Grammar: Values). */

/** Names and room names: 1–64 Unicode code points (not UTF-16 units). */
export const MAX_NAME_CODE_POINTS = 64;

// C0 and C1 controls and DEL; also the line and paragraph separators, which some terminals break on.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** Why a client or room name is refused, or null when it is fine. */
export function nameProblem(what: string, name: string): string | null {
  if (name.length === 0) return `${what} is empty`;
  let codePoints = 0;
  for (const _ of name) if (++codePoints > MAX_NAME_CODE_POINTS) return `${what} is over ${MAX_NAME_CODE_POINTS} characters`;
  if (CONTROL.test(name)) return `${what} contains a control character`;
  return null;
}

/** Digits past this many are cut from an error description: a ref may be a whole line of them. */
const MAX_QUOTED_DIGITS = 30;

/** A ref or id as sent, for an error description. */
export function quotedDigits(digits: string): string {
  return digits.length > MAX_QUOTED_DIGITS ? `${digits.slice(0, MAX_QUOTED_DIGITS)}…` : digits;
}
