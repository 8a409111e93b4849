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
import type { IrcClientEntry, ListenerKey, ServerContext } from './registry.js';

function shared(context: ServerContext) {
  return { host: context.options.host, backlog: context.options.listenBacklog, admission: context.admission, ids: context.connectionIds };
}

/** The TCP doors': the proxies whose PROXY protocol header is believed (plain ports only). */
function proxies(context: ServerContext) {
  return {
    trustedProxies: context.options.trustedProxy ? parseTrustedProxies(context.options.trustedProxy) : null,
    proxyHeaderTimeoutMs: context.options.proxyHeaderTimeoutMs,
  };
}

/** A TLS listener's certificate and handshake bound; null for a plain one. */
function tlsOf(context: ServerContext, tls: boolean) {
  return tls && context.tls ? { credentials: context.tls, handshakeTimeoutMs: context.options.tlsHandshakeTimeoutMs } : null;
}

/** The listeners besides the lab's plain one, by key, with their configured ports (undefined: off). */
export function listenerPorts(options: ServerContext['options']): Record<ListenerKey, number | undefined> {
  return { irc: options.ircPort, web: options.webPort, labTls: options.tlsPort, ircTls: options.ircTlsPort, webTls: options.webTlsPort };
}

/** A listener's key: its door, and `Tls` after it for the TLS one. The lab's plain one has none. */
export function listenerKey(door: 'lab' | 'irc' | 'web', tls: boolean): ListenerKey | null {
  if (tls) return `${door}Tls`;
  return door === 'lab' ? null : door;
}

/** The port of a door's plain or TLS listener; undefined when that one is not configured. */
export function portOf(options: ServerContext['options'], door: 'lab' | 'irc' | 'web', tls: boolean): number | undefined {
  const key = listenerKey(door, tls);
  return key === null ? options.port : listenerPorts(options)[key];
}

const IRC_REFUSAL = (reason: string): string => `ERROR :Closing link: ${reason}\r\n`;

/** A door's listener (plain or TLS), or none when its port is not configured. */
export function listenerInput(context: ServerContext, door: 'lab' | 'irc' | 'web', tls: boolean): ListenerInput {
  const port = portOf(context.options, door, tls);
  if (port === undefined) return { door: 'none' };
  const common = { ...shared(context), port, tls: tlsOf(context, tls) };
  // Every connection counts its flood slowdowns into the server's one counter.
  const counted = <T extends { flood: object }>(transport: T): T => ({ ...transport, flood: { ...transport.flood, slowed: context.counters.floodsSlowed } });
  if (door === 'lab') {
    return { door, ...common, ...proxies(context), refusal: (reason) => encodeError(protocolError('LIMIT_REACHED', reason)), transport: counted(transportOptions(context.options)) };
  }
  if (door === 'irc') return { door, ...common, ...proxies(context), refusal: IRC_REFUSAL, transport: counted(ircTransportOptions(context.options)) };
  return { door, ...common, refusal: IRC_REFUSAL, transport: counted(ircTransportOptions(context.options)), origins: parseOrigins(context.options.webOrigins) };
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
