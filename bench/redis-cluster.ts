/**
 * Private Redis processes for the bench and the tests: `redis-server` started and awaited until
 * ready, and a Redis Cluster of N masters on loopback made with `redis-cli --cluster create`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function processExited(proc: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => (proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve())));
}

/** Starts `redis-server args` and resolves once it says it is ready to accept connections and `ready()` holds. */
export async function launchRedis(args: string[], what: string, ready: () => boolean = () => true): Promise<ChildProcess> {
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

export interface RedisCluster {
  /** A seed node's URL: the client discovers the rest. */
  readonly url: string;
  /** The masters' processes (for their CPU time). */
  readonly children: readonly ChildProcess[];
  stop(): Promise<void>;
}

/**
 * A private Redis Cluster of `masters` masters on loopback (cluster nodes talk over TCP: a port and
 * that port + 10000 each), no replicas, no persistence. `started` hears of each master as it starts
 * (so an interrupted bench can kill the ones already running).
 */
export async function startRedisCluster(masters = 3, started: (child: ChildProcess) => void = () => {}): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-redis-cluster-'));
  const ports = await freeClusterPorts(masters);
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(processExited));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const child = await launchRedis(['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--save', '', '--appendonly', 'no', '--dir', dir], 'redis-server (cluster)');
      children.push(child);
      started(child);
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (let attempt = 0; ; attempt++) {
      const states = ports.map((port) => spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout);
      if (states.every((state) => state.includes('cluster_state:ok'))) break;
      if (attempt > 200) throw new Error('the Redis Cluster did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { url: `redis://127.0.0.1:${ports[0]}`, children, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Ports p with p and p + 10000 (the cluster bus) both free on loopback. */
async function freeClusterPorts(count: number): Promise<number[]> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
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
