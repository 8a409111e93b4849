import { assertEvent, enqueueActions, setup, type Actor, type AnyActorRef } from 'xstate';
import { isLater, sendWhenSettled } from '../src/answer.js';
import { ConnectionAdmission } from '../src/transport/admission.js';
import { foldedRoomName, ircDoorState, roomStopped } from '../src/supervision/irc-door.js';
import { answerIrc, decideNick, deliverRemoteDirect } from '../src/supervision/irc-requests.js';
import { spawnIrcClient, spawnLabClient } from '../src/supervision/spawn.js';
import { eventToRetry, roomFailureMessage } from '../src/supervision/room-failure.js';
import { LogBudget, logWithin } from '../src/log.js';
import { protocolError } from '../src/protocol/errors.js';
import type { RoomRef } from '../src/protocol/types.js';
import { roomIssuer } from '../src/rooms/issuing.js';
import {
  clientSettings,
  dropClient,
  joinRoom,
  startJoin,
  roomLimitRefusal,
  startRoom,
  newCounters,
  retireRoomStats,
  type ServerContext,
  type ServerInput,
  type ServerMachineEvent,
  type SupervisionEvent,
} from '../src/supervision/registry.js';
import type { ClientEvent } from './events.js';
import { listener } from './listener.js';
import { RoomFault, roomIsIdle, type roomLogic } from './room.js';
import { sharedStateUnavailable } from '../src/rooms/cluster-order.js';
import { closingLine, ircClients, listenerInput, listenerKey, unregisteredIrc } from '../src/supervision/doors.js';

export type { ServerContext, ServerInput } from '../src/supervision/registry.js';

