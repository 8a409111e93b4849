import { describe, expect, it } from 'vitest';
import { RawClient, joinedClient, startServer, wire } from './helpers.js';
import { SERVER, ircUser } from './irc-helpers.js';

describe('IRC door: limits and faults, in IRC words', () => {
  it('cuts an IRC reader that stops reading (ERROR :SendQ exceeded), and its rooms see it quit', async () => {
    const server = await startServer({ ircPort: 0, serverName: SERVER, maxSendQueueBytes: 64 * 1024, slowConsumerGraceMs: 200 });
    const slow = await ircUser(server.ircPort!, 'slow');
    slow.send('JOIN #busy');
    await slow.until(/ 366 /);
    const fast = await joinedClient(server.port, 'busy', 'fast');
    slow.raw.socket.pause();
    const sender = await RawClient.connect(server.port);
    sender.send(wire.join('busy', 'sender'));
    await sender.readUntil(wire.hasJoined(0, 'sender'));
    await fast.readUntil(wire.hasJoined(0, 'sender'));
    const body = 'x'.repeat(400);
    // Closed loop, as the lab's slow-consumer test: only the slow reader's queue can grow.
    let sent = 0;
    let received = 0;
    let departed = false;
    while (!departed && sent < 100_000) {
      sender.send(wire.chat(0, 2, 'sender', `${++sent} ${body}`));
      while (!departed && sent - received >= 32) {
        const message = await fast.readUntil('\n\n');
        if (message === wire.hasLeft(0, 'slow')) departed = true;
        else received++;
      }
    }
    expect(departed).toBe(true);
    slow.raw.socket.resume();
    const tail = await slow.raw.readToClose();
    // What it gets is IRC only: the lines it never read, then (if it reads in time) the ERROR.
    expect(tail).not.toMatch(/ERROR_CODE/);
    if (tail.includes('ERROR')) expect(tail.endsWith('ERROR :SendQ exceeded\r\n')).toBe(true);
  }, 60_000);

  it('tells IRC clients the server is shutting down before it closes them', async () => {
    const server = await startServer({ ircPort: 0, serverName: SERVER });
    const alice = await ircUser(server.ircPort!, 'alice');
    await server.stop();
    expect(await alice.raw.readToClose()).toBe('ERROR :Server shutting down\r\n');
  });

  it('closes an IRC connection whose actor failed with an ERROR line, and announces its departure', async () => {
    const server = await startServer({ ircPort: 0, serverName: SERVER, testHooks: true });
    const alice = await ircUser(server.ircPort!, 'alice');
    alice.send('JOIN #r');
    await alice.until(/ 366 /);
    const lab = await joinedClient(server.port, 'r', 'bob');
    const [entry] = (await server.dump()).clients.filter((client) => client.door === 'irc');
    server.inspect.clientActor(Number(entry!.id.slice('client-'.length)))!.send({ type: 'test.fault' });
    expect(await alice.raw.readToClose()).toMatch(/(^|\r\n)ERROR :[^\r\n]+\r\n$/);
    expect(await lab.readUntil('\n\n')).toBe(wire.hasLeft(0, 'alice'));
  });
});
