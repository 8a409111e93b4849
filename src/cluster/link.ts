import { ClientOfflineError, ErrorReply } from '@redis/client';
import type { Logger } from 'pino';
import type { JoinId, RoomRef } from '../protocol/types.js';
import { ClusterKeys } from './keys.js';
import { decodeRecord, type ClusterRecord } from './record.js';
import { redactedUrl } from './redis-client.js';
import { openRedisPort, type RedisPort } from './redis-port.js';
import { randomUUID } from 'node:crypto';
import { ACQUIRE_LEASE, CLAIM_DEAD, DEPART_NODE, ENSURE_EPOCH, ORDER, READ_LOG, RESOLVE_JOIN, type Script } from './scripts.js';

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

/** What a fenced node must drop: its connections (lease lost), the refs it remembers (Redis emptied), or both. */
export interface FenceChange {
  readonly closeConnections: boolean;
  readonly forgetRooms: boolean;
}

/** Redis could not be reached in time: the request gets UNAVAILABLE. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

/** What a room hears from the cluster: records in any order, and prompts to catch up. */
export interface RoomListener {
  send(event: RoomClusterEvent): void;
}

export type RoomClusterEvent =
  | { type: 'cluster.records'; records: ClusterRecord[] }
  /** Something may have been missed (a subscriber reconnected, a gap stayed open): read the log. */
  | { type: 'cluster.catchUp' };

export type OrderCommand =
  | { kind: 'join'; joinId: JoinId; name: string }
  | { kind: 'chat'; joinId: JoinId; text: string }
  | { kind: 'leave'; joinId: JoinId };

export type OrderResult =
  | { status: 'ordered'; record: ClusterRecord }
  /** A join of a member already in (a retried join that had gone through). */
  | { status: 'alreadyIn'; joinSeq: number }
  /** A chat or leave of a join id the room does not have (it was removed: the node was fenced). */
  | { status: 'notMember' };

export type LogRead = { status: 'records'; records: ClusterRecord[] } | { status: 'trimmed'; records: ClusterRecord[] };

export interface ClusterNodeInfo {
  readonly id: number;
  readonly description: string | null;
  readonly leaseExpiresInMs: number | null;
}

type Mode = 'once' | 'idempotent';

/** How often leases are renewed and dead nodes looked for, as a fraction of the lease. */
const RENEWALS_PER_LEASE = 3;
const LOG_READ_BATCH = 1_000;
/** How long records may wait behind a gap before the log is read. */
const GAP_WAIT_MS = 100;
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
 */
export class ClusterLink {
  private nodeIdValue = -1;
  private readonly keys: ClusterKeys;
  private readonly watched = new Map<RoomRef, RoomListener>();
  private readonly gapTimers = new Map<RoomRef, NodeJS.Timeout>();
  /** Per watched room: settles once Redis confirms the subscription to its channel. */
  private readonly subscriptions = new Map<RoomRef, Promise<void>>();
  private readonly channelOps = new Map<RoomRef, Promise<void>>();
  private readonly arriving = new Map<RoomRef, ClusterRecord[]>();
  /** Per member (`<ref> <join id>`): its last join or leave, until Redis has it. */
  private readonly memberChains = new Map<string, Promise<unknown>>();
  /** Redis' clock minus this node's, measured with TIME at each lease renewal. */
  private clockOffsetMs = 0;
  /** Commands written to Redis and not yet answered, oldest first, with their deadlines. */
  private readonly inflight = new Set<{ deadline: number; fail: (error: Error) => void }>();
  private readonly timers: NodeJS.Timeout[] = [];
  private lastRenewal = Date.now();
  private state: 'up' | 'down' | 'fenced' | 'closed' = 'up';
  private fencedHandler: ((change: FenceChange) => void) | null = null;
  /** The deployment this node registered in; another one means Redis lost its data. */
  private deployment: string | null = null;
  /** The highest ids this node has seen issued: floors for a new epoch's counters. */
  private readonly highest = { ref: -1, joinId: -1, nodeId: -1 };
  private closing: Promise<void> | null = null;
  private description: string;
  /**
   * Since when commands have been timing out (requests answered UNAVAILABLE), and how many: one
   * warn line when they start, one when Redis answers again, however many requests it costs.
   */
  private silence: { since: number; timedOut: number } | null = null;

