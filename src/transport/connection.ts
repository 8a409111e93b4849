import { Observable, type Observer, type Subscriber, type TeardownLogic, type Unsubscribable } from 'rxjs';
import type { Decoded } from '../protocol/types.js';
import { plainAddress } from './address.js';
import type { ConnectionAdmission } from './admission.js';
import { ReadThrottle, type FloodLimit } from './flood.js';
import { RequestFramer, type RequestSink } from './inbound.js';
import type { DecoderSource } from './stream-decoder.js';
import { FlushScheduler, SocketWriter, type OutputLimit } from './outbound.js';
import type { PeerAddress } from './proxy-reader.js';
import { resetSocket } from './reset.js';
import type { StreamSocket } from './stream-socket.js';

export interface ConnectionInfo {
  readonly id: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  /** The address the peer reached us on (IPv4 dotted quad where it is one). */
  readonly localAddress: string;
  readonly localPort: number;
  /** What carries the door's protocol: a TCP stream, or WebSocket frames (the web door). */
  readonly transport: ConnectionTransport;
  /** Over TLS (a TLS port, or the web door's HTTPS port). */
  readonly encrypted: boolean;
}

export type ConnectionTransport = 'tcp' | 'websocket';

/**
 * What a connection reports besides requests, on the same stream. `end`: the peer stopped sending
 * (or the connection closed), after every request before it. `closed` and `overflow` (unsent
 * output passed its limit: the peer stopped reading) are news at once: they do not wait behind
 * requests still waiting their turn.
 */
export type ConnectionSignal = { readonly kind: 'end' } | { readonly kind: 'closed' } | { readonly kind: 'overflow' };

/** Everything a connection hands its reader: requests (of its door's kind) in arrival order, and its signals. */
export type Incoming<T = Decoded> = T | ConnectionSignal;

const END: ConnectionSignal = Object.freeze({ kind: 'end' });
const CLOSED: ConnectionSignal = Object.freeze({ kind: 'closed' });
const OVERFLOW: ConnectionSignal = Object.freeze({ kind: 'overflow' });

/**
 * The small message-oriented face of one connection that actors see: requests and signals in
 * (one stream), encoded bytes out, close. Nothing above it knows it is a TCP socket, so another
 * front door's connection has the same shape.
 */
export interface Connection<T = Decoded> {
  readonly info: ConnectionInfo;
  /**
   * Requests and signals (`end` once, `closed` once, `overflow` at most once); ends only with its
   * subscription. One subscriber, ever (the client actor's feed): a second one gets an error.
   */
  readonly incoming$: Observable<Incoming<T>>;
  /** Encoded replies and room traffic; `complete()` flushes and closes. */
  readonly outbound: Observer<Buffer>;
  bytesIn(): number;
  bytesOut(): number;
  queuedBytes(): number;
  /** False once the socket is closed: nothing written reaches the peer any more. */
  isOpen(): boolean;
  /** True once the peer has stopped sending (its FIN read) or the socket closed, told to the reader yet or not. */
  peerGone(): boolean;
  /** Flush what is queued, then close; reset after `flushLimitMs` if the peer does not read it. */
  close(flushLimitMs: number): void;
  /** Reset now: what is queued is dropped, in the kernel too. */
  destroy(): void;
  /**
   * The server is done with this connection (its actor finished or failed): its place under the
   * connection limits is free. Not at the socket's close: a connection still announcing its
   * departures holds its place. Once; later calls do nothing.
   */
  release(): void;
  /** Whether its unsent output ever passed its limit (a slow consumer). */
  outputOverflowedOnce(): boolean;
  /** Queues bytes even past the output limit: the error reply owed to a slow consumer. */
  sendBeyondLimit(bytes: Buffer): void;
  /**
   * No more requests until `resumeRequests`: one is waiting for an answer. The ones after it wait
   * in the connection, which stops reading the socket once a few dozen do (TCP backpressure).
   */
  pauseRequests(): void;
  /** Requests that waited are handed on again, in order, a turn's worth at a time. */
  resumeRequests(): void;
  /** Requests read and not yet handed on (waiting their turn, or for `resumeRequests`). */
  queuedRequests(): number;
}

export interface TransportOptions<T = Decoded> {
  /** The door's codec: how bytes become its requests. */
  readonly decoders: DecoderSource<T>;
  readonly quietMs: number;
  /** A request still incomplete this long after its first byte is discarded with MALFORMED. */
  readonly requestTimeoutMs: number;
  readonly keepAliveMs: number;
  /** Unsent output allowed before the connection counts as a slow consumer. */
  readonly output: OutputLimit;
  readonly flood: FloodLimit;
}

