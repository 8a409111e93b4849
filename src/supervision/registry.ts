/**
 * The supervisor's state and the bookkeeping of its registries: which client and room actors it
 * holds, how a room actor is started (watched for failure) and a join handed to it, and how a
 * finished client is let go. The statechart and its rules are in actors/server.ts.
 */
import { RequestTally } from '../session/tally.js';
import type { TlsCredentials } from '../transport/tls-credentials.js';
import type { KeptAlive } from '../irc/keep-alive.js';
import { createActor, type Actor, type AnyActorRef } from 'xstate';
import type { Unsubscribable } from 'rxjs';
import type { Logger } from 'pino';
import type { ClientActorRef, ServerEvent } from '../../actors/events.js';
import type { ClientOutput, ClientSettings, clientLogic } from '../../actors/client.js';
import type { ircClientLogic } from '../../actors/irc-client.js';
import type { ConnectionAdmission } from '../transport/admission.js';
import { roomStarted, type IrcDoorState } from './irc-door.js';
import type { DirectMessage } from '../cluster/nicks.js';
import type { IrcPerson } from '../rooms/door.js';
import { nickFromName } from '../irc/names.js';
import { sendWhenSettled } from '../answer.js';
import { roomLogic, type RoomInput } from '../../actors/room.js';
import type { ClusterLink } from '../cluster/link.js';
import type { ResolvedOptions } from '../config.js';
import { LogBudget, printable } from '../log.js';
import { protocolError, type ProtocolError } from '../protocol/errors.js';
import { shareOptionsShape } from './actor-options.js';
import type { RoomRef } from '../protocol/types.js';
import { ClusterOrder } from '../rooms/cluster-order.js';
import type { JoinTicket, RoomIssuer } from '../rooms/issuing.js';
import { LocalOrder } from '../rooms/local-order.js';
import type { RoomOrder } from '../rooms/order.js';
import type { Connection } from '../transport/connection.js';

/** The door a client came by: the lab protocol, IRC over TCP, IRC over the web door's WebSocket. */
export type ClientDoor = 'lab' | 'irc' | 'web';

export interface ServerInput {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  /** Cluster mode: the link to the shared state in Redis; null on a single server. */
  readonly cluster: ClusterLink | null;
  /** The certificate and key the TLS listeners serve; null when TLS is off. */
  readonly tls: TlsCredentials | null;
}

/** The supervisor's running totals, read by the metrics (src/admin/metrics.ts) when scraped. */
export interface ServerCounters {
  accepted: number;
  refused: number;
  /** Refusals by kind: `limit` (the total), `address` (per address), `origin` (the web door's check). */
  readonly refusedBy: Map<string, number>;
  failures: number;
  /** Room actors restarted with their membership after a failure. */
  roomRestarts: number;
  acceptFailures: number;
  slowConsumers: number;
  fencings: number;
  /** Times a connection was slowed by the receive-flood limit (counted by the connections). */
  readonly floodsSlowed: { count: number };
  /** The figures of rooms and connections that are gone, so totals never go back. */
  readonly retired: { messagesRouted: number; deliveries: number; requests: number; errors: number; bytesIn: number; bytesOut: number };
}

export function newCounters(): ServerCounters {
  return { accepted: 0, refused: 0, refusedBy: new Map(), failures: 0, roomRestarts: 0, acceptFailures: 0, slowConsumers: 0, fencings: 0, floodsSlowed: { count: 0 }, retired: { messagesRouted: 0, deliveries: 0, requests: 0, errors: 0, bytesIn: 0, bytesOut: 0 } };
}

/** A room is gone (or replaced after a failure): its figures join the totals. */
export function retireRoomStats(context: ServerContext, stats: { messagesRouted: number; deliveries: number }): void {
  context.counters.retired.messagesRouted += stats.messagesRouted;
  context.counters.retired.deliveries += stats.deliveries;
}

/** A listener's place: a door, plain or over TLS (`irc`, `ircTls`, …); the lab's plain one is `address`. */
export type ListenerKey = 'irc' | 'web' | 'labTls' | 'ircTls' | 'webTls';

