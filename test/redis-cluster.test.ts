import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatServerHandle } from '../src/index.js';
import { ClusterKeys } from '../src/cluster/keys.js';
import { createRedisClient } from '../src/cluster/redis-client.js';
import { concurrentSenders, startCluster } from './helpers.js';
import { redisAvailability, startRedisCluster } from './redis-server.js';
import { heloJoinChatLeaveDisconnect, labTesterSequence, spread } from './transcript-scenarios.js';

// Guarantee 7: against a real Redis Cluster of three masters (decisions.md), not only one Redis.
describe.skipIf(redisAvailability() !== 'binary')('cluster mode on a Redis Cluster (3 masters, sharded pub/sub)', () => {
  let redis: { url: string; stop(): Promise<void> };
  beforeAll(async () => {
    redis = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
  });

  const nodes = (count: number): Promise<ChatServerHandle[]> => startCluster(redis.url, count);

  it('runs the transcripts with clients spread over nodes, on sharded pub/sub', async () => {
    const cluster = await nodes(2);
    for (const node of cluster) expect(node.cluster!.sharded).toBe(true);
    await heloJoinChatLeaveDisconnect(spread(cluster), 'actor-chat-server');
  });

  it("runs the lab's tester sequence over three nodes; rooms live on different shards", async () => {
    const cluster = await nodes(3);
    await labTesterSequence(spread(cluster));
    // Each room's keys and channel share one slot; different rooms land on different slots.
    const admin = createRedisClient(redis.url, 'test-admin');
    await admin.connect();
    try {
      const keys = new ClusterKeys(cluster[0]!.options.clusterPrefix);
      const slot = (key: string) => admin.sendCommand<number>(['CLUSTER', 'KEYSLOT', key]);
      for (const ref of [0, 1]) {
        const slots = await Promise.all([...keys.roomKeys(ref), keys.roomChannel(ref)].map(slot));
        expect(new Set(slots).size).toBe(1);
      }
      expect(await slot(keys.roomSeq(0))).not.toBe(await slot(keys.roomSeq(1)));
    } finally {
      admin.destroy();
    }
  });

  it('concurrent senders on different nodes see one order', async () => {
    const cluster = await nodes(2);
    const { sequences } = await concurrentSenders(cluster.map((node) => node.port), 4, [0, 1], 30);
    for (const sequence of sequences) expect(sequence).toEqual(sequences[0]);
  });
});
