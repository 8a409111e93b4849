/**
 * IRC messages (RFC 1459/2812 framing with IRCv3 message tags), bytes-free: one line of text ⇄ one
 * typed message. Pure: no sockets, no state. The line's CR LF is the caller's (lines.ts).
 *
 *   [@tags SPACE] [:source SPACE] COMMAND [params…] [SPACE :trailing]
 */
export interface IrcMessage {
  /** IRCv3 message tags, unescaped; a tag without a value has the empty string. */
  readonly tags: ReadonlyMap<string, string>;
  /** The prefix (`nick!user@host` or a server name), without its colon; null when absent. */
  readonly source: string | null;
  /** The command, upper-cased (`PRIVMSG`), or a three-digit numeric (`001`). */
  readonly command: string;
  /** Middle parameters, then the trailing one (its colon removed). */
  readonly params: readonly string[];
}

const NO_TAGS: ReadonlyMap<string, string> = new Map();

/**
 * One line (without CR LF) as a message; null when it has no command (an empty or blank line,
 * tags or a source with nothing after them), which servers ignore.
 */
export function parseMessage(line: string): IrcMessage | null {
  let at = 0;
  let tags = NO_TAGS;
  if (line.startsWith('@')) {
    const end = line.indexOf(' ');
    if (end < 0) return null;
    tags = parseTags(line.slice(1, end));
    at = skipSpaces(line, end);
  }
  let source: string | null = null;
  if (line[at] === ':') {
    const end = line.indexOf(' ', at);
    if (end < 0) return null;
    source = line.slice(at + 1, end);
    at = skipSpaces(line, end);
  }
  const params: string[] = [];
  let command = '';
  while (at < line.length) {
    if (command !== '' && line[at] === ':') {
      params.push(line.slice(at + 1));
      break;
    }
    let end = line.indexOf(' ', at);
    if (end < 0) end = line.length;
    const word = line.slice(at, end);
    if (command === '') command = word.toUpperCase();
    else params.push(word);
    at = skipSpaces(line, end);
  }
  return command === '' ? null : { tags, source, command, params };
}

/**
 * A message as one line, without CR LF. The last parameter is written as trailing (`:…`) when it
 * has to be (empty, with a space, or starting with a colon) or when `trailing` says so (the
 * text of a PRIVMSG, by convention). Other parameters must be words: the caller's guarantee.
 */
export function encodeMessage(message: IrcMessage, trailing = false): string {
  let line = '';
  if (message.tags.size > 0) line += `@${encodeTags(message.tags)} `;
  if (message.source !== null) line += `:${message.source} `;
  line += message.command;
  const { params } = message;
  for (let i = 0; i < params.length; i++) {
    const param = params[i]!;
    const last = i === params.length - 1;
    line += last && (trailing || needsTrailing(param)) ? ` :${param}` : ` ${param}`;
  }
  return line;
}

/** A parameter that can only be the last one, written after a colon. */
export function needsTrailing(param: string): boolean {
  return param === '' || param.startsWith(':') || param.includes(' ');
}

function skipSpaces(line: string, at: number): number {
  while (line[at] === ' ') at++;
  return at;
}

function parseTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const item of text.split(';')) {
    if (item === '') continue;
    const equals = item.indexOf('=');
    // A key given twice: the last one counts (IRCv3 message-tags).
    if (equals < 0) tags.set(item, '');
    else tags.set(item.slice(0, equals), unescapeTagValue(item.slice(equals + 1)));
  }
  return tags;
}

function encodeTags(tags: ReadonlyMap<string, string>): string {
  const items: string[] = [];
  for (const [key, value] of tags) items.push(value === '' ? key : `${key}=${escapeTagValue(value)}`);
  return items.join(';');
}

const ESCAPES: Readonly<Record<string, string>> = { ';': '\\:', ' ': '\\s', '\\': '\\\\', '\r': '\\r', '\n': '\\n' };
const UNESCAPES: Readonly<Record<string, string>> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

/** A tag value as it goes on the wire: `;`, space, `\`, CR and LF escaped. */
export function escapeTagValue(value: string): string {
  return value.replace(/[; \\\r\n]/g, (char) => ESCAPES[char]!);
}

/**
 * A tag value as the wire has it, unescaped: the five escapes, any other escaped character stands
 * for itself, and a lone backslash at the end is dropped (IRCv3 message-tags).
 */
export function unescapeTagValue(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = value[++i];
    if (next === undefined) break;
    out += UNESCAPES[next] ?? next;
  }
  return out;
}
