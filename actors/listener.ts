import { fromCallback } from 'xstate';
import type { IrcInput } from '../src/irc/decoder.js';
import type { Decoded } from '../src/protocol/types.js';
import { listenTcp, type TcpListenerOptions } from '../src/transport/tcp-listener.js';
import type { ServerEvent } from './events.js';

/** A door's listener input: the lab's or IRC's, with its own codec. */
export type ListenerInput =
  | ({ readonly door: 'lab' } & TcpListenerOptions<Decoded>)
  | ({ readonly door: 'irc' } & TcpListenerOptions<IrcInput>)
  /** A door not configured: nothing listens. */
  | { readonly door: 'none' };

/**
 * A TCP front door as an actor: reports `listening` or `failed`, then one event per admitted
 * connection (ready to read) or refused one (already answered and closed). Stopping it closes the
 * listener; accepted connections are not touched.
 */
export const listener = fromCallback<ServerEvent, ListenerInput>(({ input, sendBack }) => {
  if (input.door === 'none') return () => {};
  const { door } = input;
  const common = {
    listening: (host: string, port: number) => sendBack({ type: 'listener.listening', door, host, port }),
    failed: (error: Error) => sendBack({ type: 'listener.failed', door, error }),
    refused: (peer: string, reason: string) => sendBack({ type: 'listener.refused', peer, reason }),
    proxyRefused: (peer: string, reason: string) => sendBack({ type: 'listener.proxyRefused', peer, reason }),
    acceptFailed: (error: Error) => sendBack({ type: 'listener.acceptFailed', error }),
  };
  if (input.door === 'lab') return listenTcp(input, { ...common, connection: (connection) => sendBack({ type: 'listener.connection', connection }) });
  return listenTcp(input, { ...common, connection: (connection) => sendBack({ type: 'listener.ircConnection', connection }) });
});
