import { assertEvent, enqueueActions, sendParent, setup, type ActorRef, type Snapshot } from 'xstate';
import type { JoinId, RoomRef } from '../src/protocol/types.js';
import type { RoomTopic } from '../src/rooms/door.js';
import { answerStrayLeave, doorsOf, replyJoined } from '../src/rooms/fan-out.js';
import { RoomFault, faultInjected, type PendingLeave, type RoomIo, type RoomOrder, type RoomOrderEvent, type RoomState } from '../src/rooms/order.js';
import type { ClientEvent, RoomCommand, RoomEvent, RoomMember, ServerEvent } from './events.js';

export { RoomFault } from '../src/rooms/order.js';

export interface RoomInput {
  readonly ref: RoomRef;
  readonly name: string;
  readonly testHooks?: boolean;
  /**
   * Where the room's events get their place: its own counter (LocalOrder), or Redis in cluster
   * mode (ClusterOrder); after a failure, the failed actor's order, handed over with its work.
   */
  readonly order: RoomOrder;
  /** A restart after a failure: the membership the failed actor had. */
  readonly restore?: {
    readonly members: ReadonlyMap<JoinId, RoomMember>;
    readonly pendingJoins: ReadonlyMap<JoinId, RoomMember>;
    readonly pendingLeaves: ReadonlyMap<JoinId, PendingLeave>;
    readonly lastSeq: number;
    readonly topic: RoomTopic | null;
  };
}

export interface RoomContext extends RoomState {
  /** Where this room's events get their place: its own counter, or Redis. */
  readonly order: RoomOrder;
  readonly testHooks: boolean;
}

/** Nothing of the room left on this node: no member, nothing under way in its order. */
export function roomIsIdle(context: RoomContext): boolean {
  return context.order.idle(context);
}

type Self = ActorRef<Snapshot<unknown>, RoomEvent>;
type Enqueue = { sendTo(client: ActorRef<Snapshot<unknown>, ClientEvent>, event: ClientEvent): void; sendParent(event: ServerEvent): void };

/** The sends an order makes, as this step's enqueued `sendTo`s. */
function ioOf(self: Self, enqueue: Enqueue): RoomIo {
  return { self, notify: (client, event) => enqueue.sendTo(client, event), personGone: (person) => enqueue.sendParent({ type: 'room.personGone', person }) };
}

function notForChat(): never {
  throw new Error('a chat command has no client to tell: its order sends nothing through io but to itself');
}

/**
 * A chat's io: the room itself, nothing else. Chat is most of a room's traffic, and a chat tells
 * no client anything (its record goes to the members' outbound streams), so it is handled by a
 * plain action rather than `enqueueActions`, whose machinery per event is most of what a busy
 * room allocates.
 */
function chatIoOf(self: Self): RoomIo {
  return { self, notify: notForChat, personGone: notForChat };
}

/** Hands a client's command to the order; a failure carries the command, for the supervisor to retry. */
function submit(context: RoomContext, command: RoomCommand, io: RoomIo): void {
  try {
    // A departure's turn may come later (a queue of them): its order checks when it carries it out.
    if (command.type !== 'depart' && faultInjected(context)) throw new Error('fault injected by a test');
    const { order } = context;
    switch (command.type) {
      case 'join':
        return order.join(context, command.member, io);
      case 'chat':
        return order.chat(context, command, io);
      case 'leave':
        return order.leave(context, command, io);
      case 'depart':
        return order.depart(context, command, io);
    }
  } catch (cause) {
    throw cause instanceof RoomFault ? cause : new RoomFault(command, { cause });
  }
}

function isCommand(event: RoomEvent): event is RoomCommand {
  return event.type === 'join' || event.type === 'chat' || event.type === 'leave' || event.type === 'depart';
}

/**
 * A room: its members and its order. The statechart is the room's life (open, emptied and
 * reported, stopped by the supervisor); where an event gets its place, and how it reaches the
 * members, is its order's business (src/rooms/): the same transitions in both modes.
 */
