/**
 * The server's Prometheus metrics (prom-client), read from the supervisor's own state when
 * Prometheus scrapes: nothing is counted per delivery on the hot path that was not counted before
 * (rooms and connections keep their figures; the supervisor keeps the totals of the gone ones).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerActor } from '../server-actor.js';
import type { ClusterLink } from '../cluster/link.js';

/** The lag buckets: a healthy loop is under a few milliseconds; a second is a stall. */
const LAG_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** How often the event loop's delay is sampled into the histogram. */
const LAG_SAMPLE_MS = 1000;

export interface ServerMetrics {
  readonly registry: Registry;
  close(): void;
}

/** A counter whose value is a total kept elsewhere, set when scraped. */
function totalCounter(registry: Registry, name: string, help: string, total: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(total());
    },
  });
}

export function createMetrics(actor: ServerActor, cluster: ClusterLink | null): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const context = () => actor.getSnapshot().context;

  new Gauge({
    name: 'chat_connections',
    help: 'Open connections, by front door (lab, irc, web) and whether they are over TLS',
    labelNames: ['door', 'tls'],
    registers: [registry],
    collect() {
      this.reset();
      for (const door of ['lab', 'irc', 'web']) for (const tls of ['false', 'true']) this.set({ door, tls }, 0);
      for (const { door, connection } of context().clients.values()) this.inc({ door, tls: String(connection.info.encrypted) });
    },
  });
  totalCounter(registry, 'chat_connections_accepted_total', 'Connections accepted under the limits', () => context().counters.accepted);
  new Counter({
    name: 'chat_connections_refused_total',
    help: 'Connections refused, by reason (limit: the total; address: per address; origin: the web door\'s origin check)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of context().counters.refusedBy) this.inc({ reason }, count);
    },
  });
  new Gauge({
    name: 'chat_rooms',
    help: 'Rooms with members on this node',
    registers: [registry],
    collect() {
      this.set(context().rooms.size);
    },
  });
  const roomTotal = (key: 'messagesRouted' | 'deliveries'): number => {
    let total = context().counters.retired[key];
    for (const room of context().rooms.values()) total += room.getSnapshot().context.stats[key];
    return total;
  };
  totalCounter(registry, 'chat_messages_routed_total', 'Chat messages routed through rooms', () => roomTotal('messagesRouted'));
  totalCounter(registry, 'chat_deliveries_total', 'Room events delivered to members (one per member per event)', () => roomTotal('deliveries'));
  const clientTotal = (key: 'requests' | 'errors' | 'bytesIn' | 'bytesOut'): number => {
    let total = context().counters.retired[key];
    for (const { actor: client, connection } of context().clients.values()) {
      if (key === 'bytesIn') total += connection.bytesIn();
      else if (key === 'bytesOut') total += connection.bytesOut();
      else total += client.getSnapshot().context.stats[key];
    }
    return total;
  };
  totalCounter(registry, 'chat_requests_total', 'Requests handled (lab requests and IRC commands)', () => clientTotal('requests'));
  totalCounter(registry, 'chat_request_errors_total', 'Error replies sent (lab ERROR_CODE replies and IRC error numerics)', () => clientTotal('errors'));
  totalCounter(registry, 'chat_bytes_received_total', 'Bytes read from clients', () => clientTotal('bytesIn'));
  totalCounter(registry, 'chat_bytes_sent_total', 'Bytes written to clients', () => clientTotal('bytesOut'));
  totalCounter(registry, 'chat_slow_consumers_cut_total', 'Connections cut because they stopped reading (output past its limit)', () => context().counters.slowConsumers);
  totalCounter(registry, 'chat_floods_slowed_total', 'Times a connection was slowed by the receive-flood limit', () => context().counters.floodsSlowed.count);
  const byLabel = (name: string, help: string, label: string, read: () => Readonly<Record<string, Map<string, number>>>): void => {
    new Counter({
      name,
      help,
      labelNames: ['protocol', label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [protocol, counts] of Object.entries(read())) for (const [key, count] of counts) this.inc({ protocol, [label]: key }, count);
      },
    });
  };
  byLabel('chat_requests_by_kind_total', 'Requests by protocol and kind (lab request, or IRC command; other: a command the IRC door does not know)', 'kind', () => context().clientSettings.tally.requests);
  byLabel('chat_errors_by_code_total', 'Error replies by protocol and code (lab error name, or IRC ERR_ numeric)', 'code', () => context().clientSettings.tally.errors);
  totalCounter(registry, 'chat_actor_failures_total', 'Client and room actors that failed (contained by the supervisor)', () => context().counters.failures);
  totalCounter(registry, 'chat_room_restarts_total', 'Room actors restarted with their membership after a failure', () => context().counters.roomRestarts);

  const lag = new Histogram({ name: 'chat_event_loop_lag_seconds', help: 'Event-loop delay, sampled each second (its worst in that second)', buckets: LAG_BUCKETS, registers: [registry] });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const sampler = setInterval(() => {
    lag.observe(delay.max / 1e9);
    delay.reset();
  }, LAG_SAMPLE_MS);
  sampler.unref();

  if (cluster) {
    new Gauge({
      name: 'chat_cluster_redis_reachable',
      help: 'Cluster mode: 1 while this node reaches Redis and holds its lease, else 0',
      registers: [registry],
      collect() {
        this.set(cluster.reachable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'chat_cluster_nodes_alive',
      help: 'Cluster mode: nodes with a live lease, as Redis has them',
      registers: [registry],
      async collect() {
        this.set(cluster.reachable ? (await cluster.nodes().catch(() => [])).length : 0);
      },
    });
    const latency = new Histogram({ name: 'chat_cluster_redis_command_seconds', help: 'Cluster mode: Redis command round trips (ordering scripts, leases, lookups)', buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] });
    cluster.observeCommandLatency((seconds) => latency.observe(seconds));
    totalCounter(registry, 'chat_cluster_unavailable_total', 'Cluster mode: requests answered UNAVAILABLE (Redis not reached within the wait bound)', () => cluster.stats.unavailable);
    totalCounter(registry, 'chat_cluster_lease_renewals_total', 'Cluster mode: lease renewals that succeeded', () => cluster.stats.leaseRenewals);
    totalCounter(registry, 'chat_cluster_log_reads_total', 'Cluster mode: gaps (and catch-ups) filled from a room\'s log in Redis', () => cluster.stats.logReads);
    totalCounter(registry, 'chat_cluster_fencings_total', 'Cluster mode: times this node lost its lease and dropped its connections', () => context().counters.fencings);
  }
  return {
    registry,
    close() {
      cluster?.observeCommandLatency(null);
      clearInterval(sampler);
      delay.disable();
    },
  };
}
