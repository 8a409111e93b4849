import type { JoinId, RoomRef } from './types.js';

/**
 * Requests, as a client sends them (protocol.md: one space after each colon, bare `\n`). The
 * caller keeps values to one line and a message free of empty lines: either would end the
 * request early and the rest would read as another one.
 */

export function encodeHeloRequest(text: string): string {
  return `HELO ${text}\n`;
}

export function encodeJoinRequest(roomName: string, clientName: string): string {
  return `JOIN_CHATROOM: ${roomName}\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: ${clientName}\n`;
}

export function encodeChatRequest(roomRef: RoomRef, joinId: JoinId, clientName: string, message: string): string {
  return `CHAT: ${roomRef}\nJOIN_ID: ${joinId}\nCLIENT_NAME: ${clientName}\nMESSAGE: ${message}\n\n`;
}

export function encodeLeaveRequest(roomRef: RoomRef, joinId: JoinId, clientName: string): string {
  return `LEAVE_CHATROOM: ${roomRef}\nJOIN_ID: ${joinId}\nCLIENT_NAME: ${clientName}\n`;
}

export function encodeDisconnectRequest(clientName: string): string {
  return `DISCONNECT: 0\nPORT: 0\nCLIENT_NAME: ${clientName}\n`;
}

export function encodeKillServiceRequest(): string {
  return 'KILL_SERVICE\n';
}
