import { createActor, enqueueActions, setup, type Actor, type AnyActorRef } from 'xstate';
import type { Socket } from 'node:net';
import type { Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { ResolvedOptions } from '../src/config.js';
import { ConnectionLogger, LogBudget, logWithin, printable } from '../src/log.js';
import { encodeError } from '../src/protocol/encode.js';
import { protocolError } from '../src/protocol/errors.js';
import type { RoomRef } from '../src/protocol/types.js';
import { addressKey, isLoopback, plainAddress } from '../src/transport/address.js';
import { socketConnection, type Connection, type TransportOptions } from '../src/transport/connection.js';
import { FlushScheduler } from '../src/transport/outbound.js';
import { refuseSocket } from '../src/transport/reset.js';
import { clientMachine, feedFromConnection, type ClientOutput, type ClientSettings } from './client.js';
import type { ClientActorRef, ServerEvent } from './events.js';
import { parseTrustedProxies } from '../src/transport/trusted-proxies.js';
import { listener } from './listener.js';
import { RoomDirectory } from './room-directory.js';
import { RoomFault, roomIsIdle, roomMachine, type RoomInput } from './room.js';
import { sharedStateUnavailable } from './room-cluster.js';
import type { ClusterLink } from '../src/cluster/link.js';

export interface ServerInput {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  /** Cluster mode: the link to the shared state in Redis; null on a single server. */
  readonly cluster: ClusterLink | null;
}

interface ClientEntry {
  readonly actor: Actor<typeof clientMachine>;
  readonly connection: Connection;
  /** The actor's subscription to its connection's requests. */
  readonly feed: Subscription;
}

export interface ServerContext {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  readonly startedAt: number;
  readonly scheduler: FlushScheduler;
  address: { host: string; port: number } | null;
  failure: Error | null;
  /**
   * The supervisor's own registries, mutated in place by this actor alone: the tree is large
   * (10,000 connections) and a copy per spawn would make accepting quadratic.
   */
  /** Keyed by connection id. */
  readonly clients: Map<number, ClientEntry>;
  readonly rooms: Map<RoomRef, Actor<typeof roomMachine>>;
  readonly directory: RoomDirectory;
  /** Open connections per peer address (IPv6: per prefix; see addressKey), for the per-address limit. */
  readonly connectionsByAddress: Map<string, number>;
  readonly counters: { connections: number; joinIds: number; accepted: number; refused: number; failures: number; acceptFailures: number };
  lastAcceptWarning: number;
  /** Refused connections logged at warn: 10 at once, then 1 a second. */
  readonly refusalLogBudget: LogBudget;
  readonly transport: TransportOptions;
  /** The same for every client actor: made once, not per accepted connection. */
  readonly clientSettings: ClientSettings;
  /** Events already handed to a restarted room once. */
  readonly retried: WeakSet<object>;
  readonly cluster: ClusterLink | null;
}

type JoinEvent = Extract<ServerEvent, { type: 'client.join' }>;

/**
 * Every client actor has the id `client` and every room actor `room`: xstate memoizes the
 * transitions for each event type it sees, forever, so per-actor ids (and with them per-actor
 * `xstate.done.actor.<id>` event types) would grow the server's memory with every connection.
 * Which actor finished or failed travels in the event instead.
 */
const CLIENT_ID = 'client';
const ROOM_ID = 'room';

type SupervisionEvent =
  | { type: 'xstate.done.actor.client'; output: ClientOutput }
  | { type: 'xstate.error.actor.client'; error: unknown }
  | { type: 'xstate.error.actor.room'; error: unknown }
  | { type: 'xstate.error.actor.listener'; error: unknown }
  | { type: 'supervise.roomFailed'; roomRef: RoomRef; error: unknown }
  // Cluster mode: a join's ref and join id as Redis handed them out, or Redis out of reach.
  | { type: 'cluster.joinResolved'; join: JoinEvent; roomRef: RoomRef; joinId: number }
  | { type: 'cluster.joinUnavailable'; client: ClientActorRef }
  /** This node's lease was lost: its connections are closed (the cluster announces its members gone). */
  | { type: 'cluster.fenced'; closeConnections: boolean; forgetRooms: boolean };
type ServerMachineEvent = ServerEvent | SupervisionEvent;

/** The hard output limit, as a multiple of the soft one: room for one burst, not for a backlog. */
const HARD_OUTPUT_FACTOR = 8;

function transportOptions(options: ResolvedOptions): TransportOptions {
  return {
    limits: { maxLineBytes: options.maxLineBytes, maxRequestBytes: options.maxRequestBytes },
    quietMs: options.quietMs,
    requestTimeoutMs: options.requestTimeoutMs,
    keepAliveMs: options.keepAliveMs,
    output: {
      softBytes: options.maxSendQueueBytes,
      hardBytes: options.maxSendQueueBytes * HARD_OUTPUT_FACTOR,
      graceMs: options.slowConsumerGraceMs,
    },
    flood: { bytesPerSecond: options.floodBytesPerSecond, burstBytes: options.floodBurstBytes },
  };
}

/** Why a new connection is refused, or null: the limits on connections in total and per address. */
function connectionRefusal(context: ServerContext, address: string, key: string): string | null {
  const { maxConnections, maxConnectionsPerAddress, ipv6PrefixLength } = context.options;
  if (context.clients.size >= maxConnections) return `the server holds at most ${maxConnections} connections`;
  if (!isLoopback(address) && (context.connectionsByAddress.get(key) ?? 0) >= maxConnectionsPerAddress) {
    return key === address ? `at most ${maxConnectionsPerAddress} connections per address` : `at most ${maxConnectionsPerAddress} connections per address (IPv6: per /${ipv6PrefixLength})`;
  }
  return null;
}

/** A refused connection gets its one error reply and is closed at once; it never gets an actor. */
function refuseConnection(socket: Socket, description: string): void {
  refuseSocket(socket, encodeError(protocolError('LIMIT_REACHED', description)));
}

/** A room actor, watched by the supervisor for failure. */
function startRoom(server: AnyActorRef, roomRef: RoomRef, input: RoomInput): Actor<typeof roomMachine> {
  const room = createActor(roomMachine, { parent: server, id: ROOM_ID, input });
  room.subscribe({ error: (error) => server.send({ type: 'supervise.roomFailed', roomRef, error }) });
  room.start();
  input.cluster?.watchRoom(roomRef, room);
  return room;
}

/** The room's limit: refused before a ref is handed out, so no room gets this name. */
function roomLimitRefusal(context: ServerContext, known: RoomRef | undefined) {
  if ((known === undefined || !context.rooms.has(known)) && context.rooms.size >= context.options.maxRooms) {
    return protocolError('LIMIT_REACHED', `the server holds at most ${context.options.maxRooms} rooms`);
  }
  return null;
}

/** Hands a join to its room's actor, starting the actor on the room's first local join. */
function joinRoom(context: ServerContext, server: AnyActorRef, event: JoinEvent, roomRef: RoomRef, joinId: number) {
  let room = context.rooms.get(roomRef);
  if (!room) {
    room = startRoom(server, roomRef, { ref: roomRef, name: event.roomName, testHooks: context.options.testHooks, cluster: context.cluster ?? undefined });
    context.rooms.set(roomRef, room);
    context.log.debug({ room: roomRef, roomName: printable(event.roomName) }, 'room created');
  }
  return {
    room,
    message: {
      type: 'join' as const,
      member: {
        joinId,
        connectionId: event.connectionId,
        clientName: event.clientName,
        client: event.client,
        outbound: event.outbound,
        serverIp: event.serverIp,
        serverPort: event.serverPort,
      },
    },
  };
}

/** A client actor is done with (finished or failed): its feed stops and its address counts one less. */
function dropClient(context: ServerContext, connectionId: number, entry: ClientEntry): void {
  entry.feed.unsubscribe();
  context.clients.delete(connectionId);
  const address = addressKey(entry.connection.info.peerAddress, context.options.ipv6PrefixLength);
  const count = (context.connectionsByAddress.get(address) ?? 1) - 1;
  if (count <= 0) context.connectionsByAddress.delete(address);
  else context.connectionsByAddress.set(address, count);
}

function clientSettings(options: ResolvedOptions): ClientSettings {
  return {
    studentId: options.studentId,
    advertiseIp: options.advertiseIp,
    killService: options.killService,
    maxRoomsPerConnection: options.maxRoomsPerConnection,
    flushMs: options.shutdownFlushMs,
    testHooks: options.testHooks,
    lineBudget: new LogBudget(200, 2_000),
  };
}

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
  },
  actions: {
    recordAddress: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'listener.listening') return;
      enqueue.assign({ address: { host: event.host, port: event.port } });
      const { killService, maxConnections, maxConnectionsPerAddress, ipv6PrefixLength, trustedProxy } = context.options;
      context.log.info({ host: event.host, port: event.port, killService, maxConnections, maxConnectionsPerAddress, ipv6PrefixLength, trustedProxy }, 'listening');
    }),
    recordFailure: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'listener.failed') enqueue.assign({ failure: event.error });
    }),
    spawnClient: ({ context, event, self }) => {
      if (event.type !== 'listener.connection') return;
      const address = event.peer ? plainAddress(event.peer.address) : plainAddress(event.socket.remoteAddress);
      const key = addressKey(address, context.options.ipv6PrefixLength);
      const refusal = connectionRefusal(context, address, key);
      if (refusal) {
        const refused = ++context.counters.refused;
        // `refused`: every refusal since start, so the count survives the budget.
        logWithin(context.refusalLogBudget, context.log, 'warn', { peer: address, reason: refusal, refused }, 'connection refused');
        refuseConnection(event.socket, refusal);
        return;
      }
      const id = context.counters.connections++;
      const connection = socketConnection(id, event.socket, context.scheduler, context.transport, event.peer);
      context.connectionsByAddress.set(key, (context.connectionsByAddress.get(key) ?? 0) + 1);
      const log = new ConnectionLogger(context.log, connection.info);
      const actor = createActor(clientMachine, {
        parent: self as AnyActorRef,
        id: CLIENT_ID,
        input: { connection, settings: context.clientSettings, log },
      });
      context.counters.accepted++;
      logWithin(context.clientSettings.lineBudget, log, 'info', {}, 'connected');
      actor.start();
      // No observer per client actor (it costs a few hundred bytes per connection): its end and
      // its failure reach this actor as the xstate.done/error events every child sends its parent.
      context.clients.set(id, { actor, connection, feed: feedFromConnection(actor, connection) });
    },
    routeJoin: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'client.join') return;
      const known = context.directory.lookup(event.roomName);
      const refusal = roomLimitRefusal(context, known);
      if (refusal) {
        enqueue.sendTo(event.client, { type: 'server.joinRefused', error: refusal });
        return;
      }
      const { cluster } = context;
      if (cluster && (known === undefined || event.joinId === null)) {
        // Refs and join ids are the cluster's: handed out once, in Redis. A ref, once known, never changes.
        cluster.resolveJoin(event.roomName, event.joinId).then(
          ({ ref, joinId }) => self.send({ type: 'cluster.joinResolved', join: event, roomRef: ref, joinId }),
          () => self.send({ type: 'cluster.joinUnavailable', client: event.client }),
        );
        return;
      }
      const joinId = event.joinId ?? context.counters.joinIds++;
      const roomRef = known ?? context.directory.refFor(event.roomName, (ref) => context.rooms.has(ref));
      const { room, message } = joinRoom(context, self, event, roomRef, joinId);
      enqueue.sendTo(room, message);
    }),
    joinResolvedRoom: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'cluster.joinResolved') return;
      context.directory.remember(event.join.roomName, event.roomRef, (ref) => context.rooms.has(ref));
      const { room, message } = joinRoom(context, self, event.join, event.roomRef, event.joinId);
      enqueue.sendTo(room, message);
    }),
    refuseUnavailableJoin: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'cluster.joinUnavailable') enqueue.sendTo(event.client, { type: 'server.joinRefused', error: sharedStateUnavailable() });
    }),
    /** Lease lost: this node's connections go; the cluster announces their departures once. */
    dropFencedNode: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'cluster.fenced') return;
      // A new epoch voids every ref this node remembers: the names get new ones.
      if (event.forgetRooms) context.directory.clear();
      if (!event.closeConnections) return;
      context.log.warn({ connections: context.clients.size }, 'cluster: closing every connection of a fenced node');
      for (const { actor, connection } of context.clients.values()) {
        connection.sendBeyondLimit(Buffer.from(encodeError(protocolError('UNAVAILABLE', 'this node lost its place in the cluster; reconnect'))));
        enqueue.sendTo(actor, { type: 'server.shutdown' });
      }
      for (const room of context.rooms.values()) enqueue.stopChild(room);
      context.rooms.clear();
    }),
    answerLookup: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'client.lookupRoom') return;
      const { client, roomRef } = event;
      if (context.cluster && !context.directory.knows(roomRef)) {
        // Another node may have handed this ref out. The answer goes straight back to the client, which waits for it.
        context.cluster.roomExists(roomRef).then(
          (known) => client.send({ type: 'server.roomLookedUp', roomRef, known }),
          () => client.send({ type: 'server.joinRefused', error: sharedStateUnavailable() }),
        );
        return;
      }
      enqueue.sendTo(client, { type: 'server.roomLookedUp', roomRef, known: context.directory.knows(roomRef) });
    }),
    stopEmptyRoom: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'room.empty') return;
      const room = context.rooms.get(event.roomRef);
      // A join may have reached it since it reported: then it is not empty any more.
      if (!room || !roomIsIdle(room.getSnapshot().context)) return;
      context.rooms.delete(event.roomRef);
      context.cluster?.unwatchRoom(event.roomRef);
      enqueue.stopChild(room);
      context.log.debug({ room: event.roomRef }, 'room closed');
    }),
    forgetClient: ({ context, event }) => {
      if (event.type !== 'xstate.done.actor.client') return;
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
      if (event.type !== 'xstate.error.actor.client') return;
      for (const [connectionId, entry] of context.clients) {
        const snapshot = entry.actor.getSnapshot();
        if (snapshot.status !== 'error') continue;
        context.counters.failures++;
        dropClient(context, connectionId, entry);
        const { connection } = entry;
        // Undefined when the actor failed before its first snapshot was made.
        const last = snapshot.context as typeof snapshot.context | undefined;
        context.log.error({ conn: connection.info.id, err: snapshot.error }, 'client actor failed; closing its connection');
        connection.sendBeyondLimit(Buffer.from(encodeError(protocolError('INTERNAL'))));
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
      if (event.type !== 'supervise.roomFailed') return;
      const { roomRef } = event;
      const failed = context.rooms.get(roomRef);
      if (!failed) return;
      context.counters.failures++;
      const last = failed.getSnapshot().context;
      const inFlight = event.error instanceof RoomFault ? event.error.event : null;
      // A join, leave or departure is handed to the restarted room once (its client waits for the
      // answer); a chat in flight is lost. An event that fails twice is dropped.
      const retry = inFlight && (inFlight.type === 'join' || inFlight.type === 'leave' || inFlight.type === 'depart') && !context.retried.has(inFlight) ? inFlight : null;
      context.log.error(
        { room: roomRef, members: last.members.size, event: inFlight?.type, retried: retry !== null, err: event.error },
        retry ? 'room actor failed; restarting it with its membership and retrying the event in flight' : 'room actor failed; restarting it with its membership (the event in flight is lost)',
      );
      if (!retry && roomIsIdle(last)) {
        context.rooms.delete(roomRef);
        context.cluster?.unwatchRoom(roomRef);
        return;
      }
      const room = startRoom(self, roomRef, {
        ref: roomRef,
        name: last.name,
        testHooks: context.options.testHooks,
        cluster: context.cluster ?? undefined,
        restore: { members: last.members, lastSeq: last.lastSeq, departures: last.departures, cluster: last.cluster },
      });
      context.rooms.set(roomRef, room);
      for (const member of last.members.values()) enqueue.sendTo(member.client, { type: 'room.restarted', roomRef, room });
      if (retry) {
        context.retried.add(retry);
        enqueue.sendTo(room, retry);
      }
    }),
    /** At most one warning a second: a descriptor shortage fails every accept while it lasts. */
    logAcceptFailure: ({ context, event }) => {
      if (event.type !== 'listener.acceptFailed') return;
      context.counters.acceptFailures++;
      const now = Date.now();
      if (now - context.lastAcceptWarning < 1_000) return;
      context.lastAcceptWarning = now;
      context.log.warn({ err: event.error, acceptFailures: context.counters.acceptFailures, connections: context.clients.size }, 'accept failed');
    },
    logProxyRefusal: ({ context, event }) => {
      if (event.type === 'listener.proxyRefused') context.log.warn({ peer: event.peer, reason: event.reason }, 'trusted proxy connection dropped');
    },
    logFailure: ({ context, event }) => {
      if (event.type === 'xstate.error.actor.listener') context.log.error({ err: event.error }, 'listener failed');
    },
    logKill: ({ context, event }) => {
      if (event.type === 'client.killService') context.log.warn({ peer: event.peer }, 'KILL_SERVICE honoured: shutting down');
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
        enqueue.stopChild(actor);
      }
      context.clients.clear();
      context.connectionsByAddress.clear();
    }),
    logStopped: ({ context }) => {
      context.log.info('stopped');
    },
  },
}).createMachine({
  id: 'server',
  context: ({ input }) => ({
    options: input.options,
    log: input.log,
    startedAt: Date.now(),
    scheduler: new FlushScheduler(),
    address: null,
    failure: null,
    clients: new Map(),
    rooms: new Map(),
    directory: new RoomDirectory(input.options.rememberedRooms),
    connectionsByAddress: new Map(),
    counters: { connections: 0, joinIds: 0, accepted: 0, refused: 0, failures: 0, acceptFailures: 0 },
    lastAcceptWarning: 0,
    refusalLogBudget: new LogBudget(1, 10),
    transport: transportOptions(input.options),
    clientSettings: clientSettings(input.options),
    retried: new WeakSet(),
    cluster: input.cluster,
  }),
  initial: 'running',
  states: {
    running: {
      invoke: {
        id: 'listener',
        src: 'listener',
        input: ({ context }) => ({
          port: context.options.port,
          host: context.options.host,
          trustedProxies: context.options.trustedProxy ? parseTrustedProxies(context.options.trustedProxy) : null,
          proxyHeaderTimeoutMs: context.options.proxyHeaderTimeoutMs,
        }),
      },
      initial: 'binding',
      states: {
        binding: {
          on: {
            'listener.listening': { target: 'listening', actions: 'recordAddress' },
            'listener.failed': { target: '#server.failed', actions: 'recordFailure' },
          },
        },
        listening: {
          on: {
            'listener.connection': { actions: 'spawnClient' },
            'listener.acceptFailed': { actions: 'logAcceptFailure' },
            'listener.proxyRefused': { actions: 'logProxyRefusal' },
          },
        },
      },
      on: {
        'client.join': { actions: 'routeJoin' },
        'cluster.joinResolved': { actions: 'joinResolvedRoom' },
        'cluster.joinUnavailable': { actions: 'refuseUnavailableJoin' },
        'cluster.fenced': { actions: 'dropFencedNode' },
        'client.lookupRoom': { actions: 'answerLookup' },
        'room.empty': { actions: 'stopEmptyRoom' },
        'client.killService': { target: 'stopping', actions: 'logKill' },
        stop: { target: 'stopping' },
      },
    },
    /** Stop accepting (the listener stopped with `running`), flush and close every connection. */
    stopping: {
      entry: ['logStop', 'shutDownClients'],
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
