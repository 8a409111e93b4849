import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCommands, UnavailableError } from '../src/cluster/commands.js';
import { LeaseStatus } from '../src/cluster/lease-state.js';
import { openRedisPort, type RedisPort } from '../src/cluster/redis-port.js';
import { redisAvailability, suiteRedis, testPrefix } from './redis-server.js';

// The Redis client keeps no timeout of its own (the node's wait bound answers for every command):
// what bounds the commands a stalled Redis leaves unanswered is the node's own cap.
describe.skipIf(redisAvailability() !== 'binary')('commands to a stalled Redis', () => {
  const redis = suiteRedis();
  let port: RedisPort;
  beforeAll(async () => {
    port = await openRedisPort(redis.url);
    await port.connect();
  });
  afterAll(() => port?.destroy());

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

  it('a command waiting for room keeps its place: one sent after it, once replies start coming, goes after it', async () => {
    const status = new LeaseStatus();
    status.apply('registered');
    const commands = new RedisCommands(port, status, 5_000, pino({ level: 'silent' }));
    const [count, list] = [`${testPrefix()}count`, `${testPrefix()}list`];
    redis.process!.pause();
    const written = Array.from({ length: 20_000 }, () => commands.call<number>(['INCR', count], 'once'));
    const first = commands.call(['RPUSH', list, 'first'], 'once');
    // Sent when the first reply is in: the count is under the cap again, but `first` still waits.
    const second = written[0]!.then(() => commands.call(['RPUSH', list, 'second'], 'once'));
    redis.process!.resume();
    await Promise.all([...written, first, second]);
    expect(await commands.call<string[]>(['LRANGE', list, '0', '-1'], 'once')).toEqual(['first', 'second']);
  }, 30_000);

  it('a command the client could not write before its deadline is dropped, not carried out when Redis comes back', async () => {
    const status = new LeaseStatus();
    status.apply('registered');
    const commands = new RedisCommands(port, status, 500, pino({ level: 'silent' }));
    // The link's sweep, as often as the link runs it.
    const sweep = setInterval(() => commands.failOverdue(), 50);
    const prefix = testPrefix();
    const big = 'x'.repeat(8 << 20);
    try {
      redis.process!.pause();
      // 96 MB: far more than the socket buffers take, so most wait unwritten in the client.
      const sets = Array.from({ length: 12 }, (_, i) => commands.call(['SET', `${prefix}${i}`, big], 'once'));
      for (const set of sets) await expect(set).rejects.toBeInstanceOf(UnavailableError);
      await new Promise((resolve) => setTimeout(resolve, 200));
      redis.process!.resume();
      // Whatever had been written runs now; the rest never.
      const written = await commands.call<string[]>(['KEYS', `${prefix}*`], 'once');
      expect(written.length).toBeLessThan(12);
    } finally {
      clearInterval(sweep);
    }
  }, 30_000);
});
