import type { JoinId, RoomRef } from '../protocol/types.js';
import type { RedisCommands } from './commands.js';
import type { ClusterKeys } from './keys.js';
import { FACE_SEPARATOR } from './record.js';
import { script } from './scripts.js';

/**
 * IRC nicks, unique across the cluster: a hash of folded nick → holder, and each node's set of the
 * nicks it holds, freed (with the node's members) when it dies. All under the registry's hash tag.
 * KEYS: nicks, node-nicks. ARGV: folded nick, holder ("<node> <owner> <source>"), node id, folded
 * nick to free (the holder's previous, or ''). Returns 1, or 0 when another holds it.
 */
const CLAIM = script(`
local holder = redis.call('HGET', KEYS[1], ARGV[1])
local prefix = ARGV[3] .. ' ' .. string.match(ARGV[2], '^%S+ (%S+)') .. ' '
if holder and string.sub(holder, 1, #prefix) ~= prefix then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[4] ~= '' and ARGV[4] ~= ARGV[1] then
  local old = redis.call('HGET', KEYS[1], ARGV[4])
  if old and string.sub(old, 1, #prefix) == prefix then
    redis.call('HDEL', KEYS[1], ARGV[4])
    redis.call('SREM', KEYS[2], ARGV[4])
  end
end
return 1
`);

/**
 * The first free nick of `base`, `base-2`, `base-3`…: a lab member's face. KEYS: nicks, node-nicks.
 * ARGV: base, node id, owner, user@host. Returns the nick taken.
 */
const CLAIM_FIRST_FREE = script(`
for n = 1, 999 do
  local nick = ARGV[1]
  if n > 1 then nick = ARGV[1] .. '-' .. n end
  local folded = string.gsub(nick, '%u', string.lower)
  if redis.call('HEXISTS', KEYS[1], folded) == 0 then
    redis.call('HSET', KEYS[1], folded, ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. nick .. '!' .. ARGV[4])
    redis.call('SADD', KEYS[2], folded)
    return nick
  end
end
return ''
`);

/** KEYS: nicks, node-nicks. ARGV: folded nick, "<node> <owner> " prefix of its holder. */
const RELEASE = script(`
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if holder and string.sub(holder, 1, #ARGV[2]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[1])
end
return 1
`);

/** KEYS: nicks, node-nicks. ARGV: node id. Frees every nick a (dead) node held. */
const RELEASE_NODE = script(`
local prefix = ARGV[1] .. ' '
for _, folded in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local holder = redis.call('HGET', KEYS[1], folded)
  if holder and string.sub(holder, 1, #prefix) == prefix then redis.call('HDEL', KEYS[1], folded) end
end
redis.call('DEL', KEYS[2])
return 1
`);

/** A member of a room as the cluster's membership has it, whichever node holds it. */
export interface ClusterMember {
  readonly joinId: JoinId;
  readonly node: number;
  readonly name: string;
  /** Its IRC face, when its node gave it one. */
  readonly source: string | null;
}

/** The cluster's side of the IRC door: nicks in Redis, and rooms' members on every node. */
export class ClusterNicks {
  constructor(private readonly commands: RedisCommands, private readonly keys: ClusterKeys, private readonly nodeId: () => number) {}

  /** Takes `nick` (folded) for `owner` (a connection id), freeing its `previous` one; false when taken. */
  async claim(folded: string, owner: string, source: string, previous: string | null): Promise<boolean> {
    const node = this.nodeId();
    const reply = await this.commands.run<number>(CLAIM, [this.keys.nicks, this.keys.nodeNicks(node)], [folded, `${node} ${owner} ${source}`, String(node), previous ?? ''], 'idempotent');
    return reply === 1;
  }

  /** A lab member's nick: `base` or the first free suffixed one ('' if none is). */
  claimFirstFree(base: string, owner: string, userHost: string): Promise<string> {
    const node = this.nodeId();
    return this.commands.run<string>(CLAIM_FIRST_FREE, [this.keys.nicks, this.keys.nodeNicks(node)], [base, String(node), owner, userHost], 'idempotent');
  }

  async release(folded: string, owner: string): Promise<void> {
    const node = this.nodeId();
    await this.commands.run(RELEASE, [this.keys.nicks, this.keys.nodeNicks(node)], [folded, `${node} ${owner} `], 'idempotent');
  }

  /** A dead node's nicks are free. */
  async releaseNode(node: number): Promise<void> {
    await this.commands.run(RELEASE_NODE, [this.keys.nicks, this.keys.nodeNicks(node)], [String(node)], 'idempotent');
  }

  /** Who holds `folded`: its node and `nick!user@host`, or null. */
  async find(folded: string): Promise<{ node: number; owner: string; source: string } | null> {
    const holder = await this.commands.call<string | null>(['HGET', this.keys.nicks, folded], 'idempotent');
    if (!holder) return null;
    const [node, owner, source] = holder.split(' ');
    return { node: Number(node), owner: owner!, source: source! };
  }

  /** A room's members on every node, in join order. */
  async roomMembers(ref: RoomRef): Promise<ClusterMember[]> {
    const reply = await this.commands.call<Record<string, string> | string[]>(['HGETALL', this.keys.roomMembers(ref)], 'idempotent');
    const pairs = Array.isArray(reply) ? pairsOf(reply) : Object.entries(reply);
    return pairs
      .map(([joinId, value]) => {
        const [node, seq, ...rest] = value.split(' ');
        const stored = rest.join(' ');
        const split = stored.indexOf(FACE_SEPARATOR);
        return {
          joinId: Number(joinId),
          node: Number(node),
          seq: Number(seq),
          name: split < 0 ? stored : stored.slice(0, split),
          source: split < 0 ? null : stored.slice(split + 1),
        };
      })
      .sort((a, b) => a.seq - b.seq)
      .map(({ seq: _seq, ...member }) => member);
  }
}

function pairsOf(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}
