import { assertEvent, enqueueActions, sendParent, sendTo, setup } from 'xstate';
import { encodeChat, joinAnnouncement, leaveAnnouncement } from '../src/protocol/encode.js';
import type { JoinId, RoomRef } from '../src/protocol/types.js';
import type { ClusterLink } from '../src/cluster/link.js';
import type { ClientEvent, RoomCommand, RoomEvent, RoomMember, ServerEvent } from './events.js';
import { broadcast, replyJoined } from './fan-out.js';
import * as clustered from './room-cluster.js';
import type { ClusterRoom, ClusterRoomState, RoomIo } from './room-cluster.js';

/**
 * A room event with its place in the room's order. The ordering point (on one server: this actor's
 * own counter; in cluster mode: a Redis script, see room-cluster.ts) assigns `seq`; fan-out only
 * applies records in `seq` order, through the same broadcast (fan-out.ts) in both modes.
 */
export type RoomRecord =
  | { readonly seq: number; readonly kind: 'joined'; readonly member: RoomMember }
  | { readonly seq: number; readonly kind: 'chat'; readonly joinId: JoinId; readonly text: string }
  /** `reply` is null for a departure (DISCONNECT, closed connection): no reply is owed. */
  | { readonly seq: number; readonly kind: 'left'; readonly joinId: JoinId; readonly reply: string | null };

/** A departure waiting for its turn (see DELIVERIES_PER_TURN). */
export type Departure = Extract<RoomEvent, { type: 'depart' }>;

/**
 * Deliveries a room makes per turn of the event loop while it works through departures. Each
 * departure is announced to everyone still in the room, so when thousands of members go at once
 * (a load generator stopped) carrying each out as it arrives is n² deliveries in the one turn that
 * reads the closes, and every other connection waits for all of it. Queued instead, they are
 * carried out in later turns, about this many deliveries a turn (at least one departure), and
 * the replies and room traffic of the connections that remain go out in between.
 */
const DELIVERIES_PER_TURN = 50_000;

export interface RoomInput {
  readonly ref: RoomRef;
  readonly name: string;
  readonly testHooks?: boolean;
  /** Cluster mode: the link to the ordering point in Redis. Absent: this actor orders its events itself. */
  readonly cluster?: ClusterLink;
  /** A restart after a failure: the membership and order the failed actor had. */
  readonly restore?: {
    readonly members: ReadonlyMap<JoinId, RoomMember>;
    readonly lastSeq: number;
    /** Departures the failed actor had queued, in their order. */
    readonly departures?: readonly Departure[];
    /** Cluster mode: the failed actor's side of the cluster (its order, its joins and leaves under way). */
    readonly cluster?: ClusterRoomState | null;
  };
}

/**
 * A room actor's failure, with the event it was handling: the supervisor restarts the room and
 * hands a control event (join, leave, departure) to the new one, so no client waits forever.
 */
export class RoomFault extends Error {
  override readonly name = 'RoomFault';
  constructor(readonly event: RoomEvent, options?: { cause?: unknown }) {
    super(`room failed while handling ${event.type}`, options);
  }
}

export interface RoomStats {
  messagesRouted: number;
  deliveries: number;
  lastActivity: number;
}

export interface RoomContext {
  readonly ref: RoomRef;
  readonly name: string;
  /**
   * Members in join order. Mutated in place by this actor alone: a copy per join would make a
   * join storm quadratic, and no other actor can reach it.
   */
  readonly members: Map<JoinId, RoomMember>;
  /** The last sequence number this room's ordering point handed out. */
  lastSeq: number;
  /** Departures not carried out yet, in arrival order; on a single server only. */
  readonly departures: Departure[];
  /** A turn to carry departures out is scheduled. */
  departuresScheduled: boolean;
  readonly stats: RoomStats;
  readonly testHooks: boolean;
  /** Test-only: the next event fails (a fault in the middle of real work). */
  failNext: boolean;
  /** Cluster mode's side of the room; null on a single server. */
  readonly cluster: ClusterRoomState | null;
}

/** The local ordering point: gives a command its place in the room's order (or none). */
export function orderLocally(context: RoomContext, event: RoomCommand): RoomRecord | null {
  const present = context.members.has(event.type === 'join' ? event.member.joinId : event.joinId);
  switch (event.type) {
    case 'join':
      return present ? null : { seq: ++context.lastSeq, kind: 'joined', member: event.member };
    case 'chat':
      return present ? { seq: ++context.lastSeq, kind: 'chat', joinId: event.joinId, text: event.text } : null;
    case 'leave':
      return present ? { seq: ++context.lastSeq, kind: 'left', joinId: event.joinId, reply: event.reply } : null;
    case 'depart':
      return present ? { seq: ++context.lastSeq, kind: 'left', joinId: event.joinId, reply: null } : null;
  }
}

