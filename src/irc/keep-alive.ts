import type { ClientEvent } from '../../actors/events.js';

/**
 * A connection the sweeper keeps alive: its bytes read and a way to send the PING, its actor, and
 * the sweeper's three figures about it. They live on the supervisor's own entry for the
 * connection (src/supervision/registry.ts), so keep-alive costs no object of its own per
 * connection. Times are whole milliseconds since the sweeper started (small integers).
 */
export interface KeptAlive {
  readonly connection: { bytesIn(): number; readonly outbound: { next(bytes: Buffer): void } };
  readonly actor: { send(event: ClientEvent): void };
  heardBytes: number;
  heardAt: number;
  /** When the PING went out; NOT_PINGED while none is waiting; TIMED_OUT once the actor is told. */
  pingedAt: number;
}

export const NOT_PINGED = -1;
const TIMED_OUT = -2;

/**
 * IRC keep-alive for every connection of the door at once: one timer, not one per connection. A
 * connection that sent nothing for `pingMs` gets a PING; one that then sends nothing for as long
 * again is told `irc.pingTimeout` (its actor closes it with `ERROR :Ping timeout`). Anything it
 * sends counts as an answer, as on most servers: a busy client need not PONG.
 */
export class PingSweeper {
  private timer: NodeJS.Timeout | null = null;
  private readonly ping: Buffer;
  private readonly startedAt = performance.now();

  /** `watched`: the connections to keep alive, as they are now (the supervisor's IRC entries). */
  constructor(
    private readonly pingMs: number,
    serverName: string,
    private readonly watched: () => Iterable<KeptAlive>,
  ) {
    this.ping = Buffer.from(`PING :${serverName}\r\n`);
  }

  /** A new connection: heard from just now, no PING out; the sweeps start with the first. */
  watch(entry: KeptAlive): void {
    if (!this.timer) {
      // A quarter of the period: a PING goes out between 1 and 1.25 periods of silence.
      this.timer = setInterval(() => this.sweep(), Math.max(10, Math.floor(this.pingMs / 4)));
      this.timer.unref();
    }
    entry.heardBytes = entry.connection.bytesIn();
    entry.heardAt = this.now();
    entry.pingedAt = NOT_PINGED;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private now(): number {
    return Math.floor(performance.now() - this.startedAt);
  }

  private sweep(): void {
    const now = this.now();
    for (const entry of this.watched()) {
      if (entry.pingedAt === TIMED_OUT) continue;
      const bytes = entry.connection.bytesIn();
      if (bytes !== entry.heardBytes) {
        entry.heardBytes = bytes;
        entry.heardAt = now;
        entry.pingedAt = NOT_PINGED;
      } else if (entry.pingedAt === NOT_PINGED) {
        if (now - entry.heardAt >= this.pingMs) {
          entry.pingedAt = now;
          entry.connection.outbound.next(this.ping);
        }
      } else if (now - entry.pingedAt >= this.pingMs) {
        entry.pingedAt = TIMED_OUT;
        entry.actor.send({ type: 'irc.pingTimeout' });
      }
    }
  }
}
