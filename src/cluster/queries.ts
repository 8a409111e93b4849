import type { JoinId, RoomRef } from '../protocol/types.js';
import type { RedisCommands } from './commands.js';
import type { ClusterKeys } from './keys.js';

export interface ClusterNodeInfo {
  readonly id: number;
  readonly description: string | null;
  readonly leaseExpiresInMs: number | null;
}

export interface ClusterRoomInfo {
  readonly ref: RoomRef;
  readonly name: string;
  readonly members: { joinId: JoinId; node: number; name: string }[];
}

/** Live nodes, with their lease's time left, for the dump. */
export async function clusterNodes(commands: RedisCommands, keys: ClusterKeys): Promise<ClusterNodeInfo[]> {
  const ids = (await commands.call<string[]>(['SMEMBERS', keys.nodes], 'idempotent')).map(Number).sort((a, b) => a - b);
  return Promise.all(ids.map(async (id) => {
    const [description, ttl] = await Promise.all([
      commands.call<string | null>(['GET', keys.lease(id)], 'idempotent'),
      commands.call<number>(['PTTL', keys.lease(id)], 'idempotent'),
    ]);
    return { id, description, leaseExpiresInMs: ttl >= 0 ? ttl : null };
  }));
}

/** Every room's members on every node (at most `limit` rooms), for the dump. */
export async function clusterRooms(commands: RedisCommands, keys: ClusterKeys, limit: number): Promise<ClusterRoomInfo[]> {
  const names = fieldPairs(await commands.call<HashReply>(['HGETALL', keys.names], 'idempotent'))
    .map(([ref, name]) => ({ ref: Number(ref), name }))
    .sort((a, b) => a.ref - b.ref)
    .slice(0, limit);
  const rooms = await Promise.all(names.map(async ({ ref, name }) => {
    const members = fieldPairs(await commands.call<HashReply>(['HGETALL', keys.roomMembers(ref)], 'idempotent')).map(([joinId, value]) => {
      const [node, , ...name] = value.split(' ');
      return { joinId: Number(joinId), node: Number(node), name: name.join(' ') };
    });
    return { ref, name, members: members.sort((a, b) => a.joinId - b.joinId) };
  }));
  return rooms.filter((room) => room.members.length > 0);
}

/** A hash as node-redis returns it: an object by default, a flat array in some modes. */
type HashReply = Record<string, string> | string[];

function fieldPairs(reply: HashReply): [string, string][] {
  if (!Array.isArray(reply)) return Object.entries(reply);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i]!, reply[i + 1]!]);
  return pairs;
}
