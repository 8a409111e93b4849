/** The bench's figures: medians per workload and server, and the tables it prints. */
import type { DriverResult } from './driver.js';
import { JOIN_STORMS, WORKLOADS, type JoinStorm, type Run, type ServerKind, type Workload } from './workloads.js';

export interface Row {
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
  /** The server's CPU time while the driver measured per message delivered then, µs (setup excluded). */
  cpu_us_per_delivery: number | null;
  output_buffer_cuts: number | null;
  /** Write system calls per 1,000 deliveries (median of the runs). */
  writes_per_thousand: number | null;
  /** The most listen-queue overflows in one run. */
  listen_overflows: number | null;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(runs: Run[], workload: Workload, server: ServerKind): Row {
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
    cpu_us_per_delivery: median(mine.flatMap((r) => (r.cpuRate && r.result && r.result.delivered_per_s > 0 ? [(r.cpuRate.nodes * 1e6) / r.result.delivered_per_s] : []))),
    output_buffer_cuts: mine.some((r) => r.outputBufferCuts !== null) ? Math.max(...mine.map((r) => r.outputBufferCuts ?? 0)) : null,
    writes_per_thousand: median(mine.flatMap((r) => (r.writesPerThousand !== null ? [r.writesPerThousand] : []))),
    listen_overflows: mine.some((r) => r.listenOverflows !== null) ? Math.max(...mine.map((r) => r.listenOverflows ?? 0)) : null,
  };
}

export function joinStormRow(scale: Row, storm: JoinStorm): Row {
  return {
    ...scale,
    workload: storm.name,
    label: storm.label,
    delivered_per_s: null,
    p50_ms: null,
    p99_ms: null,
    kb_per_conn: null,
    lost: null,
    order_violations: null,
    cpu_us_per_delivery: null,
  };
}

export const fmt = (value: number | null, digits = 0): string => (value === null ? '-' : value.toFixed(digits));

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

export function figuresTable(rows: Row[]): string {
  return table(
    ['workload', 'server', 'delivered/s', 'p50 ms', 'p99 ms', 'joins/s', 'KB/conn', 'listen overflows', 'lost', 'order viol'],
    rows.map((r) => [
      r.label,
      r.server,
      fmt(r.delivered_per_s),
      fmt(r.p50_ms, 2),
      fmt(r.p99_ms, 2),
      fmt(r.joins_per_s),
      fmt(r.kb_per_conn, 1),
      fmt(r.listen_overflows),
      fmt(r.lost),
      fmt(r.order_violations),
    ]),
  );
}

/** A ratio as the tables print it. */
export function times(x: number | null): string {
  return x === null ? '-' : `${x.toFixed(2)}×`;
}

export function ratio(a: number | null, b: number | null): string {
  return times(a === null || b === null || b === 0 ? null : a / b);
}

export function cpuTable(rows: Row[]): string {
  return table(
    ['workload', 'server', 'node CPU s', 'Redis CPU s', 'subscribers cut'],
    rows.filter((r) => r.server === 'cluster' && r.delivered_per_s !== null).map((r) => [r.label, r.server, fmt(r.cpu_nodes_s, 1), fmt(r.cpu_redis_s, 1), fmt(r.output_buffer_cuts)]),
  );
}

/**
 * CPU per delivery: the server's CPU seconds per second while the driver measured, over the
 * deliveries per second then (setup, warm-up and drain left out); the CPU column is the whole run's.
 */
export function cpuPerDeliveryTable(rows: Row[]): string {
  return table(
    ['workload', 'server', 'server CPU s (run)', 'CPU µs/delivery (measured)', 'writes per 1,000 deliveries'],
    rows.filter((r) => r.cpu_us_per_delivery !== null).map((r) => [r.label, r.server, fmt(r.cpu_nodes_s, 2), fmt(r.cpu_us_per_delivery, 2), fmt(r.writes_per_thousand, 1)]),
  );
}

/** The two servers a workload's A/B compares, A first. */
export type Sides = (workload: string) => readonly [ServerKind, ServerKind];

/** A join storm's sides are its scale run's. */
const scaleOf = (workload: string): string => JOIN_STORMS.find((j) => j.name === workload)?.from ?? workload;

export function ratioTable(rows: Row[], sides: Sides): string {
  const workloads = [...new Set(rows.map((r) => r.workload))];
  return table(
    ['workload', 'A/B (ratio of medians)', 'delivered/s', 'p50 ms', 'p99 ms', 'joins/s', 'KB/conn', 'CPU µs/delivery'],
    workloads.map((workload) => {
      const [a, b] = sides(scaleOf(workload));
      const first = rows.find((r) => r.workload === workload && r.server === a)!;
      const second = rows.find((r) => r.workload === workload && r.server === b)!;
      return [
        first.label,
        `${a}/${b}`,
        ratio(first.delivered_per_s, second.delivered_per_s),
        ratio(first.p50_ms, second.p50_ms),
        ratio(first.p99_ms, second.p99_ms),
        ratio(first.joins_per_s, second.joins_per_s),
        ratio(first.kb_per_conn, second.kb_per_conn),
        ratio(first.cpu_us_per_delivery, second.cpu_us_per_delivery),
      ];
    }),
  );
}

