import { describe, expect, it } from 'vitest';
import type { ClientActorRef, RoomActorRef, RoomMember } from '../actors/events.js';
import type { RoomDoor } from '../src/rooms/door.js';
import { addMember, applyRecord } from '../src/rooms/fan-out.js';
import { LAB_DOOR } from '../src/rooms/lab-door.js';
import type { RoomIo, RoomState } from '../src/rooms/order.js';

/** A door that counts its encodings and tags its bytes with its name. */
function countingDoor(name: string): RoomDoor & { encoded: number } {
  return {
    name,
    family: 'lab',
    echoesChat: true,
    encoded: 0,
    encodeRecord(room, record) {
      this.encoded++;
      return Buffer.from(`${name}:${room.ref}:${record.kind}:${record.name}\n`);
    },
    joinReply: () => null,
    joinBurst: () => null,
  };
}

function room(): RoomState {
  return { ref: 3, name: 'lobby', members: new Map(), doors: new Map(), pendingJoins: new Map(), pendingLeaves: new Map(), lastSeq: 0, topic: null, stats: { messagesRouted: 0, deliveries: 0, lastActivity: 0 }, failAfter: 0 };
}

/** A member whose received buffers are kept, as they were posted. */
function member(joinId: number, door: RoomDoor): RoomMember & { received: Buffer[] } {
  const received: Buffer[] = [];
  return { joinId, connectionId: joinId, clientName: `m${joinId}`, client: {} as ClientActorRef, outbound: { next: (bytes: Buffer) => received.push(bytes), error: () => {}, complete: () => {} }, serverIp: '127.0.0.1', serverPort: 1, door, person: null, received };
}

const io: RoomIo = { self: {} as RoomActorRef, notify: () => {}, personGone: () => {} };

describe('fan-out across doors (unit)', () => {
  it('encodes each event once per door present and posts the same Buffer to every member of that door', () => {
    const lab = countingDoor('lab');
    const irc = countingDoor('irc');
    const state = room();
    const members = [member(0, lab), member(1, irc), member(2, lab), member(3, irc), member(4, lab)];
    for (const m of members) addMember(state, m);
    applyRecord(state, { seq: 1, kind: 'chat', joinId: 0, name: 'm0', text: 'hi' }, io);
    expect([lab.encoded, irc.encoded]).toEqual([1, 1]);
    expect(members.map((m) => m.received[0]!.toString())).toEqual(['lab:3:chat:m0\n', 'irc:3:chat:m0\n', 'lab:3:chat:m0\n', 'irc:3:chat:m0\n', 'lab:3:chat:m0\n']);
    expect(members[0]!.received[0]).toBe(members[2]!.received[0]);
    expect(members[1]!.received[0]).toBe(members[3]!.received[0]);
    expect(state.stats.deliveries).toBe(5);
  });

  it('a door no member uses any more is not encoded for', () => {
    const lab = countingDoor('lab');
    const irc = countingDoor('irc');
    const state = room();
    addMember(state, member(0, lab));
    addMember(state, member(1, irc));
    state.pendingLeaves.set(1, { reply: null, client: {} as ClientActorRef });
    applyRecord(state, { seq: 1, kind: 'left', joinId: 1, name: 'm1' }, io);
    expect([...state.doors.keys()]).toEqual([lab]);
    applyRecord(state, { seq: 2, kind: 'chat', joinId: 0, name: 'm0', text: 'alone' }, io);
    expect([lab.encoded, irc.encoded]).toEqual([2, 1]);
  });

  it('the lab door speaks the lab protocol: one CHAT message per event, joins and leaves as text', () => {
    const state = room();
    const a = member(0, LAB_DOOR);
    addMember(state, a);
    applyRecord(state, { seq: 1, kind: 'chat', joinId: 0, name: 'm0', text: 'hello' }, io);
    expect(a.received.map(String)).toEqual(['CHAT: 3\nCLIENT_NAME: m0\nMESSAGE: hello\n\n']);
  });
});
