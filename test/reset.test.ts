import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { resetSocket } from '../src/transport/reset.js';
import { joinedClient, RawClient, startServer, wire } from './helpers.js';
import { kernelSocket, kernelState } from './kernel-sockets.js';
import { makeTestPki } from './tls-certs.js';

const body = 'x'.repeat(4000);

/** `count` chats from `sender` (join id `joinId`) to room 0, once the sender has read them all back. */
async function post(sender: RawClient, joinId: number, count: number): Promise<string> {
  let expected = '';
  for (let n = 1; n <= count; n++) {
    sender.send(wire.chat(0, joinId, 'sender', `${n} ${body}`));
    expected += wire.said(0, 'sender', `${n} ${body}`);
  }
  await sender.read(expected);
  return expected;
}

/**
 * Closed loop: `sender` (join id 1) posts and reads its own messages back, at most 32 behind,
 * until the server cuts member "slow", who stopped reading (a few MB: the kernel's buffers fill first).
 */
async function postUntilCut(sender: RawClient): Promise<void> {
  let sent = 0;
  let read = 0;
  for (;;) {
    expect(sent).toBeLessThan(10_000);
    sender.send(wire.chat(0, 1, 'sender', `${++sent} ${body}`));
    while (sent - read >= 32) {
      if ((await sender.readUntil('\n\n')) === wire.hasLeft(0, 'slow')) return;
      read++;
    }
  }
}

// Linux: the server's side of a connection is looked up in /proc/net/tcp.
describe.skipIf(process.platform !== 'linux')('connections the server gives up on are reset', () => {
  it('resets a slow consumer it cuts: its unsent output is dropped, not left in the kernel', async () => {
    const server = await startServer({ maxSendQueueBytes: 64 * 1024, slowConsumerGraceMs: 100, shutdownFlushMs: 200, floodBytesPerSecond: 256 << 20, floodBurstBytes: 256 << 20 });
    const slow = await joinedClient(server.port, 'busy', 'slow');
    slow.socket.pause();
    await postUntilCut(await joinedClient(server.port, 'busy', 'sender'));
    // The server's side leaves ESTABLISHED at the cut, once the flush bound has passed. Closed
    // gracefully it would stay in FIN_WAIT1 with megabytes in its Send-Q, for minutes.
    const serverSide = (): ReturnType<typeof kernelSocket> => kernelSocket(server.port, slow.socket.localPort!);
    const cut = await kernelState(serverSide, (socket) => socket?.state !== 'ESTABLISHED', 'the cut');
    expect(cut).toBeNull();
    slow.socket.resume();
    await slow.closed;
  }, 60_000);

  it('resets a slow consumer over TLS as well: the TCP connection under the TLS one', async () => {
    const pki = makeTestPki();
    const { cert, key } = pki.serverPair('reset');
    const server = await startServer({ tlsCert: cert, tlsKey: key, tlsPort: 0, maxSendQueueBytes: 64 * 1024, slowConsumerGraceMs: 100, shutdownFlushMs: 200, floodBytesPerSecond: 256 << 20, floodBurstBytes: 256 << 20 });
    const slow = tlsConnect({ host: '127.0.0.1', port: server.tlsPort!, ca: readFileSync(pki.caFile) });
    slow.on('error', () => {});
    let seen = '';
    await new Promise<void>((resolve) => {
      slow.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes(wire.hasJoined(0, 'slow'))) resolve();
      });
      slow.write(wire.join('busy', 'slow'));
    });
    slow.pause();
    await postUntilCut(await joinedClient(server.port, 'busy', 'sender'));
    const serverSide = (): ReturnType<typeof kernelSocket> => kernelSocket(server.tlsPort!, slow.localPort!);
    const cut = await kernelState(serverSide, (socket) => socket?.state !== 'ESTABLISHED', 'the cut');
    expect(cut).toBeNull();
    slow.destroy();
  }, 60_000);

  it('closes a slow consumer that catches up within the flush bound gracefully: its output, SLOW_CONSUMER, the end', async () => {
    const server = await startServer({ maxSendQueueBytes: 64 * 1024, slowConsumerGraceMs: 100, shutdownFlushMs: 10_000, floodBytesPerSecond: 256 << 20, floodBurstBytes: 256 << 20 });
    const slow = await joinedClient(server.port, 'busy', 'slow');
    slow.socket.pause();
    await postUntilCut(await joinedClient(server.port, 'busy', 'sender'));
    const seen: string[] = [];
    slow.socket.on('end', () => seen.push('end'));
    slow.socket.on('error', (error: NodeJS.ErrnoException) => seen.push(error.code ?? error.message));
    slow.socket.resume();
    const output = await slow.readToClose();
    expect(output.endsWith(`\n\n${wire.error(11, 'unsent output passed its limit')}`)).toBe(true);
    expect(seen).toEqual(['end']);
  }, 60_000);

  it('resets a connection whose output is still unread when the shutdown flush bound passes', async () => {
    const server = await startServer({ shutdownFlushMs: 200 });
    const reader = await joinedClient(server.port, 'room', 'reader');
    reader.socket.pause();
    const sender = await joinedClient(server.port, 'room', 'sender');
    // 512 KB: more than a paused reader's receive buffer, well under the send queue limit.
    await post(sender, 1, 128);
    const serverSide = (): ReturnType<typeof kernelSocket> => kernelSocket(server.port, reader.socket.localPort!);
    await kernelState(serverSide, (socket) => (socket?.sendQueue ?? 0) > 0, 'output queued in the kernel');
    // Every connection is closed (or cut) when stop() resolves.
    await server.stop();
    expect(serverSide()).toBeNull();
  });

  it('resets a socket whose end() is still shutting down (libuv refuses a reset then, and leaks the descriptor)', async () => {
    const listener = createServer({ allowHalfOpen: true });
    const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const client = await RawClient.connect((listener.address() as { port: number }).port);
    const socket = await accepted;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('the last line\n');
    socket.end();
    // Its write is done and its shutdown issued, not yet complete: the window this is about.
    expect([socket.writableEnded, socket.writableFinished, socket.writableLength]).toEqual([true, false, 0]);
    resetSocket(socket);
    await closed;
    listener.close();
    await client.closed;
  });

  it('closes a DISCONNECT gracefully: a reader that catches up gets its output, then the end of the stream', async () => {
    const server = await startServer({ shutdownFlushMs: 10_000 });
    const reader = await joinedClient(server.port, 'room', 'reader');
    const sender = await joinedClient(server.port, 'room', 'sender');
    await reader.read(wire.hasJoined(0, 'sender'));
    reader.socket.pause();
    const output = await post(sender, 1, 128);
    const serverSide = (): ReturnType<typeof kernelSocket> => kernelSocket(server.port, reader.socket.localPort!);
    await kernelState(serverSide, (socket) => (socket?.sendQueue ?? 0) > 0, 'output queued in the kernel');
    const seen: string[] = [];
    reader.socket.on('end', () => seen.push('end'));
    reader.socket.on('error', (error: NodeJS.ErrnoException) => seen.push(error.code ?? error.message));
    reader.send(wire.disconnect('reader'));
    // The server has closed its side (behind the queued output) before the reader reads on.
    await sender.read(wire.hasLeft(0, 'reader'));
    reader.socket.resume();
    expect(await reader.readToClose()).toBe(output + wire.hasLeft(0, 'reader'));
    expect(seen).toEqual(['end']);
  });
});
