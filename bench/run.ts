/**
 * `npm run bench [-- options]`: starts the server, drives the benchmark workloads against it and
 * prints a table (throughput, latency, joins/s, memory per connection). With `--ab`, runs the
 * project and the plain-Node baseline (../shared/bench/baseline-node.mjs) A B A B … and prints
 * the ratio of their medians per workload, and each pair's ratio for the figure each target
 * judges. Uses chatload (../shared/bench/chatload.c) when it is there and `cc` is on PATH, else
 * the project's own driver (bench/driver.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DriverResult } from './driver.js';
import { createRedisClient } from '../src/cluster/redis-client.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED = resolve(ROOT, '../shared/bench');
const CHATLOAD_SOURCE = join(SHARED, 'chatload.c');
const BASELINE = join(SHARED, 'baseline-node.mjs');
const SERVER_MAIN = join(ROOT, 'dist/src/cli/main.js');
/**
 * The Node flags the daemon runs with: `start.sh`'s `default_flags` (why each, see there), read
 * from it so they are written once, and like there replaced by `CHAT_NODE_FLAGS`. The bench
 * measures the daemon as users run it.
 */
function serverNodeFlags(): string[] {
  const words = (text: string): string[] => text.split(/\s+/).filter((flag) => flag !== '');
  if (process.env.CHAT_NODE_FLAGS !== undefined) return words(process.env.CHAT_NODE_FLAGS);
  const line = /^default_flags="([^"]*)"$/m.exec(readFileSync(join(ROOT, 'start.sh'), 'utf8'));
  if (!line) fail('start.sh has no default_flags="…" line to take the Node flags from');
  return words(line[1]!);
}
const SERVER_NODE_FLAGS = serverNodeFlags();
const NODE_DRIVER = join(ROOT, 'dist/bench/driver.js');

interface Workload {
  name: string;
  label: string;
  args: string[];
}

const WORKLOADS: readonly Workload[] = [
  { name: 'fanout-a', label: 'fan-out A', args: ['--rooms', '1', '--members', '100', '--senders', '4', '--window', '16'] },
  { name: 'fanout-b', label: 'fan-out B', args: ['--rooms', '10', '--members', '50', '--senders', '2', '--window', '16'] },
  { name: 'latency', label: 'latency', args: ['--rooms', '1', '--members', '100', '--senders', '10', '--rate', '100'] },
  { name: 'scale', label: 'scale 10k', args: ['--rooms', '1000', '--members', '10', '--senders', '1', '--rate', '1'] },
];
/** The join storm is the setup of the scale run: its joins/s. */
const JOIN_STORM = { name: 'join-storm', label: 'join storm', from: 'scale' };

/** `cluster`: the project's nodes (--cluster N) sharing rooms through one Redis. */
/** `reference`: another checkout's build (`--against DIR`), for a before/after A/B of a change. */
type ServerKind = 'project' | 'baseline' | 'cluster' | 'reference';

interface Run {
  workload: string;
  server: ServerKind;
  /** Which A/B pair (0-based); 0 outside A/B runs. */
  pair: number;
  result: DriverResult | null;
  /** Server RSS growth during the run per connection, KiB (all nodes together in a cluster). */
  kbPerConn: number | null;
  /** Cluster runs: CPU seconds the nodes (together) and Redis used during the run. */
  cpu: { nodes: number; redis: number } | null;
  /** Cluster runs: node subscriber connections that Redis cut during the run (a slow subscriber passing its output-buffer limit). */
  outputBufferCuts: number | null;
  failure: string | null;
}

// ---------------------------------------------------------------- options

const USAGE = `Usage: npm run bench -- [options]

  --only NAME[,NAME]   workloads: ${[...WORKLOADS.map((w) => w.name), JOIN_STORM.name].join(', ')} (default all)
  --duration S         measured seconds per run (default 5)
  --warmup S           seconds of load before measuring starts (default 1): the JIT's warm-up
  --driver D           chatload|node (default chatload when ../shared/bench/chatload.c and cc exist)
  --ab                 compare with ../shared/bench/baseline-node.mjs, runs A B A B …
  --against DIR        with --ab: compare with another checkout's build instead (say, a git
                       worktree of the commit before a change, built with npm run build), run
                       with the same Node flags: a before/after A/B of the change in one run
  --pairs N            A/B pairs per workload (default 3)
  --cluster N          cluster mode: N nodes sharing rooms through one Redis, clients spread over
                       them; with --ab, compared with the single-process server
  --redis URL          the Redis for --cluster (default: a private redis-server per run)
  --json               also print the runs and medians as one JSON line
  --help               this text

The server runs with start.sh's Node flags; CHAT_NODE_FLAGS replaces them, as for start.sh.`;

