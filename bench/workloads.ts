/** The benchmark's workloads, the servers it runs them against, and what one run records. */
import type { DriverResult } from './driver.js';

/** The front door a workload drives: the lab protocol's port, or the IRC door (`--irc-port`). */
export type Door = 'lab' | 'irc';

export interface Workload {
  name: string;
  label: string;
  door: Door;
  args: string[];
  /** Connects in flight while the driver sets up (default chatload's 256): a reconnect storm's. */
  handshakes?: number;
}

const FANOUT_A = ['--rooms', '1', '--members', '100', '--senders', '4', '--window', '16'];
const FANOUT_B = ['--rooms', '10', '--members', '50', '--senders', '2', '--window', '16'];
const SCALE = ['--rooms', '1000', '--members', '10', '--senders', '1', '--rate', '1'];
/** The common case of a chat server: many small rooms, where no write coalescing helps. */
const SMALL_ROOMS = ['--rooms', '1000', '--members', '10', '--senders', '1', '--rate', '10'];

/** The IRC workloads are the lab's, load for load, driven with `chatload --proto irc`. */
export const WORKLOADS: readonly Workload[] = [
  { name: 'fanout-a', label: 'fan-out A', door: 'lab', args: FANOUT_A },
  { name: 'fanout-b', label: 'fan-out B', door: 'lab', args: FANOUT_B },
  { name: 'latency', label: 'latency', door: 'lab', args: ['--rooms', '1', '--members', '100', '--senders', '10', '--rate', '100'] },
  { name: 'small-rooms', label: 'small rooms', door: 'lab', args: SMALL_ROOMS },
  { name: 'scale', label: 'scale 10k', door: 'lab', args: SCALE },
  { name: 'storm', label: 'scale 10k, 4,096 connecting', door: 'lab', args: SCALE, handshakes: 4096 },
  { name: 'fanout-a-irc', label: 'fan-out A IRC', door: 'irc', args: FANOUT_A },
  { name: 'fanout-b-irc', label: 'fan-out B IRC', door: 'irc', args: FANOUT_B },
  { name: 'small-rooms-irc', label: 'small rooms IRC', door: 'irc', args: SMALL_ROOMS },
  { name: 'scale-irc', label: 'scale 10k IRC', door: 'irc', args: SCALE },
];

/** A join storm is the setup of a scale run: its joins/s. */
export interface JoinStorm {
  name: string;
  label: string;
  from: string;
}
export const JOIN_STORMS: readonly JoinStorm[] = [
  { name: 'join-storm', label: 'join storm', from: 'scale' },
  { name: 'join-storm-4096', label: 'join storm, 4,096 connecting', from: 'storm' },
  { name: 'join-storm-irc', label: 'join storm IRC', from: 'scale-irc' },
];

/** `cluster`: the project's nodes (--cluster N) sharing rooms through one Redis. */
/** `reference`: another checkout's build (`--against DIR`), for a before/after A/B of a change. */
/** `inspircd`: InspIRCd 3.15 with ../shared/bench/anchors/inspircd.conf, the IRC workloads' A/B anchor. */
export type ServerKind = 'project' | 'baseline' | 'cluster' | 'reference' | 'inspircd';

export interface Run {
  workload: string;
  server: ServerKind;
  /** Which A/B pair (0-based); 0 outside A/B runs. */
  pair: number;
  result: DriverResult | null;
  /** Server RSS growth during the run per connection, KiB (all nodes together in a cluster). */
  kbPerConn: number | null;
  /** CPU seconds the server processes (together) and, in cluster runs, Redis used during the run. */
  cpu: { nodes: number; redis: number } | null;
  /** The same while the driver measured (setup, warm-up and drain left out), CPU seconds per second. */
  cpuRate: { nodes: number; redis: number } | null;
  /** The quietest half second of the measured window: the servers' and the driver's CPU rates then. */
  quietest: { server: number; driver: number } | null;
  /** The servers' write system calls during the run per 1,000 messages delivered (coalescing: fewer is better). */
  writesPerThousand: number | null;
  /** CPU the hypervisor took from the machine during the run, in cores (steal time over the run's length). */
  stealCores: number | null;
  /** The kernel's listen-queue overflows during the run (TcpExt ListenOverflows, machine-wide). */
  listenOverflows: number | null;
  /** Cluster runs: node subscriber connections that Redis cut during the run (a slow subscriber passing its output-buffer limit). */
  outputBufferCuts: number | null;
  failure: string | null;
}
