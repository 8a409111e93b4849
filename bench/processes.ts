/**
 * The processes a benchmark run starts: the chat server (the project, another checkout's build,
 * the plain-Node baseline, or a cluster's nodes with a private Redis) and the load driver.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedisClient } from '../src/cluster/redis-client.js';
import type { Door, ServerKind } from './workloads.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = resolve(ROOT, '../shared/bench');
export const CHATLOAD_SOURCE = join(SHARED, 'chatload.c');
export const BASELINE = join(SHARED, 'baseline-node.mjs');
export const INSPIRCD_CONF = join(SHARED, 'anchors/inspircd.conf');
export const SERVER_MAIN = join(ROOT, 'dist/src/cli/main.js');
/**
 * The Node flags the daemon runs with: `start.sh`'s `default_flags` (why each, see there), read
 * from it so they are written once, and like there replaced by `CHAT_NODE_FLAGS`. The bench
 * measures the daemon as users run it.
 */
export function serverNodeFlags(): string[] {
  const words = (text: string): string[] => text.split(/\s+/).filter((flag) => flag !== '');
  if (process.env.CHAT_NODE_FLAGS !== undefined) return words(process.env.CHAT_NODE_FLAGS);
  const line = /^default_flags="([^"]*)"$/m.exec(readFileSync(join(ROOT, 'start.sh'), 'utf8'));
  if (!line) fail('start.sh has no default_flags="…" line to take the Node flags from');
  return words(line[1]!);
}
export const SERVER_NODE_FLAGS = serverNodeFlags();
export const NODE_DRIVER = join(ROOT, 'dist/bench/driver.js');

export function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

export function chatloadAvailable(): boolean {
  return existsSync(CHATLOAD_SOURCE) && onPath('cc');
}

/** Compiles chatload once per version of its source. */
export function buildChatload(): string {
  const out = join(tmpdir(), `chatload-${Math.floor(statSync(CHATLOAD_SOURCE).mtimeMs)}`);
  if (existsSync(out)) return out;
  const partial = `${out}.${process.pid}`;
  const cc = spawnSync('cc', ['-O2', '-o', partial, CHATLOAD_SOURCE, '-lm'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (cc.status !== 0) fail(`could not compile ${CHATLOAD_SOURCE}`);
  renameSync(partial, out);
  return out;
}

/** Runs a command with the descriptor limit raised to the hard limit, as start.sh does. */
export function spawnUnlimited(command: string, args: string[], stdout: 'ignore' | 'pipe'): ChildProcess {
  return spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', command, ...args], {
    stdio: ['ignore', stdout, stdout],
  });
}

/** Every child still running, killed if the bench is interrupted. */
export const children = new Set<ChildProcess>();

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      answer(true);
    });
    socket.once('error', () => answer(false));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
  });
}

export interface Server {
  /** The chat server processes (one, or a cluster's nodes). */
  children: ChildProcess[];
  ports: number[];
  /** A private Redis for a cluster run, with its Unix socket. */
  redis: { child: ChildProcess | null; url: string; dir: string | null } | null;
  /** A directory of the run's own (InspIRCd's config and logs), removed when it stops. */
  tempDir?: string;
}

export async function startProcess(args: string[], port: number, what: string): Promise<ChildProcess> {
  // stdout ignored, never an unread pipe: pino writes synchronously and would block.
  const child = spawnUnlimited(process.execPath, args, 'ignore');
  children.add(child);
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the ${what} did not start on port ${port}`);
    }
    await sleep(50);
  }
  return child;
}

export async function startRedisServer(): Promise<{ child: ChildProcess; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-redis-'));
  const socket = join(dir, 'redis.sock');
  // Redis' defaults otherwise, the pub/sub output-buffer limit (32mb 8mb 60) included: the figures in docs/cluster.md assume them.
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  children.add(child);
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('redis-server did not start');
    await sleep(20);
  }
  return { child, url: `unix://${socket}`, dir };
}