  private constructor(
    private readonly options: ClusterLinkOptions,
    private readonly redis: RedisPort,
  ) {
    this.keys = new ClusterKeys(options.prefix);
    this.description = options.describe;
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
      await Promise.race([link.register(), failed]);
      link.watchConnections();
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
    return this.nodeIdValue;
  }

  /** False while the node knows Redis is away (disconnected, reconnecting, fenced). */
  get reachable(): boolean {
    return this.state === 'up' && this.redis.isReady;
  }

  get url(): string {
    return redactedUrl(this.options.url);
  }

  /**
   * Called when this node finds its lease gone, or Redis emptied (a new epoch: then the rooms'
   * refs it knows are void too): it must drop its connections (no zombie members).
   */
  onFenced(handler: (change: FenceChange) => void): void {
    this.fencedHandler = handler;
  }

  // ---- requests from actors ---------------------------------------------------------------------

  /** The room's ref (handed out on its first join anywhere) and the connection's join id. */
  async resolveJoin(roomName: string, joinId: JoinId | null): Promise<{ ref: RoomRef; joinId: JoinId }> {
    const k = this.keys;
    const [ref, id] = await this.run<[number, number]>(RESOLVE_JOIN, [k.refs, k.names, k.nextRef, k.nextJoinId], [roomName, joinId === null ? '' : String(joinId)], 'idempotent');
    this.highest.ref = Math.max(this.highest.ref, ref);
    this.highest.joinId = Math.max(this.highest.joinId, id);
    return { ref, joinId: id };
  }

  async roomExists(ref: RoomRef): Promise<boolean> {
    return (await this.call<number>(['HEXISTS', this.keys.names, String(ref)], 'idempotent')) === 1;
  }

  /**
   * Gives a room event its place in the room's order. A chat is sent once; a join or leave is
   * idempotent and retried across reconnections. Rejects with UnavailableError after the wait
   * bound; a `durable` command (a leave, a departure) is then still retried until Redis has it.
   */
  async order(ref: RoomRef, command: OrderCommand, durable = false): Promise<OrderResult> {
    const chat = command.kind === 'chat';
    const mode: Mode = chat ? 'once' : 'idempotent';
    // One member's joins and leaves go to Redis one after another: a leave still being retried
    // must not land after the same member's next join. (A member's chats come only between the
    // two, once its client has the answer.)
    const memberKey = chat ? '' : `${ref} ${command.joinId}`;
    const before = chat ? undefined : this.memberChains.get(memberKey);
    const attempt = async (): Promise<OrderResult> => {
      const waitUntil = Date.now() + this.options.waitMs;
      if (before) await this.bounded(before.catch(() => {}), waitUntil);
      if (command.kind === 'join') {
        // Everything ordered after this join must reach this node: it listens before it joins.
        await this.bounded(this.subscriptions.get(ref) ?? Promise.resolve(), waitUntil);
        // The room goes into this node's index before its first member does: a node that dies
        // between the two leaves nobody behind unannounced.
        await this.call(['SADD', this.keys.nodeRooms(this.nodeIdValue), String(ref)], 'idempotent');
      }
      // A join or chat carries its deadline on Redis' clock: run later than that (Redis paused,
      // say), the script refuses it, so a request answered UNAVAILABLE never happens after all.
      // The script's deadline is a little before the node's own, by more than the error in its
      // estimate of Redis' clock: the answer still comes within the wait bound.
      const deadline = durable ? 0 : waitUntil - DEADLINE_MARGIN_MS + this.clockOffsetMs;
      const args = [command.kind[0]!, String(command.joinId), String(this.nodeIdValue), command.kind === 'join' ? command.name : command.kind === 'chat' ? command.text : '', String(this.options.logLength), this.keys.roomChannel(ref), this.redis.publishCommand, String(deadline)];
      return parseOrderReply(await this.run<[number, string?]>(ORDER, this.keys.roomKeys(ref), args, mode));
    };
    const first = attempt();
    let settled: Promise<unknown> = first;
    if (durable) settled = first.catch(() => this.retryUntilDone(attempt));
    if (!chat) {
      this.memberChains.set(memberKey, settled);
      void settled.finally(() => {
        if (this.memberChains.get(memberKey) === settled) this.memberChains.delete(memberKey);
      }).catch(() => {});
    }
    return first;
  }