function options(): {
  only: Workload[];
  duration: number;
  warmup: number;
  driver: 'chatload' | 'node';
  ab: boolean;
  /** `--against`: the other checkout's server entry point. */
  reference: string | undefined;
  pairs: number;
  json: boolean;
  cluster: number;
  redis: string | undefined;
} {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      driver: { type: 'string' },
      ab: { type: 'boolean', default: false },
      against: { type: 'string' },
      pairs: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      cluster: { type: 'string', default: '0' },
      redis: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const names = values.only?.split(',').map((n) => (n.trim() === JOIN_STORM.name ? JOIN_STORM.from : n.trim()));
  for (const name of names ?? []) {
    if (!WORKLOADS.some((w) => w.name === name)) fail(`unknown workload "${name}"`);
  }
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const pairs = Number(values.pairs);
  if (!(duration > 0)) fail('--duration must be a positive number of seconds');
  if (!(warmup >= 0)) fail('--warmup must be a number of seconds, 0 or more');
  if (!Number.isInteger(pairs) || pairs < 1) fail('--pairs must be a positive integer');
  if (values.driver !== undefined && values.driver !== 'chatload' && values.driver !== 'node') fail('--driver must be chatload or node');
  const cluster = Number(values.cluster);
  if (!Number.isInteger(cluster) || cluster < 0 || cluster === 1) fail('--cluster must be 2 or more nodes');
  if (cluster > 0 && values.redis === undefined && !onPath('redis-server')) fail('--cluster needs redis-server on PATH, or --redis URL');
  const reference = values.against === undefined ? undefined : join(resolve(values.against), 'dist/src/cli/main.js');
  if (reference !== undefined && (!values.ab || cluster > 0)) fail('--against goes with --ab, on a single server');
  if (reference !== undefined && !existsSync(reference)) fail(`--against: ${reference} is missing: run \`npm run build\` there`);
  if (values.ab && cluster === 0 && reference === undefined && !existsSync(BASELINE)) fail(`--ab needs the baseline, ${BASELINE}, which is not there`);
  const driver = values.driver ?? (chatloadAvailable() ? 'chatload' : 'node');
  if (driver === 'chatload' && !chatloadAvailable()) fail(`--driver chatload needs ${CHATLOAD_SOURCE} and cc on PATH`);
  return {
    only: names ? WORKLOADS.filter((w) => names.includes(w.name)) : [...WORKLOADS],
    duration,
    warmup,
    driver,
    ab: values.ab,
    reference,
    pairs,
    json: values.json,
    cluster,
    redis: values.redis,
  };
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- the driver

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)));
}

function chatloadAvailable(): boolean {
  return existsSync(CHATLOAD_SOURCE) && onPath('cc');
}

/** Compiles chatload once per version of its source. */
function buildChatload(): string {
  const out = join(tmpdir(), `chatload-${Math.floor(statSync(CHATLOAD_SOURCE).mtimeMs)}`);
  if (existsSync(out)) return out;
  const partial = `${out}.${process.pid}`;
  const cc = spawnSync('cc', ['-O2', '-o', partial, CHATLOAD_SOURCE, '-lm'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (cc.status !== 0) fail(`could not compile ${CHATLOAD_SOURCE}`);
  renameSync(partial, out);
  return out;
}

/** Runs a command with the descriptor limit raised to the hard limit, as start.sh does. */
function spawnUnlimited(command: string, args: string[], stdout: 'ignore' | 'pipe'): ChildProcess {
  return spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', command, ...args], {
    stdio: ['ignore', stdout, stdout],
  });
}

// ---------------------------------------------------------------- servers

const children = new Set<ChildProcess>();

function freePort(): Promise<number> {
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

function accepts(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      answer(true);
    });
    socket.once('error', () => answer(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
  });
}