/** `prefix`: the cluster's Redis key prefix, one per run so runs never share state. */
export async function startServer(kind: ServerKind, nodes: number, redisUrl: string | undefined, reference: string | undefined, prefix: string, door: Door = 'lab'): Promise<Server> {
  const serveArgs = (port: number, main = SERVER_MAIN): string[] => [...SERVER_NODE_FLAGS, main, 'serve', '--port', String(port), '--host', '127.0.0.1', '--admin', 'off'];
  if (kind === 'inspircd') return startInspircd();
  if (door === 'irc' && kind !== 'cluster') {
    // The load goes to the IRC port; the lab port listens too, as it does for users.
    const [port, ircPort] = [await freePort(), await freePort()];
    const main = kind === 'reference' ? reference : SERVER_MAIN;
    const child = await startProcess([...serveArgs(port, main), '--irc-port', String(ircPort), '--server-name', 'irc.bench'], ircPort, `${kind} server's IRC door`);
    return { children: [child], ports: [ircPort], redis: null };
  }
  if (kind !== 'cluster') {
    const port = await freePort();
    const args = kind === 'project' ? serveArgs(port) : kind === 'reference' ? serveArgs(port, reference) : [BASELINE, String(port)];
    return { children: [await startProcess(args, port, `${kind} server`)], ports: [port], redis: null };
  }
  const redis = redisUrl === undefined ? await startRedisServer() : { child: null, url: redisUrl, dir: null };
  const server: Server = { children: [], ports: [], redis };
  for (let i = 0; i < nodes; i++) {
    const port = await freePort();
    const ircPort = door === 'irc' ? await freePort() : null;
    const args = [...serveArgs(port), '--redis', redis.url, '--cluster-prefix', prefix, ...(ircPort === null ? [] : ['--irc-port', String(ircPort), '--server-name', 'irc.bench'])];
    server.children.push(await startProcess(args, ircPort ?? port, `cluster node ${i + 1}`));
    server.ports.push(ircPort ?? port);
  }
  return server;
}

/** InspIRCd 3.15 (Debian's `inspircd`) with the anchor config, its port and paths its own. */
async function startInspircd(): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-inspircd-'));
  const config = readFileSync(INSPIRCD_CONF, 'utf8').replace('port="6667"', `port="${port}"`).replaceAll('/tmp/inspircd-bench', join(dir, 'inspircd'));
  writeFileSync(join(dir, 'inspircd.conf'), config);
  const child = spawnUnlimited('inspircd', ['--runasroot', '--nofork', '--config', join(dir, 'inspircd.conf')], 'ignore');
  children.add(child);
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`InspIRCd did not start on port ${port}`);
    }
    await sleep(50);
  }
  return { children: [child], ports: [port], redis: null, tempDir: dir };
}

export async function stopServer(server: Server, kind: ServerKind): Promise<void> {
  for (const child of server.children) {
    child.kill(kind === 'baseline' ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited(child);
    clearTimeout(timer);
    children.delete(child);
  }
  if (server.redis?.child) {
    server.redis.child.kill('SIGKILL');
    await exited(server.redis.child);
    children.delete(server.redis.child);
  }
  if (server.redis?.dir) rmSync(server.redis.dir, { recursive: true, force: true });
  if (server.tempDir) rmSync(server.tempDir, { recursive: true, force: true });
}

/** User plus system CPU seconds of a process so far, or null where there is no /proc. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** VmRSS of a process in KiB, or null where there is no /proc. */
export function rssKb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The ids of the nodes' subscriber connections (CLIENT LIST TYPE pubsub), or null. */
export async function subscriberIds(url: string): Promise<Set<string> | null> {
  const client = createRedisClient(url, 'chat-bench');
  try {
    await client.connect();
    const list = await client.sendCommand<string>(['CLIENT', 'LIST', 'TYPE', 'pubsub']);
    return new Set([...list.matchAll(/^id=(\d+) /gm)].map((match) => match[1]!));
  } catch {
    return null;
  } finally {
    client.destroy();
  }
}
