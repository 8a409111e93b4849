import type { ClientEvent } from '../../actors/events.js';

/** What the sweeper needs of a connection: whether anything came in, and a way to send the PING. */
interface Watched {
  bytesIn(): number;
  readonly outbound: { next(bytes: Buffer): void };
}

interface Entry {
  readonly connection: Watched;
  readonly actor: { send(event: ClientEvent): void };
  lastBytes: number;
  lastHeard: number;
  pingedAt: number | null;
}

/**
 * IRC keep-alive for every connection of the door at once: one timer, not one per connection. A
 * connection that sent nothing for `pingMs` gets a PING; one that then sends nothing for as long
 * again is told `irc.pingTimeout` (its actor closes it with `ERROR :Ping timeout`). Anything it
 * sends counts as an answer, as on most servers: a busy client need not PONG.
 */
export class PingSweeper {
  private readonly entries = new Map<number, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private readonly ping: Buffer;

  constructor(private readonly pingMs: number, serverName: string) {
    this.ping = Buffer.from(`PING :${serverName}\r\n`);
  }

  watch(id: number, connection: Watched, actor: { send(event: ClientEvent): void }): void {
    this.entries.set(id, { connection, actor, lastBytes: connection.bytesIn(), lastHeard: Date.now(), pingedAt: null });
    if (!this.timer) {
      // A quarter of the period: a PING goes out between 1 and 1.25 periods of silence.
      this.timer = setInterval(() => this.sweep(), Math.max(10, Math.floor(this.pingMs / 4)));
      this.timer.unref();
    }
  }

  forget(id: number): void {
    this.entries.delete(id);
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  stop(): void {
    this.entries.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) {
      const bytes = entry.connection.bytesIn();
      if (bytes !== entry.lastBytes) {
        entry.lastBytes = bytes;
        entry.lastHeard = now;
        entry.pingedAt = null;
      } else if (entry.pingedAt === null) {
        if (now - entry.lastHeard >= this.pingMs) {
          entry.pingedAt = now;
          entry.connection.outbound.next(this.ping);
        }
      } else if (now - entry.pingedAt >= this.pingMs) {
        this.entries.delete(id);
        entry.actor.send({ type: 'irc.pingTimeout' });
      }
    }
  }
}
