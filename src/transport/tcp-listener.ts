import { createServer, type BlockList, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { TlsCredentials } from './tls-credentials.js';
import { plainAddress } from './address.js';
import type { ConnectionAdmission } from './admission.js';
import { socketConnection, type Connection, type TransportOptions } from './connection.js';
import { FlushScheduler } from './outbound.js';
import { readProxyHeader, type PeerAddress } from './proxy-reader.js';
import { refuseSocket } from './reset.js';
import { isTrusted } from './trusted-proxies.js';

export interface TcpListenerOptions<T> {
  readonly port: number;
  readonly host: string | undefined;
  /** The kernel's accept queue: a reconnect storm's connections wait there, not in SYN retries. */
  readonly backlog: number;
  /** Peers whose PROXY protocol header names the real client; null: nobody's. */
  readonly trustedProxies: BlockList | null;
  readonly proxyHeaderTimeoutMs: number;
  /** The connection limits, shared by every door: the limits are per server, not per listener. */
  readonly admission: ConnectionAdmission;
  /** Connection ids, shared by every door: unique on the server. */
  readonly ids: { next(): number };
  /** The line a refused connection gets, in its door's protocol (the lab's LIMIT_REACHED, IRC's ERROR). */
  refusal(reason: string): string;
  readonly transport: TransportOptions<T>;
  /** TLS: the certificate and key to serve, and how long a client has to finish its handshake; null: plain TCP. */
  readonly tls: { readonly credentials: TlsCredentials; readonly handshakeTimeoutMs: number } | null;
}

/** What the listener reports; every call is made from outside any actor's step. */
export interface TcpListenerEvents<T> {
  listening(host: string, port: number): void;
  /** Listening failed (port in use, no permission): nothing was accepted. */
  failed(error: Error): void;
  /** A connection admitted under the limits, ready to be read; `release()` frees its place. */
  connection(connection: Connection<T>): void;
  /** A connection refused under the limits: its refusal line is already written and it is closed. */
  refused(peer: string, reason: string): void;
  /** A trusted proxy's connection whose PROXY header was missing or wrong: dropped. */
  proxyRefused(peer: string, reason: string): void;
  /** An accept failed after listening (EMFILE when descriptors run out); the listener carries on. */
  acceptFailed(error: Error): void;
}

/**
 * A front door's TCP listener (the lab protocol's, IRC's): listens, reads a trusted proxy's PROXY
 * header, applies the connection limits and hands over each admitted socket as a `Connection`
 * that decodes its door's protocol. Returns the stop function (accepted connections are not touched).
 */
export function listenTcp<T>(options: TcpListenerOptions<T>, events: TcpListenerEvents<T>): () => void {
  // Half-open: a peer that sends its requests and shuts down its side still gets its replies.
  const server: Server = options.tls ? tlsServer(options.tls) : createServer({ allowHalfOpen: true, noDelay: true });
  const { admission } = options;
  // One for every connection of this door: their writes are flushed together, once a turn.
  const scheduler = new FlushScheduler();
  let stopped = false;

  const admit = (socket: Socket, peer: PeerAddress | null): void => {
    const address = peer ? plainAddress(peer.address) : plainAddress(socket.remoteAddress);
    const refusal = admission.admit(address);
    if (refusal) {
      refuseSocket(socket, options.refusal(refusal));
      events.refused(address, refusal);
      return;
    }
    events.connection(socketConnection(options.ids.next(), socket, scheduler, options.transport, peer, admission));
  };

  // Over TLS a connection is handed on once its handshake is done: until then it holds no place
  // under the limits, and one that never finishes is dropped after the handshake timeout.
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    if (options.tls) {
      socket.setNoDelay(true);
      // A PROXY header would come before the handshake, which the TLS server reads first: not on TLS ports.
      admit(socket, null);
      return;
    }
    const { trustedProxies } = options;
    if (!trustedProxies || !isTrusted(trustedProxies, plainAddress(socket.remoteAddress))) {
      admit(socket, null);
      return;
    }
    socket.on('error', () => {});
    readProxyHeader(socket, options.proxyHeaderTimeoutMs).then(
      // A header that completes after the listener stopped has nobody to hand its socket to.
      (peer) => (stopped ? socket.destroy() : admit(socket, peer)),
      (error: Error) => {
        if (!stopped) events.proxyRefused(plainAddress(socket.remoteAddress), error.message);
        socket.destroy();
      },
    );
  });
  listenReporting(server, options, events);
  return () => {
    stopped = true;
    server.close();
  };
}

/**
 * Listens and reports it: `listening` with the bound address, or `failed`. After listening, errors
 * are failed accepts (EMFILE when descriptors run out): libuv accepts and drops the pending
 * connection with a reserved descriptor, so the loop does not spin; they are reported and the
 * listener carries on. Shared by every door's listener (the web door's HTTP server too).
 */
export function listenReporting(server: Server, where: { readonly port: number; readonly host: string | undefined; readonly backlog: number }, events: Pick<TcpListenerEvents<unknown>, 'listening' | 'failed' | 'acceptFailed'>): void {
  let listening = false;
  server.on('error', (error: Error) => {
    if (!listening) events.failed(error);
    else events.acceptFailed(error);
  });
  server.listen({ port: where.port, host: where.host, backlog: where.backlog }, () => {
    listening = true;
    const address = server.address();
    if (address && typeof address === 'object') events.listening(address.address, address.port);
  });
}

function tlsServer(tls: NonNullable<TcpListenerOptions<unknown>['tls']>): Server {
  const { cert, key } = tls.credentials.current;
  const server = createTlsServer({ cert, key, allowHalfOpen: true, handshakeTimeout: tls.handshakeTimeoutMs });
  // A failed or timed-out handshake: with a listener here, closing the socket is ours to do.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  tls.credentials.attach(server);
  return server;
}
