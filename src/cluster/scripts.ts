import { createHash } from 'node:crypto';

/**
 * The cluster's atomic steps, as Lua scripts run inside Redis. Each touches keys of one hash tag
 * only (see keys.ts), so each runs on one Redis Cluster slot.
 */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * A room's ref and a connection's join id, handed out once cluster-wide.
 * KEYS: refs, names, next-ref, next-join-id. ARGV: room name, join id or ''. Returns {ref, joinId}.
 */
export const RESOLVE_JOIN = script(`
local ref = redis.call('HGET', KEYS[1], ARGV[1])
if not ref then
  ref = redis.call('INCR', KEYS[3]) - 1
  redis.call('HSET', KEYS[1], ARGV[1], ref)
  redis.call('HSET', KEYS[2], ref, ARGV[1])
end
local joinId = ARGV[2]
if joinId == '' then joinId = redis.call('INCR', KEYS[4]) - 1 end
return {tonumber(ref), tonumber(joinId)}
`);

/** Shared by the ordering scripts: gives a record the room's next place, logs and publishes it. */
const APPEND = `
local function append(kind, joinId, name, extra)
  local seq = redis.call('INCR', KEYS[1])
  local record
  if extra == nil then record = cjson.encode({seq, kind, tonumber(joinId), name})
  else record = cjson.encode({seq, kind, tonumber(joinId), name, extra}) end
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', LOG_LENGTH, seq .. '-0', 'r', record)
  redis.call(PUBLISH, CHANNEL, record)
  return seq, record
end
`;

/**
 * The room's ordering point for joins and leaves (chats: ORDER_CHATS): one event gets the room's
 * next sequence number, changes the membership, goes into the room's capped log and out on its
 * channel, all at once.
 * KEYS: seq, members, log. ARGV: kind, join id, node id, name (j) or reason (p, q), log length,
 * channel, publish command (PUBLISH or SPUBLISH), deadline in Redis' milliseconds (0: none). Kinds:
 * `j` join; `l` leave, `p` part with a reason, `q` quit. A member is stored as
 * "<node id> <join seq> <name>" (the name with its IRC face, if any).
 * Returns {seq, record}; {0, join seq} for a join of a member already in; {-1} for a leave of a
 * join id that is not in the room; {-2} past the deadline (the node has answered UNAVAILABLE: it
 * must not happen after all).
 */
export const ORDER = script(`
local LOG_LENGTH, CHANNEL, PUBLISH = ARGV[5], ARGV[6], ARGV[7]
${APPEND}
local deadline = tonumber(ARGV[8] or '0')
if deadline > 0 then
  local now = redis.call('TIME')
  if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > deadline then return {-2} end
end
local kind, joinId, node = ARGV[1], ARGV[2], ARGV[3]
local member = redis.call('HGET', KEYS[2], joinId)
if kind == 'j' then
  if member then
    local first = string.find(member, ' ', 1, true)
    return {0, string.sub(member, first + 1, string.find(member, ' ', first + 1, true) - 1)}
  end
  local seq = tonumber(redis.call('GET', KEYS[1]) or '0') + 1
  redis.call('HSET', KEYS[2], joinId, node .. ' ' .. seq .. ' ' .. ARGV[4])
  local placed, record = append('j', joinId, ARGV[4], tonumber(node))
  return {placed, record}
end
if not member then return {-1} end
local first = string.find(member, ' ', 1, true)
local second = string.find(member, ' ', first + 1, true)
local name = string.sub(member, second + 1)
redis.call('HDEL', KEYS[2], joinId)
local extra = nil
if kind == 'p' or kind == 'q' then extra = ARGV[4] else kind = 'l' end
local seq, record = append(kind, joinId, name, extra)
return {seq, record}
`);

/**
 * A room's chats from one node in one event-loop turn, in the order they came, each given the
 * room's next place as ORDER gives a chat its place: one script call and one message on the room's
 * channel for them all (a JSON array of the records; a lone record as it is), where a call and a
 * message each would cost every node and Redis several times the CPU. Each record still goes into
 * the log as its own entry, so catching up reads them one by one.
 * KEYS: seq, members, log. ARGV: log length, channel, publish command, deadline (as ORDER's), then
 * four per chat: kind (`c`, `i`, `n`, `t`, `k`), join id, text, new name (for `k`; else empty).
 * Returns each chat's seq, or -1 for a join id not in the room; {-2} past the deadline (none ordered).
 */
