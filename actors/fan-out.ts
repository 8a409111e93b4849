import { encodeJoined } from '../src/protocol/encode.js';
import type { JoinId, RoomRef } from '../src/protocol/types.js';
import type { RoomMember } from './events.js';

/** What fan-out needs of a room, whichever ordering point (the room itself, or Redis) ordered the event. */
export interface FanOutRoom {
  readonly ref: RoomRef;
  readonly name: string;
  readonly members: ReadonlyMap<JoinId, RoomMember>;
  readonly stats: { deliveries: number };
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