interface Server {
  /** The chat server processes (one, or a cluster's nodes). */
  children: ChildProcess[];
  ports: number[];
  /** A private Redis for a cluster run, with its Unix socket. */
  redis: { child: ChildProcess | null; url: string; dir: string | null } | null;
}

async function startProcess(args: string[], port: number, what: string): Promise<ChildProcess> {
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

async function startRedisServer(): Promise<{ child: ChildProcess; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-redis-'));
  const socket = join(dir, 'redis.sock');
  // Redis' defaults otherwise, the pub/sub output-buffer limit (32mb 8mb 60) included: the README's figures assume them.
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  children.add(child);
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('redis-server did not start');
    await sleep(20);
  }
  return { child, url: `unix://${socket}`, dir };
}

async function startServer(kind: ServerKind, nodes: number, redisUrl: string | undefined, reference: string | undefined): Promise<Server> {
  const serveArgs = (port: number, main = SERVER_MAIN): string[] => [...SERVER_NODE_FLAGS, main, 'serve', '--port', String(port), '--host', '127.0.0.1', '--admin', 'off'];
  if (kind !== 'cluster') {
    const port = await freePort();
    const args = kind === 'project' ? serveArgs(port) : kind === 'reference' ? serveArgs(port, reference) : [BASELINE, String(port)];
    return { children: [await startProcess(args, port, `${kind} server`)], ports: [port], redis: null };
  }
  const redis = redisUrl === undefined ? await startRedisServer() : { child: null, url: redisUrl, dir: null };
  const server: Server = { children: [], ports: [], redis };
  const prefix = `bench-${process.pid}-${runIndex}:`;
  for (let i = 0; i < nodes; i++) {
    const port = await freePort();
    const args = [...serveArgs(port), '--redis', redis.url, '--cluster-prefix', prefix];
    server.children.push(await startProcess(args, port, `cluster node ${i + 1}`));
    server.ports.push(port);
  }
  return server;
}

async function stopServer(server: Server, kind: ServerKind): Promise<void> {
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
}

