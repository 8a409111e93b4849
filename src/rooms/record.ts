import type { JoinId } from '../protocol/types.js';

/**
 * How a chat is meant: plain, an IRC NOTICE, a topic change (kept by the room, shown on IRC only),
 * or an IRC user's NICK change (its text the old nick; shown on IRC only). Absent on the lab's chats.
 */
export type ChatStyle = 'notice' | 'topic' | 'nick';

/**
 * A room event with its place in the room's order. The ordering point (on one server: the room's
 * own counter, local-order.ts; in cluster mode: a Redis script, cluster-order.ts) assigns `seq`;
 * fan-out (fan-out.ts) applies records in `seq` order, the same way in both modes. A record names
 * its member, so a node can announce members it does not hold (the cluster's records are these).
 * `irc`: said through the IRC door (its text is one IRC line, formatting and CTCP included).
 * `source`: the member's `nick!user@host`, carried by records from other nodes (a cluster's), whose
 * members this node does not hold; absent when the member has no IRC face.
 */
export type RoomRecord =
  | { readonly seq: number; readonly kind: 'joined'; readonly joinId: JoinId; readonly name: string; readonly source?: string }
  | {
      readonly seq: number;
      readonly kind: 'chat';
      readonly joinId: JoinId;
      readonly name: string;
      readonly text: string;
      readonly style?: ChatStyle;
      readonly irc?: boolean;
      readonly source?: string;
    }
  /** `quit`: the member's connection went (an IRC QUIT); `reason`: its PART or QUIT message. */
  | { readonly seq: number; readonly kind: 'left'; readonly joinId: JoinId; readonly name: string; readonly reason?: string; readonly quit?: boolean; readonly source?: string };

/** A chat's record. */
export type ChatRecord = Extract<RoomRecord, { kind: 'chat' }>;
