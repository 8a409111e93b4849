import { describe, expect, it } from 'vitest';
import { RawClient, readErrorCode, startServer, wire, expectRead } from './helpers.js';
import { ERRORS } from '../src/protocol/errors.js';

/** Framing over real sockets: however the bytes are cut, the same replies come back. */
describe('framing over a socket', () => {
  /** A session of every request kind; the connection's join id is `id` (one per joining connection). */
  const session = (port: number, id = 0) => ({
    send: 'HELO ünïcode ✓\n' + wire.join('ròom', 'ålice') + wire.chat(0, id, 'ålice', 'multi\nline 👋') + wire.leave(0, id, 'ålice'),
    expect:
      `HELO ünïcode ✓\nIP:127.0.0.1\nPort:${port}\nStudentID:actor-chat-server\n` +
      wire.joined('ròom', port, 0, id) + wire.hasJoined(0, 'ålice') + wire.said(0, 'ålice', 'multi\nline 👋') + wire.left(0, id) + wire.hasLeft(0, 'ålice'),
  });

  it('answers pipelined requests written in one write, in order', async () => {
    const server = await startServer();
    const client = await RawClient.connect(server.port);
    const { send, expect: expected } = session(server.port);
    client.send(send);
    await expectRead(client, expected);
  });

  it('answers the same session split at every byte boundary', async () => {
    const server = await startServer();
    for (let cut = 1; ; cut++) {
      const { send, expect: expected } = session(server.port, cut - 1);
      const bytes = Buffer.from(send);
      if (cut >= bytes.length) break;
      const client = await RawClient.connect(server.port);
      await client.sendAndFlush(bytes.subarray(0, cut));
      await client.sendAndFlush(bytes.subarray(cut));
      const got = await client.read(expected);
      if (got !== expected) expect(got, `cut at byte ${cut}`).toBe(expected);
      client.destroy();
    }
  }, 60_000);

  it('accepts CRLF and answers with bare LF', async () => {
    const server = await startServer();
    const client = await RawClient.connect(server.port);
    const { send, expect: expected } = session(server.port);
    client.send(send.replace(/\n/g, '\r\n'));
    await expectRead(client, expected);
  });

  it('skips empty lines between requests without an error', async () => {
    const server = await startServer();
    const client = await RawClient.connect(server.port);
    client.send('\n\r\n\nHELO a\n\n\nHELO b\n');
    const expected = wire.helo('a', server.port) + wire.helo('b', server.port);
    await expectRead(client, expected);
  });

  it('completes a request missing its final newline after the quiet period', async () => {
    const server = await startServer({ quietMs: 50 });
    const client = await RawClient.connect(server.port);
    client.send('HELO one-shot');
    await expectRead(client, wire.helo('one-shot', server.port));
    client.send(wire.join('r', 'a').slice(0, -1));
    await expectRead(client, wire.joined('r', server.port, 0, 0) + wire.hasJoined(0, 'a'));
    client.send('CHAT: 0\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: no empty line\n');
    await expectRead(client, wire.said(0, 'a', 'no empty line'));
  });

  it('completes a request missing its final newline when the peer shuts down its side', async () => {
    const server = await startServer({ quietMs: 60_000 });
    const client = await RawClient.connect(server.port);
    client.socket.end('HELO half-closed');
    expect(await client.readToClose()).toBe(wire.helo('half-closed', server.port));
  });

  it('answers an HTTP request sent to the port with one error, then serves the protocol', async () => {
    const server = await startServer();
    const client = await RawClient.connect(server.port);
    client.send('GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n');
    expect(await readErrorCode(client)).toBe(ERRORS.MALFORMED.code);
    client.send('HELO still open\n');
    await expectRead(client, wire.helo('still open', server.port));
  });

  it('closes the connection with TOO_LONG when a line passes the limit', async () => {
    const server = await startServer({ maxLineBytes: 64 });
    const client = await RawClient.connect(server.port);
    client.send('HELO ' + 'x'.repeat(100));
    const reply = await client.readToClose();
    expect(reply).toMatch(/^ERROR_CODE: 8\nERROR_DESCRIPTION: [^\n]+\n$/);
  });

  it('answers each kind of malformed request with exactly one MALFORMED and keeps the connection', async () => {
    const server = await startServer();
    const client = await RawClient.connect(server.port);
    const bad: Array<string | Buffer> = [
      'FOO: bar\n\n', // unknown keyword
      'CHAT: 0\nCLIENT_NAME: a\nJOIN_ID: 0\nMESSAGE: m\n\n', // fields out of order
      'LEAVE_CHATROOM: 0\nCLIENT_NAME: a\n\n', // a field missing
      'CHAT: zero\nJOIN_ID: 0\nCLIENT_NAME: a\nMESSAGE: m\n\n', // non-numeric ref
      Buffer.from([0x48, 0x45, 0x4c, 0x4f, 0x20, 0xc3, 0x28, 0x0a]), // bad UTF-8
      Buffer.from([0x00, 0x01, 0x02, 0xff, 0x0a, 0x0a]), // binary junk
    ];
    for (const request of bad) {
      client.send(request);
      client.send('HELO next\n');
      const reply = await client.readUntil('StudentID:actor-chat-server\n');
      expect(reply, JSON.stringify(request.toString())).toMatch(/^ERROR_CODE: 1\nERROR_DESCRIPTION: [^\n]+\nHELO next\n/);
    }
  });
});
