import type { JoinId } from '../protocol/types.js';
import type { ChatStyle, RoomRecord } from '../rooms/record.js';

/**
 * A room event as the cluster's ordering point (a Redis script) gave it its place: what every node
 * receives, on the room's channel, in the script's reply, or read back from the room's log. It
 * carries the member's name (and IRC face, when it has one), so a node can announce members it does
 * not hold. A joined record also says which node the member is on.
 */
export type ClusterRecord = RoomRecord & { readonly node?: number };

/** Between a member's name and its IRC face (`nick!user@host`) in the room's membership: no name has it. */
export const FACE_SEPARATOR = '\x1f';

/** A member's name as the membership stores it: with its IRC face when it has one. */
export function faceOf(name: string, source: string | null): string {
  return source === null ? name : `${name}${FACE_SEPARATOR}${source}`;
}

/** The record kinds on the wire: one letter each. */
const CHAT_KINDS: Readonly<Record<string, { style?: ChatStyle; irc?: boolean }>> = {
  c: {},
  i: { irc: true },
  n: { style: 'notice', irc: true },
  t: { style: 'topic', irc: true },
  k: { style: 'nick', irc: true },
};

/** The wire letter of a chat: the lab's `c`, or IRC's PRIVMSG, NOTICE, TOPIC or NICK. */
export function chatKind(style: ChatStyle | undefined, irc: boolean | undefined): string {
  if (!irc) return 'c';
  return style === 'notice' ? 'n' : style === 'topic' ? 't' : style === 'nick' ? 'k' : 'i';
}

/**
 * The wire form the scripts write: a JSON array `[seq, kind, joinId, name, node-or-text]`: kind `j`
 * (joined; node), `c`, `i`, `n`, `t`, `k` (chats; text: for `k` the old nick), `l` (left), `p`
 * (parted; reason), `q` (quit; reason). `name` may carry the IRC face after FACE_SEPARATOR.
 * Returns null for anything else (a foreign publisher on the channel).
 */
export function decodeRecord(payload: string): ClusterRecord | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  return recordOf(parsed);
}

/**
 * A message on a room's channel: one record, or several ordered in one script call (a JSON array
 * of records). What is not a record is left out (a foreign publisher on the channel).
 */
export function decodeRecords(payload: string): ClusterRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  if (!Array.isArray(parsed[0])) {
    const record = recordOf(parsed);
    return record ? [record] : [];
  }
  const records: ClusterRecord[] = [];
  for (const item of parsed as unknown[]) {
    const record = recordOf(item);
    if (record) records.push(record);
  }
  return records;
}

function recordOf(parsed: unknown): ClusterRecord | null {
  if (!Array.isArray(parsed) || parsed.length < 4) return null;
  const [seq, kind, joinId, stored, extra] = parsed as unknown[];
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(joinId) || typeof stored !== 'string' || typeof kind !== 'string') return null;
  const split = stored.indexOf(FACE_SEPARATOR);
  // Plain chats and notices, the bulk of the traffic: one literal of one shape, no spreads (every
  // node decodes every record).
  if (kind === 'c' || kind === 'i' || kind === 'n') {
    if (typeof extra !== 'string') return null;
    const name = split < 0 ? stored : stored.slice(0, split);
    const source = split < 0 ? undefined : stored.slice(split + 1);
    const irc = kind === 'c' ? undefined : true;
    return { seq: seq as number, kind: 'chat', joinId: joinId as JoinId, name, text: extra, style: kind === 'n' ? 'notice' : undefined, irc, source };
  }
  const base = split < 0 ? { seq: seq as number, joinId: joinId as JoinId, name: stored } : { seq: seq as number, joinId: joinId as JoinId, name: stored.slice(0, split), source: stored.slice(split + 1) };
  const chat = CHAT_KINDS[kind];
  if (chat) return typeof extra === 'string' ? { ...base, kind: 'chat', text: extra, ...chat } : null;
  switch (kind) {
    case 'j':
      return Number.isSafeInteger(extra) ? { ...base, kind: 'joined', node: extra as number } : null;
    case 'l':
      return { ...base, kind: 'left' };
    case 'p':
      return typeof extra === 'string' ? { ...base, kind: 'left', reason: extra } : null;
    case 'q':
      return typeof extra === 'string' ? { ...base, kind: 'left', quit: true, reason: extra } : null;
    default:
      return null;
  }
}
