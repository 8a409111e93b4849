import type { JoinId, RoomRef } from '../protocol/types.js';
import type { ChatClientError } from './errors.js';

/**
 * What arrives without being asked for: room traffic, errors no request is waiting for, the close.
 * `roomName` is known for every room this client has joined (refs are stable for a server's life).
 */
export type ChatEvent =
  | { readonly type: 'message'; readonly roomRef: RoomRef; readonly roomName: string | undefined; readonly clientName: string; readonly text: string }
  | { readonly type: 'joined'; readonly roomRef: RoomRef; readonly roomName: string | undefined; readonly clientName: string }
  | { readonly type: 'left'; readonly roomRef: RoomRef; readonly roomName: string | undefined; readonly clientName: string }
  | { readonly type: 'error'; readonly error: ChatClientError }
  /** The last event. `expected` is false when the server or the network ended the connection. */
  | { readonly type: 'closed'; readonly expected: boolean; readonly reason: string | undefined };

/** This connection's membership of one room, as the server confirmed it. */
export interface Membership {
  readonly roomRef: RoomRef;
  readonly roomName: string;
  readonly joinId: JoinId;
  /** The name this connection joined the room with (a repeated join keeps the first). */
  readonly clientName: string;
}

export interface HeloReply {
  /** The first line as the server echoes it: `HELO <text>`. */
  readonly line: string;
  readonly ip: string;
  readonly port: number;
  readonly studentId: string;
}