  /** Records from `from` on, read from the room's log; `trimmed` when the log no longer reaches back. */
  async readLog(ref: RoomRef, from: number): Promise<LogRead> {
    const records: ClusterRecord[] = [];
    for (let next = from; ;) {
      const reply = await this.run<[number, ...string[]]>(READ_LOG, [this.keys.roomSeq(ref), this.keys.roomLog(ref)], [String(next), String(LOG_READ_BATCH)], 'idempotent');
      const [last, ...payloads] = reply;
      const batch = payloads.map(decodeRecord).filter((record): record is ClusterRecord => record !== null);
      if (records.length === 0 && next <= last && (batch.length === 0 || batch[0]!.seq > next)) return { status: 'trimmed', records: batch };
      records.push(...batch);
      if (payloads.length < LOG_READ_BATCH) return { status: 'records', records };
      next = batch.length > 0 ? batch[batch.length - 1]!.seq + 1 : last + 1;
    }
  }

  /** The actor now watching the room (a restarted room's actor replaces the failed one). */
  watcherOf(ref: RoomRef): RoomListener | undefined {
    return this.watched.get(ref);
  }

  /** Starts delivering the room's channel to its actor. */
  watchRoom(ref: RoomRef, room: RoomListener): void {
    const alreadyWatched = this.watched.has(ref);
    this.watched.set(ref, room);
    // A restarted room's actor takes over the subscription its predecessor had.
    if (alreadyWatched) return;
    const channel = this.keys.roomChannel(ref);
    const subscribed = this.channelOp(ref, () => this.redis.subscribe(channel, (message) => {
      const record = decodeRecord(message);
      if (record) this.arrived(ref, record);
    }));
    this.subscriptions.set(ref, subscribed);
  }

  /**
   * Records read from one chunk of the subscriber's socket reach each room as one event: one
   * state-machine step per room per read, not one per message.
   */
  private arrived(ref: RoomRef, record: ClusterRecord): void {
    const batch = this.arriving.get(ref);
    if (batch) {
      batch.push(record);
      return;
    }
    this.arriving.set(ref, [record]);
    if (this.arriving.size === 1) queueMicrotask(() => this.deliverArrived());
  }

  private deliverArrived(): void {
    for (const [ref, records] of this.arriving) this.watched.get(ref)?.send({ type: 'cluster.records', records });
    this.arriving.clear();
  }

  /** The node has no members left in the room: stop hearing it. */
  unwatchRoom(ref: RoomRef): void {
    this.watched.delete(ref);
    this.subscriptions.delete(ref);
    this.cancelGapTimer(ref);
    void this.channelOp(ref, () => this.redis.unsubscribe(this.keys.roomChannel(ref)));
    this.call(['SREM', this.keys.nodeRooms(this.nodeIdValue), String(ref)], 'once').catch(() => {});
  }

  /**
   * Subscribing and unsubscribing a channel, one after the other: a SUBSCRIBE sent while the
   * UNSUBSCRIBE before it is unanswered would be undone by that answer (the client would think
   * itself subscribed and hear nothing).
   */
  private channelOp(ref: RoomRef, op: () => Promise<void>): Promise<void> {
    const previous = this.channelOps.get(ref) ?? Promise.resolve();
    const next = previous.then(op).catch((error: unknown) => {
      // Subscriptions are renewed on reconnection, and rooms catch up from their logs then.
      this.options.log.warn({ room: ref, err: (error as Error).message }, 'cluster: changing a room channel subscription failed');
    });
    this.channelOps.set(ref, next);
    void next.then(() => {
      if (this.channelOps.get(ref) === next) this.channelOps.delete(ref);
    });
    return next;
  }

