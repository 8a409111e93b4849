import type { JoinId, RoomRef } from '../protocol/types.js';
import type { RoomRecord } from './record.js';
import type { CapSet } from '../irc/caps.js';

/**
 * How IRC users see a member: a nick unique on the server, and the user and host of its
 * `nick!user@host`. Owned by the member's own client actor, which updates it (NICK, AWAY, CAP);
 * rooms and the supervisor only read it, so a change shows everywhere without a message per room.
 * A lab member has one only while an IRC door is open (its nick then comes from its name).
 */
export interface IrcPerson {
  nick: string;
  /** Set once, at registration (USER) for an IRC user. */
  user: string;
  readonly host: string;
  realname: string;
  /** The AWAY message, or null. */
  away: string | null;
  /** User mode +i: left out of WHO masks and LUSERS' visible count, unless a channel is shared. */
  invisible: boolean;
  /** IRCv3 capabilities enabled (`echo-message`, `server-time`, …); empty for a lab member. */
  readonly caps: CapSet;
  /** The connection's own door family: IRC users may receive private messages, lab members not. */
  readonly family: DoorFamily;
}

export type DoorFamily = 'lab' | 'irc';

/** `nick!user@host`: how IRC lines name a person. */
export function personSource(person: IrcPerson): string {
  return `${person.nick}!${person.user}@${person.host}`;
}

/** A member as a door encodes for it. */
export interface MemberView {
  readonly joinId: JoinId;
  readonly clientName: string;
  readonly door: RoomDoor;
  /** How IRC users see this member; null when no IRC door is open. */
  readonly person: IrcPerson | null;
}

/** A channel topic: kept by the room, set by members, shown to IRC joiners. */
export interface RoomTopic {
  readonly text: string;
  readonly setBy: string;
  /** Unix seconds. */
  readonly setAt: number;
}

/** A room as a door encodes for it. */
export interface RoomView {
  readonly ref: RoomRef;
  readonly name: string;
  readonly members: ReadonlyMap<JoinId, MemberView>;
  readonly topic: RoomTopic | null;
}

/**
 * A front door's view of room traffic: how its members see a room's events. The same rooms are
 * reached through several protocols (the lab's, IRC); a room encodes each event once per door
 * present among its members and posts those same bytes to every member of that door. A member
 * belongs to the door it came in by.
 */
export interface RoomDoor {
  /** For logs and the dump: `lab`, `irc`, `irc+tags`. */
  readonly name: string;
  readonly family: DoorFamily;
  /**
   * Whether a member's own chat comes back to it (the lab's always does). When false, fan-out
   * asks the sender's `person.caps` for `echo-message`.
   */
  readonly echoesChat: boolean;
  /** The bytes every member of this door gets for `record`; null: nothing, for this door. */
  encodeRecord(room: RoomView, record: RoomRecord): Buffer | null;
  /** What the joiner alone gets once admitted, before the announcement (the lab's JOINED_CHATROOM). */
  joinReply(room: RoomView, joiner: Joiner): Buffer | null;
  /** What the joiner alone gets after its announcement (IRC's topic and names); null: nothing. */
  joinBurst(room: RoomView, joiner: MemberView): Buffer | null;
}

/** What a join reply says of its joiner: its join id, and where it reached this node. */
export interface Joiner {
  readonly joinId: JoinId;
  readonly serverIp: string;
  readonly serverPort: number;
}