/** Fan-out: applies one ordered record to the membership and posts its bytes to the members. */
export function applyRecord(context: RoomContext, record: RoomRecord): void {
  const { members, ref } = context;
  context.stats.lastActivity = Date.now();
  switch (record.kind) {
    case 'joined': {
      const { member } = record;
      members.set(member.joinId, member);
      // The joiner's reply keeps its place before the announcement, as on the wire.
      replyJoined(context, member);
      broadcast(context, encodeChat(ref, member.clientName, joinAnnouncement(member.clientName)));
      return;
    }
    case 'chat': {
      const sender = members.get(record.joinId);
      if (!sender) return;
      context.stats.messagesRouted++;
      broadcast(context, encodeChat(ref, sender.clientName, record.text));
      return;
    }
    case 'left': {
      const leaver = members.get(record.joinId);
      if (!leaver) return;
      if (record.reply !== null) leaver.outbound.next(Buffer.from(record.reply));
      // Sent before the leaver is removed: the leaver hears its own departure too.
      broadcast(context, encodeChat(ref, leaver.clientName, leaveAnnouncement(leaver.clientName)));
      members.delete(record.joinId);
      return;
    }
  }
}

/** Nothing of the room left on this node: no member, nothing in flight to the ordering point. */
export function roomIsIdle(context: RoomContext): boolean {
  return context.cluster ? clustered.clusterRoomIdle(clusterRoom(context)) : context.members.size === 0;
}

/** Orders and applies one command: a failure carries the command, for the supervisor to retry. */
function orderAndApplyCommand(context: RoomContext, event: RoomEvent): void {
  try {
    if (context.failNext) {
      context.failNext = false;
      throw new Error('fault injected by a test');
    }
    if (!isCommand(event)) return;
    const record = orderLocally(context, event);
    if (record) applyRecord(context, record);
  } catch (cause) {
    throw new RoomFault(event, { cause });
  }
}

/** The room's next turn: a plain function handed the room, not a closure per schedule. */
function departuresTurn(room: { send(event: RoomEvent): void; getSnapshot(): { status: string } }): void {
  // A room stopped meanwhile (emptied, or the server stopping) has nothing left to announce to.
  if (room.getSnapshot().status === 'active') room.send({ type: 'room.departures' });
}

function scheduleDepartures(context: RoomContext, self: { send(event: RoomEvent): void; getSnapshot(): { status: string } }): void {
  if (context.departuresScheduled || context.departures.length === 0) return;
  context.departuresScheduled = true;
  setImmediate(departuresTurn, self);
}

function isCommand(event: RoomEvent): event is RoomCommand {
  return event.type === 'join' || event.type === 'chat' || event.type === 'leave' || event.type === 'depart';
}

function clusterRoom(context: RoomContext): ClusterRoom {
  if (!context.cluster) throw new Error('a cluster action ran in a single-server room');
  return context as ClusterRoom;
}

