/**
 * `npm run bench:order`: how many room events per second one Redis (one shard of a Redis Cluster)
 * orders with the cluster's chat script (ORDER_CHATS), and what each costs it: the figure the scale
 * model in docs/scale.md starts from. A private redis-server; rooms of 10 members whose channels
 * two subscriber connections hear (two nodes); chats sent in batches of 1, 8 and 32 per script call
 * (what a busy room gathers in one event-loop turn), many calls in flight, for a few seconds each.
 * Prints events/s, Redis CPU while it ran, and events per second per Redis core.
 */
import { createRedisClient } from '../src/cluster/redis-client.js';
import { ClusterKeys } from '../src/cluster/keys.js';
import { ORDER_CHATS } from '../src/cluster/scripts.js';
import { cpuSeconds, fail, onPath, startRedisServer } from './processes.js';
import { table } from './report.js';

const ROOMS = 200;
const MEMBERS = 10;
const IN_FLIGHT = 64;
const SECONDS = Number(process.env.ORDER_SECONDS ?? 4);
const BATCHES = [1, 8, 32];
const TEXT = 'x'.repeat(64);

async function main(): Promise<void> {
  if (!onPath('redis-server')) fail('bench:order needs redis-server on PATH');
  const redis = await startRedisServer();
  const pid = redis.children[0]!.pid;
  const keys = new ClusterKeys('order-bench:');
  const client = createRedisClient(redis.url, 'order-bench');
  const subscribers = [createRedisClient(redis.url, 'order-bench-sub-1'), createRedisClient(redis.url, 'order-bench-sub-2')];
  const rows: string[][] = [];
  try {
    await client.connect();
    let heard = 0;
    for (const subscriber of subscribers) {
      await subscriber.connect();
      for (let ref = 0; ref < ROOMS; ref++) await subscriber.subscribe(keys.roomChannel(ref), () => heard++);
    }
    for (let ref = 0; ref < ROOMS; ref++) {
      for (let member = 0; member < MEMBERS; member++) await client.hSet(keys.roomMembers(ref), String(ref * MEMBERS + member), `1 1 member${member}`);
    }
    await client.sendCommand(['SCRIPT', 'LOAD', ORDER_CHATS.source]);
    for (const batch of BATCHES) {
      let events = 0;
      let next = 0;
      const args = (ref: number): string[] => {
        const list = ['10000', keys.roomChannel(ref), 'PUBLISH', '0'];
        for (let i = 0; i < batch; i++) list.push('c', String(ref * MEMBERS + (i % MEMBERS)), TEXT, '');
        return list;
      };
      const end = performance.now() + SECONDS * 1000;
      const cpuBefore = cpuSeconds(pid) ?? 0;
      const started = performance.now();
      const lane = async (): Promise<void> => {
        while (performance.now() < end) {
          const ref = next++ % ROOMS;
          await client.sendCommand(['EVALSHA', ORDER_CHATS.sha, '3', ...keys.roomKeys(ref), ...args(ref)]);
          events += batch;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      const seconds = (performance.now() - started) / 1000;
      const cpu = ((cpuSeconds(pid) ?? 0) - cpuBefore) / seconds;
      rows.push([String(batch), (events / seconds).toFixed(0), `${(cpu * 100).toFixed(0)} %`, (events / seconds / cpu).toFixed(0), ((cpu * 1e6) / (events / seconds)).toFixed(2)]);
      process.stderr.write(`bench:order: batch ${batch}: ${(events / seconds).toFixed(0)} events/s\n`);
    }
    if (heard === 0) throw new Error('the subscribers heard nothing: the script did not publish');
    console.log(table(['chats per call', 'events/s', 'Redis CPU', 'events/s per Redis core', 'Redis CPU µs/event'], rows));
    console.log(`\n${ROOMS} rooms of ${MEMBERS}, two subscriber connections (two nodes) on every room's channel, ${IN_FLIGHT} calls in flight, ${SECONDS} s per batch size, 64-byte messages, room log capped at 10,000`);
  } finally {
    client.destroy();
    for (const subscriber of subscribers) subscriber.destroy();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:order: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
