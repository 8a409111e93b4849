import { ClientOfflineError, ErrorReply } from '@redis/client';
import type { Logger } from 'pino';
import type { LeaseStatus } from './lease-state.js';
import type { RedisPort } from './redis-port.js';
import type { Script } from './scripts.js';
import { UnavailableError } from '../errors.js';

export { UnavailableError } from '../errors.js';

/**
 * Commands written to Redis and not answered yet, at most: past it (Redis stalled, say) new ones
 * wait, within their bound, instead of piling up in the client (it keeps no timeout of its own).
 */
const MOST_UNANSWERED = 20_000;

interface SignalPeriod {
  readonly controller: AbortController;
  /** The latest deadline of the commands sent with its signal. */
  lastDeadline: number;
}

/** `once`: sent at most once (a chat); `idempotent`: safe to send again if lost in flight. */
export type Mode = 'once' | 'idempotent';

/**
 * Commands to Redis within the wait bound: every request the node makes goes through here. A
 * command refused while offline (never written) is sent as soon as the connection is back; one
 * lost in flight is sent again only if repeating it is harmless; one still unanswered at the wait
 * bound fails with UnavailableError (a sweep enforces the bound on everything in flight). While
 * the node is fenced nothing goes out under its old id: commands wait for it to register again.
 */
export class RedisCommands {
  /** Commands written to Redis and not yet answered, with their deadlines. */
  private readonly inflight = new Set<{ deadline: number; fail: (error: Error) => void }>();
  /**
   * Since when commands have been timing out (requests answered UNAVAILABLE), and how many: one
   * warn line when they start, one when Redis answers again, however many requests it costs.
   */
  private silence: { since: number; timedOut: number } | null = null;
  /** Requests answered UNAVAILABLE (a command that could not reach Redis within the wait bound). */
  unavailable = 0;
  /**
   * Commands written and not answered (nor failed by the client) yet, and who waits for fewer, in
   * arrival order: while anyone waits, later commands wait behind them (no overtaking).
   */
  private unanswered = 0;
  private readonly waitingForRoom = new Set<() => void>();
  /**
   * The client keeps no timeout of its own, so a command it could not write yet (its socket full,
   * Redis stalled) would go out whenever the socket drains, after the node has answered its
   * request UNAVAILABLE. Commands sent in one sweep period share an abort signal, aborted once all
   * their deadlines have passed: the client then drops those still unwritten.
   */
  private period: SignalPeriod | null = null;
  private readonly periods: SignalPeriod[] = [];
  /** Told each command's round trip in seconds, when metrics are on (one call per command, else none). */
  latencyObserver: ((seconds: number) => void) | null = null;

  constructor(
    private readonly redis: RedisPort,
    private readonly status: LeaseStatus,
    private readonly waitMs: number,
    private readonly log: Logger,
  ) {}

  /** A Lua script, by its SHA (loaded on first use). */
  run<T>(script: Script, keys: readonly string[], args: readonly string[], mode: Mode): Promise<T> {
    return this.withRetry((signal) => this.runScript<T>(script, keys, args, signal), mode);
  }

  /** A plain command; its key (routing it on a Redis Cluster) is its second word. */
  call<T>(args: readonly string[], mode: Mode): Promise<T> {
    return this.withRetry((signal) => this.redis.send<T>(args, args[1], signal), mode);
  }

  /** Requests answered UNAVAILABLE besides the one command that counted itself (a batch of chats). */
  countUnavailable(requests: number): void {
    this.unavailable += requests;
  }

  /** A script sent at once (outside the wait bound and the node's state when no signal is given: for registering). */
  async runScript<T>(script: Script, keys: readonly string[], args: readonly string[], signal?: AbortSignal): Promise<T> {
    try {
      return await this.redis.send<T>(['EVALSHA', script.sha, String(keys.length), ...keys, ...args], keys[0], signal);
    } catch (error) {
      if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.send<T>(['EVAL', script.source, String(keys.length), ...keys, ...args], keys[0], signal);
    }
  }

