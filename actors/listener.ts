import { fromCallback } from 'xstate';
import type { IrcInput } from '../src/irc/decoder.js';
import type { Decoded } from '../src/protocol/types.js';
import type { Connection } from '../src/transport/connection.js';
import { listenTcp, type TcpListenerOptions } from '../src/transport/tcp-listener.js';
import { listenWeb, type WebListenerOptions } from '../src/web/listener.js';
import type { ServerEvent } from './events.js';

/** A door's listener input: the lab's, IRC's or the web's, with its own codec. */
export type ListenerInput =
  | ({ readonly door: 'lab' } & TcpListenerOptions<Decoded>)
  | ({ readonly door: 'irc' } & TcpListenerOptions<IrcInput>)
  /** The web door: the page, and IRC over WebSocket (its connections are IRC's). */
  | ({ readonly door: 'web' } & WebListenerOptions)
  /** A door not configured: nothing listens. */
  | { readonly door: 'none' };

/**
 * A front door as an actor: reports `listening` or `failed`, then one event per admitted
 * connection (ready to read) or refused one (already answered and closed). Stopping it closes the
 * listener; accepted connections are not touched.
 */
export const listener = fromCallback<ServerEvent, ListenerInput>(({ input, sendBack }) => {
  if (input.door === 'none') return () => {};
  const { door } = input;
  const tls = input.tls !== null;
  const common = {
    listening: (host: string, port: number) => sendBack({ type: 'listener.listening', door, tls, host, port }),
    failed: (error: Error) => sendBack({ type: 'listener.failed', door, tls, error }),
    refused: (peer: string, reason: string) => sendBack({ type: 'listener.refused', peer, reason }),
    proxyRefused: (peer: string, reason: string) => sendBack({ type: 'listener.proxyRefused', peer, reason }),
    acceptFailed: (error: Error) => sendBack({ type: 'listener.acceptFailed', error }),
  };
  if (input.door === 'lab') return listenTcp(input, { ...common, connection: (connection) => sendBack({ type: 'listener.connection', connection }) });
  const irc = { ...common, connection: (connection: Connection<IrcInput>) => sendBack({ type: 'listener.ircConnection', connection }) };
  return input.door === 'irc' ? listenTcp(input, irc) : listenWeb(input, irc);
});
