import type { JoinId, RoomRef } from '../src/protocol/types.js';
import type { RoomTopic } from '../src/rooms/door.js';
import { answerStrayLeave, doorsOf, replyJoined } from '../src/rooms/fan-out.js';
import { RoomFault, faultInjected, type PendingLeave, type RoomIo, type RoomOrder, type RoomOrderEvent, type RoomState } from '../src/rooms/order.js';
import type { ServerRef } from '../src/session/state.js';
import type { ClientActorRef, ClientEvent, RoomCommand, RoomEvent, RoomMember, ServerEvent } from './events.js';
import { phaseLogic, type PhaseSelf } from './phase-logic.js';

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
  /** The supervisor: told when a lab member's IRC face is gone, and when the room is empty. */
  readonly server: ServerRef;
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
  readonly server: ServerRef;
  /** What the order may do: tell clients and the supervisor (after the step). */
  readonly io: RoomIo;
  /** A chat's io: the room itself, nothing else (a chat tells no client anything). */
  readonly chatIo: RoomIo;
  /** The step's messages to clients and the supervisor, sent once it is done, in order (as a machine's `sendTo`s were). */
  readonly outbox: Outgoing[];
}

/** A message the room sends after its step: to a client, or (`to: null`) to the supervisor. */
type Outgoing = { readonly to: ClientActorRef; readonly event: ClientEvent } | { readonly to: null; readonly event: ServerEvent };

/** Nothing of the room left on this node: no member, nothing under way in its order. */
export function roomIsIdle(context: RoomContext): boolean {
  return context.order.idle(context);
}

type RoomPhase = 'open' | 'checkingEmpty' | 'empty';
type Self = PhaseSelf<RoomContext, RoomEvent, undefined, RoomPhase>;
type Event<T extends RoomEvent['type']> = Extract<RoomEvent, { type: T }>;

function notForChat(): never {
  throw new Error('a chat command has no client to tell: its order sends nothing through io but to itself');
}

/**
 * The room's io, made with its context: what the order tells clients and the supervisor goes to
 * the outbox, and they hear it after the room's step. A joiner's `room.joined` must not let it
 * answer its next request before the room has announced it. An idle supervisor handles what it is sent at once, so `room.empty`, on which it
 * stops the room, is always the last thing a step sends (the eventless step after the order's work
 * pushes it); a machine's deferred `sendParent` was the same.
 */
function ioOf(self: Self, ref: RoomRef, outbox: Outgoing[]): RoomIo {
  return {
    self,
    notify: (client, event) => void outbox.push({ to: client, event }),
    personGone: (person) => void outbox.push({ to: null, event: { type: 'room.personGone', roomRef: ref, person } }),
  };
}

/** Sends what the step told clients, in order; one sent may bring others (a client's answer is queued, not nested). */
function flushOutbox(context: RoomContext): void {
  const { outbox } = context;
  if (outbox.length === 0) return;
  for (let i = 0; i < outbox.length; i++) {
    const outgoing = outbox[i]!;
    if (outgoing.to === null) context.server.send(outgoing.event);
    else outgoing.to.send(outgoing.event);
  }
  outbox.length = 0;
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

/**
 * One client's run of chats, in one step. A failure carries the chats from the failed one on: the
 * failed one is lost (as a single chat would be), the rest go to the restarted room.
 */
function submitChats(context: RoomContext, event: Event<'chats'>): void {
  const io = context.chatIo;
  const { chats } = event;
  let done = 0;
  try {
    // The test hook counts commands one by one; otherwise the order takes the run at once.
    if (context.failAfter === 0) context.order.chats(context, chats, io);
    else for (; done < chats.length; done++) submit(context, chats[done]!, io);
  } catch (cause) {
    throw new RoomFault({ type: 'chats', chats: chats.slice(done), client: event.client }, { cause });
  }
}

/** A repeated join keeps the first name; it answers JOINED_CHATROOM again and announces nothing. */
function join(context: RoomContext, event: Event<'join'>, self: Self): void {
  const member = context.members.get(event.member.joinId);
  if (!member) return submit(context, event, context.io);
  replyJoined(context, member);
  context.outbox.push({ to: member.client, event: { type: 'room.joined', roomRef: context.ref, roomName: context.name, clientName: member.clientName, joinId: member.joinId, room: self } });
}

function leave(context: RoomContext, event: Event<'leave'>): RoomPhase | undefined {
  if (!context.members.has(event.joinId)) return void answerStrayLeave(context, event, context.io);
  submit(context, event, context.io);
  return 'checkingEmpty';
}

/** Answers from Redis, records from every node, or a turn of queued departures: they may empty the room here. */
function passToOrder(context: RoomContext, event: RoomOrderEvent): RoomPhase {
  context.order.onEvent(context, event, context.io);
  return 'checkingEmpty';
}

function testHook<K extends RoomEvent['type']>(arm: (context: RoomContext, event: Event<K>) => void) {
  return (context: RoomContext, event: Event<K>): void => {
    if (context.testHooks) arm(context, event);
  };
}

/**
 * A room: its members and its order. Its phases are the room's life (open; emptied and reported;
 * stopped by the supervisor); where an event gets its place, and how it reaches the members, is
 * its order's business (src/rooms/): the same transitions in both modes.
 */
export const roomLogic = phaseLogic<RoomContext, RoomEvent, RoomInput, undefined, RoomPhase>({
  context: (input, self) => {
    const outbox: Outgoing[] = [];
    return {
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
      server: input.server,
      io: ioOf(self, input.ref, outbox),
      chatIo: { self, notify: notForChat, personGone: notForChat },
      outbox,
    };
  },
  start: (context) => context.order.start(context, context.io),
  afterStep: flushOutbox,
  initial: 'open',
  on: {
    'test.fault': testHook<'test.fault'>(() => {
      throw new Error('fault injected by a test');
    }),
    'test.failNext': testHook<'test.failNext'>((context) => void (context.failAfter = 1)),
    'test.failAfter': testHook<'test.failAfter'>((context, event) => void (context.failAfter = event.commands)),
    'cluster.ordered': passToOrder,
    'cluster.unavailable': passToOrder,
    'cluster.records': passToOrder,
    'cluster.logRead': passToOrder,
    'cluster.catchUp': (context, event) => void context.order.onEvent(context, event, context.io),
    'room.departures': passToOrder,
  },
  phases: {
    open: {
      on: {
        join,
        chat: (context, event) => submit(context, event, context.chatIo),
        chats: submitChats,
        leave,
        depart: (context, event) => {
          submit(context, event, context.io);
          return 'checkingEmpty';
        },
      },
    },
    /** After a departure: an empty room asks the server to stop it (its ref stays reserved). */
    checkingEmpty: {
      always: (context) => {
        if (!roomIsIdle(context)) return 'open';
        context.outbox.push({ to: null, event: { type: 'room.empty', roomRef: context.ref } });
        return 'empty';
      },
    },
    empty: {
      on: {
        join: (context, event) => {
          submit(context, event, context.io);
          return 'open';
        },
      },
    },
  },
  output: () => undefined,
});
