import type { Logger } from 'pino';
import type { JoinId, RoomRef } from '../protocol/types.js';
import { RedisCommands, UnavailableError, type Mode } from './commands.js';
import { ClusterKeys } from './keys.js';
import { LeaseStatus } from './lease-state.js';
import { NodeLease, type FenceChange } from './node-lease.js';
import { clusterNodes, clusterRooms, type ClusterNodeInfo, type ClusterRoomInfo } from './queries.js';
import { decodeRecord, type ClusterRecord } from './record.js';
import { redactedUrl } from './redis-client.js';
import { openRedisPort, type RedisPort } from './redis-port.js';
import { RoomChannels, type RoomListener } from './room-channels.js';
import { ORDER, READ_LOG, RESOLVE_JOIN } from './scripts.js';
import { ClusterNicks } from './nicks.js';
import { ChatBatches, type ChatOutcome, type ChatToOrder } from './chat-batches.js';

export { UnavailableError } from './commands.js';
export type { FenceChange } from './node-lease.js';
export type { ClusterNodeInfo } from './queries.js';
export type { RoomClusterEvent, RoomListener } from './room-channels.js';
export type { ChatOutcome, ChatToOrder } from './chat-batches.js';

export interface ClusterLinkOptions {
  readonly url: string;
  readonly prefix: string;
  /** A node whose lease is not renewed for this long is dead (on Redis' clock). */
  readonly leaseMs: number;
  /** How long a request waits for Redis before it gets UNAVAILABLE. */
  readonly waitMs: number;
  /** Records kept in each room's log, for nodes catching up. */
  readonly logLength: number;
  /** How this node is described to the others (its chat address). */
  readonly describe: string;
  readonly log: Logger;
}

/**
 * `name`: with the IRC face when the member has one (record.ts faceOf). `letter`: the record kind
 * on the wire (record.ts): a leave's `l`, `p` or `q` (then `reason`). Chats go by `orderChat`.
 */
export type OrderCommand =
  | { kind: 'join'; joinId: JoinId; name: string }
  | { kind: 'leave'; joinId: JoinId; letter?: 'l' | 'p' | 'q'; reason?: string };

export type OrderResult =
  | { status: 'ordered'; record: ClusterRecord }
  /** A join of a member already in (a retried join that had gone through). */
  | { status: 'alreadyIn'; joinSeq: number }
  /** A chat or leave of a join id the room does not have (it was removed: the node was fenced). */
  | { status: 'notMember' };

export type LogRead = { status: 'records'; records: ClusterRecord[] } | { status: 'trimmed'; records: ClusterRecord[] };

const LOG_READ_BATCH = 1_000;
/**
 * How much earlier than the node's own wait bound the ordering script's deadline falls: covers the
 * error in the node's estimate of Redis' clock, so a script that runs after the node answered
 * UNAVAILABLE sees itself late and refuses.
 */
const DEADLINE_MARGIN_MS = 250;

/**
 * The node's connection to the cluster's shared state in Redis: the ordering point rooms hand
 * their events to, the channels they hear each other on, the node's lease, and the search for dead
 * nodes. It is transport, like a socket: room actors post commands to it and get events back.
 * The parts are their own: commands within the wait bound (commands.ts), the node's lease and its
 * state machine (node-lease.ts, lease-state.ts), room channels (room-channels.ts), the dump's
 * queries (queries.ts); this is their one face.
 */
export class ClusterLink {
  private readonly keys: ClusterKeys;
  private readonly status = new LeaseStatus();
  private readonly commands: RedisCommands;
  private readonly channels: RoomChannels;
  private readonly lease: NodeLease;
  private readonly chats: ChatBatches;
  /** The IRC door's cluster-wide nicks, rooms' members on every node, and private messages between nodes. */
  readonly nicks: ClusterNicks;
  /** Per member (`<ref> <join id>`): its last join or leave, until Redis has it. */
  private readonly memberChains = new Map<string, Promise<unknown>>();
  private sweep: NodeJS.Timeout | undefined;
  private closing: Promise<void> | null = null;
  private description: string;

