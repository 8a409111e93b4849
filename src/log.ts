import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON to stdout; the level comes from the options. Written synchronously: an
 * asynchronous destination measured no faster here, and at exit it could write its last lines
 * out of order (a synchronous flush overtaking a write in flight).
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid } });
}

/** Resolves once every line logged so far has been written. */
export function flushLog(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}

const MAX_LOGGED_CHARS = 200;

/**
 * A user-supplied string made safe for a log line: control characters shown as escapes, long
 * values cut. JSON output escapes them too; this keeps pretty printers and terminals safe.
 */
export function printable(text: string): string {
  const cut = text.length > MAX_LOGGED_CHARS ? `${text.slice(0, MAX_LOGGED_CHARS)}…` : text;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
