import type { Duplex } from 'node:stream';

export interface FloodLimit {
  /** Sustained bytes per second a connection may send. */
  readonly bytesPerSecond: number;
  /** Bytes it may send in one go before being slowed. */
  readonly burstBytes: number;
  /** The server's count of times a connection was slowed (for the metrics); shared by every connection. */
  readonly slowed?: { count: number };
}

/**
 * Receive flood control: a token bucket on bytes read. Past it the socket is paused until the
 * bucket refills, so TCP backpressure slows the sender; nothing it sent is dropped, and no other
 * connection is slowed.
 */
/**
 * A read this big means the peer is sending in bulk: after it, the socket waits one turn of the
 * event loop, so libuv's loop of up to 32 reads on one socket cannot hold up every other
 * connection for a whole burst. Chat traffic reads far less at a time and never waits.
 */
const BULK_READ_BYTES = 16 * 1024;

export class ReadThrottle {
  private tokens: number;
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private turn: NodeJS.Immediate | undefined;
  /** Held by the reader while requests already read wait their turn. */
  private held = false;
  /** Since when the socket is paused (by any of the above), or null while it flows. */
  private pausedSince: number | null = null;
  /** Time paused before `pausedSince`, in total. */
  private pausedBefore = 0;
  /** When the socket last flowed again after a pause. */
  private resumedAt = 0;

  constructor(
    private readonly socket: Duplex,
    private readonly limit: FloodLimit,
  ) {
    this.tokens = limit.burstBytes;
  }

  /** True while the socket is paused by this throttle. */
  get holding(): boolean {
    return this.timer !== undefined || this.turn !== undefined || this.held;
  }

  /**
   * Milliseconds the socket has been held back so far, the current pause included: time that is
   * the server's, not the peer's (a request's timeout does not count it).
   */
  heldMs(now = performance.now()): number {
    return this.pausedBefore + (this.pausedSince === null ? 0 : now - this.pausedSince);
  }

  /** When the socket last flowed again after being held (0: never held). */
  get lastReleasedAt(): number {
    return this.resumedAt;
  }

  hold(): void {
    this.held = true;
    this.pause();
  }

  release(): void {
    this.held = false;
    this.resumeIfFree();
  }

  /** Counts one read; pauses the socket when the bucket runs dry. */
  consumed(bytes: number): void {
    const now = performance.now();
    this.tokens = Math.min(this.limit.burstBytes, this.tokens + ((now - this.last) / 1000) * this.limit.bytesPerSecond);
    this.last = now;
    this.tokens -= bytes;
    if (this.timer) return;
    if (this.tokens < 0) {
      if (this.limit.slowed) this.limit.slowed.count++;
      this.pause();
      const waitMs = Math.ceil((-this.tokens / this.limit.bytesPerSecond) * 1000);
      this.timer = setTimeout(ReadThrottle.refilled, waitMs, this);
    } else if (bytes >= BULK_READ_BYTES && !this.turn) {
      this.pause();
      this.turn = setImmediate(ReadThrottle.endTurn, this);
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.turn) clearImmediate(this.turn);
    this.timer = undefined;
    this.turn = undefined;
  }

  // Timers get the throttle as their argument: no closure per connection.
  private static refilled(throttle: ReadThrottle): void {
    throttle.timer = undefined;
    throttle.resumeIfFree();
  }

  private static endTurn(throttle: ReadThrottle): void {
    throttle.turn = undefined;
    throttle.resumeIfFree();
  }

  private pause(): void {
    this.socket.pause();
    this.pausedSince ??= performance.now();
  }

  private resumeIfFree(): void {
    if (this.timer || this.turn || this.held || this.socket.destroyed) return;
    this.socket.resume();
    if (this.pausedSince === null) return;
    this.resumedAt = performance.now();
    this.pausedBefore += this.resumedAt - this.pausedSince;
    this.pausedSince = null;
  }
}