  /** Retries a durable command until Redis has it (or the node stops); settles then. */
  retryUntilDone(attempt: () => Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve) => {
      const again = (): void => {
        if (this.status.state === 'closed') return resolve();
        attempt().then(() => resolve(), () => setTimeout(again, 500).unref());
      };
      setTimeout(again, 100).unref();
    });
  }

  /** The reply, or UnavailableError once the deadline passes (the sweep enforces it). */
  bounded<T>(reply: Promise<T>, deadline: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { deadline, fail: reject };
      this.inflight.add(entry);
      reply.then(
        (value) => {
          this.inflight.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.inflight.delete(entry);
          reject(error);
        },
      );
    });
  }

  /** A command's reply, counted among the unanswered until it settles. */
  private counted<T>(reply: Promise<T>): Promise<T> {
    this.unanswered++;
    const settled = (): void => {
      this.unanswered--;
      if (this.waitingForRoom.size > 0 && this.unanswered < MOST_UNANSWERED / 2) {
        // In arrival order; each woken one goes straight out (sendWithin's next pass), before newcomers.
        const woken = [...this.waitingForRoom];
        this.waitingForRoom.clear();
        for (const wake of woken) wake();
      }
    };
    reply.then(settled, settled);
    return reply;
  }

  private whenRoom(wake: () => void): () => void {
    this.waitingForRoom.add(wake);
    return () => this.waitingForRoom.delete(wake);
  }

  /** The sweep: fails every command past its deadline. */
  failOverdue(): void {
    const now = Date.now();
    // Commands sent from now on share a new signal; an old one is aborted once its last deadline passed.
    this.period = null;
    while (this.periods.length > 0 && this.periods[0]!.lastDeadline <= now) this.periods.shift()!.controller.abort();
    for (const entry of this.inflight) {
      if (entry.deadline > now) continue;
      this.inflight.delete(entry);
      entry.fail(this.timedOut('Redis did not answer in time'));
    }
  }

  /** The node stops: everything in flight fails. */
  failAll(): void {
    for (const period of this.periods.splice(0)) period.controller.abort();
    this.period = null;
    for (const failing of this.inflight) failing.fail(new UnavailableError('the node is stopping'));
    this.inflight.clear();
  }

  private signalFor(deadline: number): AbortSignal {
    let period = this.period;
    if (period === null) {
      period = { controller: new AbortController(), lastDeadline: deadline };
      this.period = period;
      this.periods.push(period);
    } else if (deadline > period.lastDeadline) {
      period.lastDeadline = deadline;
    }
    return period.controller.signal;
  }

  private async withRetry<T>(send: (signal: AbortSignal) => Promise<T>, mode: Mode): Promise<T> {
    try {
      return await this.sendWithin(send, mode);
    } catch (error) {
      if (error instanceof UnavailableError) this.unavailable++;
      throw error;
    }
  }

  private async sendWithin<T>(send: (signal: AbortSignal) => Promise<T>, mode: Mode): Promise<T> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const { state } = this.status;
      if (state === 'closed') throw new UnavailableError('the node is stopping');
      // Registering again: nothing goes out under the old node id.
      if (state === 'fenced' || state === 'registering') {
        await this.wakeBefore(deadline, 'the node is registering again', (wake) => this.status.whenUp(wake));
        continue;
      }
      if (!this.redis.isReady) {
        await this.wakeBefore(deadline, 'Redis not reachable in time', (wake) => this.redis.onceReady(wake));
        continue;
      }
      if (this.unanswered >= MOST_UNANSWERED || this.waitingForRoom.size > 0) {
        await this.wakeBefore(deadline, 'Redis not answering in time', (wake) => this.whenRoom(wake));
        continue;
      }
      try {
        const observe = this.latencyObserver;
        const started = observe ? performance.now() : 0;
        const reply = await this.bounded(this.counted(send(this.signalFor(deadline))), deadline);
        if (observe) observe((performance.now() - started) / 1000);
        if (this.silence) this.answeredAgain();
        return reply;
      } catch (error) {
        if (error instanceof UnavailableError) throw error;
        if (error instanceof ErrorReply) throw error;
        if (!(error instanceof ClientOfflineError) && mode === 'once') throw new UnavailableError(`Redis failed: ${(error as Error).message}`);
        if (Date.now() >= deadline) throw this.timedOut('Redis not reachable in time');
      }
    }
  }

  /**
   * A command ran out of time: the first of a silence is logged, the rest counted. Only while the
   * connection is up: a lost connection (or a fenced node) has its own lines, and a stopping node
   * says nothing.
   */
  private timedOut(reason: string): UnavailableError {
    if (this.silence) this.silence.timedOut++;
    else if (this.status.state === 'up' && this.redis.isReady) {
      this.silence = { since: Date.now(), timedOut: 1 };
      this.log.warn({ waitMs: this.waitMs, reason }, 'cluster: Redis not answering in time; requests get UNAVAILABLE');
    }
    return new UnavailableError(reason);
  }

  private answeredAgain(): void {
    const { since, timedOut } = this.silence!;
    this.silence = null;
    this.log.warn({ silentMs: Date.now() - since, timedOut }, 'cluster: Redis answering again');
  }

  /** Resolves when `listen`'s wake-up comes, or fails with UnavailableError at the deadline. */
  private wakeBefore(deadline: number, reason: string, listen: (wake: () => void) => () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const left = deadline - Date.now();
      if (left <= 0) {
        reject(this.timedOut(reason));
        return;
      }
      const stopListening = listen(() => {
        clearTimeout(timer);
        resolve();
      });
      const timer = setTimeout(() => {
        stopListening();
        reject(this.timedOut(reason));
      }, left);
      timer.unref();
    });
  }
}
