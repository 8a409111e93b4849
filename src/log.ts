import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON to stdout; the level comes from the options. Written synchronously: an
 * asynchronous destination measured no faster here, and at exit it could write its last lines
 * out of order (a synchronous flush overtaking a write in flight).
 */
export function createLogger(level: string): Logger {
  // Asked for in so many words: pino's default stdout destination is asynchronous.
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
}

/** The levels a connection logs at. */
export type LineLevel = 'debug' | 'info' | 'warn' | 'error';

/** What a connection's actor logs through: a pino logger, or a connection's view of one. */
export interface LineLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  isLevelEnabled(level: LineLevel): boolean;
}

/**
 * A connection's logger: the server's, with the connection's fields first on each line. Not a
 * pino child: a child precomputes its bindings as a string, about 300 bytes per connection
 * (3 MB at 10,000 connections) for the handful of lines most connections write.
 */
export class ConnectionLogger implements LineLogger {
  constructor(
    private readonly parent: Logger,
    private readonly peer: { readonly id: number; readonly peerAddress: string; readonly peerPort: number },
  ) {}

  debug(fields: object, message: string): void {
    if (this.parent.isLevelEnabled('debug')) this.parent.debug(this.with(fields), message);
  }

  info(fields: object, message: string): void {
    if (this.parent.isLevelEnabled('info')) this.parent.info(this.with(fields), message);
  }

  warn(fields: object, message: string): void {
    if (this.parent.isLevelEnabled('warn')) this.parent.warn(this.with(fields), message);
  }

  error(fields: object, message: string): void {
    if (this.parent.isLevelEnabled('error')) this.parent.error(this.with(fields), message);
  }

  isLevelEnabled(level: LineLevel): boolean {
    return this.parent.isLevelEnabled(level);
  }

  private with(fields: object): object {
    return { conn: this.peer.id, peer: `${this.peer.peerAddress}:${this.peer.peerPort}`, ...fields };
  }
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

/**
 * How many lines one source (a connection, a kind of warning) may log at its usual level: a
 * burst, then a steady rate; past it, lines go to `debug`, so one client joining and leaving in a
 * loop cannot fill the log or slow everyone with synchronous writes. `suppressed` counts the
 * lines moved since the last one allowed, to be reported with it.
 */
export class LogBudget {
  private tokens: number;
  private last = Date.now();
  suppressed = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) {
      this.suppressed++;
      return false;
    }
    this.tokens--;
    return true;
  }

  /** Returns the line just taken: it was not logged after all. */
  giveBack(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }
}

/**
 * Logs at `level` while the budget lasts (and the `shared` one, when given), at `debug` past it.
 * The next line logged says how many lines were moved down since: this source's own
 * (`suppressedToDebug`) and, with a shared budget, every source's together (`serverSuppressedToDebug`).
 */
export function logWithin(budget: LogBudget, log: LineLogger, level: 'info' | 'warn', fields: Record<string, unknown>, message: string, shared?: LogBudget): void {
  if (!budget.take()) {
    log.debug(fields, message);
    return;
  }
  if (shared !== undefined && !shared.take()) {
    // Not this source's doing: its own allowance is left as it was.
    budget.giveBack();
    log.debug(fields, message);
    return;
  }
  const own = budget.suppressed;
  const server = shared?.suppressed ?? 0;
  if (own === 0 && server === 0) {
    log[level](fields, message);
    return;
  }
  log[level]({ ...fields, ...(own > 0 && { suppressedToDebug: own }), ...(server > 0 && { serverSuppressedToDebug: server }) }, message);
  budget.suppressed = 0;
  if (shared) shared.suppressed = 0;
}
