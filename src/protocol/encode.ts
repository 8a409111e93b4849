import { ERRORS, type ProtocolError } from './errors.js';
import type { JoinId, RoomRef } from './types.js';

/** Replies, byte-exact as protocol.md fixes them. Always bare `\n`. */

export function encodeHelo(requestLine: string, serverIp: string, serverPort: number, studentId: string): string {
  return `${requestLine}\nIP:${serverIp}\nPort:${serverPort}\nStudentID:${studentId}\n`;
}

export function encodeJoined(roomName: string, serverIp: string, serverPort: number, roomRef: RoomRef, joinId: JoinId): string {
  return `JOINED_CHATROOM: ${roomName}\nSERVER_IP: ${serverIp}\nPORT: ${serverPort}\nROOM_REF: ${roomRef}\nJOIN_ID: ${joinId}\n`;
}

export function encodeLeft(roomRef: RoomRef | string, joinId: JoinId | string): string {
  return `LEFT_CHATROOM: ${roomRef}\nJOIN_ID: ${joinId}\n`;
}

export function encodeChat(roomRef: RoomRef, clientName: string, message: string): string {
  return `CHAT: ${roomRef}\nCLIENT_NAME: ${clientName}\nMESSAGE: ${message}\n\n`;
}

export function joinAnnouncement(clientName: string): string {
  return `${clientName} has joined this chatroom.`;
}

export function leaveAnnouncement(clientName: string): string {
  return `${clientName} has left this chatroom.`;
}

export function encodeError(error: ProtocolError): string {
  // The description is one line: a newline in it would break the reply's framing.
  const description = error.description.replace(/[\r\n]+/g, ' ');
  return `ERROR_CODE: ${ERRORS[error.name].code}\nERROR_DESCRIPTION: ${description}\n`;
}
