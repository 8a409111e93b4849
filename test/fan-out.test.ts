import { describe, expect, it } from 'vitest';
import type { ClientActorRef, RoomActorRef, RoomMember } from '../actors/events.js';
import type { RoomDoor } from '../src/rooms/door.js';
import { addMember, applyRecord, applyRecords } from '../src/rooms/fan-out.js';
import { CapSet } from '../src/irc/caps.js';
import type { RoomRecord } from '../src/rooms/record.js';
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

  it("a channel read's chats from several senders: one buffer per member per run, each sender without echo-message left out of its own lines", () => {
    // Bytes name the record, so who got what is plain; IRC's door does not echo a chat to its sender.
    const textDoor = (name: string, echoesChat: boolean): RoomDoor => ({
      name,
      family: echoesChat ? 'lab' : 'irc',
      echoesChat,
      encodeRecord: (_room, record: RoomRecord) => Buffer.from(`${name}:${record.kind === 'chat' ? record.text : record.kind}:${record.joinId};`),
      joinReply: () => null,
      joinBurst: () => null,
    });
    const lab = textDoor('lab', true);
    const irc = textDoor('irc', false);
    const ircMember = (joinId: number, echo: boolean) => {
      const m = member(joinId, irc);
      const caps = new CapSet();
      if (echo) caps.add('echo-message');
      return { ...m, person: { nick: `m${joinId}`, user: 'u', host: 'h', realname: 'r', away: null, invisible: false, caps, family: 'irc' as const } };
    };
    const state = room();
    const listener = member(0, lab);
    const quiet = ircMember(1, false);
    const echoed = ircMember(2, true);
    const other = ircMember(3, false);
    for (const m of [listener, quiet, echoed, other]) addMember(state, m);
    const chat = (seq: number, joinId: number, text: string): RoomRecord => ({ seq, kind: 'chat', joinId, name: `m${joinId}`, text, irc: true });
    // Two runs of plain chats, split by another node's member joining (9: not held here).
    applyRecords(state, [chat(1, 1, 'a'), chat(2, 2, 'b'), chat(3, 1, 'c'), { seq: 4, kind: 'joined', joinId: 9, name: 'm9' }, chat(5, 2, 'd'), chat(6, 0, 'e')], io);
    const got = (m: { received: Buffer[] }) => m.received.map(String);
    expect(got(listener)).toEqual(['lab:a:1;lab:b:2;lab:c:1;', 'lab:joined:9;', 'lab:d:2;lab:e:0;']);
    expect(got(quiet)).toEqual(['irc:b:2;', 'irc:joined:9;', 'irc:d:2;irc:e:0;']);
    expect(got(echoed)).toEqual(['irc:a:1;irc:b:2;irc:c:1;', 'irc:joined:9;', 'irc:d:2;irc:e:0;']);
    expect(got(other)).toEqual(got(echoed));
    // Members of one door who get every line share one Buffer.
    expect(other.received[0]).toBe(echoed.received[0]);
    expect(state.lastSeq).toBe(6);
    expect(state.stats.messagesRouted).toBe(5);

    // A run of one sender without echo-message: the others get it, the sender nothing.
    applyRecords(state, [chat(7, 1, 'f'), chat(8, 1, 'g')], io);
    expect(got(quiet)).toHaveLength(3);
    expect(got(other).at(-1)).toBe('irc:f:1;irc:g:1;');
  });
});

