import type { Duplex } from 'node:stream';
import type { Observer } from 'rxjs';

/** How far a connection's unsent output may grow before it counts as a slow consumer. */
export interface OutputLimit {
  /** Above this for longer than `graceMs`: cut. */
  readonly softBytes: number;
  /** Above this at all: cut at once. */
  readonly hardBytes: number;
  readonly graceMs: number;
}

/** Told once when a writer's unsent output passes its limit. */
export interface OverflowListener {
  outputOverflowed(): void;
}

const UNLIMITED: OutputLimit = { softBytes: Number.POSITIVE_INFINITY, hardBytes: Number.POSITIVE_INFINITY, graceMs: 0 };
const NOBODY: OverflowListener = { outputOverflowed() {} };

/**
 * Gathers the writers that got bytes during this turn of the event loop and flushes each once:
 * a room posting to a hundred members costs a hundred array pushes, and each socket one write.
 */
export class FlushScheduler {
  /**
   * This turn's writers, and last turn's list kept for the next: entries are cleared one by one
   * rather than the list dropped or truncated, so the lists are not grown anew every turn.
   */
  private dirty: (SocketWriter | undefined)[] = [];
  private dirtyCount = 0;
  private spare: (SocketWriter | undefined)[] = [];
  private armed = false;

  schedule(writer: SocketWriter): void {
    this.dirty[this.dirtyCount++] = writer;
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.run);
    }
  }

  private readonly run = (): void => {
    this.armed = false;
    const writers = this.dirty;
    const count = this.dirtyCount;
    this.dirty = this.spare;
    this.dirtyCount = 0;
    for (let i = 0; i < count; i++) {
      writers[i]!.flush();
      writers[i] = undefined;
    }
    this.spare = writers;
  };
}

/**
 * A connection's outbound stream: an RxJS observer of encoded buffers that writes them to the
 * socket, one write per event-loop turn, and holds them while the socket is not draining
 * (`write()` returned false → wait for `drain`). `complete()` flushes and then ends the socket.
 *
 * Unsent bytes are bounded, as Redis bounds client output buffers: above the soft limit for longer
 * than the grace period, or above the hard limit at all, the writer stops taking room traffic and
 * tells its owner once, so one reader that stopped reading never holds up a room or eats
 * memory, while a reader that is merely handed a burst (one read of a busy room) is not cut.
 *
 * No closure per writer: timers are handed the writer, and a `drain` listener exists only while
 * the socket is blocked (at 10,000 connections, per-connection function objects add up).
 */
export class SocketWriter implements Observer<Buffer> {
  /**
   * Unsent buffers: usually one per turn (a room's message), kept without an array; an array only
   * when a second comes in the same turn. An array per delivery would be most of the garbage a
   * busy room makes.
   */
  private pendingFirst: Buffer | null = null;
  private pendingRest: Buffer[] | null = null;
  private pendingBytes = 0;
  /** The socket's own buffer as of the last write or drain: read there, not per message. */
  private kernelSideBytes = 0;
  private scheduled = false;
  private blocked = false;
  private ending = false;
  private closed = false;
  private overflowed = false;
  private graceTimer: NodeJS.Timeout | undefined;
  bytesOut = 0;

  constructor(
    private readonly socket: Duplex,
    private readonly scheduler: FlushScheduler,
    private readonly limit: OutputLimit = UNLIMITED,
    private readonly owner: OverflowListener = NOBODY,
  ) {}

  /** The socket closed: nothing more can be written (the connection tells us; one listener less). */
  socketClosed(): void {
    this.closed = true;
    this.pendingFirst = null;
    this.pendingRest = null;
    this.pendingBytes = 0;
    this.clearGrace();
  }

  next(bytes: Buffer): void {
    if (this.closed || this.ending || this.overflowed) return;
    this.queue(bytes);
    const queued = this.pendingBytes + this.kernelSideBytes;
    if (queued > this.limit.softBytes) {
      if (queued > this.limit.hardBytes) return this.overflow();
      this.graceTimer ??= setTimeout(SocketWriter.endGrace, this.limit.graceMs, this);
    }
    this.arm();
  }

  /** Queues bytes past the limit: the one error reply a slow consumer is owed, behind its output. */
  nextBeyondLimit(bytes: Buffer): void {
    if (this.closed || this.ending) return;
    this.queue(bytes);
    this.arm();
  }

  error(): void {
    this.socket.destroy();
  }

  /** Flush what is queued, then end the socket. */
  complete(): void {
    if (this.ending) return;
    this.ending = true;
    this.arm();
  }

  /** Bytes accepted but not yet handed to the kernel. */
  queuedBytes(): number {
    return this.pendingBytes + (this.closed ? 0 : this.socket.writableLength);
  }

  flush(): void {
    this.scheduled = false;
    if (this.closed || this.blocked) return;
    if (this.pendingFirst !== null) {
      const data = this.pendingRest === null ? this.pendingFirst : Buffer.concat([this.pendingFirst, ...this.pendingRest], this.pendingBytes);
      this.pendingFirst = null;
      this.pendingRest = null;
      this.pendingBytes = 0;
      this.bytesOut += data.length;
      if (!this.socket.write(data)) {
        this.blocked = true;
        this.socket.once('drain', () => this.drained());
      }
      this.kernelSideBytes = this.socket.writableLength;
    }
    if (this.ending && !this.blocked) this.socket.end();
  }

  private queue(bytes: Buffer): void {
    if (this.pendingFirst === null) this.pendingFirst = bytes;
    else (this.pendingRest ??= []).push(bytes);
    this.pendingBytes += bytes.length;
  }

  private arm(): void {
    if (!this.scheduled && !this.blocked) {
      this.scheduled = true;
      this.scheduler.schedule(this);
    }
  }

  private overflow(): void {
    this.clearGrace();
    if (this.overflowed) return;
    this.overflowed = true;
    this.owner.outputOverflowed();
  }

  private static endGrace(writer: SocketWriter): void {
    writer.graceTimer = undefined;
    if (!writer.closed && writer.queuedBytes() > writer.limit.softBytes) writer.overflow();
  }

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  private drained(): void {
    this.blocked = false;
    this.kernelSideBytes = this.socket.writableLength;
    this.flush();
  }
}
