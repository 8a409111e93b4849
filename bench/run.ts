/**
 * `npm run bench [-- options]`: starts the server, drives the benchmark workloads against it and
 * prints a table (throughput, latency, joins/s, memory per connection). With `--ab`, runs the
 * project and the plain-Node baseline (../shared/bench/baseline-node.mjs) A B A B … and prints
 * the ratio of their medians per workload, and each pair's ratio for the figure each target
 * judges. Uses chatload (../shared/bench/chatload.c) when it is there and `cc` is on PATH, else
 * the project's own driver (bench/driver.ts).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DriverResult } from './driver.js';
import { BASELINE, CHATLOAD_SOURCE, NODE_DRIVER, SERVER_MAIN, buildChatload, chatloadAvailable, children, cpuSeconds, exited, fail, onPath, rssKb, spawnUnlimited, startServer, stopServer, subscriberIds, type Server } from './processes.js';
import { cpuTable, figuresTable, joinStormRow, pairTable, ratioTable, summarize, type Row } from './report.js';
import { JOIN_STORM, WORKLOADS, type Door, type Run, type ServerKind, type Workload } from './workloads.js';

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
  --door lab|irc       the front door the load goes through (default lab); irc: chatload --proto irc
                       against the IRC door, and with --ab against InspIRCd 3.15 (Debian's inspircd,
                       ../shared/bench/anchors/inspircd.conf) instead of the plain-Node baseline
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
  door: Door;
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
      door: { type: 'string', default: 'lab' },
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
  const door = values.door as Door;
  if (door !== 'lab' && door !== 'irc') fail('--door must be lab or irc');
  if (door === 'irc' && values.driver === 'node') fail('--door irc needs chatload (the Node driver speaks the lab protocol only)');
  if (door === 'irc' && values.ab && cluster === 0 && values.against === undefined && !onPath('inspircd')) fail('--door irc --ab compares with InspIRCd: install it (apt-get install inspircd)');
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
    door,
  };
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
  door: Door;
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
    server = await startServer(kind, plan.nodes, plan.redis, plan.reference, `bench-${process.pid}-${runIndex}:`, plan.door);
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
    const args = [...workload.args, ...(plan.door === 'irc' ? ['--proto', 'irc'] : []), '--ports', server.ports.join(','), '--duration', String(plan.duration), '--warmup', String(plan.warmup), '--room-prefix', `b${process.pid}r${runIndex}-`];
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

async function main(): Promise<number> {
  const opts = options();
  if (!existsSync(SERVER_MAIN)) fail(`${SERVER_MAIN} is missing: run \`npm run build\` (npm run bench does)`);
  const driverPath = opts.driver === 'chatload' ? buildChatload() : NODE_DRIVER;
  const single: ServerKind = opts.cluster > 0 ? 'cluster' : 'project';
  const other: ServerKind = opts.cluster > 0 ? 'project' : opts.reference !== undefined ? 'reference' : opts.door === 'irc' ? 'inspircd' : 'baseline';
  const servers: ServerKind[] = opts.ab ? [single, other] : [single];
  const repeats = opts.ab ? opts.pairs : 1;
  const plan: Plan = { nodes: opts.cluster, redis: opts.redis, reference: opts.reference, driver: opts.driver, driverPath, duration: opts.duration, warmup: opts.warmup, total: opts.only.length * servers.length * repeats, door: opts.door };
  process.stderr.write(
    `bench: ${plan.total} runs of ${opts.duration} s (after ${opts.warmup} s of warm-up) with ${opts.driver === 'chatload' ? 'chatload' : 'the Node driver (figures are lower bounds)'}` +
      `${opts.cluster > 0 ? `, cluster mode: ${opts.cluster} nodes on one Redis` : ''}` +
      `${opts.door === 'irc' ? ', through the IRC door' : ''}` +
      `${opts.ab ? `, A/B against the ${{ project: 'single-process server', reference: `build in ${opts.reference}`, baseline: 'plain-Node baseline', cluster: '', inspircd: 'InspIRCd 3.15 (anchor config)' }[other]}, ${opts.pairs} pair${opts.pairs === 1 ? '' : 's'}` : ''}\n`,
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