  /** Records wait behind a gap: prompt the room to read its log if the gap is still open shortly. */
  gapSeen(ref: RoomRef): void {
    if (this.gapTimers.has(ref)) return;
    const timer = setTimeout(() => {
      this.gapTimers.delete(ref);
      this.watched.get(ref)?.send({ type: 'cluster.catchUp' });
    }, GAP_WAIT_MS);
    timer.unref();
    this.gapTimers.set(ref, timer);
  }

  cancelGapTimer(ref: RoomRef): void {
    const timer = this.gapTimers.get(ref);
    if (timer) clearTimeout(timer);
    this.gapTimers.delete(ref);
  }

  warnOrderLost(ref: RoomRef, members: number): void {
    this.options.log.warn({ room: ref, members }, 'cluster: missed room events the log no longer holds; closing this node\'s members of the room');
  }

  /** How this node describes itself to the others (its chat address, once it listens). */
  describeAs(description: string): void {
    this.description = description;
    this.call(['SET', this.keys.lease(this.nodeIdValue), description, 'KEEPTTL', 'XX'], 'idempotent').catch(() => {});
  }

  /** Live nodes, with their lease's time left, for the dump. */
  async nodes(): Promise<ClusterNodeInfo[]> {
    const ids = (await this.call<string[]>(['SMEMBERS', this.keys.nodes], 'idempotent')).map(Number).sort((a, b) => a - b);
    return Promise.all(ids.map(async (id) => {
      const [description, ttl] = await Promise.all([
        this.call<string | null>(['GET', this.keys.lease(id)], 'idempotent'),
        this.call<number>(['PTTL', this.keys.lease(id)], 'idempotent'),
      ]);
      return { id, description, leaseExpiresInMs: ttl >= 0 ? ttl : null };
    }));
  }

  /** Every room's members on every node (at most `limit` rooms), for the dump. */
  async rooms(limit: number): Promise<{ ref: RoomRef; name: string; members: { joinId: JoinId; node: number; name: string }[] }[]> {
    const names = fieldPairs(await this.call<HashReply>(['HGETALL', this.keys.names], 'idempotent'))
      .map(([ref, name]) => ({ ref: Number(ref), name }))
      .sort((a, b) => a.ref - b.ref)
      .slice(0, limit);
    const rooms = await Promise.all(names.map(async ({ ref, name }) => {
      const members = fieldPairs(await this.call<HashReply>(['HGETALL', this.keys.roomMembers(ref)], 'idempotent')).map(([joinId, value]) => {
        const [node, , ...name] = value.split(' ');
        return { joinId: Number(joinId), node: Number(node), name: name.join(' ') };
      });
      return { ref, name, members: members.sort((a, b) => a.joinId - b.joinId) };
    }));
    return rooms.filter((room) => room.members.length > 0);
  }

  /**
   * Leaves the cluster: with `depart`, this node's members' departures are announced in their
   * rooms first (a graceful stop); its presence is removed either way.
   */
  async close(depart: boolean): Promise<void> {
    this.closing ??= this.leave(depart);
    return this.closing;
  }

