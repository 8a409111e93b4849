import { encodeChat, encodeJoined, joinAnnouncement, leaveAnnouncement } from '../protocol/encode.js';
import type { RoomDoor } from './door.js';

/**
 * The lab protocol's door: every room event is a CHAT message (joins and leaves as announcement
 * text, protocol.md), and a joiner gets its JOINED_CHATROOM first, with the address and port it
 * reached this node on.
 */
export const LAB_DOOR: RoomDoor = {
  name: 'lab',
  encodeRecord(room, record) {
    switch (record.kind) {
      case 'joined':
        return Buffer.from(encodeChat(room.ref, record.name, joinAnnouncement(record.name)));
      case 'chat':
        return Buffer.from(encodeChat(room.ref, record.name, record.text));
      case 'left':
        return Buffer.from(encodeChat(room.ref, record.name, leaveAnnouncement(record.name)));
    }
  },
  joinReply(room, member) {
    return Buffer.from(encodeJoined(room.name, member.serverIp, member.serverPort, room.ref, member.joinId));
  },
};
