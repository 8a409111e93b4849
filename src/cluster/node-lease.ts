import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RedisCommands } from './commands.js';
import type { ClusterKeys } from './keys.js';
import type { LeaseStatus } from './lease-state.js';
import type { RedisPort } from './redis-port.js';
import type { RoomChannels } from './room-channels.js';
import { releaseNodeNicks } from './nicks.js';
import { ACQUIRE_LEASE, CLAIM_DEAD, DEPART_NODE, ENSURE_EPOCH } from './scripts.js';

/** What a fenced node must drop: its connections (lease lost), the refs it remembers (Redis emptied), or both. */
export interface FenceChange {
  readonly closeConnections: boolean;
  readonly forgetRooms: boolean;
}

export interface NodeLeaseOptions {
  /** A node whose lease is not renewed for this long is dead (on Redis' clock). */
  readonly leaseMs: number;
  /** Records kept in each room's log (the departures of a dead node's members are logged too). */
  readonly logLength: number;
  readonly log: Logger;
  /** Redis' address as logs may show it. */
  readonly url: string;
}

/** How often leases are renewed and dead nodes looked for, as a fraction of the lease. */
const RENEWALS_PER_LEASE = 3;

/**
 * This node's life in the cluster: registering (a node id and a lease), renewing the lease,
 * fencing itself when the lease is lost or Redis emptied (a new epoch), registering anew, finding
 * other nodes dead and announcing their members' departures. Its state is `status`, the lease
 * state machine (lease-state.ts).
 */
export class NodeLease {
  private nodeIdValue = -1;
  private lastRenewal = Date.now();
  /** Redis' clock minus this node's, measured with TIME at each lease renewal. */
  private clockOffset = 0;
  /** The deployment this node registered in; another one means Redis lost its data. */
  private deployment: string | null = null;
  /** The highest ids this node has seen issued: floors for a new epoch's counters. */
  private readonly highest = { ref: -1, joinId: -1, nodeId: -1 };
  /** The registration under way, if any: never two at once (each would take a node id). */
  private registration: Promise<void> | null = null;
  private fencedHandler: ((change: FenceChange) => void) | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  /** The node is leaving: no renewals, no reaping. */
  private stopping = false;

  constructor(
    private readonly redis: RedisPort,
    private readonly keys: ClusterKeys,
    private readonly commands: RedisCommands,
    readonly status: LeaseStatus,
    private readonly channels: RoomChannels,
    private readonly options: NodeLeaseOptions,
    /** How this node describes itself to the others (its chat address). */
    private readonly description: () => string,
  ) {}

  get nodeId(): number {
    return this.nodeIdValue;
  }

  /** Redis' clock minus this node's, for the deadlines the ordering script checks. */
  get clockOffsetMs(): number {
    return this.clockOffset;
  }

  onFenced(handler: (change: FenceChange) => void): void {
    this.fencedHandler = handler;
  }

  /** Ids Redis handed out: a new epoch's counters start above them. */
  noteIssued(ref: number, joinId: number): void {
    this.highest.ref = Math.max(this.highest.ref, ref);
    this.highest.joinId = Math.max(this.highest.joinId, joinId);
  }

  register(): Promise<void> {
    this.registration ??= this.registerOnce().finally(() => {
      this.registration = null;
    });
    return this.registration;
  }

  /** Lease renewal and the search for dead nodes. */
  startTimers(): void {
    const period = Math.max(50, Math.floor(this.options.leaseMs / RENEWALS_PER_LEASE));
    const renew = setInterval(() => void this.renewLease(), period);
    // Jittered: the nodes' searches for the dead do not all run at once.
    const reap = setInterval(() => void this.reapDeadNodes().catch(() => {}), period + Math.floor(Math.random() * period * 0.2));
    for (const timer of [renew, reap]) {
      timer.unref();
      this.timers.push(timer);
    }
  }

  stopTimers(): void {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
  }

  /** One warn line per change of state; after a reconnection every room reads what it missed. */
  watchConnections(): void {
    const down = new Set<string>();
    this.redis.onChange((change, role, error) => {
      if (this.status.state === 'closed') return;
      if (change === 'down') {
        if (down.has(role)) return;
        down.add(role);
        if (!this.redis.isReady) this.status.apply('connectionLost');
        this.options.log.warn({ role, err: error?.message }, 'cluster: Redis connection lost; reconnecting');
        return;
      }
      if (!down.delete(role)) return;
      if (this.redis.isReady) this.status.apply('connectionBack');
      this.options.log.warn({ role }, 'cluster: Redis connection back; catching rooms up');
      void this.checkEpoch();
      this.channels.catchUpAll();
    });
  }

