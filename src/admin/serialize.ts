import type { AdminReply } from './protocol.js';

/**
 * Actors serialized per piece. A 10,000-connection dump is about 5 MB of JSON: stringified in one
 * go it would hold chat up for tens of milliseconds, so the reply is written in pieces with a turn
 * of the event loop between them.
 */
const SLICE = 500;

/** One reply line, in pieces that concatenate to `JSON.stringify(reply) + '\n'` (keys reordered). */
export function* replyPieces(reply: AdminReply): Generator<string> {
  if (!reply.ok) {
    yield `${JSON.stringify(reply)}\n`;
    return;
  }
  const { rooms, clients, ...rest } = reply.dump;
  const { dump: _dump, ...envelope } = reply;
  // `dump` is the envelope's last key and the actor lists are the dump's last: drop the closing "}}".
  yield JSON.stringify({ ...envelope, dump: rest }).slice(0, -2);
  for (const [key, list] of [['rooms', rooms], ['clients', clients]] as const) {
    yield `,"${key}":[`;
    for (let start = 0; start < list.length; start += SLICE) {
      const piece = list.slice(start, start + SLICE).map((entry) => JSON.stringify(entry)).join(',');
      yield start === 0 ? piece : `,${piece}`;
    }
    yield ']';
  }
  yield '}}\n';
}
