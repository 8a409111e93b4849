import type { RoomRef } from '../protocol/types.js';
import type { ClusterRecord } from './record.js';

/** The longest a room's records wait for this node's own chats of the room to be answered. */
export const HOLD_CAP_MS = 50;

interface Hold {
  readonly records: ClusterRecord[];
  readonly since: number;
}

/**
 * Holds a room's records while this node's own chats of that room are with Redis (or gathered this
 * turn, about to go), so that the records of both usually reach each member in one write instead
 * of two: Redis writes the answer to this node's script call and that call's records together, the
 * answer on the command connection and the records on the subscriber's. Two nodes' chats in one
 * room would otherwise cost every member two writes a round, and writes are most of what a node
 * spends per delivery.
 *
 * A hold ends when the answer it waits for comes (records arriving meanwhile join it, in order),
 * or after HOLD_CAP_MS if Redis is slow to answer the node's commands, or when the node stops
 * hearing the room. The next records after it may be held again, for the node's next chats.
 */
export class HeldRecords {
  private readonly held = new Map<RoomRef, Hold>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deliver: (ref: RoomRef, records: ClusterRecord[]) => void,
    /** Settles when this node's chats of the room are answered; null: none is unanswered. */
    private readonly ownChatsUnanswered: (ref: RoomRef) => Promise<void> | null,
    private readonly capMs = HOLD_CAP_MS,
  ) {}

  /** One read's records of the room, in order: delivered now, or held with those before them. */
  take(ref: RoomRef, records: ClusterRecord[]): void {
    const hold = this.held.get(ref);
    if (hold) {
      for (const record of records) hold.records.push(record);
      return;
    }
    const answered = this.ownChatsUnanswered(ref);
    if (!answered) {
      this.deliver(ref, records);
      return;
    }
    const started: Hold = { records, since: performance.now() };
    this.held.set(ref, started);
    this.timer ??= setTimeout(this.releaseLate, this.capMs).unref();
    void answered.then(() => this.release(ref, started));
  }

  /** The node no longer hears the room: what is held for it is dropped (it has no members here). */
  drop(ref: RoomRef): void {
    this.held.delete(ref);
  }

  dropAll(): void {
    this.held.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A hold ends once; an answer for an earlier hold of the room never releases a later one. */
  private release(ref: RoomRef, hold: Hold): void {
    if (this.held.get(ref) !== hold) return;
    this.held.delete(ref);
    this.deliver(ref, hold.records);
  }

  private readonly releaseLate = (): void => {
    this.timer = undefined;
    const late = performance.now() - this.capMs;
    for (const [ref, hold] of [...this.held]) if (hold.since <= late) this.release(ref, hold);
    if (this.held.size > 0) this.timer = setTimeout(this.releaseLate, this.capMs).unref();
  };
}
