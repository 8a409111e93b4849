import { describe, expect, it } from 'vitest';
import { aliceAndBob, RawClient, readErrorCode, startServer, wire, expectRead } from './helpers.js';
import { ERRORS } from '../src/protocol/errors.js';

async function joinedClient(port: number, room: string, name: string, ref: number, joinId: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  client.send(wire.join(room, name));
  const expected = wire.joined(room, port, ref, joinId) + wire.hasJoined(ref, name);
  await expectRead(client, expected);
  return client;
}

describe('rooms and membership', () => {
  it('puts one connection in many rooms under one join id, with a name per room', async () => {
    const server = await startServer();
    const port = server.port;
    const a = await joinedClient(port, 'first', 'alice', 0, 0);
    for (const [ref, room, name] of [[1, 'second', 'al'], [2, 'third', 'alice the great']] as const) {
      a.send(wire.join(room, name));
      const expected = wire.joined(room, port, ref, 0) + wire.hasJoined(ref, name);
      await expectRead(a, expected);
    }
    a.send(wire.chat(1, 0, 'al', 'in second'));
    await expectRead(a, wire.said(1, 'al', 'in second'));
    // The name is the one joined with in *that* room.
    a.send(wire.chat(2, 0, 'al', 'wrong name here'));
    expect(await readErrorCode(a)).toBe(ERRORS.WRONG_NAME.code);
  });

  it('keeps room refs stable per name and hands out a new one per new name', async () => {
    const server = await startServer();
    const port = server.port;
    const a = await joinedClient(port, 'x', 'a', 0, 0);
    a.send(wire.leave(0, 0, 'a'));
    await expectRead(a, wire.left(0, 0) + wire.hasLeft(0, 'a'));
    await joinedClient(port, 'y', 'b', 1, 1);
    // Room x emptied and stopped, but its ref stays x's.
    a.send(wire.join('x', 'a'));
    await expectRead(a, wire.joined('x', port, 0, 0) + wire.hasJoined(0, 'a'));
  });

  it('answers a repeated join with JOINED_CHATROOM again, announces nothing, and keeps the first name', async () => {
    const server = await startServer();
    const port = server.port;
    const a = await joinedClient(port, 'r', 'alice', 0, 0);
    const b = await joinedClient(port, 'r', 'bob', 0, 1);
    await expectRead(a, wire.hasJoined(0, 'bob'));
    b.send(wire.join('r', 'robert'));
    await expectRead(b, wire.joined('r', port, 0, 1));
    b.send(wire.chat(0, 1, 'bob', 'still bob'));
    await expectRead(b, wire.said(0, 'bob', 'still bob'));
    await expectRead(a, wire.said(0, 'bob', 'still bob'));
  });

  it('refuses impersonation: another join id, another name, a room not joined', async () => {
    const server = await startServer();
    const port = server.port;
    const a = await joinedClient(port, 'r', 'alice', 0, 0);
    const b = await joinedClient(port, 'r', 'bob', 0, 1);
    await joinedClient(port, 'other', 'carol', 1, 2);
    await expectRead(a, wire.hasJoined(0, 'bob'));

    b.send(wire.chat(0, 0, 'alice', 'I am alice'));
    expect(await readErrorCode(b)).toBe(ERRORS.WRONG_JOIN_ID.code);
    b.send(wire.chat(0, 1, 'alice', 'I am alice'));
    expect(await readErrorCode(b)).toBe(ERRORS.WRONG_NAME.code);
    b.send(wire.chat(1, 1, 'bob', 'into a room I am not in'));
    expect(await readErrorCode(b)).toBe(ERRORS.NOT_A_MEMBER.code);
    b.send(wire.chat(99, 1, 'bob', 'nowhere'));
    expect(await readErrorCode(b)).toBe(ERRORS.UNKNOWN_ROOM.code);
    b.send('CHAT: 0\nJOIN_ID: 1\nCLIENT_NAME: bob\nMESSAGE: hi\nCLIENT_NAME: alice\nMESSAGE: forged\n\n');
    expect(await readErrorCode(b)).toBe(ERRORS.INVALID_VALUE.code);
    // Nothing of that reached anyone: the next thing alice reads is bob's honest message.
    b.send(wire.chat(0, 1, 'bob', 'honest'));
    await expectRead(a, wire.said(0, 'bob', 'honest'));
  });

  it('refuses a message that forges a field after any line break a splitlines() reader breaks at', async () => {
    const server = await startServer();
    const { a, b } = await aliceAndBob(server.port, server.port);
    const refused = 'ERROR_CODE: 6\nERROR_DESCRIPTION: a message line reads as a reply field\n';
    for (const lineBreak of ['\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\u0085', '\u2028', '\u2029']) {
      b.send(`CHAT: 0\nJOIN_ID: 1\nCLIENT_NAME: bob\nMESSAGE: hi${lineBreak}CLIENT_NAME: alice${lineBreak}MESSAGE: forged\n\n`);
      expect(await b.read(refused), JSON.stringify(lineBreak)).toBe(refused);
    }
    b.send(wire.chat(0, 1, 'bob', 'honest'));
    await expectRead(a, wire.said(0, 'bob', 'honest'));
  });

  it('quotes a ref or join id past 2^53 as sent in its error, cut when very long', async () => {
    const server = await startServer();
    const a = await joinedClient(server.port, 'room1', 'alice', 0, 0);
    const huge = '99999999999999999999';
    a.send(wire.chat(0, 0, 'alice', 'x').replace('CHAT: 0', `CHAT: ${huge}`));
    await expectRead(a, `ERROR_CODE: 2\nERROR_DESCRIPTION: no room has ref ${huge}\n`);
    a.send(wire.chat(0, 0, 'alice', 'x').replace('JOIN_ID: 0', `JOIN_ID: ${huge}`));
    await expectRead(a, `ERROR_CODE: 4\nERROR_DESCRIPTION: join id ${huge} is not this connection's\n`);
    a.send(wire.chat(0, 0, 'alice', 'x').replace('CHAT: 0', `CHAT: ${'1'.repeat(200)}`));
    const cut = `ERROR_CODE: 2\nERROR_DESCRIPTION: no room has ref ${'1'.repeat(30)}…\n`;
    await expectRead(a, cut);
  });

  it('answers a leave of a room not joined with LEFT_CHATROOM and no error', async () => {
    const server = await startServer();
    const port = server.port;
    const a = await RawClient.connect(port);
    a.send(wire.leave(7, 3, 'alice'));
    await expectRead(a, wire.left(7, 3));
    const b = await joinedClient(port, 'r', 'bob', 0, 0);
    a.send(wire.leave(0, 5, 'alice'));
    await expectRead(a, wire.left(0, 5));
    b.send('HELO check\n');
    await expectRead(b, wire.helo('check', port));
    // The echo is the request's ref and join id as sent.
    a.send('LEAVE_CHATROOM: 00\nJOIN_ID: 99999999999999999999\nCLIENT_NAME: alice\n');
    await expectRead(a, 'LEFT_CHATROOM: 00\nJOIN_ID: 99999999999999999999\n');
  });

  it('refuses names that are empty, too long or hold control characters', async () => {
    const server = await startServer();
    const a = await RawClient.connect(server.port);
    for (const [room, name] of [['r', ''], ['', 'n'], ['r', 'x'.repeat(65)], ['r', 'a\u0007b'], ['r', 'a\u2028b'], ['r', 'a\u2029b'], ['r\u0085', 'n']]) {
      a.send(`JOIN_CHATROOM: ${room}\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: ${name}\n`);
      expect(await readErrorCode(a)).toBe(ERRORS.INVALID_VALUE.code);
    }
    // 64 characters counted as code points, not UTF-16 units.
    const emoji = '😀'.repeat(64);
    a.send(wire.join('r', emoji));
    await expectRead(a, wire.joined('r', server.port, 0, 0) + wire.hasJoined(0, emoji));
  });

  it('announces the departures of a connection that closes without DISCONNECT, in join order', async () => {
    const server = await startServer();
    const port = server.port;
    const watcher = await joinedClient(port, 'one', 'watcher', 0, 0);
    watcher.send(wire.join('two', 'watcher'));
    await expectRead(watcher, wire.joined('two', port, 1, 0) + wire.hasJoined(1, 'watcher'));
    const leaver = await joinedClient(port, 'two', 'leaver', 1, 1);
    leaver.send(wire.join('one', 'leaver-in-one'));
    await leaver.readUntil(wire.hasJoined(0, 'leaver-in-one'));
    await expectRead(watcher, wire.hasJoined(1, 'leaver') + wire.hasJoined(0, 'leaver-in-one'));
    leaver.destroy();
    await expectRead(watcher, wire.hasLeft(1, 'leaver') + wire.hasLeft(0, 'leaver-in-one'));
  });

  it('announces DISCONNECT to the leaver too, then closes its connection', async () => {
    const server = await startServer();
    const port = server.port;
    const a = await joinedClient(port, 'r', 'alice', 0, 0);
    const b = await joinedClient(port, 'r', 'bob', 0, 1);
    b.send(wire.disconnect('bob'));
    expect(await b.readToClose()).toBe(wire.hasLeft(0, 'bob'));
    await expectRead(a, wire.hasJoined(0, 'bob') + wire.hasLeft(0, 'bob'));
  });

  it('delivers messages from many senders in one order to every member, each sender in order', async () => {
    const server = await startServer();
    const port = server.port;
    const members: RawClient[] = [];
    for (let i = 0; i < 5; i++) {
      const member = await joinedClient(port, 'busy', `m${i}`, 0, i);
      members.push(member);
    }
    for (const [i, member] of members.entries()) {
      for (let j = i + 1; j < 5; j++) await member.readUntil(wire.hasJoined(0, `m${j}`));
    }
    for (let n = 0; n < 20; n++) for (const [i, member] of members.entries()) member.send(wire.chat(0, i, `m${i}`, `${i}:${n}`));
    const transcripts = await Promise.all(members.map(async (member) => {
      const lines: string[] = [];
      for (let k = 0; k < 100; k++) lines.push((await member.readUntil('\n\n')).split('\n')[2]!);
      return lines;
    }));
    for (const transcript of transcripts) expect(transcript).toEqual(transcripts[0]);
    for (let i = 0; i < 5; i++) {
      const mine = transcripts[0]!.filter((line) => line.startsWith(`MESSAGE: ${i}:`));
      expect(mine).toEqual(Array.from({ length: 20 }, (_, n) => `MESSAGE: ${i}:${n}`));
    }
  });
});
