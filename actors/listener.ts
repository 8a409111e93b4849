import { fromCallback } from 'xstate';
import { listenTcp, type TcpListenerOptions } from '../src/transport/tcp-listener.js';
import type { ServerEvent } from './events.js';

/**
 * The TCP front door as an actor: reports `listening` or `failed`, then one event per admitted
 * connection (ready to read) or refused one (already answered and closed). Stopping it closes the
 * listener; accepted connections are not touched.
 */
export const listener = fromCallback<ServerEvent, TcpListenerOptions>(({ input, sendBack }) =>
  listenTcp(input, {
    listening: (host, port) => sendBack({ type: 'listener.listening', host, port }),
    failed: (error) => sendBack({ type: 'listener.failed', error }),
    connection: (connection) => sendBack({ type: 'listener.connection', connection }),
    refused: (peer, reason) => sendBack({ type: 'listener.refused', peer, reason }),
    proxyRefused: (peer, reason) => sendBack({ type: 'listener.proxyRefused', peer, reason }),
    acceptFailed: (error) => sendBack({ type: 'listener.acceptFailed', error }),
  }),
);