function ignore(): void {}

/** The framer's sink: requests go on as they are, the input's end as a signal. */
class IncomingSink<T> implements RequestSink<T> {
  constructor(private readonly subscriber: Subscriber<Incoming<T>>) {}

  next(decoded: T): void {
    this.subscriber.next(decoded);
  }

  complete(): void {
    this.subscriber.next(END);
  }
}

/**
 * The socket's listeners are shared functions that find their connection on the socket (as
 * Node's own code keeps its state under symbols): three closures per connection less.
 */
const CONNECTION = Symbol('connection');
type OwnedSocket = StreamSocket & { [CONNECTION]?: SocketConnection<unknown> };

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[CONNECTION]?.received(chunk);
}

function onSocketEnd(this: OwnedSocket): void {
  this[CONNECTION]?.inputEnded();
}

function onSocketClose(this: OwnedSocket): void {
  this[CONNECTION]?.socketClosed();
}

/** The request stream's teardown: an object, not a closure over the connection's scope (a connection has one). */
class ReaderTeardown implements Unsubscribable {
  constructor(private readonly connection: SocketConnection<unknown>) {}

  unsubscribe(): void {
    this.connection.detachReader();
  }
}

/**
 * One TCP connection behind the `Connection` face. A class with prototype methods, and timers
 * that are handed their object rather than a closure: at 10,000 connections every per-connection
 * function object and listener counts. Its request stream has one subscriber, the client actor's
 * feed.
 */
class SocketConnection<T> implements Connection<T> {
  readonly info: ConnectionInfo;
  readonly outbound: SocketWriter;
  private readonly throttle: ReadThrottle;
  private framer: RequestFramer<T> | null = null;
  private bytesRead = 0;
  private open: boolean;
  /** The stream's one subscriber, while subscribed. */
  private reader: Subscriber<Incoming<T>> | null = null;
  private cutTimer: NodeJS.Timeout | undefined;
  /** The input ended, or the socket closed, and the reader has not been told yet (see ENDS_PER_TURN). */
  private endPending = false;
  private closePending = false;
  private overflowedOutput = false;
  queuedForReport = false;

  constructor(
    id: number,
    private readonly socket: OwnedSocket,
    scheduler: FlushScheduler,
    private readonly options: TransportOptions<T>,
    peer: PeerAddress | null,
    /** Where this connection was counted; null once released. */
    private admission: ConnectionAdmission | null,
    transport: ConnectionTransport,
  ) {
    // No-delay is set by the listener at accept; keepalive finds dead peers (decisions: from 60 s idle).
    socket.setKeepAlive(true, options.keepAliveMs);
    // Errors (ECONNRESET, EPIPE) end in 'close', which is what the client actor acts on.
    socket.on('error', ignore);
    this.open = !socket.destroyed;
    socket[CONNECTION] = this;
    socket.on('close', onSocketClose);
    this.throttle = new ReadThrottle(socket, options.flood);
    this.outbound = new SocketWriter(socket, scheduler, options.output, this);
    this.info = {
      id,
      peerAddress: peer ? plainAddress(peer.address) : plainAddress(socket.remoteAddress),
      peerPort: peer ? peer.port : socket.remotePort ?? 0,
      localAddress: plainAddress(socket.localAddress),
      localPort: socket.localPort ?? 0,
      transport,
      encrypted: socket.encrypted === true,
    };
  }

  /** Made when asked for (once, by the client actor's feed): nothing to keep per connection. */
  get incoming$(): Observable<Incoming<T>> {
    return new Observable<Incoming<T>>((subscriber) => this.attach(subscriber));
  }

  bytesIn(): number {
    return this.bytesRead;
  }

  bytesOut(): number {
    return this.outbound.bytesOut;
  }

  queuedBytes(): number {
    return this.outbound.queuedBytes();
  }

  isOpen(): boolean {
    return this.open;
  }

  peerGone(): boolean {
    return !this.open || this.socket.readableEnded;
  }

  close(flushLimitMs: number): void {
    this.outbound.complete();
    // A plain timer, not a state-machine delay: xstate cancels an actor's delayed events by
    // scanning every delayed event in the system, which is quadratic when thousands close at once.
    if (this.open && !this.cutTimer) {
      this.cutTimer = setTimeout(resetSocket, flushLimitMs, this.socket);
      this.cutTimer.unref();
    }
  }

  destroy(): void {
    resetSocket(this.socket);
  }

