import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON to stdout; the level comes from the options. Written asynchronously: lines
 * logged while a write is in flight go out together in the next one, so a join storm costs a
 * few writes instead of one system call per line. `flushLog` before exiting.
 */
export function createLogger(level: string): Logger {
  if (level === 'silent') return pino({ level });
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: false }));
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
