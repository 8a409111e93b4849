/**
 * The processes a benchmark run starts: the chat server (the project, another checkout's build,
 * the plain-Node baseline, InspIRCd, or a cluster's nodes with a private Redis) and the load driver.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedisClient } from '../src/cluster/redis-client.js';
import { startRedisCluster } from './redis-cluster.js';
import type { Door, ServerKind } from './workloads.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The shared bench tools (chatload, the baseline, InspIRCd's configuration): `CHAT_BENCH_SHARED`,
 * else ../shared/bench beside the checkout, else beside the main checkout of a git worktree.
 */
function sharedBench(): string {
  if (process.env.CHAT_BENCH_SHARED) return resolve(process.env.CHAT_BENCH_SHARED);
  const beside = resolve(ROOT, '../shared/bench');
  if (existsSync(beside)) return beside;
  const git = spawnSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: ROOT, encoding: 'utf8' });
  const main = git.status === 0 ? resolve(git.stdout.trim(), '../../shared/bench') : null;
  return main !== null && existsSync(main) ? main : beside;
}
export const SHARED = sharedBench();
export const CHATLOAD_SOURCE = join(SHARED, 'chatload.c');
export const BASELINE = join(SHARED, 'baseline-node.mjs');
/** InspIRCd's benchmark configuration: fakelag off, limits raised, loopback only. */
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

/** Why InspIRCd cannot be the IRC workloads' A/B anchor here, or null if it can. */
export function inspircdMissing(): string | null {
  if (!onPath('inspircd')) return 'InspIRCd is not installed (Debian: apt-get install -y inspircd)';
  if (!existsSync(INSPIRCD_CONF)) return `its configuration, ${INSPIRCD_CONF}, is not there`;
  return null;
}

/** The connects chatload keeps in flight while it sets up. */
export const CHATLOAD_HANDSHAKES = 256;