  private async leave(depart: boolean): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const ref of [...this.gapTimers.keys()]) this.cancelGapTimer(ref);
    if (depart && this.state === 'up') {
      try {
        await this.departNode(this.nodeIdValue);
        await this.call(['DEL', this.keys.lease(this.nodeIdValue)], 'once');
        await this.call(['SREM', this.keys.nodes, String(this.nodeIdValue)], 'once');
      } catch (error) {
        // Its lease runs out and the others announce its members: later, but still once.
        this.options.log.warn({ err: error }, 'cluster: could not announce departures on stop; the lease will');
      }
    }
    this.state = 'closed';
    for (const failing of this.inflight) failing.fail(new UnavailableError('the node is stopping'));
    this.inflight.clear();
    await this.redis.close();
  }

  /**
   * Test-only: behave as a node whose process died. Its lease is no longer renewed and it leaves
   * nothing behind on purpose; the other nodes must find it dead. Redis is not told anything.
   */
  simulateCrash(): void {
    this.state = 'closed';
    for (const timer of this.timers) clearInterval(timer);
    this.redis.destroy();
  }

  // ---- node lifecycle -----------------------------------------------------------------------------

  /** The registration under way, if any: never two at once (each would take a node id). */
  private registration: Promise<void> | null = null;
  /** Requests that came while the node was fenced, waiting for it to be registered again. */
  private readonly registrationWaiters: (() => void)[] = [];

  private registeredBefore(deadline: number): Promise<void> {
    return this.wakeBefore(deadline, 'the node is registering again', (wake) => {
      this.registrationWaiters.push(wake);
      return () => {
        const index = this.registrationWaiters.indexOf(wake);
        if (index >= 0) this.registrationWaiters.splice(index, 1);
      };
    });
  }

  private register(): Promise<void> {
    this.registration ??= this.registerOnce().finally(() => {
      this.registration = null;
    });
    return this.registration;
  }

  private async registerOnce(): Promise<void> {
    const k = this.keys;
    const floors = [this.highest.ref + 1, this.highest.joinId + 1, this.highest.nodeId + 1].map(String);
    const previous = this.deployment;
    this.deployment = await this.runScript<string>(ENSURE_EPOCH, [k.deployment, k.nextRef, k.nextJoinId, k.nextNodeId], [randomUUID(), ...floors]);
    // Found on registering again after a fence for the lease alone: the refs it remembers are void too.
    if (previous !== null && previous !== this.deployment) this.fencedHandler?.({ closeConnections: false, forgetRooms: true });
    const id = Number(await this.redis.send<number>(['INCR', this.keys.nextNodeId], this.keys.nextNodeId));
    this.highest.nodeId = Math.max(this.highest.nodeId, id);
    await this.runScript(ACQUIRE_LEASE, [this.keys.nodes, this.keys.lease(id)], [String(id), String(this.options.leaseMs), this.description]);
    this.nodeIdValue = id;
    this.lastRenewal = Date.now();
    this.state = 'up';
    for (const waiter of this.registrationWaiters.splice(0)) waiter();
    await this.measureClock();
    this.options.log.info({ node: id, redis: this.url, leaseMs: this.options.leaseMs }, 'cluster: node registered');
  }

  private startTimers(): void {
    const period = Math.max(50, Math.floor(this.options.leaseMs / RENEWALS_PER_LEASE));
    const renew = setInterval(() => void this.renewLease(), period);
    // Jittered: the nodes' searches for the dead do not all run at once.
    const reap = setInterval(() => void this.reapDeadNodes().catch(() => {}), period + Math.floor(Math.random() * period * 0.2));
    const sweep = setInterval(() => this.failOverdue(), Math.max(20, Math.floor(this.options.waitMs / 10)));
    for (const timer of [renew, reap, sweep]) {
      timer.unref();
      this.timers.push(timer);
    }
  }

  private async renewLease(): Promise<void> {
    if (this.state === 'closed' || this.closing) return;
    if (this.state === 'fenced') {
      await this.register().catch(() => {});
      return;
    }
    if (Date.now() - this.lastRenewal > this.options.leaseMs) {
      this.fence('lease not renewed in time');
      return;
    }
    try {
      const renewed = await this.call<number>(['PEXPIRE', this.keys.lease(this.nodeIdValue), String(this.options.leaseMs)], 'once');
      if (renewed === 1) {
        this.lastRenewal = Date.now();
        await this.measureClock();
      } else this.fence('lease found expired');
    } catch {
      // Redis unreachable: retried next period; past the lease the node fences itself.
    }
  }

  /** Redis' clock against this node's, for the deadlines the ordering script checks. */
  private async measureClock(): Promise<void> {
    const sent = Date.now();
    const [seconds, micros] = await this.redis.send<[string, string]>(['TIME'], undefined);
    const received = Date.now();
    this.clockOffsetMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Math.round((sent + received) / 2);
  }

  /** This node may have been declared dead (or Redis emptied): its connections go, and it registers anew. */
  private fence(reason: string, epochChanged = false): void {
    if (this.state !== 'up' && this.state !== 'down') return;
    this.state = 'fenced';
    this.options.log.warn({ node: this.nodeIdValue, reason }, 'cluster: closing this node\'s connections and registering again');
    for (const ref of [...this.watched.keys()]) this.unwatchRoom(ref);
    this.fencedHandler?.({ closeConnections: true, forgetRooms: epochChanged });
    if (epochChanged) this.deployment = null;
    const again = (): void => {
      if (this.state !== 'fenced') return;
      this.register().catch(() => setTimeout(again, 200).unref());
    };
    again();
  }

  /** Redis came back empty (restarted without persistence): everything this node holds is void. */
  private async checkEpoch(): Promise<void> {
    const current = await this.call<string | null>(['GET', this.keys.deployment], 'idempotent').catch(() => this.deployment);
    if (current !== this.deployment) this.fence('Redis lost the cluster\'s state (a new epoch)', true);
  }

  /** Claims nodes whose lease ran out, then announces the departures of every dead node's members. */
  private async reapDeadNodes(): Promise<void> {
    if (this.state !== 'up' || this.closing) return;
    const k = this.keys;
    for (const id of (await this.call<string[]>(['SMEMBERS', k.nodes], 'once')).map(Number)) {
      if (id === this.nodeIdValue) continue;
      const claimed = await this.run<number>(CLAIM_DEAD, [k.lease(id), k.nodes, k.deadNodes], [String(id)], 'once');
      if (claimed === 1) this.options.log.warn({ node: id }, 'cluster: node lease expired; announcing its members\' departures');
    }
    for (const id of (await this.call<string[]>(['SMEMBERS', k.deadNodes], 'once')).map(Number)) {
      await this.departNode(id);
      await this.call(['SREM', k.deadNodes, String(id)], 'once');
    }
  }

  /** Announces a node's members' departures in every room it had members in. Idempotent. */
  private async departNode(id: number): Promise<void> {
    const refs = await this.call<string[]>(['SMEMBERS', this.keys.nodeRooms(id)], 'idempotent');
    for (const ref of refs.map(Number)) {
      await this.run<number>(DEPART_NODE, this.keys.roomKeys(ref), [String(id), String(this.options.logLength), this.keys.roomChannel(ref), this.redis.publishCommand], 'idempotent');
    }
    await this.call(['DEL', this.keys.nodeRooms(id)], 'idempotent');
  }

  /** One warn line per change of state; after a reconnection every room reads what it missed. */
  private watchConnections(): void {
    const down = new Set<string>();
    this.redis.onChange((change, role, error) => {
      if (this.state === 'closed') return;
      if (change === 'down') {
        if (down.has(role)) return;
        down.add(role);
        if (this.state === 'up' && !this.redis.isReady) this.state = 'down';
        this.options.log.warn({ role, err: error?.message }, 'cluster: Redis connection lost; reconnecting');
        return;
      }
      if (!down.delete(role)) return;
      if (this.state === 'down' && this.redis.isReady) this.state = 'up';
      this.options.log.warn({ role }, 'cluster: Redis connection back; catching rooms up');
      void this.checkEpoch();
      for (const room of this.watched.values()) room.send({ type: 'cluster.catchUp' });
    });
  }

  // ---- commands -----------------------------------------------------------------------------------

  /** Retries a durable command until Redis has it (or the node stops); settles then. */
  private retryUntilDone(attempt: () => Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve) => {
      const again = (): void => {
        if (this.state === 'closed') return resolve();
        attempt().then(() => resolve(), () => setTimeout(again, 500).unref());
      };
      setTimeout(again, 100).unref();
    });
  }

  private run<T>(script: Script, keys: readonly string[], args: readonly string[], mode: Mode): Promise<T> {
    return this.withRetry(() => this.runScript<T>(script, keys, args), mode);
  }

  /** A plain command; its key (routing it on a Redis Cluster) is its second word. */
  private call<T>(args: readonly string[], mode: Mode): Promise<T> {
    return this.withRetry(() => this.redis.send<T>(args, args[1]), mode);
  }

  private async runScript<T>(script: Script, keys: readonly string[], args: readonly string[]): Promise<T> {
    try {
      return await this.redis.send<T>(['EVALSHA', script.sha, String(keys.length), ...keys, ...args], keys[0]);
    } catch (error) {
      if (!(error instanceof ErrorReply) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.send<T>(['EVAL', script.source, String(keys.length), ...keys, ...args], keys[0]);
    }
  }

  /**
   * Runs a command within the wait bound. Refused while offline (never written): retried as soon
   * as the connection is back. Lost in flight: retried only if repeating it is harmless.
   */
  private async withRetry<T>(send: () => Promise<T>, mode: Mode): Promise<T> {
    const deadline = Date.now() + this.options.waitMs;
    for (;;) {
      if (this.state === 'closed') throw new UnavailableError('the node is stopping');
      // Registering again: nothing goes out under the old node id.
      if (this.state === 'fenced') {
        await this.registeredBefore(deadline);
        continue;
      }
      if (!this.redis.isReady) {
        await this.readyBefore(deadline);
        continue;
      }
      try {
        const reply = await this.bounded(send(), deadline);
        if (this.silence) this.answeredAgain();
        return reply;
      } catch (error) {
        if (error instanceof UnavailableError) throw error;
        if (error instanceof ErrorReply) throw error;
        if (!(error instanceof ClientOfflineError) && mode === 'once') throw new UnavailableError(`Redis failed: ${(error as Error).message}`);
        if (Date.now() >= deadline) throw this.timedOut('Redis not reachable in time');
      }
    }
  }

  /** The reply, or UnavailableError once the deadline passes (the sweep enforces it). */
  private bounded<T>(reply: Promise<T>, deadline: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { deadline, fail: reject };
      this.inflight.add(entry);
      reply.then(
        (value) => {
          this.inflight.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.inflight.delete(entry);
          reject(error);
        },
      );
    });
  }

  private failOverdue(): void {
    const now = Date.now();
    for (const entry of this.inflight) {
      if (entry.deadline > now) continue;
      this.inflight.delete(entry);
      entry.fail(this.timedOut('Redis did not answer in time'));
    }
  }

  /**
   * A command ran out of time: the first of a silence is logged, the rest counted. Only while the
   * connection is up: a lost connection (or a fenced node) has its own lines, and a stopping node
   * says nothing.
   */
  private timedOut(reason: string): UnavailableError {
    if (this.silence) this.silence.timedOut++;
    else if (this.reachable) {
      this.silence = { since: Date.now(), timedOut: 1 };
      this.options.log.warn({ waitMs: this.options.waitMs, reason }, 'cluster: Redis not answering in time; requests get UNAVAILABLE');
    }
    return new UnavailableError(reason);
  }

  private answeredAgain(): void {
    const { since, timedOut } = this.silence!;
    this.silence = null;
    this.options.log.warn({ silentMs: Date.now() - since, timedOut }, 'cluster: Redis answering again');
  }

  private readyBefore(deadline: number): Promise<void> {
    return this.wakeBefore(deadline, 'Redis not reachable in time', (wake) => this.redis.onceReady(wake));
  }

  /** Resolves when `listen`'s wake-up comes, or fails with UnavailableError at the deadline. */
  private wakeBefore(deadline: number, reason: string, listen: (wake: () => void) => () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const left = deadline - Date.now();
      if (left <= 0) {
        reject(this.timedOut(reason));
        return;
      }
      const stopListening = listen(() => {
        clearTimeout(timer);
        resolve();
      });
      const timer = setTimeout(() => {
        stopListening();
        reject(this.timedOut(reason));
      }, left);
      timer.unref();
    });
  }
}

/** A hash as node-redis returns it: an object by default, a flat array in some modes. */
type HashReply = Record<string, string> | string[];

function fieldPairs(reply: HashReply): [string, string][] {
  if (!Array.isArray(reply)) return Object.entries(reply);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i]!, reply[i + 1]!]);
  return pairs;
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
