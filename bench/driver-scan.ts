/**
 * What the driver reads in the server's replies, found by scanning bytes rather than parsing the
 * protocol: the join reply's numbers, error lines, and the `~T<ns>~S<sender>~Q<seq>~` marker each
 * message body carries.
 */
const TILDE_T = Buffer.from('~T');
const ROOM_REF = Buffer.from('ROOM_REF:');
const JOIN_ID = Buffer.from('JOIN_ID:');
const ERROR_CODE = Buffer.from('ERROR_CODE:');
const TILDE = 0x7e;
const LETTER_S = 0x53;
const LETTER_Q = 0x51;

/** Reads the decimal number at `at`; returns [value, index after it] or null if none is there. */
function digits(buf: Buffer, at: number): [number, number] | null {
  let i = at;
  let value = 0;
  while (i < buf.length) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    i++;
  }
  return i === at ? null : [value, i];
}

/** The integer after `label` in `buf` (as in `ROOM_REF: 3`), or null. */
function field(buf: Buffer, label: Buffer): number | null {
  const at = buf.indexOf(label);
  if (at < 0) return null;
  let i = at + label.length;
  while (buf[i] === 0x20) i++;
  return digits(buf, i)?.[0] ?? null;
}

export const roomRefIn = (buf: Buffer): number | null => field(buf, ROOM_REF);
export const joinIdIn = (buf: Buffer): number | null => field(buf, JOIN_ID);
export const hasError = (buf: Buffer): boolean => buf.indexOf(ERROR_CODE) >= 0;

/** The marker a message body starts with. */
export function marker(sentAtNs: number, sender: number, seq: number): string {
  return `~T${sentAtNs}~S${sender}~Q${seq}~`;
}

/**
 * Calls `found` for each complete marker in `buf`, in order (with `context`: no closure per read). A `~T` not followed by a whole
 * marker (text that happens to contain it) is skipped.
 */
export function eachMarker<T>(buf: Buffer, context: T, found: (context: T, sentAtNs: number, sender: number, seq: number) => void): void {
  let at = buf.indexOf(TILDE_T);
  while (at >= 0) {
    const t = digits(buf, at + 2);
    const s = t && buf[t[1]] === TILDE && buf[t[1] + 1] === LETTER_S ? digits(buf, t[1] + 2) : null;
    const q = s && buf[s[1]] === TILDE && buf[s[1] + 1] === LETTER_Q ? digits(buf, s[1] + 2) : null;
    if (t && s && q && buf[q[1]] === TILDE) {
      found(context, t[0], s[0], q[0]);
      at = buf.indexOf(TILDE_T, q[1]);
    } else {
      at = buf.indexOf(TILDE_T, at + 2);
    }
  }
}