/** Compiles chatload once per source version (and handshake limit) into the temp directory. */
export function buildChatload(handshakes = CHATLOAD_HANDSHAKES): string {
  const stamp = Math.floor(statSync(CHATLOAD_SOURCE).mtimeMs);
  const out = join(tmpdir(), handshakes === CHATLOAD_HANDSHAKES ? `chatload-${stamp}` : `chatload-${stamp}-h${handshakes}`);
  if (existsSync(out)) return out;
  const partial = `${out}.${process.pid}`;
  let source = CHATLOAD_SOURCE;
  if (handshakes !== CHATLOAD_HANDSHAKES) {
    // chatload fixes its connects in flight at 256; a reconnect storm has thousands outstanding.
    const text = readFileSync(CHATLOAD_SOURCE, 'utf8');
    const limit = `next - joined_count < ${CHATLOAD_HANDSHAKES}`;
    if (!text.includes(limit)) fail(`${CHATLOAD_SOURCE} no longer has "${limit}": cannot build it with ${handshakes} handshakes outstanding`);
    source = `${partial}.c`;
    writeFileSync(source, text.replace(limit, `next - joined_count < ${handshakes}`));
  }
  const cc = spawnSync('cc', ['-O2', '-o', partial, source, '-lm'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (source !== CHATLOAD_SOURCE) rmSync(source, { force: true });
  if (cc.status !== 0) fail(`could not compile ${CHATLOAD_SOURCE}`);
  renameSync(partial, out);
  return out;
}

/**
 * Runs a command with the descriptor limit raised to the hard limit, as start.sh does. `output`: a
 * file descriptor takes stdout and stderr both.
 */
export function spawnUnlimited(command: string, args: string[], stdout: 'ignore' | 'pipe' | number): ChildProcess {
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
  /** The ports the driver connects to: the IRC door's for an IRC workload. */
  ports: number[];
  /** A cluster run's Redis: a private one (its processes, for their CPU), or the one given (none). */
  redis: { children: readonly ChildProcess[]; url: string; stop(): Promise<void> } | null;
  /** InspIRCd's configuration, pid file and log, removed when it stops. */
  scratch: string | null;
}

/**
 * Where a server's stdout and stderr go: `log` names a file (`--logs`), else nowhere; never an
 * unread pipe, since pino writes synchronously and would block.
 */
function outputTo(log: string | undefined): 'ignore' | number {
  return log === undefined ? 'ignore' : openSync(log, 'a');
}

export async function startProcess(args: string[], port: number, what: string, log: string | undefined, command = process.execPath): Promise<ChildProcess> {
  const output = outputTo(log);
  const child = spawnUnlimited(command, args, output);
  if (typeof output === 'number') closeSync(output);
  children.add(child);
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the ${what} did not start on port ${port}${log === undefined ? '' : ` (see ${log})`}`);
    }
    await sleep(50);
  }
  return child;
}

export async function startRedisServer(): Promise<NonNullable<Server['redis']>> {
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
  const stop = async (): Promise<void> => {
    child.kill('SIGKILL');
    await exited(child);
    children.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  return { children: [child], url: `unix://${socket}`, stop };
}

/** A private Redis Cluster of `masters` masters (`--redis-shards`): rooms spread over its shards. */
async function startShardedRedis(masters: number): Promise<NonNullable<Server['redis']>> {
  const cluster = await startRedisCluster(masters, (child) => children.add(child));
  return {
    children: cluster.children,
    url: cluster.url,
    stop: async () => {
      for (const child of cluster.children) children.delete(child);
      await cluster.stop();
    },
  };
}

/**
 * InspIRCd with the anchor's configuration, its port and /tmp paths changed to this run's, in a
 * scratch directory (kept, and named in the error, if it does not start). Its own log (connections,
 * not traffic) goes beside `log` when that is given.
 */
async function startInspircd(log: string | undefined): Promise<Server> {
  const scratch = mkdtempSync(join(tmpdir(), 'chat-bench-inspircd-'));
  const port = await freePort();
  const conf = readFileSync(INSPIRCD_CONF, 'utf8')
    .replace(/(<bind [^>]*port=")\d+(")/, `$1${port}$2`)
    .replaceAll('/tmp/inspircd-bench.pid', join(scratch, 'inspircd.pid'))
    .replaceAll('/tmp/inspircd-bench.log', log === undefined ? join(scratch, 'inspircd.log') : log.replace(/(\.log)?$/, '-own.log'));
  writeFileSync(join(scratch, 'inspircd.conf'), conf);
  const args = ['--runasroot', '--nofork', '--config', join(scratch, 'inspircd.conf')];
  try {
    const child = await startProcess(args, port, 'InspIRCd', log ?? join(scratch, 'stdout.log'), 'inspircd');
    return { children: [child], ports: [port], redis: null, scratch };
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; its files are in ${scratch}`);
  }
}

/** What startServer needs besides the server's kind. */
export interface ServerOptions {
  door: Door;
  /** Cluster runs: the nodes, and the Redis (a private one when undefined). */
  nodes: number;
  redisUrl: string | undefined;
  /** A private Redis Cluster of this many masters instead of one redis-server (0: one). */
  redisShards: number;
  /** `--against`: the other checkout's server entry point. */
  reference: string | undefined;
  /** The cluster's Redis key prefix, one per run so runs never share state. */
  prefix: string;
  /** `--logs`: the file the server's output goes to (a cluster's nodes: one file each, numbered). */
  log: string | undefined;
}

export async function startServer(kind: ServerKind, options: ServerOptions): Promise<Server> {
  const { door, nodes, redisUrl, redisShards, reference, prefix, log } = options;
  if (kind === 'inspircd') return startInspircd(log);
  /** The server on `port` (the lab door's), with the IRC door on `ircPort` for an IRC workload; the port to drive. */
  const serve = async (main: string, extra: string[], what: string, nodeLog: string | undefined): Promise<[ChildProcess, number]> => {
    const port = await freePort();
    const ircPort = door === 'irc' ? await freePort() : null;
    const args = [...SERVER_NODE_FLAGS, main, 'serve', '--port', String(port), '--host', '127.0.0.1', '--admin', 'off', ...(ircPort === null ? [] : ['--irc-port', String(ircPort)]), ...extra];
    const child = await startProcess(args, ircPort ?? port, what, nodeLog);
    return [child, ircPort ?? port];
  };
  if (kind === 'baseline') {
    const port = await freePort();
    return { children: [await startProcess([BASELINE, String(port)], port, 'baseline server', log)], ports: [port], redis: null, scratch: null };
  }
  if (kind !== 'cluster') {
    const [child, port] = await serve(kind === 'reference' ? reference! : SERVER_MAIN, [], `${kind} server${door === 'irc' ? "'s IRC door" : ''}`, log);
    return { children: [child], ports: [port], redis: null, scratch: null };
  }
  const redis = redisUrl !== undefined ? { children: [], url: redisUrl, stop: async () => {} } : redisShards > 0 ? await startShardedRedis(redisShards) : await startRedisServer();
  const server: Server = { children: [], ports: [], redis, scratch: null };
  for (let i = 0; i < nodes; i++) {
    const [child, port] = await serve(SERVER_MAIN, ['--redis', redis.url, '--cluster-prefix', prefix], `cluster node ${i + 1}`, log?.replace(/(\.log)?$/, `-node${i + 1}$1`));
    server.children.push(child);
    server.ports.push(port);
  }
  return server;
}

export async function stopServer(server: Server, kind: ServerKind): Promise<void> {
  for (const child of server.children) {
    child.kill(kind === 'baseline' ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited(child);
    clearTimeout(timer);
    children.delete(child);
  }
  await server.redis?.stop();
  if (server.scratch) rmSync(server.scratch, { recursive: true, force: true });
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

/**
 * CPU seconds the hypervisor has taken from this machine so far (steal, all cores; /proc/stat), or
 * null. On a shared VM a run can lose half its CPU to a neighbour: server and driver slow down together.
 */
export function stealSeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    return fields.length > 8 ? Number(fields[8]) / 100 : null;
  } catch {
    return null;
  }
}

/** Write system calls a process has made so far (/proc/PID/io syscw), or null. */
export function writeCalls(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match ? Number(match[1]) : null;
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

/** The kernel's count of connections dropped because a listen queue was full (TcpExt ListenOverflows), or null. */
export function listenOverflows(): number | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const at = names.indexOf('ListenOverflows');
    return at < 0 ? null : Number(values[at]);
  } catch {
    return null;
  }
}
