import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatServerHandle } from '../src/index.js';
import { ClusterKeys } from '../src/cluster/keys.js';
import { createRedisClient } from '../src/cluster/redis-client.js';
import { RawClient, startCluster, wire } from './helpers.js';
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
    const members: RawClient[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await RawClient.connect(cluster[i % 2]!.port);
      client.send(wire.join('busy', `m${i}`));
      await client.readUntil(wire.hasJoined(0, `m${i}`));
      members.push(client);
    }
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) await members[i]!.read(wire.hasJoined(0, `m${j}`));
    for (let n = 0; n < 30; n++) for (const s of [0, 1]) members[s]!.send(wire.chat(0, s, `m${s}`, `${s}:${n}`));
    const sequences = await Promise.all(members.map(async (member) => {
      const seen: string[] = [];
      for (let k = 0; k < 60; k++) seen.push(/MESSAGE: (.*)\n\n$/.exec(await member.readUntil('\n\n'))![1]!);
      return seen;
    }));
    for (const sequence of sequences) expect(sequence).toEqual(sequences[0]);
  });
});
