import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { launchRedis, processExited, startRedisCluster as startRedisClusterOf } from '../bench/redis-cluster.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private Redis for one test file: `redis-server` on a Unix socket in a temp directory, no TCP
 * port, no persistence. With REDIS_URL set, that Redis is used instead (and the tests that stop or
 * pause Redis are skipped). With neither, cluster tests are skipped with one loud line — except
 * under CI=true, where a missing Redis is a failure.
 */
export interface TestRedis {
  readonly url: string;
  /** Null when the Redis is not ours (REDIS_URL): it cannot be paused or killed. */
  readonly process: { pause(): void; resume(): void; kill(): Promise<void>; restart(): Promise<void> } | null;
  stop(): Promise<void>;
}

let prefixes = 0;
/** A fresh key prefix per test: tests sharing a Redis never see each other's rooms. */
export function testPrefix(): string {
  return `t${process.pid}-${++prefixes}:`;
}

export function redisAvailability(): 'url' | 'binary' | 'missing' {
  if (process.env.REDIS_URL) return 'url';
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (probe.status === 0) return 'binary';
  if (process.env.CI === 'true') throw new Error('cluster tests need redis-server (or REDIS_URL) under CI=true');
  console.warn('\n*** SKIPPING CLUSTER TESTS: no redis-server on PATH and no REDIS_URL set ***\n');
  return 'missing';
}

/**
 * A private Redis for the enclosing `describe`: started before its first test, stopped after its
 * last. The object stands for it inside tests (reading it earlier is an error).
 */
export function suiteRedis(): TestRedis {
  let started: TestRedis | null = null;
  beforeAll(async () => {
    started = await startRedis();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const current = (): TestRedis => {
    if (started === null) throw new Error('the suite\'s Redis is not started yet: use it inside a test or a later hook');
    return started;
  };
  return {
    get url() {
      return current().url;
    },
    get process() {
      return current().process;
    },
    stop: () => current().stop(),
  };
}

export async function startRedis(): Promise<TestRedis> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, process: null, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'chat-redis-'));
  const socket = join(dir, 'redis.sock');
  const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir];
  const start = () => launchRedis(args, 'redis-server', () => existsSync(socket));
  let child: ChildProcess = await start();
  return {
    url: `unix://${socket}`,
    process: {
      pause: () => child.kill('SIGSTOP'),
      resume: () => child.kill('SIGCONT'),
      kill: async () => {
        child.kill('SIGKILL');
        await processExited(child);
      },
      restart: async () => {
        child = await start();
      },
    },
    stop: async () => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await processExited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A private Redis Cluster of three masters on loopback, for the sharded pub/sub tests.
 */
export function startRedisCluster(): Promise<{ url: string; stop(): Promise<void> }> {
  return startRedisClusterOf(3);
}
