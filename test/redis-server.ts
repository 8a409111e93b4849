import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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

export async function startRedis(): Promise<TestRedis> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, process: null, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'chat-redis-'));
  const socket = join(dir, 'redis.sock');
  const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir];
  const start = () => launch(args, 'redis-server', () => existsSync(socket));
  let child: ChildProcess = await start();
  return {
    url: `unix://${socket}`,
    process: {
      pause: () => child.kill('SIGSTOP'),
      resume: () => child.kill('SIGCONT'),
      kill: async () => {
        child.kill('SIGKILL');
        await exited(child);
      },
      restart: async () => {
        child = await start();
      },
    },
    stop: async () => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => (proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve())));
}

/** Starts `redis-server args` and resolves once it says it is ready to accept connections and `ready()` holds. */
async function launch(args: string[], what: string, ready: () => boolean = () => true): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start: ${out}`));
    }, 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/ready to accept connections/i.test(out) && ready()) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${out}`)));
  });
  child.stdout!.resume();
  return child;
}

/**
 * A private Redis Cluster of three masters on loopback (cluster nodes talk over TCP: a port and
 * that port + 10000 each), made with `redis-cli --cluster create`, for the sharded pub/sub tests.
 */
export async function startRedisCluster(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-redis-cluster-'));
  const ports = await freeClusterPorts(3);
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      children.push(await launch(['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--dir', dir], 'redis-server (cluster)'));
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (let attempt = 0; ; attempt++) {
      const states = ports.map((port) => spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout);
      if (states.every((state) => state.includes('cluster_state:ok'))) break;
      if (attempt > 200) throw new Error('the Redis Cluster did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { url: `redis://127.0.0.1:${ports[0]}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Ports p with p and p + 10000 (the cluster bus) both free on loopback. */
async function freeClusterPorts(count: number): Promise<number[]> {
  const { createServer } = await import('node:net');
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
  const ports: number[] = [];
  for (let port = 20_000 + ((process.pid * 7) % 20_000); ports.length < count; port++) {
    if (port > 55_000) port = 20_000;
    if ((await free(port)) && (await free(port + 10_000))) ports.push(port);
  }
  return ports;
}
