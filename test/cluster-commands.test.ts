import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCommands, UnavailableError } from '../src/cluster/commands.js';
import { LeaseStatus } from '../src/cluster/lease-state.js';
import { openRedisPort, type RedisPort } from '../src/cluster/redis-port.js';
import { redisAvailability, startRedis, testPrefix, type TestRedis } from './redis-server.js';

// The Redis client keeps no timeout of its own (the node's wait bound answers for every command):
// what bounds the commands a stalled Redis leaves unanswered is the node's own cap.
describe.skipIf(redisAvailability() !== 'binary')('commands to a stalled Redis', () => {
  let redis: TestRedis;
  let port: RedisPort;
  beforeAll(async () => {
    redis = await startRedis();
    port = await openRedisPort(redis.url);
    await port.connect();
  });
  afterAll(async () => {
    port?.destroy();
    await redis?.stop();
  });

  it('writes at most 20,000 unanswered; the next waits within its bound, gets UNAVAILABLE, and is never carried out', async () => {
    const status = new LeaseStatus();
    status.apply('registered');
    const commands = new RedisCommands(port, status, 500, pino({ level: 'silent' }));
    const key = `${testPrefix()}count`;
    redis.process!.pause();
    const written = Array.from({ length: 20_000 }, () => commands.call<number>(['INCR', key], 'once'));
    const refused = commands.call<number>(['INCR', key], 'once');
    await expect(refused).rejects.toBeInstanceOf(UnavailableError);
    redis.process!.resume();
    // The ones written are answered once Redis runs again; the refused one was never sent.
    const counts = await Promise.all(written);
    expect(Math.max(...counts)).toBe(20_000);
    expect(await commands.call<string>(['GET', key], 'once')).toBe('20000');
  }, 30_000);
});
