import type { Socket } from 'node:net';

/**
 * Drops a connection the server gives up on (a slow consumer, a flush bound passed): a reset
 * (`SO_LINGER` 0, as nginx's `reset_timedout_connection`), so the peer learns at once and the
 * kernel drops the unsent bytes. A plain close would leave them in the socket's send queue, a few
 * MB for a reader that stopped reading, trickling out in FIN-WAIT-1 for minutes.
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  if (shutdownInFlight(socket)) {
    socket.once('finish', resetAfterShutdown);
    return;
  }
  socket.resetAndDestroy();
}

/**
 * libuv refuses a reset while the shutdown of an `end()` is in flight (from its last write
 * completing to the FIN, one loop turn), and Node then drops the handle without closing it.
 */
function shutdownInFlight(socket: Socket): boolean {
  return socket.writableEnded && !socket.writableFinished && socket.writableLength === 0;
}

function resetAfterShutdown(this: Socket): void {
  // With the peer's side ended too, the socket closes itself after its FIN.
  if (!this.destroyed) this.resetAndDestroy();
}

/**
 * A refused connection: its one line written and its descriptor freed at once, in the same turn.
 * Refusals come in bursts (a reconnect storm, descriptors running low), and a descriptor held
 * until the peer closes is one the next accept lacks. A fresh socket's send buffer is empty, so
 * the line goes to the kernel synchronously and the close sends it ahead of the FIN; should the
 * kernel not take it, the connection is reset instead.
 */
export function refuseSocket(socket: Socket, line: string): void {
  socket.on('error', ignore);
  if (socket.destroyed) return;
  socket.write(line);
  if (socket.writableLength === 0) socket.destroy();
  else socket.resetAndDestroy();
}

function ignore(): void {}
