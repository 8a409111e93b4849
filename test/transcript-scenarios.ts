import { expect } from 'vitest';
import type { ChatServerHandle } from '../src/index.js';
import { expectRead, RawClient, readErrorCode, wire } from './helpers.js';
import { ERRORS } from '../src/protocol/errors.js';

/**
 * The example transcripts of protocol.md, byte for byte, on one server or with their clients
 * spread over the nodes of a cluster: client number i connects to `nodeOf(i)`.
 */
export interface Topology {
  nodeOf(client: number): Node;
}

/** A server in process, or a daemon process: where it listens, and when it has stopped. */
export type Node = Pick<ChatServerHandle, 'port'> & { readonly closed: Promise<unknown> };

export function singleServer(server: Node): Topology {
  return spread([server]);
}

/** Client i on node i mod n. */
export function spread(nodes: readonly Node[]): Topology {
  return { nodeOf: (client) => nodes[client % nodes.length]! };
}

export async function heloJoinChatLeaveDisconnect(topology: Topology, studentId: string): Promise<void> {
  const [pa, pb] = [topology.nodeOf(0).port, topology.nodeOf(1).port];
  const a = await RawClient.connect(pa);
  a.send('HELO hello world\n');
  await expectRead(a, `HELO hello world\nIP:127.0.0.1\nPort:${pa}\nStudentID:${studentId}\n`);
  a.send('JOIN_CHATROOM: room1\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: alice\n');
  await expectRead(a, `JOINED_CHATROOM: room1\nSERVER_IP: 127.0.0.1\nPORT: ${pa}\nROOM_REF: 0\nJOIN_ID: 0\n` +
    'CHAT: 0\nCLIENT_NAME: alice\nMESSAGE: alice has joined this chatroom.\n\n');

  const b = await RawClient.connect(pb);
  b.send('JOIN_CHATROOM: room1\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: bob\n');
  await expectRead(b, `JOINED_CHATROOM: room1\nSERVER_IP: 127.0.0.1\nPORT: ${pb}\nROOM_REF: 0\nJOIN_ID: 1\n` +
    'CHAT: 0\nCLIENT_NAME: bob\nMESSAGE: bob has joined this chatroom.\n\n');
  await expectRead(a, 'CHAT: 0\nCLIENT_NAME: bob\nMESSAGE: bob has joined this chatroom.\n\n');

  b.send('CHAT: 0\nJOIN_ID: 1\nCLIENT_NAME: bob\nMESSAGE: hi alice\n\n');
  const hi = 'CHAT: 0\nCLIENT_NAME: bob\nMESSAGE: hi alice\n\n';
  await expectRead(a, hi);
  await expectRead(b, hi);

  b.send('LEAVE_CHATROOM: 0\nJOIN_ID: 1\nCLIENT_NAME: bob\n');
  await expectRead(b, 'LEFT_CHATROOM: 0\nJOIN_ID: 1\nCHAT: 0\nCLIENT_NAME: bob\nMESSAGE: bob has left this chatroom.\n\n');
  await expectRead(a, 'CHAT: 0\nCLIENT_NAME: bob\nMESSAGE: bob has left this chatroom.\n\n');

  a.send('DISCONNECT: 0\nPORT: 0\nCLIENT_NAME: alice\n');
  expect(await a.readToClose()).toBe('CHAT: 0\nCLIENT_NAME: alice\nMESSAGE: alice has left this chatroom.\n\n');
  expect(b.pending()).toBe('');
}

