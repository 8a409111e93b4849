import { encodeChat, encodeJoined, joinAnnouncement, leaveAnnouncement } from '../protocol/encode.js';
import type { JoinId, RoomRef } from '../protocol/types.js';
import type { RoomMember } from '../../actors/events.js';
import type { LeaveCommand, RoomIo, RoomRecord, RoomState } from './order.js';

/** What broadcasting needs of a room. */
interface FanOutRoom {
  readonly ref: RoomRef;
  readonly name: string;
  readonly members: ReadonlyMap<JoinId, RoomMember>;
  readonly stats: { deliveries: number };
}

/**
 * Fan-out: applies one ordered record to the membership and posts its bytes to the members here.
 * Whichever order placed it (the room's counter, or Redis), a record is applied here and only here.
 */
export function applyRecord(room: RoomState, record: RoomRecord, io: RoomIo): void {
  room.lastSeq = record.seq;
  room.stats.lastActivity = Date.now();
  switch (record.kind) {
    case 'joined': {
      const joiner = room.pendingJoins.get(record.joinId);
      if (joiner) admit(room, joiner, io);
      broadcast(room, encodeChat(room.ref, record.name, joinAnnouncement(record.name)));
      return;
    }
    case 'chat':
      room.stats.messagesRouted++;
      broadcast(room, encodeChat(room.ref, record.name, record.text));
      return;
    case 'left': {
      const pending = room.pendingLeaves.get(record.joinId);
      const leaver = room.members.get(record.joinId);
      if (leaver && pending?.reply) leaver.outbound.next(Buffer.from(pending.reply));
      // Sent before the leaver is removed: the leaver hears its own departure too.
      broadcast(room, encodeChat(room.ref, record.name, leaveAnnouncement(record.name)));
      finishLeave(room, record.joinId, io, false);
      return;
    }
  }
}

/** One encoding, one buffer, posted to every member's outbound stream. */
export function broadcast(room: FanOutRoom, text: string): void {
  const bytes = Buffer.from(text);
  for (const member of room.members.values()) member.outbound.next(bytes);
  room.stats.deliveries += room.members.size;
}

/** The joiner's JOINED_CHATROOM, with the address and port it reached this node on. */
export function replyJoined(room: FanOutRoom, member: RoomMember): void {
  member.outbound.next(Buffer.from(encodeJoined(room.name, member.serverIp, member.serverPort, room.ref, member.joinId)));
}

/** A joiner is in: its reply, then (by the caller) the announcement; its client is told. */
function admit(room: RoomState, member: RoomMember, io: RoomIo): void {
  room.pendingJoins.delete(member.joinId);
  room.members.set(member.joinId, member);
  // The joiner's reply keeps its place before the announcement, as on the wire.
  replyJoined(room, member);
  io.notify(member.client, { type: 'room.joined', roomRef: room.ref, roomName: room.name, clientName: member.clientName, joinId: member.joinId, room: io.self });
}

/**
 * The member is out here; a leave or departure waiting for this is answered: its client is told
 * (room.left or room.departed), and with `reply` the LEFT_CHATROOM still owed is sent first.
 */
export function finishLeave(room: RoomState, joinId: JoinId, io: RoomIo, reply: boolean): void {
  const pending = room.pendingLeaves.get(joinId);
  const leaver = room.members.get(joinId);
  if (reply && leaver && pending?.reply) leaver.outbound.next(Buffer.from(pending.reply));
  room.members.delete(joinId);
  if (!pending) return;
  room.pendingLeaves.delete(joinId);
  io.notify(pending.client, pending.reply !== null ? { type: 'room.left', roomRef: room.ref } : { type: 'room.departed', roomRef: room.ref });
}

/** A leave the room has no member for (it raced a departure): still owed its echo and its answer. */
export function answerStrayLeave(room: RoomState, command: LeaveCommand, io: RoomIo): void {
  command.outbound.next(Buffer.from(command.reply));
  io.notify(command.client, { type: 'room.left', roomRef: room.ref });
}