export const roomMachine = setup({
  types: {
    context: {} as RoomContext,
    events: {} as RoomEvent,
    input: {} as RoomInput,
  },
  actions: {
    orderAndApply: ({ context, event }) => orderAndApplyCommand(context, event),
    queueDeparture: ({ context, event, self }) => {
      assertEvent(event, 'depart');
      context.departures.push(event);
      scheduleDepartures(context, self);
    },
    /**
     * This turn's share of the queued departures, in their order; each departer is told once its
     * departure is announced. Other commands are not held behind them: no member can act on a
     * departure before it is announced, so the room's one order stays one order either way.
     */
    applyDepartures: enqueueActions(({ context, enqueue, self }) => {
      context.departuresScheduled = false;
      const count = Math.max(1, Math.floor(DELIVERIES_PER_TURN / Math.max(1, context.members.size)));
      const batch = context.departures.splice(0, count);
      for (let i = 0; i < batch.length; i++) {
        const departure = batch[i]!;
        try {
          orderAndApplyCommand(context, departure);
        } catch (fault) {
          // The failed one is retried by the supervisor; the rest keep their place for the restarted room.
          context.departures.unshift(...batch.slice(i + 1));
          throw fault;
        }
        enqueue.sendTo(departure.client, { type: 'room.departed', roomRef: context.ref });
      }
      scheduleDepartures(context, self);
    }),
    resumeDepartures: ({ context, self }) => scheduleDepartures(context, self),
    armFault: ({ context }) => {
      context.failNext = true;
    },
    /** A repeated join keeps the first name; it answers JOINED_CHATROOM again and announces nothing. */
    answerRepeatedJoin: ({ context, event }) => {
      if (event.type !== 'join') return;
      replyJoined(context, event.member);
    },
    /** A leave the room has no member for (it raced a departure) is still owed its echo. */
    answerStrayLeave: ({ event }) => {
      if (event.type === 'leave') event.outbound.next(Buffer.from(event.reply));
    },
    // The answers a client waits for before its next request: one action per command, no switch.
    confirmJoin: sendTo(
      ({ event }) => {
        assertEvent(event, 'join');
        return event.member.client;
      },
      ({ context, event, self }): ClientEvent => {
        assertEvent(event, 'join');
        const { member: joining } = event;
        const member = context.members.get(joining.joinId) ?? joining;
        return { type: 'room.joined', roomRef: context.ref, roomName: context.name, clientName: member.clientName, joinId: member.joinId, room: self };
      },
    ),
    confirmLeave: sendTo(
      ({ event }) => {
        assertEvent(event, 'leave');
        return event.client;
      },
      ({ context }): ClientEvent => ({ type: 'room.left', roomRef: context.ref }),
    ),
    failOnPurpose: () => {
      throw new Error('fault injected by a test');
    },
    reportEmpty: sendParent(({ context }): ServerEvent => ({ type: 'room.empty', roomRef: context.ref })),
    submitToCluster: enqueueActions(({ context, event, enqueue, self }) => {
      const io: RoomIo = { self, notify: (client, message) => enqueue.sendTo(client, message) };
      if (isCommand(event)) clustered.submit(clusterRoom(context), event, io);
    }),
    applyOrdered: enqueueActions(({ context, event, enqueue, self }) => {
      const io: RoomIo = { self, notify: (client, message) => enqueue.sendTo(client, message) };
      if (event.type === 'cluster.ordered') clustered.onOrdered(clusterRoom(context), event.command, event.result, io);
      else if (event.type === 'cluster.unavailable') clustered.onUnavailable(clusterRoom(context), event.command, io);
    }),
    applyRecords: enqueueActions(({ context, event, enqueue, self }) => {
      const io: RoomIo = { self, notify: (client, message) => enqueue.sendTo(client, message) };
      if (event.type === 'cluster.records') clustered.onRecords(clusterRoom(context), event.records, io);
      else if (event.type === 'cluster.logRead') clustered.onLogRead(clusterRoom(context), event.read, io);
    }),
    catchUp: ({ context, self }) => clustered.catchUp(clusterRoom(context), { self, notify: () => {} }),
  },
  guards: {
    isMember: ({ context, event }) => isCommand(event) && context.members.has(event.type === 'join' ? event.member.joinId : event.joinId),
    testHooksEnabled: ({ context }) => context.testHooks,
    isEmpty: ({ context }) => roomIsIdle(context),
    clustered: ({ context }) => context.cluster !== null,
  },
}).createMachine({
  id: 'room',
  context: ({ input }) => ({
    ref: input.ref,
    name: input.name,
    members: new Map(input.restore?.members ?? []),
    lastSeq: input.restore?.lastSeq ?? 0,
    departures: [...(input.restore?.departures ?? [])],
    departuresScheduled: false,
    stats: { messagesRouted: 0, deliveries: 0, lastActivity: Date.now() },
    testHooks: input.testHooks ?? false,
    failNext: false,
    cluster: input.cluster ? (input.restore?.cluster ?? clustered.clusterRoomState(input.cluster, null)) : null,
  }),
  on: {
    'test.fault': { guard: 'testHooksEnabled', actions: 'failOnPurpose' },
    'test.failNext': { guard: 'testHooksEnabled', actions: 'armFault' },
    // Cluster mode: answers from the ordering point and records from every node; after each, the
    // room may have emptied on this node.
    'cluster.ordered': { target: '.checkingEmpty', actions: 'applyOrdered' },
    'cluster.unavailable': { target: '.checkingEmpty', actions: 'applyOrdered' },
    'cluster.records': { target: '.checkingEmpty', actions: 'applyRecords' },
    'cluster.logRead': { target: '.checkingEmpty', actions: 'applyRecords' },
    'cluster.catchUp': { actions: 'catchUp' },
  },
  entry: 'resumeDepartures',
  initial: 'open',
  states: {
    open: {
      on: {
        join: [
          { guard: 'isMember', actions: ['answerRepeatedJoin', 'confirmJoin'] },
          { guard: 'clustered', actions: 'submitToCluster' },
          { actions: ['orderAndApply', 'confirmJoin'] },
        ],
        chat: [
          { guard: 'clustered', actions: 'submitToCluster' },
          { actions: 'orderAndApply' },
        ],
        leave: [
          { guard: 'clustered', target: 'checkingEmpty', actions: 'submitToCluster' },
          { guard: 'isMember', target: 'checkingEmpty', actions: ['orderAndApply', 'confirmLeave'] },
          { actions: ['answerStrayLeave', 'confirmLeave'] },
        ],
        depart: [
          { guard: 'clustered', target: 'checkingEmpty', actions: 'submitToCluster' },
          { actions: 'queueDeparture' },
        ],
        'room.departures': { target: 'checkingEmpty', actions: 'applyDepartures' },
      },
    },
    /** After a departure: an empty room asks the server to stop it (its ref stays reserved). */
    checkingEmpty: {
      always: [{ guard: 'isEmpty', target: 'empty', actions: 'reportEmpty' }, { target: 'open' }],
    },
    empty: {
      on: {
        join: [
          { guard: 'clustered', target: 'open', actions: 'submitToCluster' },
          { target: 'open', actions: ['orderAndApply', 'confirmJoin'] },
        ],
      },
    },
  },
});
