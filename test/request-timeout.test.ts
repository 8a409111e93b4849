import { describe, expect, it } from 'vitest';
import { RawClient, startServer, wire, expectRead } from './helpers.js';

/** A request left incomplete (a slowloris, a half-typed request) is not held forever. */
describe('request timeout', () => {
  const timedOut = 'ERROR_CODE: 1\nERROR_DESCRIPTION: the request was not complete 300 ms after its first byte; it was discarded\n';

  it('discards a request still incomplete after --request-timeout-ms with one MALFORMED; the connection stays', async () => {
    const server = await startServer({ requestTimeoutMs: 300, quietMs: 50 });
    const client = await RawClient.connect(server.port);
    // A JOIN without its CLIENT_NAME: the quiet period cannot complete it.
    client.send('JOIN_CHATROOM: room1\nCLIENT_IP: 0\n');
    await expectRead(client, timedOut);
    client.send(wire.join('room1', 'alice'));
    const joined = wire.joined('room1', server.port, 0, 0) + wire.hasJoined(0, 'alice');
    await expectRead(client, joined);
  });

  it('counts from the first byte of a request that trickles in, not from the last', async () => {
    const server = await startServer({ requestTimeoutMs: 300, quietMs: 50 });
    const client = await RawClient.connect(server.port);
    await client.sendAndFlush('JOIN_CHATROOM: ');
    // A byte every 40 ms, each well within the timeout, for far longer than the timeout: counted
    // from the last byte, the timeout would never pass while they come.
    let answered = false;
    const answer = client.read(timedOut).finally(() => (answered = true));
    let sent = 0;
    for (const byte of 'a-slowloris-room-name-that-goes-on-and-on') {
      if (answered) break;
      await new Promise((resolve) => setTimeout(resolve, 40));
      await client.sendAndFlush(byte);
      sent++;
    }
    expect(await answer).toBe(timedOut);
    expect(answered && sent < 40).toBe(true);
  });

  it('answers a discarded request once: its rest, arriving late, is dropped, and the next request is answered', async () => {
    const server = await startServer({ requestTimeoutMs: 300, quietMs: 50 });
    const client = await RawClient.connect(server.port);
    client.send('JOIN_CHATROOM: room1\nCLIENT_IP: 0\nPO');
    await expectRead(client, timedOut);
    client.send('RT: 0\nCLIENT_NAME: alice\nHELO next\n');
    await expectRead(client, wire.helo('next', server.port));
    // Nothing else was answered: the next request's answer follows at once.
    client.send('HELO again\n');
    await expectRead(client, wire.helo('again', server.port));
  });

});