/** User plus system CPU seconds of a process so far, or null where there is no /proc. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** VmRSS of a process in KiB, or null where there is no /proc. */
function rssKb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The ids of the nodes' subscriber connections (CLIENT LIST TYPE pubsub), or null. */
async function subscriberIds(url: string): Promise<Set<string> | null> {
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

// ---------------------------------------------------------------- one run

interface Plan {
  nodes: number;
  redis: string | undefined;
  /** `--against`: the other checkout's server entry point. */
  reference: string | undefined;
  driver: 'chatload' | 'node';
  driverPath: string;
  duration: number;
  warmup: number;
  total: number;
}

let runIndex = 0;

function connections(workload: Workload): number {
  const value = (flag: string): number => Number(workload.args[workload.args.indexOf(flag) + 1]);
  return value('--rooms') * value('--members');
}

async function runOnce(plan: Plan, workload: Workload, kind: ServerKind, pair: number): Promise<Run> {
  runIndex++;
  const started = Date.now();
  const title = `bench: [${runIndex}/${plan.total}] ${kind} ${workload.label}`;
  const tty = process.stderr.isTTY;
  const progress = (): void => {
    const seconds = Math.round((Date.now() - started) / 1000);
    if (tty) process.stderr.write(`\r${title} … ${seconds}s   `);
  };
  if (tty) progress();
  else process.stderr.write(`${title} …\n`);
  const ticker = setInterval(progress, 1000);
  const run: Run = { workload: workload.name, server: kind, pair, result: null, kbPerConn: null, cpu: null, outputBufferCuts: null, failure: null };
  let server: Server | null = null;
  try {
    server = await startServer(kind, plan.nodes, plan.redis, plan.reference);
    const pids = server.children.map((child) => child.pid);
    const totalRss = (): number | null => {
      const each = pids.map(rssKb);
      return each.some((kb) => kb === null) ? null : each.reduce<number>((sum, kb) => sum + kb!, 0);
    };
    const totalCpu = (list: (number | undefined)[]): number => list.reduce<number>((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
    const redisPid = server.redis?.child?.pid;
    const cpuBefore = { nodes: totalCpu(pids), redis: totalCpu([redisPid]) };
    // Redis 7.0 does not count output-buffer cuts; a subscriber connection it cut is one that is gone afterwards.
    const subscribersBefore = kind === 'cluster' ? await subscriberIds(server.redis!.url) : null;
    const before = totalRss();
    let peak = before;
    const args = [...workload.args, '--ports', server.ports.join(','), '--duration', String(plan.duration), '--warmup', String(plan.warmup), '--room-prefix', `b${process.pid}r${runIndex}-`];
    const driver =
      plan.driver === 'chatload' ? spawnUnlimited(plan.driverPath, args, 'pipe') : spawnUnlimited(process.execPath, [plan.driverPath, ...args], 'pipe');
    children.add(driver);
    let stdout = '';
    let stderr = '';
    driver.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    driver.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const sampler = setInterval(() => {
      const now = totalRss();
      if (now !== null && (peak === null || now > peak)) peak = now;
    }, 200);
    const limit = setTimeout(() => driver.kill('SIGKILL'), (60 + plan.warmup + plan.duration + 3 + 30) * 1000);
    await exited(driver);
    clearTimeout(limit);
    clearInterval(sampler);
    children.delete(driver);
    if (kind === 'cluster') {
      run.cpu = { nodes: totalCpu(pids) - cpuBefore.nodes, redis: totalCpu([redisPid]) - cpuBefore.redis };
      const subscribersAfter = await subscriberIds(server.redis!.url);
      run.outputBufferCuts = subscribersBefore && subscribersAfter ? [...subscribersBefore].filter((id) => !subscribersAfter.has(id)).length : null;
    }
    const line = stdout.split('\n').find((l) => l.startsWith('{'));
    if (line) run.result = JSON.parse(line) as DriverResult;
    if (before !== null && peak !== null) run.kbPerConn = Math.round(((peak - before) / connections(workload)) * 10) / 10;
    if (/EMFILE|ENFILE|Too many open files|out of file descriptors/.test(stderr)) {
      run.failure = `out of file descriptors: raise \`ulimit -n\` (${connections(workload)} connections need as many descriptors)`;
    } else if (driver.exitCode !== 0) {
      run.failure = `driver exited ${driver.exitCode ?? driver.signalCode}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-2).join('; ')}` : ''}`;
    }
  } catch (error) {
    run.failure = error instanceof Error ? error.message : String(error);
  } finally {
    clearInterval(ticker);
    if (server) await stopServer(server, kind);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const summary = run.failure ? `FAILED: ${run.failure}` : `${run.result?.delivered_per_s ?? 0} delivered/s`;
  process.stderr.write(`${tty ? '\r' : ''}${title} … ${seconds}s, ${summary}${tty ? '   ' : ''}\n`);
  return run;
}

// ---------------------------------------------------------------- figures

interface Row {
  workload: string;
  label: string;
  server: ServerKind;
  runs: number;
  delivered_per_s: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  joins_per_s: number | null;
  kb_per_conn: number | null;
  /** The worst of the runs. */
  lost: number | null;
  order_violations: number | null;
  cpu_nodes_s: number | null;
  cpu_redis_s: number | null;
  output_buffer_cuts: number | null;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function summarize(runs: Run[], workload: Workload, server: ServerKind): Row {
  const mine = runs.filter((r) => r.workload === workload.name && r.server === server);
  const results = mine.flatMap((r) => (r.result ? [r.result] : []));
  const pick = (f: (r: DriverResult) => number): number | null => median(results.map(f));
  const worst = (f: (r: DriverResult) => number): number | null => (results.length ? Math.max(...results.map(f)) : null);
  return {
    workload: workload.name,
    label: workload.label,
    server,
    runs: results.length,
    delivered_per_s: pick((r) => r.delivered_per_s),
    p50_ms: pick((r) => r.p50_us / 1000),
    p99_ms: pick((r) => r.p99_us / 1000),
    joins_per_s: pick((r) => r.joins_per_s),
    kb_per_conn: median(mine.flatMap((r) => (r.result && r.kbPerConn !== null ? [r.kbPerConn] : []))),
    lost: worst((r) => r.lost),
    order_violations: worst((r) => r.order_violations + r.order_divergent_rooms),
    cpu_nodes_s: median(mine.flatMap((r) => (r.cpu ? [r.cpu.nodes] : []))),
    cpu_redis_s: median(mine.flatMap((r) => (r.cpu ? [r.cpu.redis] : []))),
    output_buffer_cuts: mine.some((r) => r.outputBufferCuts !== null) ? Math.max(...mine.map((r) => r.outputBufferCuts ?? 0)) : null,
  };
}

function joinStormRow(scale: Row): Row {
  return {
    ...scale,
    workload: JOIN_STORM.name,
    label: JOIN_STORM.label,
    delivered_per_s: null,
    p50_ms: null,
    p99_ms: null,
    kb_per_conn: null,
    lost: null,
    order_violations: null,
  };
}

const fmt = (value: number | null, digits = 0): string => (value === null ? '-' : value.toFixed(digits));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

function figuresTable(rows: Row[]): string {
  return table(
    ['workload', 'server', 'delivered/s', 'p50 ms', 'p99 ms', 'joins/s', 'KB/conn', 'lost', 'order viol'],
    rows.map((r) => [
      r.label,
      r.server,
      fmt(r.delivered_per_s),
      fmt(r.p50_ms, 2),
      fmt(r.p99_ms, 2),
      fmt(r.joins_per_s),
      fmt(r.kb_per_conn, 1),
      fmt(r.lost),
      fmt(r.order_violations),
    ]),
  );
}

/** A ratio as the tables print it. */
function times(x: number | null): string {
  return x === null ? '-' : `${x.toFixed(2)}×`;
}

function ratio(a: number | null, b: number | null): string {
  return times(a === null || b === null || b === 0 ? null : a / b);
}

function cpuTable(rows: Row[]): string {
  return table(
    ['workload', 'server', 'node CPU s', 'Redis CPU s', 'subscribers cut'],
    rows.filter((r) => r.server === 'cluster' && r.delivered_per_s !== null).map((r) => [r.label, r.server, fmt(r.cpu_nodes_s, 1), fmt(r.cpu_redis_s, 1), fmt(r.output_buffer_cuts)]),
  );
}

function ratioTable(rows: Row[], a: ServerKind, b: ServerKind): string {
  const labels = [...new Set(rows.map((r) => r.label))];
  return table(
    ['workload', `${a}/${b}`, 'delivered/s', 'p50 ms', 'p99 ms', 'joins/s', 'KB/conn'],
    labels.map((label) => {
      const first = rows.find((r) => r.label === label && r.server === a)!;
      const second = rows.find((r) => r.label === label && r.server === b)!;
      return [
        label,
        'ratio of medians',
        ratio(first.delivered_per_s, second.delivered_per_s),
        ratio(first.p50_ms, second.p50_ms),
        ratio(first.p99_ms, second.p99_ms),
        ratio(first.joins_per_s, second.joins_per_s),
        ratio(first.kb_per_conn, second.kb_per_conn),
      ];
    }),
  );
}

/** The figure each target judges, per workload: what the per-pair table shows. */
const TARGET_METRICS: readonly { workload: string; label?: string; metric: string; of: (r: DriverResult) => number }[] = [
  { workload: 'fanout-a', metric: 'delivered/s', of: (r) => r.delivered_per_s },
  { workload: 'fanout-b', metric: 'delivered/s', of: (r) => r.delivered_per_s },
  { workload: 'latency', metric: 'p99', of: (r) => r.p99_us },
  { workload: 'scale', metric: 'p99', of: (r) => r.p99_us },
  { workload: JOIN_STORM.from, label: JOIN_STORM.label, metric: 'joins/s', of: (r) => r.joins_per_s },
];

/**
 * Each pair's ratio beside the median: on a shared machine one pair can land far from the rest,
 * and the spread says how far a median can be trusted.
 */
function pairTable(runs: Run[], a: ServerKind, b: ServerKind, pairs: number): string {
  const rows = TARGET_METRICS.filter((t) => runs.some((r) => r.workload === t.workload)).map((target) => {
    const ratios: (number | null)[] = [];
    for (let pair = 0; pair < pairs; pair++) {
      const result = (server: ServerKind): DriverResult | null => runs.find((r) => r.workload === target.workload && r.server === server && r.pair === pair)?.result ?? null;
      const first = result(a);
      const second = result(b);
      ratios.push(first && second && target.of(second) !== 0 ? target.of(first) / target.of(second) : null);
    }
    const label = target.label ?? WORKLOADS.find((w) => w.name === target.workload)!.label;
    return [label, target.metric, ...ratios.map(times), times(median(ratios.filter((x): x is number => x !== null)))];
  });
  return table(['workload', 'metric', ...Array.from({ length: pairs }, (_, i) => `pair ${i + 1}`), 'median'], rows);
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const opts = options();
  if (!existsSync(SERVER_MAIN)) fail(`${SERVER_MAIN} is missing: run \`npm run build\` (npm run bench does)`);
  const driverPath = opts.driver === 'chatload' ? buildChatload() : NODE_DRIVER;
  const single: ServerKind = opts.cluster > 0 ? 'cluster' : 'project';
  const other: ServerKind = opts.cluster > 0 ? 'project' : opts.reference !== undefined ? 'reference' : 'baseline';
  const servers: ServerKind[] = opts.ab ? [single, other] : [single];
  const repeats = opts.ab ? opts.pairs : 1;
  const plan: Plan = { nodes: opts.cluster, redis: opts.redis, reference: opts.reference, driver: opts.driver, driverPath, duration: opts.duration, warmup: opts.warmup, total: opts.only.length * servers.length * repeats };
  process.stderr.write(
    `bench: ${plan.total} runs of ${opts.duration} s (after ${opts.warmup} s of warm-up) with ${opts.driver === 'chatload' ? 'chatload' : 'the Node driver (figures are lower bounds)'}` +
      `${opts.cluster > 0 ? `, cluster mode: ${opts.cluster} nodes on one Redis` : ''}` +
      `${opts.ab ? `, A/B against the ${{ project: 'single-process server', reference: `build in ${opts.reference}`, baseline: 'plain-Node baseline', cluster: '' }[other]}, ${opts.pairs} pair${opts.pairs === 1 ? '' : 's'}` : ''}\n`,
  );
  const runs: Run[] = [];
  for (const workload of opts.only) {
    for (let pair = 0; pair < repeats; pair++) {
      for (const server of servers) runs.push(await runOnce(plan, workload, server, pair));
    }
  }
  const rows: Row[] = [];
  for (const workload of opts.only) {
    for (const server of servers) {
      const row = summarize(runs, workload, server);
      rows.push(row);
    }
  }
  for (const row of rows.filter((r) => r.workload === JOIN_STORM.from)) rows.push(joinStormRow(row));
  console.log(`\n${figuresTable(rows)}`);
  if (opts.cluster > 0) console.log(`\n${cpuTable(rows)}`);
  if (opts.ab) {
    console.log(`\n${ratioTable(rows, servers[0]!, servers[1]!)}`);
    console.log(`\nper pair, ${servers[0]}/${servers[1]}:\n${pairTable(runs, servers[0]!, servers[1]!, repeats)}`);
  }
  console.log(
    `\n${opts.driver === 'chatload' ? 'driver: chatload' : 'driver: the built-in Node driver (slower than chatload: figures are lower bounds)'}; ` +
      `${opts.duration} s per run after ${opts.warmup} s of warm-up${opts.ab ? `, median of ${opts.pairs}` : ''}; KB/conn: server RSS growth during the run per connection` +
      `${opts.cluster > 0 ? ' (all nodes; Redis not counted)' : ''}`,
  );
  if (opts.json) console.log(JSON.stringify({ driver: opts.driver, duration: opts.duration, warmup: opts.warmup, ab: opts.ab, pairs: repeats, runs, rows }));
  const failures = runs.filter((r) => r.failure);
  for (const r of failures) process.stderr.write(`bench: ${r.server} ${r.workload} failed: ${r.failure}\n`);
  const unsound = rows.filter((r) => (r.lost ?? 0) !== 0 || (r.order_violations ?? 0) !== 0);
  for (const r of unsound) process.stderr.write(`bench: ${r.server} ${r.label}: ${r.lost} lost, ${r.order_violations} order violations\n`);
  return failures.length || unsound.length ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    for (const child of children) child.kill('SIGKILL');
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