  private constructor(
    private readonly options: ClusterLinkOptions,
    private readonly redis: RedisPort,
  ) {
    this.keys = new ClusterKeys(options.prefix);
    this.description = options.describe;
    this.commands = new RedisCommands(redis, this.status, options.waitMs, options.log);
    this.channels = new RoomChannels(redis, this.keys, this.commands, options.log, () => this.lease.nodeId, (ref) => this.chats.unanswered(ref));
    const leaseOptions = { leaseMs: options.leaseMs, logLength: options.logLength, log: options.log, url: redactedUrl(options.url) };
    this.lease = new NodeLease(redis, this.keys, this.commands, this.status, this.channels, leaseOptions, () => this.description);
    this.nicks = new ClusterNicks(this.commands, this.keys, () => this.lease.nodeId, redis);
    // A chat carries its deadline on Redis' clock, as a join does (see order).
    const chatDeadline = (): number => Date.now() + options.waitMs - DEADLINE_MARGIN_MS + this.lease.clockOffsetMs;
    this.chats = new ChatBatches(this.commands, this.keys, chatDeadline, redis.publishCommand, options.logLength, options.log);
  }

  /** Connects, registers this node and starts its lease; rejects if Redis is not reachable in time. */
  static async connect(options: ClusterLinkOptions, connectTimeoutMs = 10_000): Promise<ClusterLink> {
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis at ${redactedUrl(options.url)} not reachable within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    });
    let redis: RedisPort | null = null;
    try {
      const opening = openRedisPort(options.url);
      opening.catch(() => {});
      redis = await Promise.race([opening, failed]);
      await Promise.race([redis.connect(), failed]);
      const link = new ClusterLink(options, redis);
      await Promise.race([link.lease.register(), failed]);
      link.lease.watchConnections();
      link.startTimers();
      return link;
    } catch (error) {
      redis?.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether Redis is a Redis Cluster (then room channels use sharded pub/sub). */
  get sharded(): boolean {
    return this.redis.publishCommand === 'SPUBLISH';
  }

  get nodeId(): number {
    return this.lease.nodeId;
  }

  /** False while the node knows Redis is away (disconnected, reconnecting, fenced). */
  get reachable(): boolean {
    return this.status.state === 'up' && this.redis.isReady;
  }

  get url(): string {
    return redactedUrl(this.options.url);
  }

  /**
   * Called when this node finds its lease gone, or Redis emptied (a new epoch: then the rooms'
   * refs it knows are void too): it must drop its connections (no zombie members).
   */
  onFenced(handler: (change: FenceChange) => void): void {
    this.lease.onFenced(handler);
  }

  // ---- requests from actors ---------------------------------------------------------------------

  /** The room's ref (handed out on its first join anywhere) and the connection's join id. */
  async resolveJoin(roomName: string, joinId: JoinId | null): Promise<{ ref: RoomRef; joinId: JoinId }> {
    const k = this.keys;
    const [ref, id] = await this.commands.run<[number, number]>(RESOLVE_JOIN, [k.refs, k.names, k.nextRef, k.nextJoinId], [roomName, joinId === null ? '' : String(joinId)], 'idempotent');
    this.lease.noteIssued(ref, id);
    return { ref, joinId: id };
  }

  async roomExists(ref: RoomRef): Promise<boolean> {
    return (await this.commands.call<number>(['HEXISTS', this.keys.names, String(ref)], 'idempotent')) === 1;
  }

  /**
   * Gives a chat its place in the room's order, with the room's other chats of this event-loop
   * turn (chat-batches.ts); sent once. `told` hears what became of it.
   */
  orderChat(ref: RoomRef, chat: ChatToOrder, told: (outcome: ChatOutcome) => void): void {
    this.chats.add(ref, chat, told);
  }

  /**
   * Gives a join or leave its place in the room's order: idempotent, retried across
   * reconnections. Rejects with UnavailableError after the wait bound; a `durable` command (a
   * leave, a departure) is then still retried until Redis has it. The room's chats gathered so
   * far go first.
   */
  async order(ref: RoomRef, command: OrderCommand, durable = false): Promise<OrderResult> {
    const chatsFirst = this.chats.flush(ref);
    const mode: Mode = 'idempotent';
    // One member's joins and leaves go to Redis one after another: a leave still being retried
    // must not land after the same member's next join. (A member's chats come only between the
    // two, once its client has the answer.)
    const memberKey = `${ref} ${command.joinId}`;
    const before = this.memberChains.get(memberKey);
    const attempt = async (): Promise<OrderResult> => {
      const waitUntil = Date.now() + this.options.waitMs;
      if (before) await this.commands.bounded(before.catch(() => {}), waitUntil);
      if (chatsFirst) await this.commands.bounded(chatsFirst, waitUntil);
      if (command.kind === 'join') {
        // Everything ordered after this join must reach this node: it listens before it joins.
        await this.commands.bounded(this.channels.subscribed(ref), waitUntil);
        // The room goes into this node's index before its first member does: a node that dies
        // between the two leaves nobody behind unannounced.
        await this.commands.call(['SADD', this.keys.nodeRooms(this.lease.nodeId), String(ref)], 'idempotent');
      }
      // A join or chat carries its deadline on Redis' clock: run later than that (Redis paused,
      // say), the script refuses it, so a request answered UNAVAILABLE never happens after all.
      // The script's deadline is a little before the node's own, by more than the error in its
      // estimate of Redis' clock: the answer still comes within the wait bound.
      const deadline = durable ? 0 : waitUntil - DEADLINE_MARGIN_MS + this.lease.clockOffsetMs;
      const letter = command.kind === 'join' ? 'j' : (command.letter ?? 'l');
      const value = command.kind === 'join' ? command.name : (command.reason ?? '');
      const args = [letter, String(command.joinId), String(this.lease.nodeId), value, String(this.options.logLength), this.keys.roomChannel(ref), this.redis.publishCommand, String(deadline)];
      return parseOrderReply(await this.commands.run<[number, string?]>(ORDER, this.keys.roomKeys(ref), args, mode));
    };
    const first = attempt();
    let settled: Promise<unknown> = first;
    if (durable) settled = first.catch(() => this.commands.retryUntilDone(attempt));
    this.memberChains.set(memberKey, settled);
    void settled.finally(() => {
      if (this.memberChains.get(memberKey) === settled) this.memberChains.delete(memberKey);
    }).catch(() => {});
    return first;
  }

  /** Records from `from` on, read from the room's log; `trimmed` when the log no longer reaches back. */
  /** Log reads: each a gap (or a catch-up) filled from a room's log. */
  private logReads = 0;

  /** What the metrics read: UNAVAILABLE answers, lease renewals, gaps filled from the log. */
  get stats(): { unavailable: number; leaseRenewals: number; logReads: number } {
    return { unavailable: this.commands.unavailable, leaseRenewals: this.lease.renewals, logReads: this.logReads };
  }

  /** Every Redis command's round trip, in seconds, to `observer` (metrics on). */
  observeCommandLatency(observer: ((seconds: number) => void) | null): void {
    this.commands.latencyObserver = observer;
  }

  async readLog(ref: RoomRef, from: number): Promise<LogRead> {
    this.logReads++;
    const records: ClusterRecord[] = [];
    for (let next = from; ;) {
      const reply = await this.commands.run<[number, ...string[]]>(READ_LOG, [this.keys.roomSeq(ref), this.keys.roomLog(ref)], [String(next), String(LOG_READ_BATCH)], 'idempotent');
      const [last, ...payloads] = reply;
      const batch = payloads.map(decodeRecord).filter((record): record is ClusterRecord => record !== null);
      if (records.length === 0 && next <= last && (batch.length === 0 || batch[0]!.seq > next)) return { status: 'trimmed', records: batch };
      records.push(...batch);
      if (payloads.length < LOG_READ_BATCH) return { status: 'records', records };
      next = batch.length > 0 ? batch[batch.length - 1]!.seq + 1 : last + 1;
    }
  }

  // ---- room channels (room-channels.ts) -----------------------------------------------------------

  /** The actor now watching the room (a restarted room's actor replaces the failed one). */
  watcherOf(ref: RoomRef): RoomListener | undefined {
    return this.channels.watcherOf(ref);
  }

  /** Starts delivering the room's channel to its actor. */
  watchRoom(ref: RoomRef, room: RoomListener): void {
    this.channels.watch(ref, room);
  }

  /** The node has no members left in the room: stop hearing it. */
  unwatchRoom(ref: RoomRef): void {
    this.channels.unwatch(ref);
  }

  /** Records wait behind a gap: prompt the room to read its log if the gap is still open shortly. */
  gapSeen(ref: RoomRef): void {
    this.channels.gapSeen(ref);
  }

  cancelGapTimer(ref: RoomRef): void {
    this.channels.cancelGapTimer(ref);
  }

  warnOrderLost(ref: RoomRef, members: number): void {
    this.options.log.warn({ room: ref, members }, 'cluster: missed room events the log no longer holds; closing this node\'s members of the room');
  }

  // ---- the node -----------------------------------------------------------------------------------

  /** How this node describes itself to the others (its chat address, once it listens). */
  describeAs(description: string): void {
    this.description = description;
    this.commands.call(['SET', this.keys.lease(this.lease.nodeId), description, 'KEEPTTL', 'XX'], 'idempotent').catch(() => {});
  }

  /** Live nodes, with their lease's time left, for the dump. */
  nodes(): Promise<ClusterNodeInfo[]> {
    return clusterNodes(this.commands, this.keys);
  }

  /** Every room's members on every node (at most `limit` rooms), for the dump. */
  rooms(limit: number): Promise<ClusterRoomInfo[]> {
    return clusterRooms(this.commands, this.keys, limit);
  }

  /**
   * Leaves the cluster: with `depart`, this node's members' departures are announced in their
   * rooms first (a graceful stop); its presence is removed either way.
   */
  async close(depart: boolean): Promise<void> {
    this.closing ??= this.leave(depart);
    return this.closing;
  }

  /**
   * Test-only: behave as a node whose process died. Its lease is no longer renewed and it leaves
   * nothing behind on purpose; the other nodes must find it dead. Redis is not told anything.
   */
  simulateCrash(): void {
    this.status.apply('closed');
    this.stopTimers();
    this.redis.destroy();
  }

  private startTimers(): void {
    this.lease.startTimers();
    this.sweep = setInterval(() => this.commands.failOverdue(), Math.max(20, Math.floor(this.options.waitMs / 10)));
    this.sweep.unref();
  }

  private stopTimers(): void {
    this.lease.stopTimers();
    clearInterval(this.sweep);
  }

  private async leave(depart: boolean): Promise<void> {
    this.stopTimers();
    this.channels.cancelTimers();
    if (depart && this.status.state === 'up') {
      const id = this.lease.nodeId;
      try {
        await this.lease.departNode(id);
        await this.commands.call(['DEL', this.keys.lease(id)], 'once');
        await this.commands.call(['SREM', this.keys.nodes, String(id)], 'once');
      } catch (error) {
        // Its lease runs out and the others announce its members: later, but still once.
        this.options.log.warn({ err: error }, 'cluster: could not announce departures on stop; the lease will');
      }
    }
    this.status.apply('closed');
    this.commands.failAll();
    await this.redis.close();
  }
}

function parseOrderReply(reply: [number, string?]): OrderResult {
  const [seq, payload] = reply;
  if (seq === 0) return { status: 'alreadyIn', joinSeq: Number(payload ?? 0) };
  if (seq === -2) throw new UnavailableError('Redis ran the command past its deadline; refused');
  if (seq === -1 || payload === undefined) return { status: 'notMember' };
  const record = decodeRecord(payload);
  if (!record) throw new Error('cluster: the ordering script returned an unreadable record');
  return { status: 'ordered', record };
}
