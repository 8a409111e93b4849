import { createActor, enqueueActions, setup, type AnyActorRef } from 'xstate';
import type { Logger } from 'pino';
import type { ResolvedOptions } from '../src/config.js';
import { printable } from '../src/log.js';
import { protocolError } from '../src/protocol/errors.js';
import type { RoomRef } from '../src/protocol/types.js';
import { socketConnection, type Connection } from '../src/transport/connection.js';
import { FlushScheduler } from '../src/transport/outbound.js';
import { clientMachine, type ClientSettings } from './client.js';
import type { ClientActorRef, RoomActorRef, ServerEvent } from './events.js';
import { listener } from './listener.js';
import { RoomDirectory } from './room-directory.js';
import { roomMachine } from './room.js';

export interface ServerInput {
  readonly options: ResolvedOptions;
  readonly log: Logger;
}

interface ClientEntry {
  readonly actor: ClientActorRef;
  readonly connection: Connection;
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
  readonly clients: Map<string, ClientEntry>;
  readonly rooms: Map<RoomRef, RoomActorRef>;
  readonly directory: RoomDirectory;
  readonly counters: { connections: number; joinIds: number; accepted: number };
}

type ActorDoneEvent = { type: `xstate.done.actor.${string}`; actorId: string; output: unknown };
type ActorErrorEvent = { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };
type ServerMachineEvent = ServerEvent | ActorDoneEvent | ActorErrorEvent;

function clientSettings(options: ResolvedOptions): ClientSettings {
  return {
    studentId: options.studentId,
    advertiseIp: options.advertiseIp,
    killService: options.killService,
    maxRoomsPerConnection: options.maxRoomsPerConnection,
    flushMs: options.shutdownFlushMs,
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
      context.log.info({ host: event.host, port: event.port, killService: context.options.killService }, 'listening');
    }),
    recordFailure: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'listener.failed') enqueue.assign({ failure: event.error });
    }),
    spawnClient: ({ context, event, self }) => {
      if (event.type !== 'listener.connection') return;
      const id = context.counters.connections++;
      const connection = socketConnection(id, event.socket, context.scheduler, {
        limits: { maxLineBytes: context.options.maxLineBytes, maxRequestBytes: context.options.maxRequestBytes },
        quietMs: context.options.quietMs,
        keepAliveMs: context.options.keepAliveMs,
      });
      const log = context.log.child({ conn: id, peer: `${connection.info.peerAddress}:${connection.info.peerPort}` });
      const actor = createActor(clientMachine, {
        parent: self as AnyActorRef,
        id: `client-${id}`,
        input: { connection, settings: clientSettings(context.options), log },
      });
      context.clients.set(actor.id, { actor, connection });
      context.counters.accepted++;
      log.info('connected');
      actor.start();
    },
    routeJoin: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'client.join') return;
      const joinId = event.joinId ?? context.counters.joinIds++;
      const roomRef = context.directory.refFor(event.roomName, (ref) => context.rooms.has(ref));
      let room = context.rooms.get(roomRef);
      if (!room) {
        if (context.rooms.size >= context.options.maxRooms) {
          enqueue.sendTo(event.client, {
            type: 'server.joinRefused',
            error: protocolError('LIMIT_REACHED', `the server holds at most ${context.options.maxRooms} rooms`),
          });
          return;
        }
        room = createActor(roomMachine, { parent: self as AnyActorRef, id: `room-${roomRef}`, input: { ref: roomRef, name: event.roomName } });
        context.rooms.set(roomRef, room);
        room.start();
        context.log.info({ room: roomRef, roomName: printable(event.roomName) }, 'room created');
      }
      enqueue.sendTo(room, {
        type: 'join',
        member: {
          joinId,
          clientName: event.clientName,
          client: event.client,
          outbound: event.outbound,
          serverIp: event.serverIp,
          serverPort: event.serverPort,
        },
      });
    }),
    answerLookup: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'client.lookupRoom') return;
      enqueue.sendTo(event.client, { type: 'server.roomLookedUp', roomRef: event.roomRef, known: context.directory.knows(event.roomRef) });
    }),
    stopEmptyRoom: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'room.empty') return;
      const room = context.rooms.get(event.roomRef);
      if (!room) return;
      context.rooms.delete(event.roomRef);
      enqueue.stopChild(room);
      context.log.info({ room: event.roomRef }, 'room closed');
    }),
    forgetChild: ({ context, event }) => {
      if (!('actorId' in event)) return;
      context.clients.delete(event.actorId);
    },
    containFailure: ({ context, event }) => {
      if (!('error' in event) || !('actorId' in event)) return;
      const entry = context.clients.get(event.actorId);
      context.log.error({ actor: event.actorId, err: event.error }, 'actor failed');
      if (entry) {
        entry.connection.destroy();
        context.clients.delete(event.actorId);
      }
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
      for (const { actor, connection } of context.clients.values()) {
        connection.destroy();
        enqueue.stopChild(actor);
      }
      context.clients.clear();
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
    counters: { connections: 0, joinIds: 0, accepted: 0 },
  }),
  initial: 'running',
  states: {
    running: {
      invoke: {
        id: 'listener',
        src: 'listener',
        input: ({ context }) => ({ port: context.options.port, host: context.options.host }),
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
          },
        },
      },
      on: {
        'client.join': { actions: 'routeJoin' },
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
    'xstate.done.actor.*': { actions: 'forgetChild' },
    'xstate.error.actor.*': { actions: 'containFailure' },
  },
});
