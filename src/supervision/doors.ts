/**
 * The supervisor's front doors: each door's listener input (what they share: the interface, the
 * proxies believed, the connection limits and ids), the line a connection the supervisor closes
 * gets in its door's protocol, and the IRC door's count of connections not registered yet.
 */
import type { ListenerInput } from '../../actors/listener.js';
import { ircTransportOptions, transportOptions } from '../config.js';
import { parseOrigins } from '../web/origins.js';
import { encodeError } from '../protocol/encode.js';
import { protocolError, type ProtocolError } from '../protocol/errors.js';
import { parseTrustedProxies } from '../transport/trusted-proxies.js';
import type { IrcClientEntry, ServerContext } from './registry.js';

function shared(context: ServerContext) {
  return { host: context.options.host, admission: context.admission, ids: context.connectionIds };
}

/** The TCP doors': the proxies whose PROXY protocol header is believed. */
function proxies(context: ServerContext) {
  return {
    trustedProxies: context.options.trustedProxy ? parseTrustedProxies(context.options.trustedProxy) : null,
    proxyHeaderTimeoutMs: context.options.proxyHeaderTimeoutMs,
  };
}

export function labListenerInput(context: ServerContext): ListenerInput {
  return {
    door: 'lab',
    ...shared(context),
    ...proxies(context),
    port: context.options.port,
    refusal: (reason) => encodeError(protocolError('LIMIT_REACHED', reason)),
    transport: transportOptions(context.options),
  };
}

/** The IRC listener, or none when no IRC port is configured. */
export function ircListenerInput(context: ServerContext): ListenerInput {
  if (context.options.ircPort === undefined) return { door: 'none' };
  return {
    door: 'irc',
    ...shared(context),
    ...proxies(context),
    port: context.options.ircPort,
    refusal: (reason) => `ERROR :Closing link: ${reason}\r\n`,
    transport: ircTransportOptions(context.options),
  };
}

/** The web listener (the page, IRC over WebSocket), or none when no web port is configured. */
export function webListenerInput(context: ServerContext): ListenerInput {
  if (context.options.webPort === undefined) return { door: 'none' };
  return {
    door: 'web',
    ...shared(context),
    port: context.options.webPort,
    refusal: (reason) => `ERROR :Closing link: ${reason}\r\n`,
    transport: ircTransportOptions(context.options),
    origins: parseOrigins(context.options.webOrigins),
  };
}

/** The last line a connection the server closes gets, in its door's protocol (the web door speaks IRC). */
export function closingLine(door: 'lab' | 'irc' | 'web', error: ProtocolError): Buffer {
  return Buffer.from(door === 'lab' ? encodeError(error) : `ERROR :${error.description}\r\n`);
}

/** The IRC and web doors' connections (their entries carry their keep-alive figures). */
export function* ircClients(clients: ServerContext['clients']): Iterable<IrcClientEntry> {
  for (const entry of clients.values()) if (entry.door !== 'lab') yield entry as IrcClientEntry;
}

/** IRC connections not registered yet (no nick or no USER): counted when LUSERS asks, not kept. */
export function unregisteredIrc(clients: ServerContext['clients']): number {
  let count = 0;
  for (const { person, actor } of clients.values()) {
    if (!person || (person.nick !== '*' && person.user !== '')) continue;
    // One that has quit is on its way out, not a connection any more.
    const state = actor.getSnapshot().value;
    if (state !== 'departing' && state !== 'closing' && state !== 'closed') count++;
  }
  return count;
}
