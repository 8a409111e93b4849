import type { ClientActorRef, RoomActorRef, RoomEvent, ServerEvent } from '../../../actors/events.js';
import type { NumericName } from '../numerics.js';
import { numeric } from '../replies.js';
import type { IrcClientContext } from './state.js';

/** What a handler may do besides changing the context: the sends of the actor's current step. */
export interface IrcEffects {
  readonly self: ClientActorRef;
  toServer(event: ServerEvent): void;
  toRoom(room: RoomActorRef, event: RoomEvent): void;
}

/** Raw lines (each with its CR LF) to this connection. */
export function send(context: IrcClientContext, ...lines: string[]): void {
  if (lines.length === 0) return;
  context.connection.outbound.next(Buffer.from(lines.length === 1 ? lines[0]! : lines.join('')));
}

/** A numeric to this connection, addressed to its nick. */
export function reply(context: IrcClientContext, name: NumericName, params: readonly string[] = [], text?: string): void {
  if (name.startsWith('ERR_')) {
    context.stats.errors++;
    context.settings.tally.error('irc', name);
  }
  send(context, numeric(context.settings.serverName, context.person.nick, name, params, text));
}

/** `nick!user@host` of this connection. */
export function selfSource(context: IrcClientContext): string {
  const { person } = context;
  return `${person.nick}!${person.user}@${person.host}`;
}

/** A line as this connection receives it from `source`: with a `time` tag when it asked for server-time. */
export function fromSource(context: IrcClientContext, source: string, rest: string): string {
  const tag = context.person.caps.has('server-time') ? `@time=${new Date().toISOString()} ` : '';
  return `${tag}:${source} ${rest}\r\n`;
}
