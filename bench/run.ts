/**
 * `npm run bench [-- options]`: starts the server, drives the benchmark workloads against it and
 * prints a table (throughput, latency, joins/s, memory per connection, CPU per delivery). The IRC
 * workloads run the same loads through the IRC door (`--irc-port`, `chatload --proto irc`). With
 * `--ab`, runs the project and its anchor A B A B … (the plain-Node baseline,
 * ../shared/bench/baseline-node.mjs, for the lab workloads; InspIRCd for the IRC workloads) and
 * prints the ratio of their medians per workload, and each pair's ratio for the figure each target
 * judges. Uses chatload (../shared/bench/chatload.c) when it is there and `cc` is on PATH, else
 * the project's own driver (bench/driver.ts), which speaks only the lab protocol.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DriverResult } from './driver.js';
import { BASELINE, CHATLOAD_HANDSHAKES, CHATLOAD_SOURCE, NODE_DRIVER, SERVER_MAIN, buildChatload, chatloadAvailable, children, cpuSeconds, exited, fail, inspircdMissing, listenOverflows, onPath, stealSeconds, writeCalls, rssKb, spawnUnlimited, startServer, stopServer, subscriberIds, type Server } from './processes.js';
import { cpuPerDeliveryTable, cpuTable, doorMemoryTable, figuresTable, joinStormRow, pairTable, ratioTable, summarize, type Row } from './report.js';
import { CpuWindow } from './cpu-window.js';
import { JOIN_STORMS, WORKLOADS, type Run, type ServerKind, type Workload } from './workloads.js';

// ---------------------------------------------------------------- options

const USAGE = `Usage: npm run bench -- [options]

  --only NAME[,NAME]   workloads: ${[...WORKLOADS.map((w) => w.name), ...JOIN_STORMS.map((j) => j.name)].join(', ')}
                       (default all; the *-irc ones drive the IRC door with chatload --proto irc)
  --duration S         measured seconds per run (default 5)
  --warmup S           seconds of load before measuring starts (default 1): the JIT's warm-up
  --rate N             messages per second per sender for the open-loop workloads (small-rooms,
                       latency, scale), instead of theirs
  --driver D           chatload|node (default chatload when ../shared/bench/chatload.c and cc exist)
  --ab                 compare with ../shared/bench/baseline-node.mjs (lab workloads) and InspIRCd
                       (IRC workloads, ../shared/bench/anchors/inspircd.conf), runs A B A B …
  --against DIR        with --ab: compare with another checkout's build instead (say, a git
                       worktree of the commit before a change, built with npm run build), run
                       with the same Node flags: a before/after A/B of the change in one run
  --pairs N            A/B pairs per workload (default 3)
  --cluster N          cluster mode: N nodes sharing rooms through one Redis, clients spread over
                       them; with --ab, compared with the single-process server
  --redis URL          the Redis for --cluster (default: a private redis-server per run)
  --redis-shards N     with --cluster: a private Redis Cluster of N masters per run instead
  --logs DIR           keep each server's output (its pino log) in DIR, a file per run
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
  redisShards: number;
  /** `--rate`: the open-loop workloads' rate per sender instead of theirs. */
  rate: number | undefined;
  logs: string | undefined;
} {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      rate: { type: 'string' },
      driver: { type: 'string' },
      ab: { type: 'boolean', default: false },
      against: { type: 'string' },
      pairs: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      cluster: { type: 'string', default: '0' },
      redis: { type: 'string' },
      'redis-shards': { type: 'string', default: '0' },
      logs: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const names = values.only?.split(',').map((n) => JOIN_STORMS.find((j) => j.name === n.trim())?.from ?? n.trim());
  for (const name of names ?? []) {
    if (!WORKLOADS.some((w) => w.name === name)) fail(`unknown workload "${name}"`);
  }
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const pairs = Number(values.pairs);
  if (!(duration > 0)) fail('--duration must be a positive number of seconds');
  if (!(warmup >= 0)) fail('--warmup must be a number of seconds, 0 or more');
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (rate !== undefined && !(rate > 0)) fail('--rate must be a positive number of messages per second');
  if (!Number.isInteger(pairs) || pairs < 1) fail('--pairs must be a positive integer');
  if (values.driver !== undefined && values.driver !== 'chatload' && values.driver !== 'node') fail('--driver must be chatload or node');
  const cluster = Number(values.cluster);
  if (!Number.isInteger(cluster) || cluster < 0 || cluster === 1) fail('--cluster must be 2 or more nodes');
  if (cluster > 0 && values.redis === undefined && !onPath('redis-server')) fail('--cluster needs redis-server on PATH, or --redis URL');
  const redisShards = Number(values['redis-shards']);
  if (!Number.isInteger(redisShards) || redisShards < 0 || redisShards === 1 || redisShards === 2) fail('--redis-shards must be 3 or more masters (a Redis Cluster needs 3)');
  if (redisShards > 0 && (cluster === 0 || values.redis !== undefined || !onPath('redis-cli'))) fail('--redis-shards goes with --cluster, without --redis, and needs redis-cli');
  const reference = values.against === undefined ? undefined : join(resolve(values.against), 'dist/src/cli/main.js');
  if (reference !== undefined && (!values.ab || cluster > 0)) fail('--against goes with --ab, on a single server');
  if (reference !== undefined && !existsSync(reference)) fail(`--against: ${reference} is missing: run \`npm run build\` there`);
  if (values.ab && cluster === 0 && reference === undefined && !existsSync(BASELINE)) fail(`--ab needs the baseline, ${BASELINE}, which is not there`);
  const driver = values.driver ?? (chatloadAvailable() ? 'chatload' : 'node');
  if (driver === 'chatload' && !chatloadAvailable()) fail(`--driver chatload needs ${CHATLOAD_SOURCE} and cc on PATH`);
  // An IRC workload asked for by name and impossible here is an error; left out of "all", a note.
  const ircBlocked =
    driver === 'node'
      ? 'the Node driver speaks only the lab protocol: the IRC workloads need chatload'
      : values.ab && reference !== undefined && !ircDoorIn(reference)
        ? `the build in ${values.against} has no IRC door (no --irc-port)`
        : values.ab && cluster === 0 && reference === undefined
          ? inspircdMissing()
          : null;
  let only = names ? WORKLOADS.filter((w) => names.includes(w.name)) : [...WORKLOADS];
  if (ircBlocked !== null && only.some((w) => w.door === 'irc')) {
    if (names) fail(`${ircBlocked}; leave out ${only.filter((w) => w.door === 'irc').map((w) => w.name).join(', ')}`);
    process.stderr.write(`bench: IRC workloads skipped: ${ircBlocked}\n`);
    only = only.filter((w) => w.door !== 'irc');
  }
  if (values.logs !== undefined) mkdirSync(values.logs, { recursive: true });
  return {
    only,
    duration,
    warmup,
    driver,
    ab: values.ab,
    reference,
    pairs,
    json: values.json,
    cluster,
    redis: values.redis,
    redisShards,
    rate,
    logs: values.logs === undefined ? undefined : resolve(values.logs),
  };
}

