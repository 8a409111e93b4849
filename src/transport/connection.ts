import type { Socket } from 'node:net';
import type { Observable, Observer } from 'rxjs';
import type { DecoderLimits } from '../protocol/decoder.js';
import type { Decoded } from '../protocol/types.js';
import { ReadThrottle, type FloodLimit } from './flood.js';
import { decodeRequests, socketBytes } from './inbound.js';
import { FlushScheduler, SocketWriter, type OutputLimit } from './outbound.js';
import type { PeerAddress } from './proxy-reader.js';

export interface ConnectionInfo {
  readonly id: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  /** The address the peer reached us on (IPv4 dotted quad where it is one). */
  readonly localAddress: string;
  readonly localPort: number;
}

/**
 * The small message-oriented face of one connection that actors see: typed requests in, encoded
 * bytes out. Nothing above it knows it is a TCP socket, so another front door can sit beside it.
 */
export interface Connection {
  readonly info: ConnectionInfo;
  /** Requests in arrival order; completes when the peer stops sending or the connection closes. */
  readonly requests$: Observable<Decoded>;
  /** Encoded replies and room traffic; `complete()` flushes and closes. */
  readonly outbound: Observer<Buffer>;
  bytesIn(): number;
  bytesOut(): number;
  queuedBytes(): number;
  /** False once the socket is closed: nothing written reaches the peer any more. */
  isOpen(): boolean;
  /** Flush what is queued, then close; cut after `flushLimitMs` if the peer does not read it. */
  close(flushLimitMs: number): void;
  /** Close now, dropping what is queued. */
  destroy(): void;
  onClose(listener: () => void): void;
  /** Called once when unsent output passes its limit: the peer stopped reading. */
  onOverflow(listener: () => void): void;
  /** Queues bytes even past the output limit: the error reply owed to a slow consumer. */
  sendBeyondLimit(bytes: Buffer): void;
}

export interface TransportOptions {
  readonly limits: DecoderLimits;
  readonly quietMs: number;
  readonly keepAliveMs: number;
  /** Unsent output allowed before the connection counts as a slow consumer. */
  readonly output: OutputLimit;
  readonly flood: FloodLimit;
}

/** Strips the IPv4-mapped prefix so IPv4 peers read as dotted quads. */
export function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function ignore(): void {}

/**
 * One TCP connection behind the `Connection` face. A class with prototype methods rather than an
 * object of closures: at 10,000 connections, every per-connection function object counts.
 */
class SocketConnection implements Connection {
  readonly info: ConnectionInfo;
  readonly requests$: Observable<Decoded>;
  readonly outbound: SocketWriter;
  private readonly throttle: ReadThrottle;
  private bytesRead = 0;
  private open: boolean;
  private closeListener: (() => void) | undefined;
  private overflowListener: (() => void) | undefined;
  private cutTimer: NodeJS.Timeout | undefined;

  constructor(id: number, private readonly socket: Socket, scheduler: FlushScheduler, options: TransportOptions, peer: PeerAddress | null) {
    // No-delay is set by the listener at accept; keepalive finds dead peers (decisions: from 60 s idle).
    socket.setKeepAlive(true, options.keepAliveMs);
    // Errors (ECONNRESET, EPIPE) end in 'close', which is what the client actor acts on.
    socket.on('error', ignore);
    this.open = !socket.destroyed;
    socket.once('close', this.onSocketClose);
    this.throttle = new ReadThrottle(socket, options.flood);
    this.outbound = new SocketWriter(socket, scheduler, options.output, this.onOverflowed);
    this.info = {
      id,
      peerAddress: peer ? plainAddress(peer.address) : plainAddress(socket.remoteAddress),
      peerPort: peer ? peer.port : socket.remotePort ?? 0,
      localAddress: plainAddress(socket.localAddress),
      localPort: socket.localPort ?? 0,
    };
    this.requests$ = socketBytes(socket, this).pipe(decodeRequests(options.limits, options.quietMs, this.throttle));
  }

  /** Counts a read (for the dump) and charges it to the flood bucket. */
  counted(bytes: number): void {
    this.bytesRead += bytes;
    this.throttle.consumed(bytes);
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

  close(flushLimitMs: number): void {
    this.outbound.complete();
    // A plain timer, not a state-machine delay: xstate cancels an actor's delayed events by
    // scanning every delayed event in the system, which is quadratic when thousands close at once.
    if (this.open && !this.cutTimer) {
      this.cutTimer = setTimeout(() => this.socket.destroy(), flushLimitMs);
      this.cutTimer.unref();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** One listener: the client actor's feed. Called at once if the socket is already closed. */
  onClose(listener: () => void): void {
    if (!this.open) listener();
    else this.closeListener = listener;
  }

  onOverflow(listener: () => void): void {
    this.overflowListener = listener;
  }

  sendBeyondLimit(bytes: Buffer): void {
    this.outbound.nextBeyondLimit(bytes);
  }

  private readonly onSocketClose = (): void => {
    this.open = false;
    this.throttle.stop();
    this.outbound.socketClosed();
    if (this.cutTimer) clearTimeout(this.cutTimer);
    this.closeListener?.();
  };

  private readonly onOverflowed = (): void => {
    this.overflowListener?.();
  };
}

/** `peer`: the real client when a trusted proxy named it; by default the socket's own peer. */
export function socketConnection(id: number, socket: Socket, scheduler: FlushScheduler, options: TransportOptions, peer: PeerAddress | null = null): Connection {
  return new SocketConnection(id, socket, scheduler, options, peer);
}