export const ORDER_CHATS = script(`
local LOG_LENGTH, CHANNEL, PUBLISH = ARGV[1], ARGV[2], ARGV[3]
local deadline = tonumber(ARGV[4])
if deadline > 0 then
  local now = redis.call('TIME')
  if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > deadline then return {-2} end
end
local results, published = {}, {}
for i = 5, #ARGV, 4 do
  local kind, joinId = ARGV[i], ARGV[i + 1]
  local member = redis.call('HGET', KEYS[2], joinId)
  if not member then
    results[#results + 1] = -1
  else
    local first = string.find(member, ' ', 1, true)
    local second = string.find(member, ' ', first + 1, true)
    local name = string.sub(member, second + 1)
    if kind == 'k' and ARGV[i + 3] ~= '' then
      name = ARGV[i + 3]
      redis.call('HSET', KEYS[2], joinId, string.sub(member, 1, second) .. name)
    end
    local seq = redis.call('INCR', KEYS[1])
    local record = cjson.encode({seq, kind, tonumber(joinId), name, ARGV[i + 2]})
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', LOG_LENGTH, seq .. '-0', 'r', record)
    published[#published + 1] = record
    results[#results + 1] = seq
  end
end
if #published == 1 then redis.call(PUBLISH, CHANNEL, published[1])
elseif #published > 1 then redis.call(PUBLISH, CHANNEL, '[' .. table.concat(published, ',') .. ']') end
return results
`);

/**
 * A node's members leave a room, each announced once at its place in the room's order: run for a
 * dead node by any survivor (more than one may run it; the second finds nobody), or by a node
 * stopping gracefully. KEYS: seq, members, log. ARGV: node id, log length, channel, publish command.
 * Returns how many left.
 */
export const DEPART_NODE = script(`
local LOG_LENGTH, CHANNEL, PUBLISH = ARGV[2], ARGV[3], ARGV[4]
${APPEND}
local prefix = ARGV[1] .. ' '
local all = redis.call('HGETALL', KEYS[2])
local left = 0
for i = 1, #all, 2 do
  local value = all[i + 1]
  if string.sub(value, 1, #prefix) == prefix then
    redis.call('HDEL', KEYS[2], all[i])
    local rest = string.sub(value, #prefix + 1)
    -- Its connection is gone with its node: a quit, for IRC members to see as one.
    append('q', all[i], string.sub(rest, string.find(rest, ' ', 1, true) + 1), 'Quit: node gone')
    left = left + 1
  end
end
return left
`);

/**
 * Records from `from` on, with the room's last sequence number, so a reader can tell a gap the
 * log no longer covers. KEYS: seq, log. ARGV: from, count. Returns {lastSeq, record, record, ...}.
 */
export const READ_LOG = script(`
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local entries = redis.call('XRANGE', KEYS[2], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
local out = {last}
for i = 1, #entries do out[#out + 1] = entries[i][2][2] end
return out
`);

/** A node joins the cluster. KEYS: nodes, lease. ARGV: node id, lease ms, description. */
export const ACQUIRE_LEASE = script(`
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1
`);

/**
 * Claims a node whose lease ran out (on Redis' clock): exactly one caller gets 1, and the node is
 * put among the dead whose members are still to be announced. KEYS: lease, nodes, dead-nodes.
 * ARGV: node id.
 */
export const CLAIM_DEAD = script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`);

/**
 * The deployment's identity, and counters that never go back: a Redis that lost its data (no
 * persistence, restarted) is a new epoch, and the nodes' refs, join ids and node ids continue above
 * the highest any of them issued. KEYS: deployment, next-ref, next-join-id, next-node-id.
 * ARGV: a new deployment id (used if none is set), then the three counters' floors.
 * Returns the deployment id in force.
 */
export const ENSURE_EPOCH = script(`
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[1])
  current = ARGV[1]
end
for i = 2, 4 do
  local value = tonumber(redis.call('GET', KEYS[i]) or '0')
  if value < tonumber(ARGV[i]) then redis.call('SET', KEYS[i], ARGV[i]) end
end
return current
`);
