import type { Socket } from 'node:net';
import { Observable } from 'rxjs';
import { RequestDecoder, requestTimedOut, type DecoderLimits } from '../protocol/decoder.js';
import type { Decoded } from '../protocol/types.js';
import type { DecoderSource, StreamDecoder } from './stream-decoder.js';

/** The bytes a socket reads, as a stream that completes when the peer stops sending or the socket closes. */
export function socketBytes(socket: Socket): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    const onData = (chunk: Buffer): void => subscriber.next(chunk);
    const onEnd = (): void => subscriber.complete();
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    // A socket paused before (after a PROXY header) does not flow on its own.
    socket.resume();
    return () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
  });
}

/** Holds a socket back while requests it already sent wait their turn (see ReadThrottle). */
export interface ReadGate {
  readonly holding: boolean;
  /** Time held back so far, in total (performance.now() milliseconds), the current hold included. */
  heldMs(): number;
  /** When the last hold ended (performance.now()). */
  readonly lastReleasedAt: number;
  hold(): void;
  release(): void;
}

/** How often a request's expired timer looks again while the socket is held (never a spin, even with a quiet period of 0). */
const HELD_RECHECK_MS = 50;

/** Where framed requests go: the connection's one subscriber. */
export interface RequestSink<T = Decoded> {
  next(decoded: T): void;
  complete(): void;
}

const LAB_DECODERS = new WeakMap<DecoderLimits, DecoderSource<Decoded>>();

/** The lab protocol's decoders for these limits: one source per limits object, shared by its connections. */
export function labDecoders(limits: DecoderLimits): DecoderSource<Decoded> {
  let source = LAB_DECODERS.get(limits);
  if (!source) {
    source = { create: () => new RequestDecoder(limits), timedOut: requestTimedOut };
    LAB_DECODERS.set(limits, source);
  }
  return source;
}

/**
 * Requests one connection may have handled per turn of the event loop. A read of 64 KiB of tiny
 * requests is hundreds of them: the rest wait for the next turn (the socket is held meanwhile),
 * so one client's burst cannot hold every other connection up while it is worked through.
 */
const REQUESTS_PER_TURN = 64;

/**
 * Requests that may wait behind a paused consumer (one request of theirs is with Redis, say)
 * before the socket is held. Below it the socket is still read, so a peer that hangs up is seen
 * at once; past it TCP backpressure holds the sender, and what waits here is at most this and one
 * read's worth, however much the peer sends.
 */
const PAUSED_BACKLOG = 64;

/**
 * Framing: reads (cut anywhere) → typed requests or typed failures, in order, to one sink.
 * A request that lacks only its terminator is completed after `quietMs` without more bytes, or
 * when the input ends: one-shot clients often omit the last newline and wait for the answer.
 * `gate.holding` says when unread bytes are being held back (flood control, or requests waiting
 * their turn): no quiet then.
 *
 * The sink may `pause` the framer while one request waits for an answer: the requests after it
 * wait here, in order, and are handed on from `resume`, a turn's worth at a time, so a burst
 * behind a slow request costs neither unbounded memory nor one long replay.
 *
 * A request that cannot be completed (a slowloris, a half-typed request) is discarded with one
 * MALFORMED once `requestTimeoutMs` has passed since its first byte; the rest of it, should it come
 * later, is read to the request's end and dropped (not answered as requests of its own). Its timer is armed only when a read leaves a request incomplete, and is not reset
 * by further bytes of the same request, only when a request completes. Time the server spends
 * holding the socket back is not the client's: the deadline moves by the time held, and a request
 * is not discarded while the gate holds nor before a quiet period has passed since it let go.
 *
 * One object with prototype methods, its timers given it as an argument: at 10,000 connections a
 * closure per timer and per callback would cost more than the state it keeps. For the same reason
 * the decoder exists only while a request is under way: between requests (most of the time, for
 * most connections) there is nothing to remember.
 */
export class RequestFramer<T = Decoded> {
  private decoder: StreamDecoder<T> | null = null;
  private quiet: NodeJS.Timeout | undefined;
  /**
   * Armed while a request is incomplete; `requestSince` is when its first byte was read and
   * `heldAtStart` the gate's held time then (performance.now() milliseconds).
   */
  private requestTimer: NodeJS.Timeout | undefined;
  private requestSince = 0;
  private heldAtStart = 0;
  private handledThisTurn = 0;
  /** Requests waiting for a later turn or for `resume`; `next` is the first not yet handed on. */
  private backlog: T[] | null = null;
  private next = 0;
  private turn: NodeJS.Immediate | undefined;
  /** The sink asked for no more requests until it resumes. */
  private paused = false;
  /** Inside `sink.next`: a resume from there is taken up by the loop that called it. */
  private handing = false;
  /** The input ended while requests still waited their turn. */
  private ended = false;
  /** Completed, or the subscriber left (possibly from inside `sink.next`): nothing more is handed on. */
  private finished = false;
  /** This framer holds the gate (requests wait their turn): released when they are done, or on dispose. */
  private holdingGate = false;

