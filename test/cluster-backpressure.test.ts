import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ChatServerHandle, ClientDump } from '../src/index.js';
import { expectRead, RawClient, readErrorCode, startCluster, wire } from './helpers.js';
import { redisAvailability, suiteRedis } from './redis-server.js';
import { ERRORS } from '../src/protocol/errors.js';

const available = redisAvailability() !== 'missing';

/** `HELO 0` … `HELO n-1`, one line each: distinct, so their replies show their order. */
function helos(count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += `HELO ${i}\n`;
  return text;
}

function heloReplies(count: number, port: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += wire.helo(String(i), port);
  return text;
}

/**
 * Requests a paused connection may hold: the 64 past which it stops reading, and what one read
 * (64 KiB) holds of the shortest request here (`HELO 0\n`, 7 bytes).
 */
const HELD_AT_MOST = 64 + Math.ceil((64 * 1024) / 7);

/**
 * The dump's figures for the connection whose local end is `client`, taken at once: a whole dump
 * would wait for Redis (paused here) for its cluster section.
 */
function dumpOf(node: ChatServerHandle, client: RawClient): ClientDump {
  const found = node.inspect.clientByPeerPort(client.socket.localPort!);
  if (!found) throw new Error('no such connection');
  return found;
}

/** `count` turns of the event loop (the server runs in this process): the framer hands on 64 requests a turn. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Dumps the connection until what the server has read of it stays the same over 200 turns of the
 * event loop, in which it could work through 12,800 requests (more than one read holds) and read
 * again: it has taken in all it will while the request waits. Returns the most requests seen held.
 */
async function readWhileWaiting(node: ChatServerHandle, client: RawClient): Promise<{ held: number; bytesIn: number }> {
  let held = 0;
  let last = -1;
  for (let unchanged = 0; unchanged < 3;) {
    const entry = dumpOf(node, client);
    held = Math.max(held, entry.deferredRequests);
    unchanged = entry.bytesIn === last && entry.state === 'waiting' ? unchanged + 1 : 0;
    last = entry.bytesIn;
    await turns(200);
  }
  return { held, bytesIn: last };
}

describe.skipIf(!available)('cluster mode: a burst behind a request that waits for Redis', () => {
  const redis = suiteRedis();

  /**
   * Redis paused; one write of a CHAT to an unknown ref (its lookup waits for Redis) and `count`
   * HELOs. Returns once the server has read what it will of them, and the most it held.
   */
  async function burstBehindPausedRedis(node: ChatServerHandle, burst: RawClient, count: number): Promise<{ held: number; bytesIn: number; written: number }> {
    const payload = wire.chat(7, 0, 'x', 'hi') + helos(count);
    redis.process!.pause();
    try {
      burst.send(payload);
      return { ...(await readWhileWaiting(node, burst)), written: Buffer.byteLength(payload) };
    } finally {
      redis.process!.resume();
    }
  }

  it('is held in the connection, bounded, then answered in order a turn at a time while others are answered too', async (context) => {
    if (!redis.process) context.skip();
    // A wait bound well past the test: the lookup is answered once Redis is back, not timed out.
    const [node] = await startCluster(redis.url, 1, { redisWaitMs: 8_000 });
    const { port } = node!;
    const burst = await RawClient.connect(port);
    const other = await RawClient.connect(port);
    const count = 30_000;
    const { held, bytesIn, written } = await burstBehindPausedRedis(node!, burst, count);
    // The server stopped reading: the rest waits in TCP, not in the server's memory.
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(HELD_AT_MOST);
    expect(bytesIn).toBeLessThan(written);
    // The lookup is answered (once Redis is back), then the replay starts.
    expect(await readErrorCode(burst)).toBe(ERRORS.UNKNOWN_ROOM.code);
    other.send('HELO meanwhile\n');
    await expectRead(other, wire.helo('meanwhile', port));
    // Answered while the burst is still being worked through, not after it.
    const during = dumpOf(node!, burst);
    expect(during.requests).toBeLessThan(count);
    expect(during.deferredRequests).toBeLessThanOrEqual(HELD_AT_MOST);
    await expectRead(burst, heloReplies(count, port));
    expect((dumpOf(node!, burst)).deferredRequests).toBe(0);
    expect(burst.pending()).toBe('');
  });

  it('stop() during the replay does not wait for it', async (context) => {
    if (!redis.process) context.skip();
    // A wait bound well past the test: the lookup is answered once Redis is back, not timed out.
    const [node] = await startCluster(redis.url, 1, { redisWaitMs: 8_000 });
    const burst = await RawClient.connect(node!.port);
    const count = 20_000;
    await burstBehindPausedRedis(node!, burst, count);
    expect(await readErrorCode(burst)).toBe(ERRORS.UNKNOWN_ROOM.code);
    await node!.stop();
    const rest = await burst.readToClose();
    // Replies stop where the shutdown came: the rest of the burst was never worked through.
    expect(rest.split('StudentID:').length - 1).toBeLessThan(count);
  });

  it('logs one warn line when requests start timing out and one when Redis answers again', async (context) => {
    if (!redis.process) context.skip();
    const lines: { level: number; msg: string; timedOut?: number }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const [node] = await startCluster(redis.url, 1, { logger, redisWaitMs: 300, leaseMs: 5_000 });
    const client = await RawClient.connect(node!.port);
    redis.process!.pause();
    try {
      for (const room of ['a', 'b', 'c']) {
        client.send(wire.join(room, 'carol'));
        expect(await readErrorCode(client)).toBe(ERRORS.UNAVAILABLE.code);
      }
    } finally {
      redis.process!.resume();
    }
    client.send(wire.join('d', 'carol'));
    await client.readUntil('MESSAGE: carol has joined this chatroom.\n\n');
    expect(lines.map((line) => line.msg)).toEqual(['cluster: Redis not answering in time; requests get UNAVAILABLE', 'cluster: Redis answering again']);
    expect(lines.every((line) => line.level === 40)).toBe(true);
    expect(lines[1]!.timedOut).toBeGreaterThanOrEqual(3);
  });

  it('logs no "not answering" line while the connection to Redis is down: the lost and back lines say it', async (context) => {
    if (!redis.process) context.skip();
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const [node] = await startCluster(redis.url, 1, { logger, redisWaitMs: 300, leaseMs: 5_000 });
    const client = await RawClient.connect(node!.port);
    await redis.process!.kill();
    try {
      for (const room of ['a', 'b']) {
        client.send(wire.join(room, 'carol'));
        expect(await readErrorCode(client)).toBe(ERRORS.UNAVAILABLE.code);
      }
    } finally {
      await redis.process!.restart();
    }
    const messages = lines.map((line) => line.msg);
    expect(messages).toContain('cluster: Redis connection lost; reconnecting');
    expect(messages).not.toContain('cluster: Redis not answering in time; requests get UNAVAILABLE');
    await node!.stop();
  });
});
