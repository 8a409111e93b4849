import type { JoinId, RoomRef } from '../protocol/types.js';
import type { RoomRecord } from './record.js';

/** A room as a door encodes for it. */
export interface RoomView {
  readonly ref: RoomRef;
  readonly name: string;
}

/**
 * A front door's view of room traffic: how its members see a room's events. The same rooms are
 * reached through several protocols (the lab's, IRC); a room encodes each event once per door
 * present among its members and posts those same bytes to every member of that door. A member
 * belongs to the door it came in by.
 */
export interface RoomDoor {
  /** For logs and the dump: `lab`, `irc`. */
  readonly name: string;
  /** The bytes every member of this door gets for `record`; null: nothing, for this door. */
  encodeRecord(room: RoomView, record: RoomRecord): Buffer | null;
  /** What the joiner alone gets once admitted, before the announcement (the lab's JOINED_CHATROOM). */
  joinReply(room: RoomView, joiner: Joiner): Buffer | null;
}

/** What a join reply says of its joiner: its join id, and where it reached this node. */
export interface Joiner {
  readonly joinId: JoinId;
  readonly serverIp: string;
  readonly serverPort: number;
}