  constructor(
    private readonly decoders: DecoderSource<T>,
    private readonly quietMs: number,
    private readonly gate: ReadGate,
    private readonly sink: RequestSink<T>,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Requests read and not yet handed on. */
  get queued(): number {
    return this.backlog === null ? 0 : this.backlog.length - this.next;
  }

  /** One read from the peer. */
  push(chunk: Buffer): void {
    if (this.finished || this.ended) return;
    this.clearQuiet();
    if (this.turn === undefined) this.handledThisTurn = 0;
    const decoder = (this.decoder ??= this.decoders.create());
    const decoded = decoder.push(chunk);
    this.emit(decoded);
    if (this.finished) return;
    if (decoder.isIdle()) {
      this.decoder = null;
      this.clearRequestTimer();
      return;
    }
    if (decoder.hasFailed()) return;
    if (decoder.hasCompletablePending()) this.quiet = setTimeout(RequestFramer.quietPassed, this.quietMs, this);
    // The request under way began in this read if the decoder was idle before it or completed one in it.
    if (this.requestTimer === undefined) {
      this.startRequestClock();
      this.requestTimer = setTimeout(RequestFramer.requestTimerPassed, this.requestTimeoutMs, this);
    } else if (decoded.length > 0) this.startRequestClock();
  }

  /** The peer stopped sending (or the socket closed): what is buffered counts as complete. */
  end(): void {
    if (this.finished || this.ended) return;
    this.clearQuiet();
    this.clearRequestTimer();
    if (this.decoder) this.emit(this.decoder.completeOnQuiet());
    if (this.finished) return;
    // What waits its turn (or for a resume) is still handed on, in order, before the end.
    this.ended = true;
    this.settle();
  }

  /** Hand nothing more on until `resume`: the sink is waiting for an answer to a request. */
  pause(): void {
    this.paused = true;
  }

  /** Hand on again what waited, from the next turn (at once when called from inside `sink.next`). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.handing) this.settle();
  }

  /** The subscriber left: no more timers, nothing more handed on. */
  dispose(): void {
    this.finished = true;
    this.clearQuiet();
    this.clearRequestTimer();
    if (this.turn) clearImmediate(this.turn);
    this.turn = undefined;
    this.backlog = null;
    this.releaseGate();
  }

  private emit(decoded: T[]): void {
    for (const item of decoded) {
      if (this.finished) return;
      if (this.paused || this.backlog !== null || this.handledThisTurn >= REQUESTS_PER_TURN) (this.backlog ??= []).push(item);
      else this.hand(item);
    }
    this.settle();
  }

  private hand(item: T): void {
    this.handledThisTurn++;
    this.handing = true;
    this.sink.next(item);
    this.handing = false;
  }

  /**
   * After requests were read or handed on: a turn is due while some wait and the sink takes
   * them; the socket is held then, or while too many wait for a paused sink; the end is passed
   * on once nothing waits.
   */
  private settle(): void {
    if (this.finished) return;
    const queued = this.queued;
    if (queued === 0) {
      this.backlog = null;
      this.next = 0;
    }
    if (queued > 0 && !this.paused && this.turn === undefined) this.turn = setImmediate(RequestFramer.nextTurn, this);
    if (this.turn !== undefined || queued >= PAUSED_BACKLOG) this.holdGate();
    else this.releaseGate();
    if (queued === 0 && !this.paused && this.ended) this.finish();
  }

  private finish(): void {
    this.finished = true;
    this.sink.complete();
  }

  private holdGate(): void {
    if (this.holdingGate) return;
    this.holdingGate = true;
    this.gate.hold();
  }

  private releaseGate(): void {
    if (!this.holdingGate) return;
    this.holdingGate = false;
    this.gate.release();
  }

  private clearQuiet(): void {
    if (this.quiet) clearTimeout(this.quiet);
    this.quiet = undefined;
  }

  private startRequestClock(): void {
    this.requestSince = performance.now();
    this.heldAtStart = this.gate.heldMs();
  }

  private clearRequestTimer(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
  }

  private static nextTurn<T>(framer: RequestFramer<T>): void {
    framer.turn = undefined;
    if (framer.finished) return;
    framer.handledThisTurn = 0;
    const backlog = framer.backlog;
    while (backlog !== null && framer.next < backlog.length && framer.handledThisTurn < REQUESTS_PER_TURN && !framer.paused) {
      framer.hand(backlog[framer.next++]!);
      if (framer.finished) return;
    }
    framer.settle();
  }

  private static quietPassed<T>(framer: RequestFramer<T>): void {
    framer.quiet = undefined;
    if (framer.finished || framer.ended || !framer.decoder) return;
    // Bytes the flood control has not read yet may be the rest: the quiet period counts
    // only while everything the socket holds has been read.
    if (framer.gate.holding) {
      framer.quiet = setTimeout(RequestFramer.quietPassed, framer.quietMs, framer);
      return;
    }
    framer.emit(framer.decoder.completeOnQuiet());
    if (!framer.finished && framer.decoder?.isIdle()) {
      framer.decoder = null;
      framer.clearRequestTimer();
    }
  }

  private static requestTimerPassed<T>(framer: RequestFramer<T>): void {
    framer.requestTimer = undefined;
    if (framer.finished || framer.ended || !framer.decoder || framer.decoder.hasFailed()) return;
    const { gate } = framer;
    const now = performance.now();
    // A later request began since the timer was armed (it gets its own full time), or the socket
    // was held back meanwhile (that time is the server's): not due yet.
    const left = framer.requestSince + framer.requestTimeoutMs + (gate.heldMs() - framer.heldAtStart) - now;
    // Held now, or let go only just: the rest may be among the bytes not read yet.
    const wait = left > 0 ? left : gate.holding ? Math.max(framer.quietMs, HELD_RECHECK_MS) : gate.lastReleasedAt + framer.quietMs - now;
    if (wait > 0) {
      framer.requestTimer = setTimeout(RequestFramer.requestTimerPassed, wait, framer);
      return;
    }
    framer.clearQuiet();
    const { decoder } = framer;
    // A discarded request whose rest never came either: nothing more is owed for it.
    if (decoder.isDiscarding()) {
      framer.decoder = null;
      return;
    }
    // Its rest, should it come late, is read to its end and dropped: one answer per request.
    decoder.discardCurrent();
    const answer = framer.decoders.timedOut(framer.requestTimeoutMs);
    if (answer !== null) framer.emit([answer]);
  }
}