function cpuPerDelivery(run: Run): number | null {
  return run.cpuRate && run.result && run.result.delivered_per_s > 0 ? run.cpuRate.nodes / run.result.delivered_per_s : null;
}

/** The figure each target judges, per workload: what the per-pair table shows. */
export const TARGET_METRICS: readonly { workload: string; label?: string; metric: string; of: (run: Run) => number | null }[] = [
  { workload: 'fanout-a', metric: 'delivered/s', of: (r) => r.result?.delivered_per_s ?? null },
  { workload: 'fanout-b', metric: 'delivered/s', of: (r) => r.result?.delivered_per_s ?? null },
  { workload: 'latency', metric: 'p99', of: (r) => r.result?.p99_us ?? null },
  { workload: 'small-rooms', metric: 'CPU/delivery', of: cpuPerDelivery },
  { workload: 'small-rooms', metric: 'p50', of: (r) => r.result?.p50_us ?? null },
  { workload: 'small-rooms', metric: 'p99', of: (r) => r.result?.p99_us ?? null },
  { workload: 'scale', metric: 'p99', of: (r) => r.result?.p99_us ?? null },
  ...JOIN_STORMS.filter((j) => j.from === 'scale' || j.from === 'storm').map((j) => ({ workload: j.from, label: j.label, metric: 'joins/s', of: (r: Run) => r.result?.joins_per_s ?? null })),
  { workload: 'fanout-a-irc', metric: 'delivered/s', of: (r) => r.result?.delivered_per_s ?? null },
  { workload: 'fanout-b-irc', metric: 'delivered/s', of: (r) => r.result?.delivered_per_s ?? null },
  { workload: 'storm', metric: 'KB/conn', of: (r) => (r.result ? r.kbPerConn : null) },
  { workload: 'small-rooms-irc', metric: 'CPU/delivery', of: cpuPerDelivery },
  { workload: 'small-rooms-irc', metric: 'p99', of: (r) => r.result?.p99_us ?? null },
  { workload: 'scale-irc', metric: 'KB/conn', of: (r) => (r.result ? r.kbPerConn : null) },
  ...JOIN_STORMS.filter((j) => j.from === 'scale-irc').map((j) => ({ workload: j.from, label: j.label, metric: 'joins/s', of: (r: Run) => r.result?.joins_per_s ?? null })),
];

/**
 * Each pair's ratio beside the median: on a shared machine one pair can land far from the rest,
 * and the spread says how far a median can be trusted.
 */
export function pairTable(runs: Run[], sides: Sides, pairs: number): string {
  const rows = TARGET_METRICS.filter((t) => runs.some((r) => r.workload === t.workload)).map((target) => {
    const [a, b] = sides(target.workload);
    const ratios: (number | null)[] = [];
    for (let pair = 0; pair < pairs; pair++) {
      const figure = (server: ServerKind): number | null => {
        const run = runs.find((r) => r.workload === target.workload && r.server === server && r.pair === pair);
        return run ? target.of(run) : null;
      };
      const first = figure(a);
      const second = figure(b);
      ratios.push(first !== null && second !== null && second !== 0 ? first / second : null);
    }
    const label = target.label ?? WORKLOADS.find((w) => w.name === target.workload)!.label;
    return [label, `${a}/${b}`, target.metric, ...ratios.map(times), times(median(ratios.filter((x): x is number => x !== null)))];
  });
  return table(['workload', 'A/B', 'metric', ...Array.from({ length: pairs }, (_, i) => `pair ${i + 1}`), 'median'], rows);
}

/**
 * Memory per connection at 10,000 connections through each door of the same server (the scale
 * and scale-irc runs of `server`): each run's figure and the ratio of the medians. Null unless
 * both ran.
 */
export function doorMemoryTable(runs: Run[], server: ServerKind): string | null {
  const perRun = (workload: string): number[] => runs.flatMap((r) => (r.workload === workload && r.server === server && r.result && r.kbPerConn !== null ? [r.kbPerConn] : []));
  const lab = perRun('scale');
  const irc = perRun('scale-irc');
  if (lab.length === 0 || irc.length === 0) return null;
  const each = (values: number[]): string => values.map((v) => v.toFixed(1)).join(', ');
  return table(
    ['10,000 connections', 'server', 'KB/conn (median)', 'each run'],
    [
      ['lab door', server, fmt(median(lab), 1), each(lab)],
      ['IRC door', server, fmt(median(irc), 1), each(irc)],
      ['IRC/lab', server, ratio(median(irc), median(lab)), ''],
    ],
  );
}

// ---------------------------------------------------------------- main
