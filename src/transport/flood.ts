import type { Socket } from 'node:net';

export interface FloodLimit {
  /** Sustained bytes per second a connection may send. */
  readonly bytesPerSecond: number;
  /** Bytes it may send in one go before being slowed. */
  readonly burstBytes: number;
}

/**
 * Receive flood control: a token bucket on bytes read. Past it the socket is paused until the
 * bucket refills, so TCP backpressure slows the sender; nothing it sent is dropped, and no other
 * connection is slowed.
 */
export class ReadThrottle {
  private tokens: number;
  private last = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly limit: FloodLimit,
  ) {
    this.tokens = limit.burstBytes;
  }

  /** True while the socket is paused by this throttle. */
  get holding(): boolean {
    return this.timer !== undefined;
  }

  /** Counts one read; pauses the socket when the bucket runs dry. */
  consumed(bytes: number): void {
    const now = performance.now();
    this.tokens = Math.min(this.limit.burstBytes, this.tokens + ((now - this.last) / 1000) * this.limit.bytesPerSecond);
    this.last = now;
    this.tokens -= bytes;
    if (this.tokens >= 0 || this.timer) return;
    this.socket.pause();
    const waitMs = Math.ceil((-this.tokens / this.limit.bytesPerSecond) * 1000);
    this.timer = setTimeout(this.release, waitMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly release = (): void => {
    this.timer = undefined;
    if (!this.socket.destroyed) this.socket.resume();
  };
}
