/**
 * A client actor for each admitted connection, of its door's kind: started, fed from its
 * connection, registered with the supervisor (and, for IRC, its keep-alive).
 */
import { createActor, type Actor, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { clientLogic } from '../../actors/client.js';
import { ircClientLogic } from '../../actors/irc-client.js';
import type { IrcInput } from '../irc/decoder.js';
import { feedFromIrcConnection } from '../irc/session/feed.js';
import { ConnectionLogger, logWithin } from '../log.js';
import { feedFromConnection } from '../session/feed.js';
import type { Connection } from '../transport/connection.js';
import { NOT_PINGED } from '../irc/keep-alive.js';
import { CLIENT_ID, type IrcClientEntry, type ServerContext } from './registry.js';
import { shareStartedOptions } from './actor-options.js';
import { trimActorCollections } from './actor-collections.js';

/**
 * Starts a client actor at the least memory per connection: its observer set and listener map made
 * only if used (before start), one options object shared with its siblings (after start).
 */
function startLean(actor: Actor<AnyActorLogic>, server: AnyActorRef): void {
  trimActorCollections(actor);
  actor.start();
  shareStartedOptions(actor, server);
}

export function spawnLabClient(context: ServerContext, server: AnyActorRef, connection: Connection): void {
  const log = new ConnectionLogger(context.log, connection.info);
  const actor = createActor(clientLogic, { parent: server, id: CLIENT_ID, input: { connection, settings: context.clientSettings, log, server } });
  context.counters.accepted++;
  logWithin(context.clientSettings.lineBudget, log, 'info', {}, 'connected');
  startLean(actor, server);
  // No observer per client actor (it costs a few hundred bytes per connection): its end and
  // its failure reach the supervisor as the xstate.done/error events every child sends its parent.
  context.clients.set(connection.info.id, { actor, connection, feed: feedFromConnection(actor, connection), door: 'lab' });
}

export function spawnIrcClient(context: ServerContext, server: AnyActorRef, connection: Connection<IrcInput>): void {
  const irc = context.irc!;
  const log = new ConnectionLogger(context.log, connection.info);
  const actor = createActor(ircClientLogic, { parent: server, id: CLIENT_ID, input: { connection, settings: irc.settings, log, server } });
  context.counters.accepted++;
  const door = connection.info.transport === 'websocket' ? 'web' : 'irc';
  logWithin(context.clientSettings.lineBudget, log, 'info', { door }, 'connected');
  startLean(actor, server);
  // Written out, not spread: a literal of known fields keeps them all in the object itself.
  const entry: IrcClientEntry = { actor, connection, feed: feedFromIrcConnection(actor, connection), door, person: actor.getSnapshot().context.person, heardBytes: 0, heardAt: 0, pingedAt: NOT_PINGED };
  irc.sweeper.watch(entry);
  context.clients.set(connection.info.id, entry);
}
