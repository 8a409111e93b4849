import { describe, expect, it } from 'vitest';
import { HeldRecords } from '../src/cluster/held-records.js';
import type { ClusterRecord } from '../src/cluster/record.js';
import type { RoomRef } from '../src/protocol/types.js';

const chat = (seq: number): ClusterRecord => ({ seq, kind: 'chat', joinId: 1, name: 'bob', text: `m${seq}` });

/** A settable "this node's chats of the room are unanswered" and what was delivered, with a wait for the next delivery. */
function harness(capMs = 60_000) {
  const delivered: [RoomRef, number[]][] = [];
  let waiting: (() => void) | null = null;
  let own: Promise<void> | null = null;
  const held = new HeldRecords(
    (ref, records) => {
      delivered.push([ref, records.map((r) => r.seq)]);
      waiting?.();
    },
    () => own,
    capMs,
  );
  return {
    held,
    delivered,
    /** This node sends chats of the room: returns how to answer them. */
    chatsSent(): () => Promise<void> {
      let answer!: () => void;
      const answered = new Promise<void>((resolve) => (answer = resolve));
      own = answered;
      return async () => {
        own = null;
        answer();
        await answered;
        // The release runs in the promise's reactions: let them run.
        await Promise.resolve();
      };
    },
    nextDelivery: () => new Promise<void>((resolve) => (waiting = resolve)),
  };
}

describe('HeldRecords (records waiting for this node’s own chats of their room)', () => {
  it('delivers at once when the node has no chats of the room with Redis, and holds (in order) while it has', async () => {
    const h = harness();
    h.held.take(1, [chat(1)]);
    expect(h.delivered).toEqual([[1, [1]]]);
    const answer = h.chatsSent();
    h.held.take(1, [chat(2)]);
    h.held.take(2, [chat(7)]);
    h.held.take(1, [chat(3), chat(4)]);
    expect(h.delivered).toEqual([[1, [1]]]);
    await answer();
    // Each room's held records in one delivery, in arrival order.
    expect(h.delivered).toEqual([[1, [1]], [1, [2, 3, 4]], [2, [7]]]);
    h.held.take(1, [chat(5)]);
    expect(h.delivered.at(-1)).toEqual([1, [5]]);
  });

  it('a hold ends after the cap when the answer is slow, and the late answer releases nothing twice', async () => {
    const h = harness(5);
    const answer = h.chatsSent();
    const delivery = h.nextDelivery();
    h.held.take(1, [chat(1), chat(2)]);
    await delivery;
    expect(h.delivered).toEqual([[1, [1, 2]]]);
    await answer();
    expect(h.delivered).toEqual([[1, [1, 2]]]);
  });

  it('what is held for a room the node stops hearing is dropped, and an old answer never releases a newer hold', async () => {
    const h = harness();
    const first = h.chatsSent();
    h.held.take(1, [chat(1)]);
    h.held.drop(1);
    const second = h.chatsSent();
    h.held.take(1, [chat(10)]);
    await first();
    expect(h.delivered).toEqual([]);
    await second();
    expect(h.delivered).toEqual([[1, [10]]]);
  });
});
