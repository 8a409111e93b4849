import { DEFAULTS } from '../config.js';
import type { DecoderLimits } from '../protocol/decoder.js';
import { keywordOf, parseField } from '../protocol/fields.js';

/**
 * Checks made before sending: a value that would break the request's framing never reaches the
 * wire (the rest of it would read as another request and put replies out of step). What the
 * server judges itself (a name's length, a forged field line) is left to the server.
 */

/** A one-line value: a name, a room name, the HELO text. */
export function checkOneLine(what: string, value: string): void {
  if (/[\r\n]/.test(value)) throw new RangeError(`${what} must be one line`);
}

/** A message: its lines may not be empty (an empty line ends it) nor start a request. */
export function checkMessage(text: string): void {
  if (text.includes('\r')) throw new RangeError('a message may not contain \\r');
  const [, ...continuation] = text.split('\n');
  for (const line of continuation) {
    if (line === '') throw new RangeError('a message may not contain an empty line (it ends the message)');
    if (keywordOf(line, parseField(line)) !== null) throw new RangeError(`a message line may not start a request: ${JSON.stringify(line)}`);
  }
}

/** The message as the server delivers it: spaces around the `MESSAGE:` line's value are dropped. */
export function deliveredMessage(text: string): string {
  const newline = text.indexOf('\n');
  const first = newline < 0 ? text : text.slice(0, newline);
  return first.replace(/^[ \t]+|[ \t]+$/g, '') + (newline < 0 ? '' : text.slice(newline));
}

/** The server's size limits as the client keeps to them; by default the server's defaults. */
export type RequestLimits = DecoderLimits;

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxLineBytes: DEFAULTS.maxLineBytes, maxRequestBytes: DEFAULTS.maxRequestBytes };

/**
 * A request over the server's line or request limit is answered TOO_LONG and the connection
 * closed, rooms and all: better refused here, with the connection kept. Counted as the server
 * counts: each line's bytes without its newline, the request's with every newline.
 */
export function checkSize(what: string, request: string, limits: RequestLimits): void {
  const total = Buffer.byteLength(request);
  if (total > limits.maxRequestBytes) throw new RangeError(`${what} not sent: ${total} bytes, over the server's request limit of ${limits.maxRequestBytes}`);
  if (total <= limits.maxLineBytes) return;
  for (const line of request.split('\n')) {
    const bytes = Buffer.byteLength(line);
    if (bytes > limits.maxLineBytes) throw new RangeError(`${what} not sent: a line of ${bytes} bytes, over the server's line limit of ${limits.maxLineBytes}`);
  }
}