/** The lab's automated tester, step by step; it ends with KILL_SERVICE sent by client 4. */
export async function labTesterSequence(topology: Topology): Promise<void> {
  const port = (client: number) => topology.nodeOf(client).port;
  const c0 = await RawClient.connect(port(0));
  c0.send('HELO BASE_TEST\n');
  await expectRead(c0, wire.helo('BASE_TEST', port(0)));

  const c1 = await RawClient.connect(port(1));
  // Step 2: no spaces after the colons, as the recorded tester sent it.
  c1.send('JOIN_CHATROOM:room1\nCLIENT_IP:0\nPORT:0\nCLIENT_NAME:client1\n');
  await expectRead(c1, wire.joined('room1', port(1), 0, 0) + wire.hasJoined(0, 'client1'));
  c1.send(wire.leave(0, 0, 'client1'));
  await expectRead(c1, wire.left(0, 0) + wire.hasLeft(0, 'client1'));
  // Steps 4-7: join room1 then room2, leave room1 then room2.
  c1.send(wire.join('room1', 'client1'));
  await expectRead(c1, wire.joined('room1', port(1), 0, 0) + wire.hasJoined(0, 'client1'));
  c1.send(wire.join('room2', 'client1'));
  await expectRead(c1, wire.joined('room2', port(1), 1, 0) + wire.hasJoined(1, 'client1'));
  c1.send(wire.leave(0, 0, 'client1'));
  await expectRead(c1, wire.left(0, 0) + wire.hasLeft(0, 'client1'));
  c1.send(wire.leave(1, 0, 'client1'));
  await expectRead(c1, wire.left(1, 0) + wire.hasLeft(1, 'client1'));
  // Step 8: c1 joins room1.
  c1.send(wire.join('room1', 'client1'));
  await expectRead(c1, wire.joined('room1', port(1), 0, 0) + wire.hasJoined(0, 'client1'));
  // Steps 9-10: c2 joins room1 and leaves it.
  const c2 = await RawClient.connect(port(2));
  c2.send(wire.join('room1', 'client2'));
  await expectRead(c2, wire.joined('room1', port(2), 0, 1) + wire.hasJoined(0, 'client2'));
  await expectRead(c1, wire.hasJoined(0, 'client2'));
  c2.send(wire.leave(0, 1, 'client2'));
  await expectRead(c2, wire.left(0, 1) + wire.hasLeft(0, 'client2'));
  await expectRead(c1, wire.hasLeft(0, 'client2'));
  // Steps 11-12: c1 leaves room1 and joins it again.
  c1.send(wire.leave(0, 0, 'client1'));
  await expectRead(c1, wire.left(0, 0) + wire.hasLeft(0, 'client1'));
  c1.send(wire.join('room1', 'client1'));
  await expectRead(c1, wire.joined('room1', port(1), 0, 0) + wire.hasJoined(0, 'client1'));
  // Step 13: c2 joins room1.
  c2.send(wire.join('room1', 'client2'));
  await expectRead(c2, wire.joined('room1', port(2), 0, 1) + wire.hasJoined(0, 'client2'));
  await expectRead(c1, wire.hasJoined(0, 'client2'));
  // Step 14: c3 joins room1.
  const c3 = await RawClient.connect(port(3));
  c3.send(wire.join('room1', 'client3'));
  await expectRead(c3, wire.joined('room1', port(3), 0, 2) + wire.hasJoined(0, 'client3'));
  await expectRead(c1, wire.hasJoined(0, 'client3'));
  await expectRead(c2, wire.hasJoined(0, 'client3'));
  // Steps 15-16: c1 and c3 join room2.
  c1.send(wire.join('room2', 'client1'));
  await expectRead(c1, wire.joined('room2', port(1), 1, 0) + wire.hasJoined(1, 'client1'));
  c3.send(wire.join('room2', 'client3'));
  await expectRead(c3, wire.joined('room2', port(3), 1, 2) + wire.hasJoined(1, 'client3'));
  await expectRead(c1, wire.hasJoined(1, 'client3'));
  // Step 17: c4 joins room2.
  const c4 = await RawClient.connect(port(4));
  c4.send(wire.join('room2', 'client4'));
  await expectRead(c4, wire.joined('room2', port(4), 1, 3) + wire.hasJoined(1, 'client4'));
  await expectRead(c1, wire.hasJoined(1, 'client4'));
  await expectRead(c3, wire.hasJoined(1, 'client4'));
  // Step 18: c1 chats in room1; every member reads to the empty line.
  c1.send('CHAT: 0\nJOIN_ID: 0\nCLIENT_NAME: client1\nMESSAGE: hello world from client 1\n\n');
  for (const member of [c1, c2, c3]) await expectRead(member, wire.said(0, 'client1', 'hello world from client 1'));
  // Later steps: client2 chats, clients disconnect in turn, then KILL_SERVICE.
  c2.send(wire.chat(0, 1, 'client2', 'hello world from client 2'));
  for (const member of [c1, c2, c3]) await expectRead(member, wire.said(0, 'client2', 'hello world from client 2'));
  c1.send(wire.disconnect('client1'));
  // Announced in the order c1 joined its rooms: room1 (again, at step 12) before room2.
  expect(await c1.readToClose()).toBe(wire.hasLeft(0, 'client1') + wire.hasLeft(1, 'client1'));
  await expectRead(c2, wire.hasLeft(0, 'client1'));
  await expectRead(c3, wire.hasLeft(0, 'client1') + wire.hasLeft(1, 'client1'));
  await expectRead(c4, wire.hasLeft(1, 'client1'));

  c4.send('KILL_SERVICE\n');
  const killed = topology.nodeOf(4);
  await killed.closed;
  const clients = [c0, c1, c2, c3, c4];
  const names = ['', 'client1', 'client2', 'client3', 'client4'];
  // Rooms now: room1 (ref 0) has c2, c3; room2 (ref 1) has c3, c4.
  const roomsOf: number[][] = [[], [], [0], [0, 1], [1]];
  const onKilled = (i: number) => topology.nodeOf(i) === killed;
  await Promise.all(clients.filter((_, i) => i !== 1 && onKilled(i)).map((client) => client.closed));
  // A whole server stopping announces nothing; one node of a cluster stopping announces its
  // members' departures to the members on the other nodes (in any order across rooms).
  for (let i = 0; i < clients.length; i++) {
    if (i === 1 || onKilled(i)) continue;
    const expected = roomsOf[i]!.flatMap((ref) => [2, 3, 4].filter((k) => onKilled(k) && roomsOf[k]!.includes(ref)).map((k) => wire.hasLeft(ref, names[k]!)));
    const text = await clients[i]!.next(expected.join('').length);
    expect(splitMessages(text).sort()).toEqual([...expected].sort());
  }
  for (const client of clients) expect(client.pending()).toBe('');
}

function splitMessages(text: string): string[] {
  return text.split(/(?<=\n\n)/).filter((part) => part.length > 0);
}

export async function unknownRoomError(topology: Topology, studentId?: string): Promise<void> {
  const port = topology.nodeOf(0).port;
  const a = await RawClient.connect(port);
  a.send('CHAT: 42\nJOIN_ID: 0\nCLIENT_NAME: alice\nMESSAGE: anyone?\n\n');
  expect(await readErrorCode(a)).toBe(ERRORS.UNKNOWN_ROOM.code);
  a.send('HELO still here\n');
  await expectRead(a, wire.helo('still here', port, studentId));
}