  release(): void {
    this.admission?.release(this.info.peerAddress);
    this.admission = null;
  }

  sendBeyondLimit(bytes: Buffer): void {
    this.outbound.nextBeyondLimit(bytes);
  }

  pauseRequests(): void {
    this.framer?.pause();
  }

  resumeRequests(): void {
    this.framer?.resume();
  }

  queuedRequests(): number {
    return this.framer?.queued ?? 0;
  }

  outputOverflowedOnce(): boolean {
    return this.overflowedOutput;
  }

  /** The output writer's report: unsent output passed its limit. */
  outputOverflowed(): void {
    this.overflowedOutput = true;
    this.reader?.next(OVERFLOW);
  }

  /** The request stream's subscription: reads are framed into requests until the input ends. */
  private attach(subscriber: Subscriber<Incoming<T>>): TeardownLogic {
    if (this.framer) {
      subscriber.error(new Error('a connection\'s requests have one subscriber'));
      return undefined;
    }
    const framer = new RequestFramer<T>(this.options.decoders, this.options.quietMs, this.throttle, new IncomingSink<T>(subscriber), this.options.requestTimeoutMs);
    this.framer = framer;
    this.reader = subscriber;
    const { socket } = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    // A socket paused before (after a PROXY header) does not flow on its own.
    socket.resume();
    if (!this.open) {
      subscriber.next(CLOSED);
      framer.end();
    }
    return new ReaderTeardown(this);
  }

  /** The reader left: no more framing, and the socket's input is no longer listened to. */
  detachReader(): void {
    this.reader = null;
    this.framer?.dispose();
    this.socket.off('data', onSocketData);
    this.socket.off('end', onSocketEnd);
  }

  /** One read from the peer (the socket's `data`). */
  received(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    this.throttle.consumed(chunk.length);
    this.framer?.push(chunk);
  }

  /** The peer stopped sending (the socket's `end`): its reader hears of it in turn. */
  inputEnded(): void {
    this.endPending = true;
    reportInTurn(this);
  }

  /** The socket's `close`. */
  socketClosed(): void {
    this.open = false;
    this.throttle.stop();
    // Nothing more is written to it from now on; its reader hears of the close in turn.
    this.outbound.socketClosed();
    if (this.cutTimer) clearTimeout(this.cutTimer);
    this.closePending = true;
    reportInTurn(this);
  }

  /** The input's end and the close, told to the reader: their turn came (see ENDS_PER_TURN). */
  reportPending(): void {
    this.queuedForReport = false;
    if (this.endPending) {
      this.endPending = false;
      this.framer?.end();
    }
    if (this.closePending) {
      this.closePending = false;
      this.reader?.next(CLOSED);
      // After the close is reported, as before: the requests' end follows it.
      this.framer?.end();
    }
  }
}

/**
 * Connections whose end or close is told to their readers per turn of the event loop. A load
 * generator stopped, a network cut: one poll of the network can report thousands of ends and
 * closes at once, and each sets a client actor to work (its departures from every room it was
 * in). Told all in that one turn, they hold every other connection up for all of it (with the
 * garbage it makes); told a turn's worth at a time, in the order they came, the others are
 * answered in between. What the socket itself needs (no more writes once closed) is done at once.
 */
const ENDS_PER_TURN = 256;
const toReport: (SocketConnection<unknown> | undefined)[] = [];
let reportFrom = 0;
let reportTurn: NodeJS.Immediate | undefined;

function reportInTurn(connection: SocketConnection<unknown>): void {
  if (connection.queuedForReport) return;
  connection.queuedForReport = true;
  toReport.push(connection);
  reportTurn ??= setImmediate(reportEnds);
}

function reportEnds(): void {
  reportTurn = undefined;
  const end = Math.min(toReport.length, reportFrom + ENDS_PER_TURN);
  while (reportFrom < end) {
    const connection = toReport[reportFrom]!;
    toReport[reportFrom++] = undefined;
    connection.reportPending();
  }
  if (reportFrom < toReport.length) {
    reportTurn = setImmediate(reportEnds);
    return;
  }
  toReport.length = 0;
  reportFrom = 0;
}

/** `peer`: the real client when a trusted proxy named it; by default the socket's own peer. */
export function socketConnection<T = Decoded>(id: number, socket: StreamSocket, scheduler: FlushScheduler, options: TransportOptions<T>, peer: PeerAddress | null, admission: ConnectionAdmission | null, transport: ConnectionTransport = 'tcp'): Connection<T> {
  return new SocketConnection<T>(id, socket, scheduler, options, peer, admission, transport);
}
