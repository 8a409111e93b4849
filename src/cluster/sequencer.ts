import type { ClusterRecord } from './record.js';

/**
 * Puts one room's records back in the room's order on this node. Records arrive three ways (the
 * room's channel, a script's reply, a read of the room's log), each in order but not in order with
 * each other; this hands them out strictly by sequence number, each once, and says when a gap needs
 * filling from the log.
 *
 * Before the node's first member of the room is in, nothing before that member's join concerns it:
 * `startAt` sets where the room begins for this node, and earlier records are dropped.
 */
export class RoomSequencer {
  /** The next sequence number to hand out; null until the node's first join in this room is ordered. */
  private next: number | null = null;
  private readonly waiting = new Map<number, ClusterRecord>();

  get expected(): number | null {
    return this.next;
  }

  get started(): boolean {
    return this.next !== null;
  }

  /** How many records wait behind a gap. */
  get held(): number {
    return this.waiting.size;
  }

  /** The room begins, for this node, at `seq` (its own first join's place). */
  startAt(seq: number): void {
    if (this.next !== null && this.next <= seq) return;
    this.next = seq;
    for (const held of this.waiting.keys()) if (held < seq) this.waiting.delete(held);
  }

  /** Takes a record; returns the records now ready, in order (none if it is early, late or repeated). */
  offer(record: ClusterRecord): ClusterRecord[] {
    if (this.next !== null && record.seq < this.next) return [];
    this.waiting.set(record.seq, record);
    return this.drain();
  }

  /** Takes records (any order, repeats allowed); returns those now ready, in order. */
  offerAll(records: readonly ClusterRecord[]): ClusterRecord[] {
    const ready: ClusterRecord[] = [];
    for (const record of records) {
      // The usual case, a channel's records in order with nothing held: no trip through the map.
      if (record.seq === this.next && this.waiting.size === 0) {
        ready.push(record);
        this.next++;
      } else if (this.next === null || record.seq >= this.next) this.waiting.set(record.seq, record);
    }
    if (this.waiting.size > 0) for (const record of this.drain()) ready.push(record);
    return ready;
  }

  /** Records ready after `startAt` or a fill. */
  drain(): ClusterRecord[] {
    if (this.next === null) return [];
    const ready: ClusterRecord[] = [];
    for (let record = this.waiting.get(this.next); record; record = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      ready.push(record);
      this.next++;
    }
    return ready;
  }

  /** True when records wait behind a missing one: the log must fill the gap from `expected`. */
  hasGap(): boolean {
    return this.next !== null && this.waiting.size > 0;
  }

  /** Forgets everything: the node has no members here any more. */
  reset(): void {
    this.next = null;
    this.waiting.clear();
  }
}
