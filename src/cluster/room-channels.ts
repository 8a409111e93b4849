import type { Logger } from 'pino';
import type { RoomRef } from '../protocol/types.js';
import type { RedisCommands } from './commands.js';
import type { ClusterKeys } from './keys.js';
import { decodeRecords, type ClusterRecord } from './record.js';
import { HeldRecords } from './held-records.js';
import type { RedisPort } from './redis-port.js';

/** What a room hears from the cluster: records in any order, and prompts to catch up. */
export interface RoomListener {
  send(event: RoomClusterEvent): void;
}

export type RoomClusterEvent =
  | { type: 'cluster.records'; records: ClusterRecord[] }
  /** Something may have been missed (a subscriber reconnected, a gap stayed open): read the log. */
  | { type: 'cluster.catchUp' };

/** How long records may wait behind a gap before the log is read. */
const GAP_WAIT_MS = 100;

/**
 * The rooms this node has members in, and their channels: each room's records, published by the
 * ordering script on every node's behalf, reach the room's actor here. A gap that stays open
 * (a record missed) prompts the room to read its log.
 */
export class RoomChannels {
  private readonly watched = new Map<RoomRef, RoomListener>();
  private readonly gapTimers = new Map<RoomRef, NodeJS.Timeout>();
  /** Per watched room: settles once Redis confirms the subscription to its channel. */
  private readonly subscriptions = new Map<RoomRef, Promise<void>>();
  private readonly channelOps = new Map<RoomRef, Promise<void>>();
  private readonly arriving = new Map<RoomRef, ClusterRecord[]>();
  /** Records that wait for the answer to this node's own chats of their room (held-records.ts). */
  private readonly held: HeldRecords;

  constructor(
    private readonly redis: RedisPort,
    private readonly keys: ClusterKeys,
    private readonly commands: RedisCommands,
    private readonly log: Logger,
    /** This node's id now (it changes when the node registers again). */
    private readonly nodeId: () => number,
    /** Settles when this node's chats of the room sent so far are answered; null: none is unanswered. */
    ownChatsUnanswered: (ref: RoomRef) => Promise<void> | null = () => null,
  ) {
    this.held = new HeldRecords((ref, records) => this.watched.get(ref)?.send({ type: 'cluster.records', records }), ownChatsUnanswered);
  }

  /** The actor now watching the room (a restarted room's actor replaces the failed one). */
  watcherOf(ref: RoomRef): RoomListener | undefined {
    return this.watched.get(ref);
  }

  /** Settles once the node hears the room's channel (a join waits for it: it listens before it joins). */
  subscribed(ref: RoomRef): Promise<void> {
    return this.subscriptions.get(ref) ?? Promise.resolve();
  }

  /** Starts delivering the room's channel to its actor. */
  watch(ref: RoomRef, room: RoomListener): void {
    const alreadyWatched = this.watched.has(ref);
    this.watched.set(ref, room);
    // A restarted room's actor takes over the subscription its predecessor had.
    if (alreadyWatched) return;
    const channel = this.keys.roomChannel(ref);
    const subscribed = this.channelOp(ref, () => this.redis.subscribe(channel, (message) => {
      for (const record of decodeRecords(message)) this.arrived(ref, record);
    }));
    this.subscriptions.set(ref, subscribed);
  }

  /** The node has no members left in the room: stop hearing it. */
  unwatch(ref: RoomRef): void {
    this.watched.delete(ref);
    this.subscriptions.delete(ref);
    this.held.drop(ref);
    this.cancelGapTimer(ref);
    void this.channelOp(ref, () => this.redis.unsubscribe(this.keys.roomChannel(ref)));
    this.commands.call(['SREM', this.keys.nodeRooms(this.nodeId()), String(ref)], 'once').catch(() => {});
  }

  unwatchAll(): void {
    for (const ref of [...this.watched.keys()]) this.unwatch(ref);
  }

  /** After a reconnection: every room reads what it may have missed. */
  catchUpAll(): void {
    for (const room of this.watched.values()) room.send({ type: 'cluster.catchUp' });
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

  /** The node stops: no timer of its rooms' is left running, and nothing held is delivered. */
  cancelTimers(): void {
    for (const ref of [...this.gapTimers.keys()]) this.cancelGapTimer(ref);
    this.held.dropAll();
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
    for (const [ref, records] of this.arriving) this.held.take(ref, records);
    this.arriving.clear();
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
      this.log.warn({ room: ref, err: (error as Error).message }, 'cluster: changing a room channel subscription failed');
    });
    this.channelOps.set(ref, next);
    void next.then(() => {
      if (this.channelOps.get(ref) === next) this.channelOps.delete(ref);
    });
    return next;
  }
}
