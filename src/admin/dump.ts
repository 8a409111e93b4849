import type { ClientEvent } from '../../actors/events.js';
import type { ClientContext } from '../../actors/client.js';
import type { IrcClientContext } from '../irc/session/state.js';
import type { RoomContext } from '../../actors/room.js';
import type { ServerContext } from '../../actors/server.js';
import type { KillServicePolicy } from '../config.js';
import type { JoinId, RoomRef } from '../protocol/types.js';

/**
 * The debug dump: what the actor tree is doing right now, as one JSON document (schema in
 * docs/dump.md). Every section is mapped from an actor's own xstate snapshot; nothing here
 * keeps state of its own, so the dump cannot drift from the actors.
 */

export const DUMP_VERSION = 1;

export interface DumpDocument {
  readonly version: typeof DUMP_VERSION;
  /** ISO time the dump was started. */
  readonly takenAt: string;
  /** How long collecting took (it yields to chat between slices of actors). */
  readonly tookMs: number;
  readonly server: ServerDump;
  readonly rooms: readonly RoomDump[];
  readonly clients: readonly ClientDump[];
  readonly process: ProcessDump;
  /** Cluster mode only (absent on a single server): the cluster as Redis holds it. */
  readonly cluster?: ClusterDump;
}

export interface ClusterDump {
  /** This node's id. */
  readonly node: number;
  /** The Redis URL, password hidden. */
  readonly redis: string;
  /** Set when Redis could not be read in time; the lists are then empty. */
  readonly error: string | null;
  /** Live nodes: each one's id, how it describes itself, and its lease's time left. */
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly description: string | null; readonly leaseExpiresInMs: number | null }>;
  /** Rooms with members, each member with the node it is on (at most the first 1,000 rooms). */
  readonly rooms: ReadonlyArray<{ readonly ref: RoomRef; readonly name: string; readonly members: ReadonlyArray<{ readonly joinId: JoinId; readonly node: number; readonly name: string }> }>;
}

export interface ServerDump {
  readonly id: string;
  /** The state path, e.g. `running.listening`, `stopping`. */
  readonly state: string;
  /** xstate's actor status: `active`, `done`, `error`, `stopped`. */
  readonly status: string;
  readonly startedAt: string;
  readonly uptimeMs: number;
  readonly address: { readonly host: string; readonly port: number } | null;
  readonly counts: {
    readonly connections: number;
    readonly rooms: number;
    /** Room names holding a ref, rooms without members included. */
    readonly roomNames: number;
    readonly acceptedTotal: number;
    readonly joinIdsIssued: number;
  };
  readonly policy: {
    readonly killService: KillServicePolicy;
    readonly maxRooms: number;
    readonly maxRoomsPerConnection: number;
    readonly maxLineBytes: number;
    readonly maxRequestBytes: number;
    readonly quietMs: number;
  };
}

export interface RoomDump {
  readonly id: string;
  readonly ref: RoomRef;
  readonly name: string;
  readonly state: string;
  /** In join order. */
  readonly members: ReadonlyArray<{ readonly joinId: JoinId; readonly name: string; readonly client: string }>;
  readonly messagesRouted: number;
  /** Encoded messages handed to members' outbound streams (the data plane, counted not traced). */
  readonly deliveries: number;
  readonly lastSeq: number;
  readonly lastActivity: string;
}

export interface ClientDump {
  readonly id: string;
  readonly peer: { readonly address: string; readonly port: number };
  readonly state: string;
  readonly joinId: JoinId | null;
  /** In join order; `as` is the name the connection joined that room with. */
  readonly rooms: ReadonlyArray<{ readonly ref: RoomRef; readonly name: string; readonly as: string }>;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Outbound bytes accepted but not yet written to the socket. */
  readonly queuedBytes: number;
  /** Requests read and waiting their turn: behind one that is with a room or the server, or a burst's next turns. */
  readonly deferredRequests: number;
  readonly requests: number;
  readonly errors: number;
  /** The front door it came in by: the lab protocol, IRC over TCP, or IRC over the web door's WebSocket. */
  readonly door: 'lab' | 'irc' | 'web';
  /** Over TLS (a TLS port, or the web door's HTTPS port). */
  readonly tls: boolean;
  /** IRC (either door): its nick (`*` before one is accepted) and the IRCv3 capabilities it enabled. */
  readonly nick?: string;
  readonly caps?: readonly string[];
}