export const roomMachine = setup({
  types: {
    context: {} as RoomContext,
    events: {} as RoomEvent,
    input: {} as RoomInput,
  },
  actions: {
    startOrder: enqueueActions(({ context, enqueue, self }) => context.order.start(context, ioOf(self, enqueue))),
    submit: enqueueActions(({ context, event, enqueue, self }) => {
      if (isCommand(event)) submit(context, event, ioOf(self, enqueue));
    }),
    submitChat: ({ context, event, self }) => {
      assertEvent(event, 'chat');
      submit(context, event, chatIoOf(self));
    },
    /**
     * One client's run of chats, in one step. A failure carries the chats from the failed one on:
     * the failed one is lost (as a single chat would be), the rest go to the restarted room.
     */
    submitChats: ({ context, event, self }) => {
      assertEvent(event, 'chats');
      const io = chatIoOf(self);
      const { chats } = event;
      let done = 0;
      try {
        // The test hook counts commands one by one; otherwise the order takes the run at once.
        if (context.failAfter === 0) context.order.chats(context, chats, io);
        else for (; done < chats.length; done++) submit(context, chats[done]!, io);
      } catch (cause) {
        throw new RoomFault({ type: 'chats', chats: chats.slice(done), client: event.client }, { cause });
      }
    },
    /** Answers from Redis, records from every node, or a turn of queued departures. */
    passToOrder: enqueueActions(({ context, event, enqueue, self }) => {
      context.order.onEvent(context, event as RoomOrderEvent, ioOf(self, enqueue));
    }),
    /** A repeated join keeps the first name; it answers JOINED_CHATROOM again and announces nothing. */
    answerRepeatedJoin: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'join');
      const member = context.members.get(event.member.joinId)!;
      replyJoined(context, member);
      enqueue.sendTo(member.client, { type: 'room.joined', roomRef: context.ref, roomName: context.name, clientName: member.clientName, joinId: member.joinId, room: self });
    }),
    answerStrayLeave: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'leave');
      answerStrayLeave(context, event, ioOf(self, enqueue));
    }),
    armFault: ({ context }) => {
      context.failAfter = 1;
    },
    armFaultLater: ({ context, event }) => {
      assertEvent(event, 'test.failAfter');
      context.failAfter = event.commands;
    },
    failOnPurpose: () => {
      throw new Error('fault injected by a test');
    },
    reportEmpty: sendParent(({ context }): ServerEvent => ({ type: 'room.empty', roomRef: context.ref })),
  },
  guards: {
    isMember: ({ context, event }) => isCommand(event) && context.members.has(event.type === 'join' ? event.member.joinId : event.joinId),
    testHooksEnabled: ({ context }) => context.testHooks,
    isEmpty: ({ context }) => roomIsIdle(context),
  },
}).createMachine({
  id: 'room',
  context: ({ input }) => ({
    ref: input.ref,
    name: input.name,
    members: new Map(input.restore?.members ?? []),
    doors: doorsOf(input.restore?.members.values() ?? []),
    pendingJoins: new Map(input.restore?.pendingJoins ?? []),
    pendingLeaves: new Map(input.restore?.pendingLeaves ?? []),
    lastSeq: input.restore?.lastSeq ?? 0,
    topic: input.restore?.topic ?? null,
    stats: { messagesRouted: 0, deliveries: 0, lastActivity: Date.now() },
    failAfter: 0,
    testHooks: input.testHooks ?? false,
    order: input.order,
  }),
  entry: 'startOrder',
  on: {
    'test.fault': { guard: 'testHooksEnabled', actions: 'failOnPurpose' },
    'test.failNext': { guard: 'testHooksEnabled', actions: 'armFault' },
    'test.failAfter': { guard: 'testHooksEnabled', actions: 'armFaultLater' },
    // What the order hears later may empty the room on this node.
    'cluster.ordered': { target: '.checkingEmpty', actions: 'passToOrder' },
    'cluster.unavailable': { target: '.checkingEmpty', actions: 'passToOrder' },
    'cluster.records': { target: '.checkingEmpty', actions: 'passToOrder' },
    'cluster.logRead': { target: '.checkingEmpty', actions: 'passToOrder' },
    'cluster.catchUp': { actions: 'passToOrder' },
    'room.departures': { target: '.checkingEmpty', actions: 'passToOrder' },
  },
  initial: 'open',
  states: {
    open: {
      on: {
        join: [{ guard: 'isMember', actions: 'answerRepeatedJoin' }, { actions: 'submit' }],
        chat: { actions: 'submitChat' },
        chats: { actions: 'submitChats' },
        leave: [
          { guard: 'isMember', target: 'checkingEmpty', actions: 'submit' },
          { actions: 'answerStrayLeave' },
        ],
        depart: { target: 'checkingEmpty', actions: 'submit' },
      },
    },
    /** After a departure: an empty room asks the server to stop it (its ref stays reserved). */
    checkingEmpty: {
      always: [{ guard: 'isEmpty', target: 'empty', actions: 'reportEmpty' }, { target: 'open' }],
    },
    empty: {
      on: {
        join: { target: 'open', actions: 'submit' },
      },
    },
  },
});
