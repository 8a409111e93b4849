import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startServer, wire } from './helpers.js';
import { redisAvailability, startRedis, testPrefix, type TestRedis } from './redis-server.js';

const available = redisAvailability() !== 'missing';

describe.skipIf(!available)('cluster mode: two nodes on one Redis', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function nodes(count: number, options = {}) {
    const clusterPrefix = testPrefix();
    const servers = [];
    for (let i = 0; i < count; i++) servers.push(await startServer({ redis: redis.url, clusterPrefix, ...options }));
    return servers;
  }

  it('members on different nodes chat in one room', async () => {
    const [n1, n2] = await nodes(2);
    const a = await RawClient.connect(n1!.port);
    a.send(wire.join('room1', 'alice'));
    expect(await a.read(wire.joined('room1', n1!.port, 0, 0) + wire.hasJoined(0, 'alice'))).toBe(wire.joined('room1', n1!.port, 0, 0) + wire.hasJoined(0, 'alice'));
    const b = await RawClient.connect(n2!.port);
    b.send(wire.join('room1', 'bob'));
    expect(await b.read(wire.joined('room1', n2!.port, 0, 1) + wire.hasJoined(0, 'bob'))).toBe(wire.joined('room1', n2!.port, 0, 1) + wire.hasJoined(0, 'bob'));
    expect(await a.read(wire.hasJoined(0, 'bob'))).toBe(wire.hasJoined(0, 'bob'));
    b.send(wire.chat(0, 1, 'bob', 'hi alice'));
    expect(await a.read(wire.said(0, 'bob', 'hi alice'))).toBe(wire.said(0, 'bob', 'hi alice'));
    expect(await b.read(wire.said(0, 'bob', 'hi alice'))).toBe(wire.said(0, 'bob', 'hi alice'));
    b.send(wire.leave(0, 1, 'bob'));
    expect(await b.read(wire.left(0, 1) + wire.hasLeft(0, 'bob'))).toBe(wire.left(0, 1) + wire.hasLeft(0, 'bob'));
    expect(await a.read(wire.hasLeft(0, 'bob'))).toBe(wire.hasLeft(0, 'bob'));
  });
});