export interface ClientEntry {
  readonly actor: Actor<typeof clientLogic> | Actor<typeof ircClientLogic>;
  readonly connection: Connection<unknown>;
  /** The actor's subscription to its connection's requests. */
  readonly feed: Unsubscribable;
  /** The front door it came in by: the protocol of the lines the supervisor itself sends it. */
  readonly door: ClientDoor;
  /** An IRC connection's person (its actor's own, read-only here): for LUSERS. */
  readonly person?: IrcPerson;
}

/** An IRC or web connection's entry: with its keep-alive figures (src/irc/keep-alive.ts) on it. */
export interface IrcClientEntry extends ClientEntry, Omit<KeptAlive, 'actor' | 'connection'> {
  readonly person: IrcPerson;
}

export interface ServerContext {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  readonly startedAt: number;
  address: { host: string; port: number } | null;
  failure: Error | null;
  /**
   * The supervisor's own registries, mutated in place by this actor alone: the tree is large
   * (10,000 connections) and a copy per spawn would make accepting quadratic.
   */
  /** Keyed by connection id. */
  readonly clients: Map<number, ClientEntry>;
  readonly rooms: Map<RoomRef, Actor<typeof roomLogic>>;
  /** Room refs and join ids: this process's, or the cluster's (then some answers come later). */
  readonly issuer: RoomIssuer;
  readonly counters: ServerCounters;
  lastAcceptWarning: number;
  /** Refused connections logged at warn: 10 at once, then 1 a second. */
  readonly refusalLogBudget: LogBudget;
  /** The same for every client actor: made once, not per accepted connection. */
  readonly clientSettings: ClientSettings;
  /** Events already handed to a restarted room once. */
  readonly retried: WeakSet<object>;
  readonly cluster: ClusterLink | null;
  /** The connection limits, shared by every door's listener. */
  readonly admission: ConnectionAdmission;
  /** Connection ids, unique across doors. */
  readonly connectionIds: { next(): number };
  /** The IRC door, when it is open. */
  readonly irc: IrcDoorState | null;
  /** The IRC and web doors' bound addresses, once listening (null: not yet, or the door is off). */
  doorAddresses: Partial<Record<ListenerKey, { host: string; port: number }>>;
  readonly tls: TlsCredentials | null;
}

export type JoinEvent = Extract<ServerEvent, { type: 'client.join' }>;

/**
 * Every client actor has the id `client` and every room actor `room`: xstate memoizes the
 * transitions for each event type it sees, forever, so per-actor ids (and with them per-actor
 * `xstate.done.actor.<id>` event types) would grow the server's memory with every connection.
 * Which actor finished or failed travels in the event instead.
 */
export const CLIENT_ID = 'client';
const ROOM_ID = 'room';

export type SupervisionEvent =
  | { type: 'xstate.done.actor.client'; output: ClientOutput }
  | { type: 'xstate.error.actor.client'; error: unknown }
  | { type: 'xstate.error.actor.room'; error: unknown }
  | { type: 'xstate.error.actor.listener'; error: unknown }
  | { type: 'supervise.roomFailed'; roomRef: RoomRef; error: unknown }
  // A join's ticket that came later (from Redis, in a cluster), or Redis out of reach.
  | { type: 'join.issued'; join: JoinEvent; ticket: JoinTicket }
  | { type: 'join.unavailable'; client: ClientActorRef }
  /** Cluster mode: a lab member's IRC nick, taken in Redis before its first join under that name. */
  | { type: 'join.faced'; join: JoinEvent; ticket: JoinTicket; nick: string }
  /** Cluster mode: Redis's answer to an IRC nick claim. */
  | { type: 'irc.nickDecided'; request: Extract<ServerEvent, { type: 'irc.claimNick' }>; outcome: 'claimed' | 'taken' | 'unavailable' }
  /** Cluster mode: a private message from another node for one of this node's IRC users. */
  | { type: 'irc.remoteDirect'; message: DirectMessage }
  /** This node's lease was lost: its connections are closed (the cluster announces its members gone). */
  | { type: 'cluster.fenced'; closeConnections: boolean; forgetRooms: boolean };
export type ServerMachineEvent = ServerEvent | SupervisionEvent;

