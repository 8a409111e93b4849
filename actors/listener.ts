import { createServer, type Server } from 'node:net';
import { fromCallback } from 'xstate';
import type { ServerEvent } from './events.js';

export interface ListenerInput {
  readonly port: number;
  readonly host: string | undefined;
}

/**
 * The listening socket as an actor: reports `listening` or `failed`, then one `connection` event
 * per accepted socket. Stopping it closes the listener (accepted connections are not touched).
 */
export const listener = fromCallback<ServerEvent, ListenerInput>(({ input, sendBack }) => {
  // Half-open: a peer that sends its requests and shuts down its side still gets its replies.
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true });
  let listening = false;
  server.on('connection', (socket) => sendBack({ type: 'listener.connection', socket }));
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
    server.close();
  };
});