  /** Announces a node's members' departures in every room it had members in. Idempotent. */
  async departNode(id: number): Promise<void> {
    const refs = await this.commands.call<string[]>(['SMEMBERS', this.keys.nodeRooms(id)], 'idempotent');
    for (const ref of refs.map(Number)) {
      await this.commands.run<number>(DEPART_NODE, this.keys.roomKeys(ref), [String(id), String(this.options.logLength), this.keys.roomChannel(ref), this.redis.publishCommand], 'idempotent');
    }
    await this.commands.call(['DEL', this.keys.nodeRooms(id)], 'idempotent');
    await releaseNodeNicks(this.commands, this.keys, id);
  }

  private async registerOnce(): Promise<void> {
    const k = this.keys;
    const floors = [this.highest.ref + 1, this.highest.joinId + 1, this.highest.nodeId + 1].map(String);
    const previous = this.deployment;
    this.deployment = await this.commands.runScript<string>(ENSURE_EPOCH, [k.deployment, k.nextRef, k.nextJoinId, k.nextNodeId], [randomUUID(), ...floors]);
    // Found on registering again after a fence for the lease alone: the refs it remembers are void too.
    if (previous !== null && previous !== this.deployment) this.fencedHandler?.({ closeConnections: false, forgetRooms: true });
    const id = Number(await this.redis.send<number>(['INCR', k.nextNodeId], k.nextNodeId));
    this.highest.nodeId = Math.max(this.highest.nodeId, id);
    await this.commands.runScript(ACQUIRE_LEASE, [k.nodes, k.lease(id)], [String(id), String(this.options.leaseMs), this.description()]);
    this.nodeIdValue = id;
    this.lastRenewal = Date.now();
    this.status.apply('registered');
    await this.measureClock();
    this.options.log.info({ node: id, redis: this.options.url, leaseMs: this.options.leaseMs }, 'cluster: node registered');
  }

  /** Lease renewals that succeeded (a metric: a steady rate while the node is healthy). */
  renewals = 0;

  private async renewLease(): Promise<void> {
    const { state } = this.status;
    if (state === 'closed' || this.stopping) return;
    if (state === 'fenced') {
      await this.register().catch(() => {});
      return;
    }
    if (Date.now() - this.lastRenewal > this.options.leaseMs) {
      this.fence('lease not renewed in time');
      return;
    }
    try {
      const renewed = await this.commands.call<number>(['PEXPIRE', this.keys.lease(this.nodeIdValue), String(this.options.leaseMs)], 'once');
      if (renewed === 1) {
        this.renewals++;
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
    this.clockOffset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Math.round((sent + received) / 2);
  }

  /** This node may have been declared dead (or Redis emptied): its connections go, and it registers anew. */
  private fence(reason: string, epochChanged = false): void {
    if (!this.status.apply(epochChanged ? 'epochChanged' : 'leaseLost')) return;
    this.options.log.warn({ node: this.nodeIdValue, reason }, 'cluster: closing this node\'s connections and registering again');
    this.channels.unwatchAll();
    this.fencedHandler?.({ closeConnections: true, forgetRooms: epochChanged });
    if (epochChanged) this.deployment = null;
    const again = (): void => {
      if (this.status.state !== 'fenced') return;
      this.register().catch(() => setTimeout(again, 200).unref());
    };
    again();
  }

  /** Redis came back empty (restarted without persistence): everything this node holds is void. */
  private async checkEpoch(): Promise<void> {
    const current = await this.commands.call<string | null>(['GET', this.keys.deployment], 'idempotent').catch(() => this.deployment);
    if (current !== this.deployment) this.fence('Redis lost the cluster\'s state (a new epoch)', true);
  }

  /** Claims nodes whose lease ran out, then announces the departures of every dead node's members. */
  private async reapDeadNodes(): Promise<void> {
    if (this.status.state !== 'up' || this.stopping) return;
    const k = this.keys;
    for (const id of (await this.commands.call<string[]>(['SMEMBERS', k.nodes], 'once')).map(Number)) {
      if (id === this.nodeIdValue) continue;
      const claimed = await this.commands.run<number>(CLAIM_DEAD, [k.lease(id), k.nodes, k.deadNodes], [String(id)], 'once');
      if (claimed === 1) this.options.log.warn({ node: id }, 'cluster: node lease expired; announcing its members\' departures');
    }
    for (const id of (await this.commands.call<string[]>(['SMEMBERS', k.deadNodes], 'once')).map(Number)) {
      await this.departNode(id);
      await this.commands.call(['SREM', k.deadNodes, String(id)], 'once');
    }
  }
}
