import type { JoinId } from '../protocol/types.js';

/**
 * A room event with its place in the room's order. The ordering point (on one server: the room's
 * own counter, local-order.ts; in cluster mode: a Redis script, cluster-order.ts) assigns `seq`;
 * fan-out (fan-out.ts) applies records in `seq` order, the same way in both modes. A record names
 * its member, so a node can announce members it does not hold (the cluster's records are these).
 */
export type RoomRecord =
  | { readonly seq: number; readonly kind: 'joined'; readonly joinId: JoinId; readonly name: string }
  | { readonly seq: number; readonly kind: 'chat'; readonly joinId: JoinId; readonly name: string; readonly text: string }
  | { readonly seq: number; readonly kind: 'left'; readonly joinId: JoinId; readonly name: string };
