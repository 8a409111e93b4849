/** The bench's figures: medians per workload and server, and the tables it prints. */
import type { DriverResult } from './driver.js';
import { JOIN_STORM, WORKLOADS, type Run, type ServerKind, type Workload } from './workloads.js';

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
  output_buffer_cuts: number | null;
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
    output_buffer_cuts: mine.some((r) => r.outputBufferCuts !== null) ? Math.max(...mine.map((r) => r.outputBufferCuts ?? 0)) : null,
  };
}

export function joinStormRow(scale: Row): Row {
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

export const fmt = (value: number | null, digits = 0): string => (value === null ? '-' : value.toFixed(digits));

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

export function figuresTable(rows: Row[]): string {
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

export function ratioTable(rows: Row[], a: ServerKind, b: ServerKind): string {
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
export const TARGET_METRICS: readonly { workload: string; label?: string; metric: string; of: (r: DriverResult) => number }[] = [
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
export function pairTable(runs: Run[], a: ServerKind, b: ServerKind, pairs: number): string {
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
