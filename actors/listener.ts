import { createServer, type BlockList, type Server, type Socket } from 'node:net';
import { fromCallback } from 'xstate';
import { plainAddress } from '../src/transport/address.js';
import { readProxyHeader } from '../src/transport/proxy-reader.js';
import { isTrusted } from '../src/transport/trusted-proxies.js';
import type { ServerEvent } from './events.js';

export interface ListenerInput {
  readonly port: number;
  readonly host: string | undefined;
  /** Peers whose PROXY protocol header names the real client; null: nobody's. */
  readonly trustedProxies: BlockList | null;
  readonly proxyHeaderTimeoutMs: number;
}

/**
 * The listening socket as an actor: reports `listening` or `failed`, then one `connection` event
 * per accepted socket. Stopping it closes the listener (accepted connections are not touched).
 */
export const listener = fromCallback<ServerEvent, ListenerInput>(({ input, sendBack }) => {
  // Half-open: a peer that sends its requests and shuts down its side still gets its replies.
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true });
  let listening = false;
  let stopped = false;
  const accept = (socket: Socket): void => {
    const { trustedProxies } = input;
    if (!trustedProxies || !isTrusted(trustedProxies, plainAddress(socket.remoteAddress))) {
      sendBack({ type: 'listener.connection', socket, peer: null });
      return;
    }
    socket.on('error', () => {});
    readProxyHeader(socket, input.proxyHeaderTimeoutMs).then(
      // A header that completes after the listener stopped has nobody to hand its socket to.
      (peer) => (stopped ? socket.destroy() : sendBack({ type: 'listener.connection', socket, peer })),
      (error: Error) => {
        if (!stopped) sendBack({ type: 'listener.proxyRefused', peer: plainAddress(socket.remoteAddress), reason: error.message });
        socket.destroy();
      },
    );
  };
  server.on('connection', accept);
  server.on('error', (error: Error) => {
    // After listening, errors are failed accepts (EMFILE when descriptors run out). libuv
    // accepts and drops the pending connection with a reserved descriptor, so the loop does
    // not spin; the server reports it and carries on.
    if (!listening) sendBack({ type: 'listener.failed', error });
    else sendBack({ type: 'listener.acceptFailed', error });
  });
  server.listen({ port: input.port, host: input.host }, () => {
    listening = true;
    const address = server.address();
    if (address && typeof address === 'object') sendBack({ type: 'listener.listening', host: address.address, port: address.port });
  });
  return () => {
    stopped = true;
    server.close();
  };
});
