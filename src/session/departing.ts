/**
 * A connection leaving all its rooms, one after another in join order (the lab's tester expects
 * the announcements in that order, and in cluster mode every node then shows them so), and rooms
 * restarted meanwhile followed: the same for every door's client actor.
 */
import type { ClientActorRef, RoomActorRef, RoomEvent } from '../../actors/events.js';
import type { JoinId, RoomRef } from '../protocol/types.js';
import type { Membership } from './rules.js';

interface Departing {
  joinId: JoinId | null;
  rooms: readonly Membership[];
  departing: Membership[] | null;
}

type SendTo = (room: RoomActorRef, event: RoomEvent) => void;

/** Starts departing: the first room is asked; `reason` is an IRC QUIT's message. */
export function departFromRooms(context: Departing, self: ClientActorRef, sendTo: SendTo, reason?: string): void {
  context.departing = [...context.rooms];
  context.rooms = [];
  const first = context.departing[0];
  if (first) sendTo(first.room, { type: 'depart', joinId: context.joinId!, client: self, reason });
}

/** A room confirmed the departure: the next one is asked. */
export function markDeparted(context: Departing, roomRef: RoomRef, self: ClientActorRef, sendTo: SendTo, reason?: string): void {
  const queue = context.departing;
  if (!queue || queue[0]?.roomRef !== roomRef) return;
  queue.shift();
  const next = queue[0];
  if (next) sendTo(next.room, { type: 'depart', joinId: context.joinId!, client: self, reason });
}

/** A room's actor was restarted: its messages go to the new one, and it keeps its place in the join order. */
export function followRestartedRoom(context: Departing, roomRef: RoomRef, room: RoomActorRef): void {
  context.rooms = context.rooms.map((membership) => (membership.roomRef === roomRef ? { ...membership, room } : membership));
  const queued = context.departing?.findIndex((entry) => entry.roomRef === roomRef) ?? -1;
  if (queued >= 0) context.departing![queued] = { ...context.departing![queued]!, room };
}