export interface ProcessDump {
  readonly pid: number;
  readonly uptimeMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  /** Event-loop delay since the previous dump (or the server's start), in milliseconds. */
  readonly eventLoopDelayMs: { readonly mean: number; readonly p50: number; readonly p99: number; readonly max: number };
}

/** The part of an xstate snapshot the dump reads. */
export interface ActorSnapshot<TContext> {
  readonly value: unknown;
  readonly status: string;
  readonly context: TContext;
}

/** `{ running: 'listening' }` → `running.listening`. */
export function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    // A parallel state's regions are listed side by side.
    return Object.entries(value).map(([key, child]) => `${key}.${stateName(child)}`).join(',');
  }
  return String(value);
}

export function serverDump(id: string, snapshot: ActorSnapshot<ServerContext>, now: number): ServerDump {
  const { context } = snapshot;
  const { options } = context;
  return {
    id,
    state: stateName(snapshot.value),
    status: snapshot.status,
    startedAt: new Date(context.startedAt).toISOString(),
    uptimeMs: now - context.startedAt,
    address: context.address,
    counts: {
      connections: context.clients.size,
      rooms: context.rooms.size,
      roomNames: context.issuer.roomNames,
      acceptedTotal: context.counters.accepted,
      joinIdsIssued: context.issuer.joinIdsIssued,
    },
    policy: {
      killService: options.killService,
      maxRooms: options.maxRooms,
      maxRoomsPerConnection: options.maxRoomsPerConnection,
      maxLineBytes: options.maxLineBytes,
      maxRequestBytes: options.maxRequestBytes,
      quietMs: options.quietMs,
    },
  };
}

export function roomDump(id: string, snapshot: ActorSnapshot<RoomContext>): RoomDump {
  const { context } = snapshot;
  return {
    id,
    ref: context.ref,
    name: context.name,
    state: stateName(snapshot.value),
    members: Array.from(context.members.values(), (member) => ({ joinId: member.joinId, name: member.clientName, client: `client-${member.connectionId}` })),
    messagesRouted: context.stats.messagesRouted,
    deliveries: context.stats.deliveries,
    lastSeq: context.lastSeq,
    lastActivity: new Date(context.stats.lastActivity).toISOString(),
  };
}

export function clientDump(id: string, snapshot: ActorSnapshot<ClientContext | IrcClientContext>): ClientDump {
  const { context } = snapshot;
  const { connection } = context;
  const ircDoor = connection.info.transport === 'websocket' ? ('web' as const) : ('irc' as const);
  const irc = 'person' in context ? { door: ircDoor, nick: context.person.nick, caps: [...context.person.caps].sort() } : { door: 'lab' as const };
  return {
    id,
    peer: { address: connection.info.peerAddress, port: connection.info.peerPort },
    tls: connection.info.encrypted,
    state: stateName(snapshot.value),
    joinId: context.joinId,
    rooms: context.rooms.map((membership) => ({ ref: membership.roomRef, name: membership.roomName, as: membership.clientName })),
    bytesIn: connection.bytesIn(),
    bytesOut: connection.bytesOut(),
    queuedBytes: connection.queuedBytes(),
    deferredRequests: deferredRequests(context.deferred) + connection.queuedRequests(),
    requests: context.stats.requests,
    errors: context.stats.errors,
    ...irc,
  };
}

/** Requests kept while the client waits: a run of chats counts as its chats. */
function deferredRequests(deferred: readonly ClientEvent[]): number {
  let count = 0;
  for (const event of deferred) count += event.type === 'request.chats' ? event.requests.length : event.type === 'irc.channelMessages' ? event.messages.length : 1;
  return count;
}