/** A room actor, watched by the supervisor for failure. */
export function startRoom(server: AnyActorRef, roomRef: RoomRef, input: Omit<RoomInput, 'server'>, cluster: ClusterLink | null): Actor<typeof roomLogic> {
  const room = createActor(roomLogic, { parent: server, id: ROOM_ID, input: { ...input, server } });
  shareOptionsShape(room);
  room.subscribe({ error: (error) => server.send({ type: 'supervise.roomFailed', roomRef, error }) });
  room.start();
  cluster?.watchRoom(roomRef, room);
  return room;
}

/** A new room's order: its own counter on a single server, the Redis sequencer in a cluster. */
export function newRoomOrder(cluster: ClusterLink | null): RoomOrder {
  return cluster ? new ClusterOrder(cluster) : new LocalOrder();
}

/** The room's limit: refused before a ref is handed out, so no room gets this name. */
export function roomLimitRefusal(context: ServerContext, known: RoomRef | undefined): ProtocolError | null {
  if ((known === undefined || !context.rooms.has(known)) && context.rooms.size >= context.options.maxRooms) {
    return protocolError('LIMIT_REACHED', `the server holds at most ${context.options.maxRooms} rooms`);
  }
  return null;
}

/** Hands a join to its room's actor, starting the actor on the room's first local join. */
export function joinRoom(context: ServerContext, server: AnyActorRef, event: JoinEvent, { roomRef, joinId }: JoinTicket, faceNick?: string) {
  let room = context.rooms.get(roomRef);
  if (!room) {
    room = startRoom(server, roomRef, { ref: roomRef, name: event.roomName, testHooks: context.options.testHooks, order: newRoomOrder(context.cluster) }, context.cluster);
    context.rooms.set(roomRef, room);
    roomStarted(context.irc, roomRef, event.roomName);
    context.log.debug({ room: roomRef, roomName: printable(event.roomName) }, 'room created');
  }
  // A lab member gets its IRC face (a nick made from its name) while an IRC door is open.
  const person = event.person ?? (context.irc ? context.irc.nicks.labPerson(joinId, event.clientName, event.connectionId, faceNick) : null);
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
        door: event.door,
        person,
      },
    },
  };
}

/**
 * Hands a join with its ticket to its room; in a cluster with an IRC door, a lab member's first
 * join under a name first takes its nick in Redis (the join goes on as `join.faced`).
 */
export function startJoin(context: ServerContext, server: AnyActorRef, event: JoinEvent, ticket: JoinTicket): ReturnType<typeof joinRoom> | null {
  const { irc, cluster } = context;
  if (!irc || !cluster || event.person !== null || irc.nicks.hasLabFace(ticket.joinId, event.clientName)) return joinRoom(context, server, event, ticket);
  const claim = cluster.nicks.claimFirstFree(nickFromName(event.clientName), `l${ticket.joinId}`, `lab@lab/${ticket.joinId}`);
  sendWhenSettled<string, SupervisionEvent>(server, claim, (nick) => ({ type: 'join.faced', join: event, ticket, nick }), () => ({ type: 'join.unavailable', client: event.client }));
  return null;
}

/** A client actor is done with (finished or failed): its feed stops and its connection's place is free. */
export function dropClient(context: ServerContext, connectionId: number, entry: ClientEntry): void {
  entry.feed.unsubscribe();
  const { retired } = context.counters;
  const { stats } = entry.actor.getSnapshot().context;
  retired.requests += stats.requests;
  retired.errors += stats.errors;
  retired.bytesIn += entry.connection.bytesIn();
  retired.bytesOut += entry.connection.bytesOut();
  if (entry.connection.outputOverflowedOnce()) context.counters.slowConsumers++;
  context.clients.delete(connectionId);
  entry.connection.release();
  const nick = context.irc?.nicks.releaseConnection(connectionId);
  if (nick) context.cluster?.nicks.release(nick, `c${connectionId}`).catch(() => {});
}

/** The same for every client actor: made once, not per accepted connection. */
export function clientSettings(options: ResolvedOptions): ClientSettings {
  return {
    studentId: options.studentId,
    advertiseIp: options.advertiseIp,
    killService: options.killService,
    maxRoomsPerConnection: options.maxRoomsPerConnection,
    flushMs: options.shutdownFlushMs,
    testHooks: options.testHooks,
    lineBudget: new LogBudget(200, 2_000),
    tally: new RequestTally(),
  };
}
