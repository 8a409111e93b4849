import { randomUUID } from 'node:crypto';
import type { JoinId, RoomRef } from '../protocol/types.js';
import type { RedisCommands } from './commands.js';
import type { RedisPort } from './redis-port.js';
import type { ClusterKeys } from './keys.js';
import { FACE_SEPARATOR } from './record.js';
import { script } from './scripts.js';

/**
 * IRC nicks, unique across the cluster: a hash of folded nick → holder, and each node's set of the
 * nicks it holds, freed (with the node's members) when it dies. All under the registry's hash tag.
 * KEYS: nicks, node-nicks. ARGV: folded nick, holder ("<node> <owner> <source> <instance>"), node id, folded
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
 * ARGV: base, node id, owner, user@host, instance. Returns the nick taken.
 */
const CLAIM_FIRST_FREE = script(`
for n = 1, 999 do
  local nick = ARGV[1]
  if n > 1 then nick = ARGV[1] .. '-' .. n end
  local folded = string.gsub(nick, '%u', string.lower)
  if redis.call('HEXISTS', KEYS[1], folded) == 0 then
    redis.call('HSET', KEYS[1], folded, ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. nick .. '!' .. ARGV[4] .. ' ' .. ARGV[5])
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

/** A private message between IRC users on different nodes, as the recipient's node receives it. */
export interface DirectMessage {
  /** The recipient's connection id on its node. */
  readonly to: number;
  readonly from: string;
  readonly command: 'PRIVMSG' | 'NOTICE';
  readonly text: string;
}

/** Who holds a nick, cluster-wide. */
export interface NickHolder {
  readonly node: number;
  /** `c<connection id>` for an IRC user, `l<join id>` for a lab member's face. */
  readonly owner: string;
  readonly source: string;
  /** The holder's process: where its private messages are published. */
  readonly instance: string;
}

/**
 * The cluster's side of the IRC door: nicks in Redis, rooms' members on every node, and private
 * messages to IRC users on other nodes (each process listens on a channel of its own, named by a
 * random instance id, so that a node registering again under a new id still hears its users').
 */
export class ClusterNicks {
  readonly instance = randomUUID();

  constructor(
    private readonly commands: RedisCommands,
    private readonly keys: ClusterKeys,
    private readonly nodeId: () => number,
    private readonly redis: RedisPort,
  ) {}

  /** Takes `nick` (folded) for `owner` (a connection id), freeing its `previous` one; false when taken. */
  async claim(folded: string, owner: string, source: string, previous: string | null): Promise<boolean> {
    const node = this.nodeId();
    const reply = await this.commands.run<number>(CLAIM, [this.keys.nicks, this.keys.nodeNicks(node)], [folded, `${node} ${owner} ${source} ${this.instance}`, String(node), previous ?? ''], 'idempotent');
    return reply === 1;
  }

  /** A lab member's nick: `base` or the first free suffixed one ('' if none is). */
  claimFirstFree(base: string, owner: string, userHost: string): Promise<string> {
    const node = this.nodeId();
    return this.commands.run<string>(CLAIM_FIRST_FREE, [this.keys.nicks, this.keys.nodeNicks(node)], [base, String(node), owner, userHost, this.instance], 'idempotent');
  }

  /** Hears the private messages other nodes publish for this process's IRC users. */
  listen(handler: (message: DirectMessage) => void): Promise<void> {
    return this.redis.subscribe(this.keys.direct(this.instance), (payload) => {
      try {
        const message = JSON.parse(payload) as DirectMessage;
        if (Number.isSafeInteger(message.to) && typeof message.from === 'string' && typeof message.text === 'string') handler(message);
      } catch {
        // A foreign publisher on the channel: nothing for us.
      }
    });
  }

  async sendDirect(instance: string, message: DirectMessage): Promise<void> {
    await this.commands.call([this.redis.publishCommand, this.keys.direct(instance), JSON.stringify(message)], 'once');
  }

  async release(folded: string, owner: string): Promise<void> {
    const node = this.nodeId();
    await this.commands.run(RELEASE, [this.keys.nicks, this.keys.nodeNicks(node)], [folded, `${node} ${owner} `], 'idempotent');
  }

  /** Who holds `folded`, or null. */
  async find(folded: string): Promise<NickHolder | null> {
    const holder = await this.commands.call<string | null>(['HGET', this.keys.nicks, folded], 'idempotent');
    if (!holder) return null;
    const [node, owner, source, instance] = holder.split(' ');
    return { node: Number(node), owner: owner!, source: source!, instance: instance ?? '' };
  }

  /** The ref of the room named `name`, if the cluster has one. */
  async refOf(name: string): Promise<RoomRef | null> {
    const ref = await this.commands.call<string | null>(['HGET', this.keys.refs, name], 'idempotent');
    return ref === null ? null : Number(ref);
  }

  /** Room names the cluster knows (at most `limit`), for LIST. */
  async roomNames(limit: number): Promise<string[]> {
    const reply = await this.commands.call<Record<string, string> | string[]>(['HGETALL', this.keys.names], 'idempotent');
    const pairs = Array.isArray(reply) ? pairsOf(reply) : Object.entries(reply);
    return pairs.sort((a, b) => Number(a[0]) - Number(b[0])).slice(0, limit).map(([, name]) => name);
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

/** A dead (or departing) node's nicks are free. */
export async function releaseNodeNicks(commands: RedisCommands, keys: ClusterKeys, node: number): Promise<void> {
  await commands.run(RELEASE_NODE, [keys.nicks, keys.nodeNicks(node)], [String(node)], 'idempotent');
}
