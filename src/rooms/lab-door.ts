import { encodeChat, encodeJoined, joinAnnouncement, leaveAnnouncement } from '../protocol/encode.js';
import { labTextOfIrc } from './crossing.js';
import type { RoomDoor } from './door.js';

/**
 * The lab protocol's door: every room event is a CHAT message (joins and leaves as announcement
 * text, protocol.md), and a joiner gets its JOINED_CHATROOM first, with the address and port it
 * reached this node on. What IRC users say is cleaned for it (crossing.ts); a topic is not shown.
 */
export const LAB_DOOR: RoomDoor = {
  name: 'lab',
  family: 'lab',
  echoesChat: true,
  encodeRecord(room, record) {
    switch (record.kind) {
      case 'joined':
        return Buffer.from(encodeChat(room.ref, record.name, joinAnnouncement(record.name)));
      case 'chat':
        if (record.style === 'topic' || record.style === 'nick') return null;
        return Buffer.from(encodeChat(room.ref, record.name, record.irc ? labTextOfIrc(record.name, record.text) : record.text));
      case 'left':
        return Buffer.from(encodeChat(room.ref, record.name, leaveAnnouncement(record.name)));
    }
  },
  joinReply(room, member) {
    return Buffer.from(encodeJoined(room.name, member.serverIp, member.serverPort, room.ref, member.joinId));
  },
  joinBurst() {
    return null;
  },
};