/** Whether another checkout's build has the IRC door: its serve command knows --irc-port. */
function ircDoorIn(reference: string): boolean {
  const serve = join(dirname(reference), 'serve.js');
  return existsSync(serve) && readFileSync(serve, 'utf8').includes("'irc-port'");
}

// ---------------------------------------------------------------- one run

interface Plan {
  nodes: number;
  redis: string | undefined;
  redisShards: number;
  rate: number | undefined;
  /** `--against`: the other checkout's server entry point. */
  reference: string | undefined;
  driver: 'chatload' | 'node';
  driverPath: string;
  /** chatload built for each handshake limit the workloads use (before any server starts). */
  chatloads: ReadonlyMap<number, string>;
  duration: number;
  warmup: number;
  total: number;
  logs: string | undefined;
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
  const run: Run = { workload: workload.name, server: kind, pair, result: null, kbPerConn: null, cpu: null, cpuRate: null, quietest: null, writesPerThousand: null, stealCores: null, listenOverflows: null, outputBufferCuts: null, failure: null };
  let server: Server | null = null;
  try {
    server = await startServer(kind, {
      door: workload.door,
      nodes: plan.nodes,
      redisUrl: plan.redis,
      redisShards: plan.redisShards,
      reference: plan.reference,
      prefix: `bench-${process.pid}-${runIndex}:`,
      log: plan.logs === undefined ? undefined : join(plan.logs, `${String(runIndex).padStart(3, '0')}-${workload.name}-${kind}-pair${pair + 1}.log`),
    });
    const pids = server.children.map((child) => child.pid);
    const totalRss = (): number | null => {
      const each = pids.map(rssKb);
      return each.some((kb) => kb === null) ? null : each.reduce<number>((sum, kb) => sum + kb!, 0);
    };
    const totalCpu = (list: (number | undefined)[]): number => list.reduce<number>((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
    const redisPids = server.redis?.children.map((child) => child.pid) ?? [];
    const cpuBefore = { nodes: totalCpu(pids), redis: totalCpu(redisPids) };
    // Redis 7.0 does not count output-buffer cuts; a subscriber connection it cut is one that is gone afterwards.
    const subscribersBefore = kind === 'cluster' ? await subscriberIds(server.redis!.url) : null;
    const before = totalRss();
    let peak = before;
    const overflowsBefore = listenOverflows();
    const totalWrites = (): number | null => {
      const each = pids.map(writeCalls);
      return each.some((n) => n === null) ? null : each.reduce<number>((sum, n) => sum + n!, 0);
    };
    const stealBefore = stealSeconds();
    const driverStarted = performance.now();
    const load = plan.rate === undefined ? workload.args : workload.args.map((arg, i) => (workload.args[i - 1] === '--rate' ? String(plan.rate) : arg));
    const args = [...(workload.door === 'irc' ? ['--proto', 'irc'] : []), ...load, '--ports', server.ports.join(','), '--duration', String(plan.duration), '--warmup', String(plan.warmup), '--room-prefix', `b${process.pid}r${runIndex}-`];
    const handshakes = workload.handshakes ?? CHATLOAD_HANDSHAKES;
    const driver =
      plan.driver === 'chatload'
        ? spawnUnlimited(plan.chatloads.get(handshakes)!, args, 'pipe')
        : spawnUnlimited(process.execPath, [plan.driverPath, ...args, '--handshakes', String(handshakes)], 'pipe');
    // Counters: servers' CPU, Redis' CPU, the driver's CPU, servers' write calls.
    const cpuOf = (list: (number | undefined)[]) => (): number | null => {
      const each = list.map(cpuSeconds);
      return each.some((s) => s === null) ? null : each.reduce<number>((sum, s) => sum + s!, 0);
    };
    const cpuWindow = new CpuWindow([cpuOf(pids), cpuOf(redisPids), cpuOf([driver.pid]), totalWrites]);
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
    cpuWindow.stop();
    const overflowsAfter = listenOverflows();
    const stealAfter = stealSeconds();
    if (stealBefore !== null && stealAfter !== null) run.stealCores = Math.round(((stealAfter - stealBefore) / ((performance.now() - driverStarted) / 1000)) * 100) / 100;
    if (overflowsBefore !== null && overflowsAfter !== null) run.listenOverflows = overflowsAfter - overflowsBefore;
    clearTimeout(limit);
    clearInterval(sampler);
    children.delete(driver);
    run.cpu = { nodes: totalCpu(pids) - cpuBefore.nodes, redis: totalCpu(redisPids) - cpuBefore.redis };
    if (kind === 'cluster') {
      const subscribersAfter = await subscriberIds(server.redis!.url);
      run.outputBufferCuts = subscribersBefore && subscribersAfter ? [...subscribersBefore].filter((id) => !subscribersAfter.has(id)).length : null;
    }
    const line = stdout.split('\n').find((l) => l.startsWith('{'));
    if (line) run.result = JSON.parse(line) as DriverResult;
    const rates = run.result ? cpuWindow.ratesIn(run.result, plan.warmup) : null;
    if (rates) run.cpuRate = { nodes: rates[0]!, redis: rates[1]! };
    if (rates && run.result!.delivered_per_s > 0) run.writesPerThousand = Math.round((rates[3]! * 1000 * 10) / run.result!.delivered_per_s) / 10;
    const quietest = run.result ? cpuWindow.quietestIn(run.result, plan.warmup) : null;
    if (quietest) run.quietest = { server: quietest[0]!, driver: quietest[2]! };
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

/**
 * A closed-loop run (no --rate) whose server, for half a second, used under half its own average
 * CPU: with messages always in flight, it was waiting with work queued (or was kept off the CPU).
 */
function stalled(run: Run): boolean {
  const workload = WORKLOADS.find((w) => w.name === run.workload);
  if (!workload || workload.args.includes('--rate') || !run.quietest || !run.cpuRate) return false;
  return run.quietest.server < run.cpuRate.nodes / 2;
}

/** The A/B's anchor for a workload: the single-process server for a cluster, the other build for `--against`, else the baseline or InspIRCd by door. */
function anchorOf(workload: Workload, cluster: number, reference: string | undefined): ServerKind {
  if (cluster > 0) return 'project';
  if (reference !== undefined) return 'reference';
  return workload.door === 'irc' ? 'inspircd' : 'baseline';
}

const ANCHOR_NAMES: Record<ServerKind, string> = {
  project: 'the single-process server',
  reference: 'the build in',
  baseline: 'the plain-Node baseline',
  inspircd: 'InspIRCd',
  cluster: 'the cluster',
};

async function main(): Promise<number> {
  const opts = options();
  if (!existsSync(SERVER_MAIN)) fail(`${SERVER_MAIN} is missing: run \`npm run build\` (npm run bench does)`);
  const driverPath = opts.driver === 'chatload' ? buildChatload() : NODE_DRIVER;
  const chatloads = new Map<number, string>();
  if (opts.driver === 'chatload') for (const workload of opts.only) chatloads.set(workload.handshakes ?? CHATLOAD_HANDSHAKES, buildChatload(workload.handshakes));
  const single: ServerKind = opts.cluster > 0 ? 'cluster' : 'project';
  const serversOf = (workload: Workload): ServerKind[] => (opts.ab ? [single, anchorOf(workload, opts.cluster, opts.reference)] : [single]);
  const sides = (name: string): readonly [ServerKind, ServerKind] => {
    const workload = WORKLOADS.find((w) => w.name === name)!;
    return [single, anchorOf(workload, opts.cluster, opts.reference)];
  };
  const repeats = opts.ab ? opts.pairs : 1;
  const total = opts.only.reduce((sum, w) => sum + serversOf(w).length * repeats, 0);
  const plan: Plan = { nodes: opts.cluster, redis: opts.redis, redisShards: opts.redisShards, rate: opts.rate, reference: opts.reference, driver: opts.driver, driverPath, chatloads, duration: opts.duration, warmup: opts.warmup, total, logs: opts.logs };
  const anchors = [...new Set(opts.only.map((w) => anchorOf(w, opts.cluster, opts.reference)))].map((kind) =>
    kind === 'reference' ? `${ANCHOR_NAMES.reference} ${opts.reference}` : `${ANCHOR_NAMES[kind]}${kind === 'inspircd' ? ' (IRC workloads)' : kind === 'baseline' ? ' (lab workloads)' : ''}`,
  );
  process.stderr.write(
    `bench: ${plan.total} runs of ${opts.duration} s (after ${opts.warmup} s of warm-up) with ${opts.driver === 'chatload' ? 'chatload' : 'the Node driver (figures are lower bounds)'}` +
      `${opts.cluster > 0 ? `, cluster mode: ${opts.cluster} nodes on ${opts.redisShards > 0 ? `a Redis Cluster of ${opts.redisShards} masters` : "one Redis"}` : ''}` +
      `${opts.ab ? `, A/B against ${anchors.join(' and ')}, ${opts.pairs} pair${opts.pairs === 1 ? '' : 's'}` : ''}\n`,
  );
  const runs: Run[] = [];
  for (const workload of opts.only) {
    for (let pair = 0; pair < repeats; pair++) {
      for (const server of serversOf(workload)) runs.push(await runOnce(plan, workload, server, pair));
    }
  }
  const rows: Row[] = [];
  for (const workload of opts.only) {
    for (const server of serversOf(workload)) rows.push(summarize(runs, workload, server));
  }
  for (const storm of JOIN_STORMS) {
    for (const row of rows.filter((r) => r.workload === storm.from)) rows.push(joinStormRow(row, storm));
  }
  console.log(`\n${figuresTable(rows)}`);
  if (opts.cluster > 0) console.log(`\n${cpuTable(rows)}`);
  console.log(`\n${cpuPerDeliveryTable(rows)}`);
  const doors = doorMemoryTable(runs, single);
  if (doors !== null) console.log(`\nmemory per connection by door:\n${doors}`);
  if (opts.ab) {
    console.log(`\n${ratioTable(rows, sides)}`);
    console.log(`\nper pair, A/B:\n${pairTable(runs, sides, repeats)}`);
  }
  console.log(
    `\n${opts.driver === 'chatload' ? 'driver: chatload' : 'driver: the built-in Node driver (slower than chatload: figures are lower bounds)'}; ` +
      `${opts.duration} s per run after ${opts.warmup} s of warm-up${opts.ab ? `, median of ${opts.pairs}` : ''}; KB/conn: server RSS growth during the run per connection; CPU µs/delivery: server CPU while the driver measured, per message delivered then` +
      `${opts.cluster > 0 ? ' (all nodes; Redis not counted)' : ''}`,
  );
  if (opts.json) console.log(JSON.stringify({ driver: opts.driver, duration: opts.duration, warmup: opts.warmup, ab: opts.ab, pairs: repeats, runs, rows }));
  const failures = runs.filter((r) => r.failure);
  for (const r of failures) process.stderr.write(`bench: ${r.server} ${r.workload} failed: ${r.failure}\n`);
  for (const r of runs.filter((run) => (run.stealCores ?? 0) >= 0.1)) {
    process.stderr.write(`bench: ${r.server} ${r.workload} pair ${r.pair + 1}: the hypervisor took ${r.stealCores!.toFixed(2)} of a core from this machine during the run (steal time): its figures are low\n`);
  }
  for (const r of runs.filter(stalled)) {
    const { server, driver } = r.quietest!;
    process.stderr.write(
      `bench: ${r.server} ${r.workload} pair ${r.pair + 1}: a stall: for half a second the server used ${server.toFixed(2)} of a core ` +
        `(${r.cpuRate!.nodes.toFixed(2)} over the run) while the driver used ${driver.toFixed(2)}\n`,
    );
  }
  for (const r of runs.filter((run) => (run.result?.errors ?? 0) > 0)) {
    process.stderr.write(`bench: ${r.server} ${r.workload} pair ${r.pair + 1}: the driver saw ${r.result!.errors} error replies or socket errors\n`);
  }
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