export const serverMachine = setup({
  types: {
    context: {} as ServerContext,
    events: {} as ServerMachineEvent,
    input: {} as ServerInput,
  },
  actors: { listener },
  delays: {
    shutdownFlush: ({ context }) => context.options.shutdownFlushMs,
  },
  guards: {
    noClientsLeft: ({ context }) => context.clients.size === 0,
    labListening: ({ event }) => event.type === 'listener.listening' && event.door === 'lab' && !event.tls,
  },
  actions: {
    recordDoorAddress: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'listener.listening');
      const key = listenerKey(event.door, event.tls);
      if (key === null) return;
      enqueue.assign({ doorAddresses: { ...context.doorAddresses, [key]: { host: event.host, port: event.port } } });
      context.log.info({ host: event.host, port: event.port, door: event.door, tls: event.tls, serverName: context.options.serverName }, 'listening');
    }),
    recordAddress: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'listener.listening');
      enqueue.assign({ address: { host: event.host, port: event.port } });
      const { killService, maxConnections, maxConnectionsPerAddress, ipv6PrefixLength, trustedProxy } = context.options;
      context.log.info({ host: event.host, port: event.port, killService, maxConnections, maxConnectionsPerAddress, ipv6PrefixLength, trustedProxy }, 'listening');
    }),
    recordFailure: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'listener.failed');
      // Which door failed, for the start error's words.
      enqueue.assign({ failure: Object.assign(event.error, { door: event.door, tls: event.tls }) });
    }),
    spawnClient: ({ context, event, self }) => {
      assertEvent(event, 'listener.connection');
      spawnLabClient(context, self as AnyActorRef, event.connection);
    },
    spawnIrcClient: ({ context, event, self }) => {
      assertEvent(event, 'listener.ircConnection');
      spawnIrcClient(context, self as AnyActorRef, event.connection);
    },
    /** What IRC asks of the nick registry and of rooms it is not in: answered at once (src/supervision/irc-door.ts). */
    answerIrc: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type === 'irc.claimNick' || event.type === 'irc.lookupNicks' || event.type === 'irc.lookupChannels' || event.type === 'irc.sendDirect' || event.type === 'irc.countUsers' || event.type === 'irc.releaseNick') {
        const { irc, issuer, rooms, cluster, clients } = context;
        answerIrc({ irc: irc!, issuer, rooms, cluster, clients, self, send: (to, message) => enqueue.sendTo(to, message) }, event);
      }
    }),
    decideNick: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'irc.nickDecided');
      decideNick({ irc: context.irc!, send: (to, message) => enqueue.sendTo(to, message) }, event.request, event.outcome);
    }),
    deliverRemoteDirect: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'irc.remoteDirect');
      if (context.irc) deliverRemoteDirect({ irc: context.irc, send: (to, message) => enqueue.sendTo(to, message) }, event.message);
    }),
    releasePerson: ({ context, event }) => {
      assertEvent(event, 'room.personGone');
      const nick = context.irc?.nicks.releaseLabPerson(event.person);
      if (nick) context.cluster?.nicks.release(nick, `l${event.person.host.slice('lab/'.length)}`).catch(() => {});
    },
    logRefusal: ({ context, event }) => {
      assertEvent(event, 'listener.refused');
      const refused = ++context.counters.refused;
      const kind = /per address/.test(event.reason) ? 'address' : /^origin /.test(event.reason) ? 'origin' : 'limit';
      context.counters.refusedBy.set(kind, (context.counters.refusedBy.get(kind) ?? 0) + 1);
      // `refused`: every refusal since start, so the count survives the budget.
      logWithin(context.refusalLogBudget, context.log, 'warn', { peer: event.peer, reason: event.reason, refused }, 'connection refused');
    },
    routeJoin: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'client.join');
      // IRC joins the live room whose name matches without regard to ASCII case, if no name matches exactly.
      if (event.fold && context.irc) event = { ...event, roomName: foldedRoomName(context.irc, context.issuer, context.rooms, event.roomName) };
      const refusal = roomLimitRefusal(context, context.issuer.knownRef(event.roomName));
      if (refusal) {
        enqueue.sendTo(event.client, { type: 'server.joinRefused', error: refusal });
        return;
      }
      const ticket = context.issuer.issueJoin(event.roomName, event.joinId);
      if (isLater(ticket)) {
        sendWhenSettled(self, ticket, (issued): SupervisionEvent => ({ type: 'join.issued', join: event, ticket: issued }), (): SupervisionEvent => ({ type: 'join.unavailable', client: event.client }));
        return;
      }
      const started = startJoin(context, self, event, ticket);
      if (started) enqueue.sendTo(started.room, started.message);
    }),
    joinIssuedRoom: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'join.issued');
      const started = startJoin(context, self, event.join, event.ticket);
      if (started) enqueue.sendTo(started.room, started.message);
    }),
    joinFacedRoom: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'join.faced');
      const { room, message } = joinRoom(context, self, event.join, event.ticket, event.nick);
      enqueue.sendTo(room, message);
    }),
    refuseUnavailableJoin: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'join.unavailable');
      enqueue.sendTo(event.client, { type: 'server.joinRefused', error: sharedStateUnavailable() });
    }),
    /** Lease lost: this node's connections go; the cluster announces their departures once. */
    dropFencedNode: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'cluster.fenced');
      if (event.closeConnections) context.counters.fencings++;
      // A new epoch voids every ref this node remembers: the names get new ones.
      if (event.forgetRooms) context.issuer.forgetRefs();
      if (!event.closeConnections) return;
      context.log.warn({ connections: context.clients.size }, 'cluster: closing every connection of a fenced node');
      for (const { actor, connection, door } of context.clients.values()) {
        connection.sendBeyondLimit(closingLine(door, protocolError('UNAVAILABLE', 'this node lost its place in the cluster; reconnect')));
        enqueue.sendTo(actor, { type: 'server.shutdown' });
      }
      for (const room of context.rooms.values()) enqueue.stopChild(room);
      context.rooms.clear();
    }),
    /** Whether a CHAT's ref names a room: the client waits for the answer, which goes straight to it. */
    answerLookup: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'client.lookupRoom');
      const { client, roomRef } = event;
      const known = context.issuer.roomExists(roomRef);
      if (isLater(known)) {
        sendWhenSettled(client, known, (exists): ClientEvent => ({ type: 'server.roomLookedUp', roomRef, known: exists }), (): ClientEvent => ({ type: 'server.joinRefused', error: sharedStateUnavailable() }));
        return;
      }
      enqueue.sendTo(client, { type: 'server.roomLookedUp', roomRef, known });
    }),
    stopEmptyRoom: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'room.empty');
      const room = context.rooms.get(event.roomRef);
      // A join may have reached it since it reported: then it is not empty any more.
      if (!room || !roomIsIdle(room.getSnapshot().context)) return;
      context.rooms.delete(event.roomRef);
      retireRoomStats(context, room.getSnapshot().context.stats);
      context.cluster?.unwatchRoom(event.roomRef);
      roomStopped(context.irc, event.roomRef, room.getSnapshot().context.name);
      enqueue.stopChild(room);
      context.log.debug({ room: event.roomRef }, 'room closed');
    }),
    forgetClient: ({ context, event }) => {
      assertEvent(event, 'xstate.done.actor.client');
      const entry = context.clients.get(event.output.connectionId);
      if (entry) dropClient(context, event.output.connectionId, entry);
    },
    /**
     * A client actor failed: its connection gets INTERNAL and is closed, its departures are
     * announced from the rooms its last snapshot was in; everything else carries on. The error
     * event does not say which actor failed (they share one id), so the failed ones are found by
     * their status: a scan of every connection, but only when something failed.
     */
    containClientFailures: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'xstate.error.actor.client');
      for (const [connectionId, entry] of context.clients) {
        const snapshot = entry.actor.getSnapshot();
        if (snapshot.status !== 'error') continue;
        context.counters.failures++;
        dropClient(context, connectionId, entry);
        const { connection } = entry;
        // Undefined when the actor failed before its first snapshot was made.
        const last = snapshot.context as typeof snapshot.context | undefined;
        context.log.error({ conn: connection.info.id, err: snapshot.error }, 'client actor failed; closing its connection');
        connection.sendBeyondLimit(closingLine(entry.door, protocolError('INTERNAL')));
        connection.close(context.options.shutdownFlushMs);
        if (!last || last.joinId === null) continue;
        for (const membership of last.rooms) {
          const room = context.rooms.get(membership.roomRef);
          if (room) enqueue.sendTo(room, { type: 'depart', joinId: last.joinId, client: entry.actor });
        }
      }
    }),
    /**
     * A room actor failed: it is restarted with its ref and membership (the protocol has no
     * message for "room failed"); the event it was handling is lost, and logged as such.
     */
    restartRoom: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'supervise.roomFailed');
      const { roomRef } = event;
      const failed = context.rooms.get(roomRef);
      if (!failed) return;
      context.counters.failures++;
      const last = failed.getSnapshot().context;
      const inFlight = event.error instanceof RoomFault ? event.error.event : null;
      const retry = eventToRetry(inFlight, context.retried);
      context.log.error(
        { room: roomRef, members: last.members.size, event: inFlight?.type, retried: retry !== null, err: event.error },
        roomFailureMessage(inFlight, retry),
      );
      retireRoomStats(context, last.stats);
      if (!retry && roomIsIdle(last)) {
        roomStopped(context.irc, roomRef, last.name);
        context.rooms.delete(roomRef);
        context.cluster?.unwatchRoom(roomRef);
        return;
      }
      const room = startRoom(self, roomRef, {
        ref: roomRef,
        name: last.name,
        testHooks: context.options.testHooks,
        order: last.order.handOver(),
        restore: { members: last.members, pendingJoins: last.pendingJoins, pendingLeaves: last.pendingLeaves, lastSeq: last.lastSeq, topic: last.topic },
      }, context.cluster);
      context.rooms.set(roomRef, room);
      context.counters.roomRestarts++;
      for (const member of last.members.values()) enqueue.sendTo(member.client, { type: 'room.restarted', roomRef, room });
      if (retry) {
        context.retried.add(retry);
        enqueue.sendTo(room, retry);
      }
    }),
    /** At most one warning a second: a descriptor shortage fails every accept while it lasts. */
    logAcceptFailure: ({ context, event }) => {
      assertEvent(event, 'listener.acceptFailed');
      context.counters.acceptFailures++;
      const now = Date.now();
      if (now - context.lastAcceptWarning < 1_000) return;
      context.lastAcceptWarning = now;
      context.log.warn({ err: event.error, acceptFailures: context.counters.acceptFailures, connections: context.clients.size }, 'accept failed');
    },
    logProxyRefusal: ({ context, event }) => {
      assertEvent(event, 'listener.proxyRefused');
      context.log.warn({ peer: event.peer, reason: event.reason }, 'trusted proxy connection dropped');
    },
    logFailure: ({ context, event }) => {
      assertEvent(event, 'xstate.error.actor.listener');
      context.log.error({ err: event.error }, 'listener failed');
    },
    logKill: ({ context, event }) => {
      assertEvent(event, 'client.killService');
      context.log.warn({ peer: event.peer }, 'KILL_SERVICE honoured: shutting down');
    },
    logStop: ({ context }) => {
      context.log.info({ connections: context.clients.size, rooms: context.rooms.size }, 'stopping');
    },
    shutDownClients: enqueueActions(({ context, enqueue }) => {
      for (const { actor } of context.clients.values()) enqueue.sendTo(actor, { type: 'server.shutdown' });
      for (const room of context.rooms.values()) enqueue.stopChild(room);
      context.rooms.clear();
    }),
    cutRemainingClients: enqueueActions(({ context, enqueue }) => {
      for (const { actor, connection, feed } of context.clients.values()) {
        feed.unsubscribe();
        connection.destroy();
        connection.release();
        enqueue.stopChild(actor);
      }
      context.clients.clear();
    }),
    stopKeepAlive: ({ context }) => {
      context.irc?.sweeper.stop();
    },
    logStopped: ({ context }) => {
      context.log.info('stopped');
    },
  },
}).createMachine({
  id: 'server',
  context: ({ input }) => {
    const rooms = new Map<RoomRef, Actor<typeof roomLogic>>();
    const clients: ServerContext['clients'] = new Map();
    const settings = clientSettings(input.options);
    let nextConnectionId = 0;
    return {
      options: input.options,
      log: input.log,
      startedAt: Date.now(),
      address: null,
      failure: null,
      clients,
      rooms,
      // A name whose room has members is never forgotten.
      issuer: roomIssuer(input.options.rememberedRooms, (ref) => rooms.has(ref), input.cluster),
      counters: newCounters(),
      lastAcceptWarning: 0,
      refusalLogBudget: new LogBudget(1, 10),
      clientSettings: settings,
      retried: new WeakSet(),
      cluster: input.cluster,
      admission: new ConnectionAdmission(input.options),
      connectionIds: { next: () => nextConnectionId++ },
      irc: ircDoorState(input.options, settings.lineBudget, settings.tally, () => unregisteredIrc(clients), () => ircClients(clients)),
      doorAddresses: {},
      tls: input.tls,
    };
  },
  initial: 'running',
  states: {
    running: {
      invoke: [
        { id: 'listener', src: 'listener', input: ({ context }) => listenerInput(context, 'lab', false) },
        { id: 'ircListener', src: 'listener', input: ({ context }) => listenerInput(context, 'irc', false) },
        { id: 'webListener', src: 'listener', input: ({ context }) => listenerInput(context, 'web', false) },
        { id: 'labTlsListener', src: 'listener', input: ({ context }) => listenerInput(context, 'lab', true) },
        { id: 'ircTlsListener', src: 'listener', input: ({ context }) => listenerInput(context, 'irc', true) },
        { id: 'webTlsListener', src: 'listener', input: ({ context }) => listenerInput(context, 'web', true) },
      ],
      initial: 'binding',
      states: {
        binding: {
          on: {
            'listener.listening': { guard: 'labListening', target: 'listening', actions: 'recordAddress' },
          },
        },
        listening: {
          on: {
            'listener.connection': { actions: 'spawnClient' },
            'listener.refused': { actions: 'logRefusal' },
            'listener.acceptFailed': { actions: 'logAcceptFailure' },
            'listener.proxyRefused': { actions: 'logProxyRefusal' },
          },
        },
      },
      on: {
        'listener.listening': { actions: 'recordDoorAddress' },
        'listener.failed': { target: '#server.failed', actions: 'recordFailure' },
        'listener.ircConnection': { actions: 'spawnIrcClient' },
        'irc.claimNick': { actions: 'answerIrc' },
        'irc.lookupNicks': { actions: 'answerIrc' },
        'irc.lookupChannels': { actions: 'answerIrc' },
        'irc.sendDirect': { actions: 'answerIrc' },
        'irc.countUsers': { actions: 'answerIrc' },
        'irc.releaseNick': { actions: 'answerIrc' },
        'room.personGone': { actions: 'releasePerson' },
        'client.join': { actions: 'routeJoin' },
        'join.issued': { actions: 'joinIssuedRoom' },
        'join.faced': { actions: 'joinFacedRoom' },
        'irc.nickDecided': { actions: 'decideNick' },
        'irc.remoteDirect': { actions: 'deliverRemoteDirect' },
        'join.unavailable': { actions: 'refuseUnavailableJoin' },
        'cluster.fenced': { actions: 'dropFencedNode' },
        'client.lookupRoom': { actions: 'answerLookup' },
        'room.empty': { actions: 'stopEmptyRoom' },
        'client.killService': { target: 'stopping', actions: 'logKill' },
        stop: { target: 'stopping' },
      },
    },
    /** Stop accepting (the listener stopped with `running`), flush and close every connection. */
    stopping: {
      entry: ['logStop', 'stopKeepAlive', 'shutDownClients'],
      always: { guard: 'noClientsLeft', target: 'stopped' },
      after: { shutdownFlush: { target: 'stopped', actions: 'cutRemainingClients' } },
    },
    stopped: { type: 'final', entry: 'logStopped' },
    failed: { type: 'final' },
  },
  on: {
    'xstate.done.actor.client': { actions: 'forgetClient' },
    'xstate.error.actor.client': { actions: 'containClientFailures' },
    // A room's failure is handled from the supervisor's own observer of that room, which knows
    // which one it was; this generic event must still be taken, or xstate fails the parent too.
    'xstate.error.actor.room': {},
    'supervise.roomFailed': { actions: 'restartRoom' },
    'xstate.error.actor.listener': { actions: 'logFailure' },
  },
});
