import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AnyActorRef, SnapshotFrom } from 'xstate';
import type { ircClientLogic } from '../../actors/irc-client.js';
import type { clientLogic } from '../../actors/client.js';
import type { roomLogic } from '../../actors/room.js';
import type { ServerActor } from '../server-actor.js';
import type { ClusterLink } from '../cluster/link.js';
import { clientDump, DUMP_VERSION, roomDump, serverDump, type ClientDump, type ClusterDump, type DumpDocument, type ProcessDump, type RoomDump } from './dump.js';

/**
 * Actors mapped per turn of the event loop. The walk yields between slices so that a dump of
 * 10,000 connections never holds chat up for more than about a millisecond at a time.
 */
const SLICE = 500;

/** The event-loop delay monitor's timer period: its samples are whole periods, reported less this. */
const DELAY_RESOLUTION_MS = 10;

/** Takes dumps of one server's actor tree and keeps the process figures (event-loop delay) they report. */
export interface Dumper {
  dump(): Promise<DumpDocument>;
  close(): void;
}

type RoomSnapshot = SnapshotFrom<typeof roomLogic>;
type ClientSnapshot = SnapshotFrom<typeof clientLogic> | SnapshotFrom<typeof ircClientLogic>;

/** Rooms listed in a dump's cluster section, at most. */
const CLUSTER_ROOMS_SHOWN = 1_000;

async function clusterDump(link: ClusterLink): Promise<ClusterDump> {
  const base = { node: link.nodeId, redis: link.url };
  try {
    const [nodes, rooms] = await Promise.all([link.nodes(), link.rooms(CLUSTER_ROOMS_SHOWN)]);
    return { ...base, error: null, nodes, rooms };
  } catch (error) {
    return { ...base, error: (error as Error).message, nodes: [], rooms: [] };
  }
}

export function createDumper(server: ServerActor): Dumper {
  const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  delay.enable();
  // Requests that arrive while a walk is under way share it: a dump is never taken twice at once.
  let inFlight: Promise<DumpDocument> | null = null;

  const processDump = (): ProcessDump => {
    const memory = process.memoryUsage();
    const ms = (nanoseconds: number): number =>
      Number.isFinite(nanoseconds) ? Math.max(0, Math.round((nanoseconds / 1e6 - DELAY_RESOLUTION_MS) * 100) / 100) : 0;
    const figures: ProcessDump = {
      pid: process.pid,
      uptimeMs: Math.round(process.uptime() * 1000),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      eventLoopDelayMs: { mean: ms(delay.mean), p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    };
    delay.reset();
    return figures;
  };

  const collect = async (): Promise<DumpDocument> => {
    const started = performance.now();
    const now = Date.now();
    const snapshot = server.getSnapshot();
    const serverSection = serverDump(server.id, snapshot, now);
    // The server's own registries of its children; each child is then asked for its own snapshot.
    const roomRefs: AnyActorRef[] = [...snapshot.context.rooms.values()];
    const clientRefs: AnyActorRef[] = Array.from(snapshot.context.clients.values(), (entry) => entry.actor);
    const rooms = await walk(roomRefs, (ref) => {
      // The server spawned this ref from roomLogic: its snapshot is that logic's.
      const room = ref.getSnapshot() as RoomSnapshot;
      return room.status === 'active' ? roomDump(`room-${room.context.ref}`, room) : null;
    });
    const clients = await walk(clientRefs, (ref) => {
      const client = ref.getSnapshot() as ClientSnapshot;
      return client.status === 'active' ? clientDump(`client-${client.context.connection.info.id}`, client) : null;
    });
    const link = snapshot.context.cluster;
    const cluster = link ? await clusterDump(link) : undefined;
    return {
      version: DUMP_VERSION,
      takenAt: new Date(now).toISOString(),
      tookMs: Math.round((performance.now() - started) * 100) / 100,
      server: serverSection,
      rooms,
      clients,
      process: processDump(),
      ...(cluster ? { cluster } : {}),
    };
  };

  return {
    dump: () => {
      inFlight ??= collect().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
    close: () => delay.disable(),
  };
}

/** Maps every actor in slices; an actor that stopped while the walk yielded is left out. */
async function walk<T extends RoomDump | ClientDump>(refs: readonly AnyActorRef[], map: (ref: AnyActorRef) => T | null): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < refs.length; i++) {
    if (i > 0 && i % SLICE === 0) await nextTurn();
    const entry = map(refs[i]!);
    if (entry) out.push(entry);
  }
  return out;
}
