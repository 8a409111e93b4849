/** The benchmark's workloads, the servers it runs them against, and what one run records. */
import type { DriverResult } from './driver.js';

export interface Workload {
  name: string;
  label: string;
  args: string[];
}

export const WORKLOADS: readonly Workload[] = [
  { name: 'fanout-a', label: 'fan-out A', args: ['--rooms', '1', '--members', '100', '--senders', '4', '--window', '16'] },
  { name: 'fanout-b', label: 'fan-out B', args: ['--rooms', '10', '--members', '50', '--senders', '2', '--window', '16'] },
  { name: 'latency', label: 'latency', args: ['--rooms', '1', '--members', '100', '--senders', '10', '--rate', '100'] },
  { name: 'scale', label: 'scale 10k', args: ['--rooms', '1000', '--members', '10', '--senders', '1', '--rate', '1'] },
];
/** The join storm is the setup of the scale run: its joins/s. */
export const JOIN_STORM = { name: 'join-storm', label: 'join storm', from: 'scale' };

/** `cluster`: the project's nodes (--cluster N) sharing rooms through one Redis. */
/** `reference`: another checkout's build (`--against DIR`), for a before/after A/B of a change. */
/** `inspircd`: InspIRCd 3.15 with the anchor config (../shared/bench/anchors), for the IRC door's A/B. */
export type ServerKind = 'project' | 'baseline' | 'cluster' | 'reference' | 'inspircd';

/** Which front door the load goes through: the lab protocol's, or IRC's (chatload --proto irc). */
export type Door = 'lab' | 'irc';

export interface Run {
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
