import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecord, decodeRecords, type ClusterRecord } from '../src/cluster/record.js';
import { RoomSequencer } from '../src/cluster/sequencer.js';

const chat = (seq: number): ClusterRecord => ({ seq, kind: 'chat', joinId: 1, name: 'bob', text: `m${seq}` });

describe('RoomSequencer', () => {
  it('holds records until the node’s first join places the room, then hands them out in order', () => {
    const sequencer = new RoomSequencer();
    expect(sequencer.offer(chat(7))).toEqual([]);
    expect(sequencer.offer(chat(4))).toEqual([]);
    sequencer.startAt(5);
    // 4 came before this node's join: not its concern.
    expect(sequencer.offer(chat(5)).map((r) => r.seq)).toEqual([5]);
    expect(sequencer.hasGap()).toBe(true);
    expect(sequencer.offer(chat(6)).map((r) => r.seq)).toEqual([6, 7]);
    expect(sequencer.hasGap()).toBe(false);
    expect(sequencer.offer(chat(6))).toEqual([]);
  });

  it('any interleaving of the three sources, with repeats, gives each record once, in order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.nat(), { minLength: 1, maxLength: 120 }), (count, picks) => {
        const arrivals = [...Array.from({ length: count }, (_, i) => i + 1), ...picks.map((p) => (p % count) + 1)];
        // A fixed shuffle driven by the picks: records arrive in any order, some more than once.
        const order = arrivals.map((seq, i) => ({ seq, key: (picks[i % picks.length]! * 7919 + i) % 1009 })).sort((a, b) => a.key - b.key);
        const sequencer = new RoomSequencer();
        sequencer.startAt(1);
        const out = order.flatMap(({ seq }) => sequencer.offer(chat(seq))).map((r) => r.seq);
        expect(out).toEqual(Array.from({ length: count }, (_, i) => i + 1));
        expect(sequencer.hasGap()).toBe(false);
      }),
    );
  });

  it('takes records in batches (a read of the channel) the same way, batch boundaries anywhere', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.nat(), { minLength: 1, maxLength: 120 }), fc.integer({ min: 0, max: 3 }), (count, picks, from) => {
        const arrivals = [...Array.from({ length: count }, (_, i) => i + 1), ...picks.map((p) => (p % count) + 1)];
        const order = arrivals.map((seq, i) => ({ seq, key: (picks[i % picks.length]! * 7919 + i) % 1009 })).sort((a, b) => a.key - b.key);
        const sequencer = new RoomSequencer();
        const out: number[] = [];
        // The node's join is placed after some records have come (they are held), at `from + 1`.
        let started = false;
        for (let i = 0; i < order.length; ) {
          if (!started && i >= order.length / 3) {
            sequencer.startAt(from + 1);
            out.push(...sequencer.drain().map((r) => r.seq));
            started = true;
          }
          const size = 1 + (picks[i % picks.length]! % 5);
          out.push(...sequencer.offerAll(order.slice(i, i + size).map(({ seq }) => chat(seq))).map((r) => r.seq));
          i += size;
        }
        if (!started) {
          sequencer.startAt(from + 1);
          out.push(...sequencer.drain().map((r) => r.seq));
        }
        expect(out).toEqual(Array.from({ length: Math.max(0, count - from) }, (_, i) => from + i + 1));
        expect(sequencer.hasGap()).toBe(false);
      }),
    );
  });
});

describe('decodeRecord', () => {
  it('reads what the ordering script writes', () => {
    expect(decodeRecord('[3,"j",7,"alice",2]')).toEqual({ seq: 3, kind: 'joined', joinId: 7, name: 'alice', node: 2 });
    expect(decodeRecord('[4,"c",7,"alice","line one\\nline two"]')).toEqual({ seq: 4, kind: 'chat', joinId: 7, name: 'alice', text: 'line one\nline two' });
    expect(decodeRecord('[5,"l",7,"alice"]')).toEqual({ seq: 5, kind: 'left', joinId: 7, name: 'alice' });
    // IRC's lines carry the sender's face after the separator.
    expect(decodeRecord('[6,"i",8,"bob\\u001fbob!~b@host","hi"]')).toEqual({ seq: 6, kind: 'chat', joinId: 8, name: 'bob', text: 'hi', irc: true, source: 'bob!~b@host' });
    expect(decodeRecord('[7,"n",8,"bob\\u001fbob!~b@host","note"]')).toEqual({ seq: 7, kind: 'chat', joinId: 8, name: 'bob', text: 'note', style: 'notice', irc: true, source: 'bob!~b@host' });
    expect(decodeRecord('[8,"t",8,"bob\\u001fbob!~b@host","topic"]')).toEqual({ seq: 8, kind: 'chat', joinId: 8, name: 'bob', text: 'topic', style: 'topic', irc: true, source: 'bob!~b@host' });
    expect(decodeRecord('[9,"i",8,"bob",3]')).toBeNull();
    // Plain chats of either door and notices come in one shape (every node decodes every record).
    const shapes = ['[1,"c",7,"a","t"]', '[2,"i",8,"b\\u001fb!~b@h","t"]', '[3,"n",8,"b","t"]'].map((json) => Object.keys(decodeRecord(json)!));
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
  });

  it('reads several records ordered in one call (a JSON array of them), and one alone', () => {
    expect(decodeRecords('[[4,"c",7,"alice","one"],[5,"i",8,"bob","two"]]')).toEqual([
      { seq: 4, kind: 'chat', joinId: 7, name: 'alice', text: 'one' },
      { seq: 5, kind: 'chat', joinId: 8, name: 'bob', text: 'two', irc: true },
    ]);
    expect(decodeRecords('[6,"l",7,"alice"]')).toEqual([{ seq: 6, kind: 'left', joinId: 7, name: 'alice' }]);
    // What is not a record is left out, the rest kept.
    expect(decodeRecords('[[1,"x",2,"a"],[7,"c",2,"a","t"]]')).toEqual([{ seq: 7, kind: 'chat', joinId: 2, name: 'a', text: 't' }]);
    for (const junk of ['', 'hello', '{}', '[]', '[[]]']) expect(decodeRecords(junk)).toEqual([]);
  });

  it('ignores anything else on a channel', () => {
    for (const junk of ['', 'hello', '{}', '[1,"x",2,"a"]', '[1,"c",2,"a"]', '["1","c",2,"a","t"]', '[1,"j",2,"a","node"]']) expect(decodeRecord(junk)).toBeNull();
  });
});
