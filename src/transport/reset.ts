import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { StreamSocket } from './stream-socket.js';

/**
 * Drops a connection the server gives up on (a slow consumer, a flush bound passed): a reset
 * (`SO_LINGER` 0, as nginx's `reset_timedout_connection`), so the peer learns at once and the
 * kernel drops the unsent bytes. A plain close would leave them in the socket's send queue, a few
 * MB for a reader that stopped reading, trickling out in FIN-WAIT-1 for minutes.
 */
export function resetSocket(socket: StreamSocket): void {
  if (socket.destroyed) return;
  if (shutdownInFlight(socket)) {
    socket.once('finish', resetAfterShutdown);
    return;
  }
  reset(socket);
}

/**
 * A reset. Node refuses one on a TLS socket's handle, so a TLS socket is reset through the TCP
 * socket under it (a TLS server's sockets keep it as `_parent`), then destroyed; without one it
 * is only destroyed.
 */
export function reset(socket: StreamSocket): void {
  if (socket instanceof TLSSocket) {
    const tcp = (socket as TLSSocket & { _parent?: unknown })._parent;
    if (tcp instanceof Socket && !tcp.destroyed) tcp.resetAndDestroy();
    socket.destroy();
  } else socket.resetAndDestroy();
}

/**
 * libuv refuses a reset while the shutdown of an `end()` is in flight (from its last write
 * completing to the FIN, one loop turn), and Node then drops the handle without closing it.
 */
function shutdownInFlight(socket: StreamSocket): boolean {
  return socket.writableEnded && !socket.writableFinished && socket.writableLength === 0;
}

function resetAfterShutdown(this: StreamSocket): void {
  // With the peer's side ended too, the socket closes itself after its FIN.
  if (!this.destroyed) reset(this);
}

/**
 * A refused connection: its one line written and its descriptor freed within a moment. Refusals
 * come in bursts (a reconnect storm, descriptors running low), and a descriptor held until the
 * peer closes is one the next accept lacks. A fresh socket's send buffer is empty, so the line goes
 * to the kernel synchronously; should the kernel not take it, the connection is reset instead.
 *
 * A client that sent its first request before it was refused has unread bytes in the socket, and
 * closing a socket with unread bytes is a reset: the client reads the line, then ECONNRESET rather
 * than the end of the stream. So, as nginx's lingering close does, the write side is shut down
 * (FIN after the line) and what the peer sends is read and dropped until it closes, for at most
 * LINGER_MS or LINGER_BYTES; at most MAX_LINGERING refusals linger at once, so a burst of them
 * under a descriptor shortage still frees its descriptors at once.
 */
export function refuseSocket(socket: Socket, line: string): void {
  socket.on('error', ignore);
  if (socket.destroyed) return;
  socket.write(line);
  if (socket.writableLength !== 0) reset(socket);
  else if (lingering >= MAX_LINGERING) socket.destroy();
  else linger(socket);
}

const LINGER_MS = 100;
const LINGER_BYTES = 64 * 1024;
const MAX_LINGERING = 16;
let lingering = 0;

const LINGER_STATE = Symbol('linger');
type LingeringSocket = Socket & { [LINGER_STATE]?: { read: number; timer: NodeJS.Timeout } };

function linger(socket: LingeringSocket): void {
  lingering++;
  socket[LINGER_STATE] = { read: 0, timer: setTimeout(destroySocket, LINGER_MS, socket) };
  socket.on('data', dropLingeringInput);
  socket.once('end', peerClosed);
  socket.once('close', lingerDone);
  socket.end();
  socket.resume();
}

function dropLingeringInput(this: LingeringSocket, chunk: Buffer): void {
  const state = this[LINGER_STATE];
  if (state && (state.read += chunk.length) > LINGER_BYTES) this.destroy();
}

function peerClosed(this: Socket): void {
  this.destroy();
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}

function lingerDone(this: LingeringSocket): void {
  const state = this[LINGER_STATE];
  if (!state) return;
  clearTimeout(state.timer);
  this[LINGER_STATE] = undefined;
  lingering--;
}

function ignore(): void {}
