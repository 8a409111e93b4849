/** Line-level grammar: field lines, request keywords and forged continuation lines. */

export type Keyword = 'HELO' | 'KILL_SERVICE' | 'JOIN_CHATROOM' | 'CHAT' | 'LEAVE_CHATROOM' | 'DISCONNECT';

export interface FieldLine {
  readonly name: string;
  readonly value: string;
}

const FIELD_NAME = /^[A-Z][A-Z_]*$/;
const KEYWORDS: ReadonlySet<string> = new Set(['JOIN_CHATROOM', 'CHAT', 'LEAVE_CHATROOM', 'DISCONNECT', 'KILL_SERVICE', 'HELO']);

/** `NAME: value` with any spaces after the colon and at the end dropped; null when not a field line. */
export function parseField(line: string): FieldLine | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  const name = line.slice(0, colon);
  if (!FIELD_NAME.test(name)) return null;
  return { name, value: trimSpaces(line.slice(colon + 1)) };
}

/**
 * The value of a `name:` line with spaces after the colon and at the end dropped, or null when the
 * line is not that field. Unlike `parseField` it takes any name: the HELO reply's `Port:` too.
 */
export function fieldValue(line: string, name: string): string | null {
  if (!line.startsWith(name) || line.charCodeAt(name.length) !== 0x3a) return null;
  return trimSpaces(line.slice(name.length + 1));
}

function trimSpaces(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * The request a line starts, if any. `HELO` and `KILL_SERVICE` take no colon (`KILL_SERVICE:` is
 * accepted too); the others are field lines whose name is the keyword.
 */
export function keywordOf(line: string, field: FieldLine | null): Keyword | null {
  if (line.startsWith('HELO') && (line.length === 4 || line[4] === ' ' || line[4] === ':')) return 'HELO';
  if (line.startsWith('KILL_SERVICE')) {
    const rest = line.slice('KILL_SERVICE'.length);
    if (rest.trim() === '' || rest.trimStart().startsWith(':')) return 'KILL_SERVICE';
  }
  if (field !== null && KEYWORDS.has(field.name)) return field.name as Keyword;
  return null;
}

const FORGED = /^(?:[A-Z_]+:|IP:|Port:|StudentID:)/;

/**
 * Characters other than `\n` that some readers take as a line break: a bare `\r` (universal
 * newlines), and VT, FF, FS, GS, RS, NEL, LS and PS too (Python's `str.splitlines()`, which
 * several lab clients read replies with).
 */
const LINE_BREAK = /[\r\v\f\x1c-\x1e\x85\u2028\u2029]/;

/**
 * A message continuation line that a line-by-line client would read as a reply field: letting it
 * through would let the sender forge a message in another name. What follows any other line
 * break inside the line starts a new line for some clients, so it is checked too.
 */
export function isForgedContinuation(line: string): boolean {
  return FORGED.test(line) || forgedAfterLineBreak(line);
}

/** A forged field after a line break other than `\n` (in the first line of a message too: its start is `MESSAGE:`'s). */
export function forgedAfterLineBreak(text: string): boolean {
  if (!LINE_BREAK.test(text)) return false;
  return text.split(LINE_BREAK).slice(1).some((segment) => FORGED.test(segment));
}
