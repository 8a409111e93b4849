import { describe, expect, it } from 'vitest';
import { RawClient, readErrorCode, startServer, wire } from './helpers.js';

/** The example transcripts of protocol.md, byte for byte. */
describe('protocol.md transcripts', () => {
  it('A says HELO and joins; B joins; both chat; B leaves; A disconnects', async () => {
    const server = await startServer({ studentId: 'S123' });
    const port = server.port;
    const a = await RawClient.connect(port);
    a.send('HELO hello world\n');
    expect(await a.read(`HELO hello world\nIP:127.0.0.1\nPort:${port}\nStudentID:S123\n`)).toBe(
      `HELO hello world\nIP:127.0.0.1\nPort:${port}\nStudentID:S123\n`,
    );
    a.send('JOIN_CHATROOM: room1\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: alice\n');
    const aJoined = `JOINED_CHATROOM: room1\nSERVER_IP: 127.0.0.1\nPORT: ${port}\nROOM_REF: 0\nJOIN_ID: 0\n` +
      'CHAT: 0\nCLIENT_NAME: alice\nMESSAGE: alice has joined this chatroom.\n\n';
    expect(await a.read(aJoined)).toBe(aJoined);

    const b = await RawClient.connect(port);
    b.send('JOIN_CHATROOM: room1\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: bob\n');
    const bJoined = `JOINED_CHATROOM: room1\nSERVER_IP: 127.0.0.1\nPORT: ${port}\nROOM_REF: 0\nJOIN_ID: 1\n` +
      'CHAT: 0\nCLIENT_NAME: bob\nMESSAGE: bob has joined this chatroom.\n\n';
    expect(await b.read(bJoined)).toBe(bJoined);
    const bobJoinedAnnouncement = 'CHAT: 0\nCLIENT_NAME: bob\nMESSAGE: bob has joined this chatroom.\n\n';
    expect(await a.read(bobJoinedAnnouncement)).toBe(bobJoinedAnnouncement);

    b.send('CHAT: 0\nJOIN_ID: 1\nCLIENT_NAME: bob\nMESSAGE: hi alice\n\n');
    const hi = 'CHAT: 0\nCLIENT_NAME: bob\nMESSAGE: hi alice\n\n';
    expect(await a.read(hi)).toBe(hi);
    expect(await b.read(hi)).toBe(hi);

    b.send('LEAVE_CHATROOM: 0\nJOIN_ID: 1\nCLIENT_NAME: bob\n');
    const bLeft = 'LEFT_CHATROOM: 0\nJOIN_ID: 1\nCHAT: 0\nCLIENT_NAME: bob\nMESSAGE: bob has left this chatroom.\n\n';
    expect(await b.read(bLeft)).toBe(bLeft);
    const bobLeft = 'CHAT: 0\nCLIENT_NAME: bob\nMESSAGE: bob has left this chatroom.\n\n';
    expect(await a.read(bobLeft)).toBe(bobLeft);

    a.send('DISCONNECT: 0\nPORT: 0\nCLIENT_NAME: alice\n');
    expect(await a.readToClose()).toBe('CHAT: 0\nCLIENT_NAME: alice\nMESSAGE: alice has left this chatroom.\n\n');
    expect(b.pending()).toBe('');
  });

  it("runs the lab's automated tester sequence", async () => {
    const server = await startServer();
    const port = server.port;
    const c0 = await RawClient.connect(port);
    c0.send('HELO BASE_TEST\n');
    expect(await c0.read(wire.helo('BASE_TEST', port))).toBe(wire.helo('BASE_TEST', port));

    const c1 = await RawClient.connect(port);
    // Step 2: no spaces after the colons, as the recorded tester sent it.
    c1.send('JOIN_CHATROOM:room1\nCLIENT_IP:0\nPORT:0\nCLIENT_NAME:client1\n');
    expect(await c1.read(wire.joined('room1', port, 0, 0) + wire.hasJoined(0, 'client1'))).toBe(wire.joined('room1', port, 0, 0) + wire.hasJoined(0, 'client1'));
    c1.send(wire.leave(0, 0, 'client1'));
    expect(await c1.read(wire.left(0, 0) + wire.hasLeft(0, 'client1'))).toBe(wire.left(0, 0) + wire.hasLeft(0, 'client1'));
    // Steps 4-7: join room1 then room2, leave room1 then room2.
    c1.send(wire.join('room1', 'client1'));
    expect(await c1.read(wire.joined('room1', port, 0, 0) + wire.hasJoined(0, 'client1'))).toBe(wire.joined('room1', port, 0, 0) + wire.hasJoined(0, 'client1'));
    c1.send(wire.join('room2', 'client1'));
    expect(await c1.read(wire.joined('room2', port, 1, 0) + wire.hasJoined(1, 'client1'))).toBe(wire.joined('room2', port, 1, 0) + wire.hasJoined(1, 'client1'));
    c1.send(wire.leave(0, 0, 'client1'));
    expect(await c1.read(wire.left(0, 0) + wire.hasLeft(0, 'client1'))).toBe(wire.left(0, 0) + wire.hasLeft(0, 'client1'));
    c1.send(wire.leave(1, 0, 'client1'));
    expect(await c1.read(wire.left(1, 0) + wire.hasLeft(1, 'client1'))).toBe(wire.left(1, 0) + wire.hasLeft(1, 'client1'));
    // Step 8: c1 joins room1.
    c1.send(wire.join('room1', 'client1'));
    expect(await c1.read(wire.joined('room1', port, 0, 0) + wire.hasJoined(0, 'client1'))).toBe(wire.joined('room1', port, 0, 0) + wire.hasJoined(0, 'client1'));
    // Steps 9-10: c2 joins room1 and leaves it.
    const c2 = await RawClient.connect(port);
    c2.send(wire.join('room1', 'client2'));
    expect(await c2.read(wire.joined('room1', port, 0, 1) + wire.hasJoined(0, 'client2'))).toBe(wire.joined('room1', port, 0, 1) + wire.hasJoined(0, 'client2'));
    expect(await c1.read(wire.hasJoined(0, 'client2'))).toBe(wire.hasJoined(0, 'client2'));
    c2.send(wire.leave(0, 1, 'client2'));
    expect(await c2.read(wire.left(0, 1) + wire.hasLeft(0, 'client2'))).toBe(wire.left(0, 1) + wire.hasLeft(0, 'client2'));
    expect(await c1.read(wire.hasLeft(0, 'client2'))).toBe(wire.hasLeft(0, 'client2'));
    // Steps 11-12: c1 leaves room1 and joins it again.
    c1.send(wire.leave(0, 0, 'client1'));
    expect(await c1.read(wire.left(0, 0) + wire.hasLeft(0, 'client1'))).toBe(wire.left(0, 0) + wire.hasLeft(0, 'client1'));
    c1.send(wire.join('room1', 'client1'));
    expect(await c1.read(wire.joined('room1', port, 0, 0) + wire.hasJoined(0, 'client1'))).toBe(wire.joined('room1', port, 0, 0) + wire.hasJoined(0, 'client1'));
    // Step 13: c2 joins room1.
    c2.send(wire.join('room1', 'client2'));
    expect(await c2.read(wire.joined('room1', port, 0, 1) + wire.hasJoined(0, 'client2'))).toBe(wire.joined('room1', port, 0, 1) + wire.hasJoined(0, 'client2'));
    expect(await c1.read(wire.hasJoined(0, 'client2'))).toBe(wire.hasJoined(0, 'client2'));
    // Step 14: c3 joins room1.
    const c3 = await RawClient.connect(port);
    c3.send(wire.join('room1', 'client3'));
    expect(await c3.read(wire.joined('room1', port, 0, 2) + wire.hasJoined(0, 'client3'))).toBe(wire.joined('room1', port, 0, 2) + wire.hasJoined(0, 'client3'));
    expect(await c1.read(wire.hasJoined(0, 'client3'))).toBe(wire.hasJoined(0, 'client3'));
    expect(await c2.read(wire.hasJoined(0, 'client3'))).toBe(wire.hasJoined(0, 'client3'));
    // Steps 15-16: c1 and c3 join room2.
    c1.send(wire.join('room2', 'client1'));
    expect(await c1.read(wire.joined('room2', port, 1, 0) + wire.hasJoined(1, 'client1'))).toBe(wire.joined('room2', port, 1, 0) + wire.hasJoined(1, 'client1'));
    c3.send(wire.join('room2', 'client3'));
    expect(await c3.read(wire.joined('room2', port, 1, 2) + wire.hasJoined(1, 'client3'))).toBe(wire.joined('room2', port, 1, 2) + wire.hasJoined(1, 'client3'));
    expect(await c1.read(wire.hasJoined(1, 'client3'))).toBe(wire.hasJoined(1, 'client3'));
    // Step 17: c4 joins room2.
    const c4 = await RawClient.connect(port);
    c4.send(wire.join('room2', 'client4'));
    expect(await c4.read(wire.joined('room2', port, 1, 3) + wire.hasJoined(1, 'client4'))).toBe(wire.joined('room2', port, 1, 3) + wire.hasJoined(1, 'client4'));
    expect(await c1.read(wire.hasJoined(1, 'client4'))).toBe(wire.hasJoined(1, 'client4'));
    expect(await c3.read(wire.hasJoined(1, 'client4'))).toBe(wire.hasJoined(1, 'client4'));
    // Step 18: c1 chats in room1; every member reads to the empty line.
    c1.send('CHAT: 0\nJOIN_ID: 0\nCLIENT_NAME: client1\nMESSAGE: hello world from client 1\n\n');
    const hello = wire.said(0, 'client1', 'hello world from client 1');
    for (const member of [c1, c2, c3]) expect(await member.read(hello)).toBe(hello);
    // Later steps: client2 chats, clients disconnect in turn, then KILL_SERVICE.
    c2.send(wire.chat(0, 1, 'client2', 'hello world from client 2'));
    const hello2 = wire.said(0, 'client2', 'hello world from client 2');
    for (const member of [c1, c2, c3]) expect(await member.read(hello2)).toBe(hello2);
    c1.send(wire.disconnect('client1'));
    // Announced in the order c1 joined its rooms: room1 (again, at step 12) before room2.
    expect(await c1.readToClose()).toBe(wire.hasLeft(0, 'client1') + wire.hasLeft(1, 'client1'));
    expect(await c2.read(wire.hasLeft(0, 'client1'))).toBe(wire.hasLeft(0, 'client1'));
    expect(await c3.read(wire.hasLeft(0, 'client1') + wire.hasLeft(1, 'client1'))).toBe(wire.hasLeft(0, 'client1') + wire.hasLeft(1, 'client1'));
    expect(await c4.read(wire.hasLeft(1, 'client1'))).toBe(wire.hasLeft(1, 'client1'));
    c4.send('KILL_SERVICE\n');
    await server.closed;
    await Promise.all([c0.closed, c2.closed, c3.closed, c4.closed]);
    expect(c2.pending() + c3.pending() + c4.pending()).toBe('');
  });

  it('gets one error reply with the documented code', async () => {
    const server = await startServer();
    const a = await RawClient.connect(server.port);
    a.send('CHAT: 42\nJOIN_ID: 0\nCLIENT_NAME: alice\nMESSAGE: anyone?\n\n');
    expect(await readErrorCode(a)).toBe(2);
    a.send('HELO still here\n');
    expect(await a.read(wire.helo('still here', server.port))).toBe(wire.helo('still here', server.port));
  });
});
