import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { joinedClient, RawClient, readErrorCode, startServer, wire, expectRead } from './helpers.js';
import { ERRORS } from '../src/protocol/errors.js';
import { OptionError, startChatServer } from '../src/index.js';

describe('limits', () => {
  it("every door's listener has the accept queue asked for (--listen-backlog), as the kernel reports it", async () => {
    // `ss` shows a listening socket's accept-queue length as its Send-Q.
    const backlogOf = (port: number): number => {
      const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
      return Number(out.trim().split(/\s+/)[2]);
    };
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    const chosen = await startServer({ listenBacklog: 1000, ircPort: 0, webPort: 0 });
    for (const port of [chosen.port, chosen.ircPort!, chosen.webPort!]) expect(backlogOf(port)).toBe(Math.min(1000, somaxconn));
    // The default: a reconnect storm's worth (Node's own is 511).
    const byDefault = await startServer({});
    expect(backlogOf(byDefault.port)).toBe(Math.min(4096, somaxconn));
    // libuv would wrap 2^32 to a queue of 0: refused, as 0 is, with one clear error.
    await expect(startChatServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', listenBacklog: 2 ** 32 })).rejects.toThrow(/listenBacklog must be at most 65535/);
    await expect(startChatServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', listenBacklog: 0 })).rejects.toThrow(OptionError);
  });

  it('refuses a join past the rooms-per-connection limit and keeps the connection', async () => {
    const server = await startServer({ maxRoomsPerConnection: 2 });
    const client = await RawClient.connect(server.port);
    for (const [ref, room] of [[0, 'a'], [1, 'b']] as const) {
      client.send(wire.join(room, 'n'));
      await client.readUntil(wire.hasJoined(ref, 'n'));
    }
    client.send(wire.join('c', 'n'));
    expect(await readErrorCode(client)).toBe(ERRORS.LIMIT_REACHED.code);
    // A repeated join is no new room: still answered.
    client.send(wire.join('a', 'n'));
    await expectRead(client, wire.joined('a', server.port, 0, 0));
    client.send(wire.leave(1, 0, 'n') + wire.join('c', 'n'));
    await client.readUntil(wire.hasJoined(2, 'n'));
  });

  it('refuses a new room past the rooms-in-total limit; existing rooms still take joins', async () => {
    const server = await startServer({ maxRooms: 1 });
    const a = await RawClient.connect(server.port);
    a.send(wire.join('only', 'a'));
    await a.readUntil(wire.hasJoined(0, 'a'));
    const b = await RawClient.connect(server.port);
    b.send(wire.join('second', 'b'));
    expect(await readErrorCode(b)).toBe(ERRORS.LIMIT_REACHED.code);
    b.send(wire.join('only', 'b'));
    await b.readUntil(wire.hasJoined(0, 'b'));
  });

  it('refuses a connection past the connection limit with one error, then closes it', async () => {
    const server = await startServer({ maxConnections: 2 });
    const first = await RawClient.connect(server.port);
    const second = await RawClient.connect(server.port);
    first.send('HELO 1\n');
    second.send('HELO 2\n');
    await first.readUntil('StudentID:actor-chat-server\n');
    await second.readUntil('StudentID:actor-chat-server\n');
    const third = await RawClient.connect(server.port);
    expect(await third.readToClose()).toMatch(/^ERROR_CODE: 7\nERROR_DESCRIPTION: [^\n]+\n$/);
    // A freed slot is usable again.
    first.destroy();
    await first.closed;
    for (;;) {
      const next = await RawClient.connect(server.port);
      next.send('HELO again\n');
      const reply = await next.readUntil('\n');
      if (reply === 'HELO again\n') break;
      await next.closed; // the old connection's slot was not free yet: its close is still in flight
    }
  });

  it('cuts a reader that stopped reading, announces its departure, and the others get everything', async () => {
    const server = await startServer({ maxSendQueueBytes: 256 * 1024, slowConsumerGraceMs: 500, shutdownFlushMs: 500, floodBytesPerSecond: 256 << 20, floodBurstBytes: 256 << 20 });
    const port = server.port;
    const slow = await joinedClient(port, 'busy', 'slow');
    const fast = await joinedClient(port, 'busy', 'fast');
    slow.socket.pause();
    const body = 'x'.repeat(4000);
    const count = 5000; // 20 MB: more than loopback's socket buffers hold (tcp_rmem + tcp_wmem maxima)
    let sent = 0;
    const sender = await RawClient.connect(port);
    sender.send(wire.join('busy', 'sender'));
    await sender.readUntil(wire.hasJoined(0, 'sender'));
    await fast.readUntil(wire.hasJoined(0, 'sender'));
    // Closed loop: the sender stays at most 32 messages ahead of the fast reader, so only the
    // slow reader's queue can grow, however busy the machine is.
    let received = 0;
    let sawDeparture = false;
    const readOne = async (): Promise<void> => {
      const message = await fast.readUntil('\n\n');
      if (message === wire.hasLeft(0, 'slow')) {
        sawDeparture = true;
        return;
      }
      received++;
      expect(message.startsWith(`CHAT: 0\nCLIENT_NAME: sender\nMESSAGE: ${received} `)).toBe(true);
    };
    while (sent < count) {
      sent++;
      sender.send(wire.chat(0, 2, 'sender', `${sent} ${body}`));
      while (sent - received >= 32) await readOne();
    }
    while (received < count) await readOne();
    if (!sawDeparture) expect(await fast.readUntil('\n\n')).toBe(wire.hasLeft(0, 'slow'));
    // The server closed the slow reader. Its SLOW_CONSUMER error was queued behind the output it
    // never read, so it arrives only if the peer reads in time; no other error can be there.
    slow.socket.resume();
    const tail = await slow.readToClose();
    const codes = [...tail.matchAll(/^ERROR_CODE: (\d+)$/gm)].map((match) => match[1]);
    expect(codes.every((code) => code === '11')).toBe(true);
  }, 60_000);

  it('slows a connection that floods, loses nothing it sent, and does not slow the others', async () => {
    const rate = 64 * 1024;
    const server = await startServer({ floodBytesPerSecond: rate, floodBurstBytes: rate });
    const flooder = await RawClient.connect(server.port);
    flooder.send(wire.join('f', 'flooder'));
    await flooder.readUntil(wire.hasJoined(0, 'flooder'));
    const messages = 64;
    const body = 'y'.repeat(4000); // 64 × 4 KB = 256 KB: three seconds' worth past the burst
    const started = performance.now();
    flooder.send(Array.from({ length: messages }, (_, i) => wire.chat(0, 0, 'flooder', `${i} ${body}`)).join(''));
    const bystander = await RawClient.connect(server.port);
    bystander.send('HELO unhindered\n');
    await expectRead(bystander, wire.helo('unhindered', server.port));
    // The bystander was answered while the flooder was still held back.
    const echoedBeforeBystander = flooder.pending().split('\n\n').length - 1;
    expect(echoedBeforeBystander).toBeLessThan(messages);
    for (let i = 0; i < messages; i++) expect(await flooder.readUntil('\n\n')).toBe(wire.said(0, 'flooder', `${i} ${body}`));
    const elapsedSeconds = (performance.now() - started) / 1000;
    // It cannot be faster than the bucket allows: all but the burst and the last read (64 KiB) at the rate.
    expect(elapsedSeconds).toBeGreaterThan((messages * 4000 - 2 * rate) / rate * 0.9);
  }, 30_000);

  it('works through one connection\'s burst of requests a few at a time, answering others in between', async () => {
    const server = await startServer();
    const burster = await RawClient.connect(server.port);
    const pairs = 3000; // ~300 KB of join/leave pairs in one write: within the flood burst, so never throttled
    let burst = '';
    for (let i = 0; i < pairs; i++) burst += wire.join(`r${i % 20}`, 'b') + wire.leave(i % 20, 0, 'b');
    burster.send(burst);
    const bystander = await RawClient.connect(server.port);
    bystander.send('HELO in between\n');
    await expectRead(bystander, wire.helo('in between', server.port));
    // Answered while the burst was still being worked through (the server runs in this process).
    const handled = server.inspect.client(0)!.requests;
    expect(handled).toBeLessThan(2 * pairs);
    for (let i = 0; i < pairs; i++) await burster.readUntil('has left this chatroom.\n\n');
  }, 60_000);
});

describe('refusals', () => {
  // Clients in a worker thread, so that they connect and send their first request while this
  // thread (the server's) is busy: the server then refuses sockets that already hold unread bytes.
  const CLIENTS = `
    const { connect } = require('node:net');
    const { parentPort, workerData } = require('node:worker_threads');
    const { port, count } = workerData;
    Promise.all(Array.from({ length: count }, () => new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.on('connect', () => socket.write('HELO early\\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => (text += chunk));
      socket.on('error', (error) => resolve(text + '<' + error.code + '>'));
      socket.on('end', () => resolve(text + '<end>'));
    }))).then((replies) => parentPort.postMessage(replies));`;

  it('a refused client that sent its request first reads its LIMIT_REACHED line and then the end of the stream, not a reset', async () => {
    const server = await startServer({ maxConnections: 1 });
    const holder = await RawClient.connect(server.port);
    holder.send('HELO holder\n');
    await holder.readUntil('StudentID:actor-chat-server\n');
    const worker = new Worker(CLIENTS, { eval: true, workerData: { port: server.port, count: 12 } });
    const replies = new Promise<string[]>((resolve) => worker.once('message', resolve));
    // Busy until every client has connected and sent (its bytes wait in the kernel, unread).
    const until = Date.now() + 300;
    while (Date.now() < until);
    const refusal = 'ERROR_CODE: 7\nERROR_DESCRIPTION: the server holds at most 1 connections\n<end>';
    expect((await replies).filter((reply) => reply !== refusal)).toEqual([]);
    await worker.terminate();
  });
});
