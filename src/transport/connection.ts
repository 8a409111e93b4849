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

/** `peer`: the real client when a trusted proxy named it; by default the socket's own peer. */
export function socketConnection(id: number, socket: Socket, scheduler: FlushScheduler, options: TransportOptions, peer: PeerAddress | null = null): Connection {
  // No-delay is set by the listener at accept; keepalive finds dead peers (decisions: from 60 s idle).
  socket.setKeepAlive(true, options.keepAliveMs);
  // Errors (ECONNRESET, EPIPE) end in 'close', which is what the client actor acts on.
  socket.on('error', () => {});
  let bytesIn = 0;
  let open = !socket.destroyed;
  const throttle = new ReadThrottle(socket, options.flood);
  socket.once('close', () => {
    open = false;
    throttle.stop();
  });
  const overflowListeners: Array<() => void> = [];
  const writer = new SocketWriter(socket, scheduler, options.output, () => {
    for (const listener of overflowListeners) listener();
  });
  const info: ConnectionInfo = {
    id,
    peerAddress: peer ? plainAddress(peer.address) : plainAddress(socket.remoteAddress),
    peerPort: peer ? peer.port : socket.remotePort ?? 0,
    localAddress: plainAddress(socket.localAddress),
    localPort: socket.localPort ?? 0,
  };
  return {
    info,
    requests$: socketBytes(socket, (count) => {
      bytesIn += count;
      throttle.consumed(count);
    }).pipe(decodeRequests(options.limits, options.quietMs, () => throttle.holding)),
    outbound: writer,
    bytesIn: () => bytesIn,
    bytesOut: () => writer.bytesOut,
    queuedBytes: () => writer.queuedBytes(),
    isOpen: () => open,
    close: (flushLimitMs) => {
      writer.complete();
      // A plain timer, not a state-machine delay: xstate cancels an actor's delayed events by
      // scanning every delayed event in the system, which is quadratic when thousands close at once.
      const cut = setTimeout(() => socket.destroy(), flushLimitMs);
      cut.unref();
      socket.once('close', () => clearTimeout(cut));
    },
    destroy: () => socket.destroy(),
    onClose: (listener) => {
      if (!open) listener();
      else socket.once('close', listener);
    },
    onOverflow: (listener) => {
      overflowListeners.push(listener);
    },
    sendBeyondLimit: (bytes) => writer.nextBeyondLimit(bytes),
  };
}
