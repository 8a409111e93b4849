import type { JoinId } from '../protocol/types.js';

/**
 * A room event as the cluster's ordering point (a Redis script) gave it its place: what every node
 * receives, on the room's channel, in the script's reply, or read back from the room's log. It
 * carries the member's name, so a node can announce members it does not hold.
 */
export type ClusterRecord =
  | { readonly seq: number; readonly kind: 'joined'; readonly joinId: JoinId; readonly name: string; readonly node: number }
  | { readonly seq: number; readonly kind: 'chat'; readonly joinId: JoinId; readonly name: string; readonly text: string }
  | { readonly seq: number; readonly kind: 'left'; readonly joinId: JoinId; readonly name: string };

/**
 * The wire form the scripts write: a JSON array `[seq, kind, joinId, name, node-or-text]` with
 * kind `j`, `c` or `l`. Returns null for anything else (a foreign publisher on the channel).
 */
export function decodeRecord(payload: string): ClusterRecord | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length < 4) return null;
  const [seq, kind, joinId, name, extra] = parsed as unknown[];
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(joinId) || typeof name !== 'string') return null;
  const base = { seq: seq as number, joinId: joinId as number, name };
  switch (kind) {
    case 'j':
      return Number.isSafeInteger(extra) ? { ...base, kind: 'joined', node: extra as number } : null;
    case 'c':
      return typeof extra === 'string' ? { ...base, kind: 'chat', text: extra } : null;
    case 'l':
      return { ...base, kind: 'left' };
    default:
      return null;
  }
}
