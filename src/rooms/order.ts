import type { JoinId, RoomRef } from '../protocol/types.js';
import type { IrcPerson, RoomDoor, RoomTopic } from './door.js';
import type { ClientActorRef, ClientEvent, RoomActorRef, RoomCommand, RoomEvent, RoomMember } from '../../actors/events.js';

export type { RoomRecord } from './record.js';

/** A leave or departure given to the order and not applied yet: `reply` is the LEFT_CHATROOM owed (null for a departure). */
export interface PendingLeave {
  readonly reply: string | null;
  readonly client: ClientActorRef;
}

export interface RoomStats {
  messagesRouted: number;
  deliveries: number;
  lastActivity: number;
}

/** The room as its order and fan-out see it, whichever order it has. */
export interface RoomState {
  readonly ref: RoomRef;
  readonly name: string;
  /**
   * Members in join order. Mutated in place by the room's actor alone: a copy per join would make a
   * join storm quadratic, and no other actor can reach it.
   */
  readonly members: Map<JoinId, RoomMember>;
  /** The doors of the members, with how many came in by each (fan-out encodes once per door). */
  readonly doors: Map<RoomDoor, number>;
  /** Joins given to the order and not applied yet: admitted by their `joined` record. */
  readonly pendingJoins: Map<JoinId, RoomMember>;
  /** Leaves and departures given to the order and not applied yet: answered by their `left` record. */
  readonly pendingLeaves: Map<JoinId, PendingLeave>;
  /** The place of the last record applied. */
  lastSeq: number;
  /** Set by a member's TOPIC (IRC); shown to IRC joiners. */
  topic: RoomTopic | null;
  readonly stats: RoomStats;
  /** Test-only: the next `failAfter`-th command carried out fails (a fault in the middle of real work); 0: none. */
  failAfter: number;
}

/**
 * The room actor's side, made once per room: itself (for answers to come back to it) and its
 * sends to clients, which go out after the step as a `sendTo` would.
 */
export interface RoomIo {
  readonly self: RoomActorRef;
  notify(client: ClientActorRef, event: ClientEvent): void;
  /** A lab member's IRC face left the room: the supervisor frees its nick once it is in none. */
  personGone(person: IrcPerson): void;
}

/** The events that answer an order later: Redis's answers, or the room's own turn of queued departures. */
export type RoomOrderEvent = Extract<
  RoomEvent,
  { type: 'cluster.ordered' | 'cluster.unavailable' | 'cluster.records' | 'cluster.logRead' | 'cluster.catchUp' | 'room.departures' }
>;

export type ChatCommand = Extract<RoomCommand, { type: 'chat' }>;
export type LeaveCommand = Extract<RoomCommand, { type: 'leave' }>;
export type DepartCommand = Extract<RoomCommand, { type: 'depart' }>;

/**
 * Where a room's events get their place. What it orders goes, as RoomRecords, to fan-out's
 * `applyRecord`: at once (the local counter) or when Redis answers (the cluster). A joiner waits in
 * `pendingJoins` and a leaver in `pendingLeaves` until its record is applied, so fan-out admits
 * and answers them the same way in both modes.
 */
export interface RoomOrder {
  /** The room's actor (re)started with this order: resume what it had under way. */
  start(room: RoomState, io: RoomIo): void;
  /** A join of a connection not in the room yet. */
  join(room: RoomState, member: RoomMember, io: RoomIo): void;
  /** A chat, ordered only while its sender is a member; it tells no client. */
  chat(room: RoomState, command: ChatCommand, io: RoomIo): void;
  /** One client's run of chats, in order, as `chat` each would be. */
  chats(room: RoomState, commands: readonly ChatCommand[], io: RoomIo): void;
  /** A LEAVE_CHATROOM of a member (a non-member's is answered by the room itself). */
  leave(room: RoomState, command: LeaveCommand, io: RoomIo): void;
  /** DISCONNECT or a closed connection: member or not, its client is told once it is out. */
  depart(room: RoomState, command: DepartCommand, io: RoomIo): void;
  /** An answer to something this order started. */
  onEvent(room: RoomState, event: RoomOrderEvent, io: RoomIo): void;
  /** Nothing of the room left here: no member, nothing under way. */
  idle(room: RoomState): boolean;
  /** The order for the actor that replaces a failed one, with what this one had under way. */
  handOver(): RoomOrder;
}

/**
 * A room actor's failure, with the event it was handling: the supervisor restarts the room and
 * hands a control event (join, leave, departure) to the new one, so no client waits forever.
 */
export class RoomFault extends Error {
  override readonly name = 'RoomFault';
  /**
   * Not enumerable: a logged error's enumerable fields are copied into the log line, and the
   * event holds what clients sent (chat text) and actor refs.
   */
  declare readonly event: RoomEvent;

  constructor(event: RoomEvent, options?: { cause?: unknown }) {
    super(`room failed while handling ${event.type}`, options);
    Object.defineProperty(this, 'event', { value: event, enumerable: false });
  }
}

/** The test hook's countdown: true when this command is the one to fail. */
export function faultInjected(room: RoomState): boolean {
  if (room.failAfter === 0) return false;
  room.failAfter--;
  return room.failAfter === 0;
}
