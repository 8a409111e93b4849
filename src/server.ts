import { createActor } from 'xstate';
import { serverMachine } from '../actors/server.js';
import { createDumper } from './admin/collect.js';
import type { DumpDocument } from './admin/dump.js';
import { AdminEndpointError, openAdminEndpoint, type AdminEndpoint } from './admin/endpoint.js';
import { AdminLocationError, defaultAdminDirectory, defaultAdminPath, ensurePrivateDirectory } from './admin/location.js';
import { traceActorMessages } from './admin/trace.js';
import { ircSpoken, resolveOptions, type ChatServerOptions, type ResolvedOptions } from './config.js';
import { createLogger, type Logger } from './log.js';
import type { ClusterLink } from './cluster/link.js';
import { ClusterStartError, ListenError } from './errors.js';
import { OptionError } from './option-error.js';
import { createMetrics } from './admin/metrics.js';
import { openMetricsEndpoint } from './admin/metrics-endpoint.js';
import { listenerPorts, portOf } from './supervision/doors.js';
import type { ListenerKey } from './supervision/registry.js';
import { TlsCredentials, TlsCredentialsError } from './transport/tls-credentials.js';

export { ClusterStartError, ListenError } from './errors.js';
import type { ServerActor } from './server-actor.js';
import { inspectorOf, type ServerInspector } from './admin/inspect.js';

export type { ServerActor };

export interface ChatServerHandle {
  /** The bound address: `port` is the real one when `port: 0` was asked for. */
  readonly host: string;
  readonly port: number;
  /** The IRC door's bound port (the real one when `ircPort: 0` was asked for); null when it is off. */
  readonly ircPort: number | null;
  /** The web door's bound port (the chat page at `http://host:webPort/`); null when it is off. */
  readonly webPort: number | null;
  /** The TLS listeners' bound ports (lab, IRC, web over HTTPS); null for each that is off. */
  readonly tlsPort: number | null;
  readonly ircTlsPort: number | null;
  readonly webTlsPort: number | null;
  /**
   * Reads the TLS certificate and key again (what `SIGHUP` does to the daemon): new handshakes
   * use the new pair, connections already up keep theirs. A pair that cannot be used is logged
   * (one error line) and the old one stays; returns whether the new one was taken.
   */
  reloadTls(): boolean;
  /** The metrics port (/metrics, /healthz, /readyz); null when it is off. */
  readonly metricsPort: number | null;
  readonly options: ResolvedOptions;
  /** The supervisor: the server actor, with the whole tree below it. */
  readonly actor: ServerActor;
  readonly log: Logger;
  /** The admin endpoint's socket path, or null when it is off (or could not be opened: logged). */
  readonly adminPath: string | null;
  /** Cluster mode: the link to Redis (this node's id, the cluster's nodes and rooms); null on a single server. */
  readonly cluster: ClusterLink | null;
  /** What the actor tree is doing right now: the same document the admin endpoint's `dump` returns. */
  dump(): Promise<DumpDocument>;
  /** A live look into the actor tree, taken at once: for tests and tools (counts, actors, figures). */
  readonly inspect: ServerInspector;
  /** Stop accepting, flush and close every connection; resolves when every socket and actor is gone. */
  stop(): Promise<void>;
  /** Resolves once the server has stopped, however it was stopped (stop(), KILL_SERVICE, a signal). */
  readonly closed: Promise<void>;
}

export interface StartOptions extends ChatServerOptions {
  /** A pino logger to use instead of one made from `logLevel`. */
  logger?: Logger;
}


/** Starts the whole supervisor in-process; resolves once it listens. */
export async function startChatServer(options: StartOptions = {}): Promise<ChatServerHandle> {
  const resolved = resolveOptions(options);
  const log = options.logger ?? createLogger(resolved.logLevel);
  // At `trace`, every actor-to-actor message is logged through xstate's inspection hook; client and
  // room actors are created with this actor as parent, so they share its system and its inspector.
  const inspect = log.isLevelEnabled('trace') ? traceActorMessages(log) : undefined;
  const tls = tlsCredentials(resolved);
  const cluster = resolved.redis === undefined ? null : await joinCluster(resolved, log);
  const actor = createActor(serverMachine, { id: 'server', input: { options: resolved, log, cluster, tls }, inspect });
  if (cluster) {
    cluster.onFenced((change) => actor.send({ type: 'cluster.fenced', ...change }));
    // Private messages from IRC users on other nodes for this node's.
    if (ircSpoken(resolved)) await cluster.nicks.listen((message) => actor.send({ type: 'irc.remoteDirect', message }));
    // A stopping node announces its members' departures to the other nodes before its sockets
    // close; `closed` waits for that same leaving.
    const watch = actor.subscribe((snapshot) => {
      if (!snapshot.matches('stopping') && snapshot.status === 'active') return;
      watch.unsubscribe();
      void cluster.close(true);
    });
  }
  const dumper = createDumper(actor);
  let admin: Promise<AdminEndpoint | null> = Promise.resolve(null);
  let metrics: { port: number; close(): Promise<void> } | null = null;

  const stopped = new Promise<void>((resolve) => {
    actor.subscribe({
      complete: () => resolve(),
      error: (err: unknown) => {
        // The supervisor itself failed: nothing can be contained above it.
        log.fatal({ err }, 'server actor failed');
        resolve();
      },
    });
  });
  const closed = stopped.then(async () => {
    dumper.close();
    await cluster?.close(true);
    // Read when the server has stopped: by then `admin` is the endpoint opened after listening.
    await (await admin)?.close();
    await metrics?.close();
  });
  const configured = listenerPorts(resolved);
  const listening = new Promise<{ host: string; port: number; ports: Partial<Record<ListenerKey, number>> }>((resolve, reject) => {
    const subscription = actor.subscribe((snapshot) => {
      const { address, doorAddresses } = snapshot.context;
      // Every door listening: the lab's, and each other one that is on.
      const keys = Object.keys(configured) as ListenerKey[];
      if (address && keys.every((key) => configured[key] === undefined || doorAddresses[key])) {
        subscription.unsubscribe();
        resolve({ ...address, ports: Object.fromEntries(keys.map((key) => [key, doorAddresses[key]?.port])) });
      } else if (snapshot.context.failure) {
        subscription.unsubscribe();
        reject(describeListenFailure(snapshot.context.failure, resolved));
      }
    });
  });
  actor.start();
  const address = await listening.catch(async (error: unknown) => {
    dumper.close();
    await cluster?.close(true);
    throw error;
  });
  cluster?.describeAs(JSON.stringify({ host: resolved.advertiseIp ?? address.host, port: address.port, pid: process.pid }));
  admin = openAdmin(resolved, address.port, dumper.dump, log);
  const endpoint = await admin;
  if (resolved.metricsPort !== undefined) {
    metrics = await openMetrics(resolved, actor, cluster, log).catch(async (error: unknown) => {
      await stopAfterFailedStart(actor, closed);
      throw error;
    });
  }
  return {
    host: address.host,
    port: address.port,
    ircPort: address.ports.irc ?? null,
    webPort: address.ports.web ?? null,
    tlsPort: address.ports.labTls ?? null,
    ircTlsPort: address.ports.ircTls ?? null,
    webTlsPort: address.ports.webTls ?? null,
    reloadTls: () => reloadTls(tls, log),
    metricsPort: metrics?.port ?? null,
    options: resolved,
    actor,
    log,
    adminPath: endpoint?.path ?? null,
    cluster,
    dump: dumper.dump,
    inspect: inspectorOf(actor),
    closed,
    stop: async () => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'stop' });
      await closed;
    },
  };
}

/** The metrics port, opened once the doors listen; a port in use is a start error. */
async function openMetrics(options: ResolvedOptions, actor: ServerActor, cluster: ClusterLink | null, log: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const metrics = createMetrics(actor, cluster);
  const readiness = {
    notReadyBecause(): string | null {
      const snapshot = actor.getSnapshot();
      if (snapshot.status !== 'active' || snapshot.matches('stopping')) return 'stopping';
      if (cluster && !cluster.reachable) return 'Redis not reachable (or this node fenced)';
      return null;
    },
  };
  try {
    const endpoint = await openMetricsEndpoint(options.metricsHost, options.metricsPort!, metrics, readiness, log);
    return { port: endpoint.port, close: async () => { metrics.close(); await endpoint.close(); } };
  } catch (error) {
    metrics.close();
    const { code } = error as NodeJS.ErrnoException;
    throw new ListenError(code === 'EADDRINUSE' ? `metrics port ${options.metricsPort} is already in use (${options.metricsHost})` : `cannot open the metrics port ${options.metricsPort}: ${(error as Error).message}`, code);
  }
}

async function stopAfterFailedStart(actor: ServerActor, closed: Promise<void>): Promise<void> {
  if (actor.getSnapshot().status === 'active') actor.send({ type: 'stop' });
  await closed;
}

/** The TLS pair, read and checked at start: a bad one is an option error, before anything listens. */
function tlsCredentials(options: ResolvedOptions): TlsCredentials | null {
  if (options.tlsCert === undefined || options.tlsKey === undefined) return null;
  try {
    return new TlsCredentials(options.tlsCert, options.tlsKey);
  } catch (error) {
    throw error instanceof TlsCredentialsError ? new OptionError(error.message) : error;
  }
}

function reloadTls(tls: TlsCredentials | null, log: Logger): boolean {
  if (!tls) {
    log.warn('TLS reload asked for, but TLS is off (no --tls-cert and --tls-key)');
    return false;
  }
  try {
    tls.reload();
    log.info({ cert: tls.certPath, key: tls.keyPath }, 'TLS certificate and key reloaded');
    return true;
  } catch (error) {
    log.error({ cert: tls.certPath, key: tls.keyPath }, `TLS certificate not reloaded, the old one stays: ${(error as Error).message}`);
    return false;
  }
}

async function joinCluster(options: ResolvedOptions, log: Logger): Promise<ClusterLink> {
  // Loaded only in cluster mode: a single server does not carry the Redis client.
  const { ClusterLink } = await import('./cluster/link.js');
  try {
    return await ClusterLink.connect({
      url: options.redis!,
      prefix: options.clusterPrefix,
      leaseMs: options.leaseMs,
      waitMs: options.redisWaitMs,
      logLength: options.roomLogLength,
      describe: JSON.stringify({ host: options.advertiseIp ?? options.host ?? '0.0.0.0', port: options.port, pid: process.pid }),
      log,
    });
  } catch (error) {
    throw new ClusterStartError(`cluster mode: ${(error as Error).message}`);
  }
}

/**
 * The admin endpoint is a debugging aid: failing to open it is logged and chat is served anyway,
 * so another local user squatting its directory costs the dump, never the chat service. The
 * default directory is checked (private, ours); an explicit path is the operator's choice, as
 * with tmux -S or ssh-agent -a, and `dump` checks the socket's owner whichever it is.
 */
async function openAdmin(options: ResolvedOptions, port: number, dump: () => Promise<DumpDocument>, log: Logger): Promise<AdminEndpoint | null> {
  if (options.admin === false) return null;
  const path = options.admin === true ? defaultAdminPath(port) : options.admin;
  try {
    if (options.admin === true) await ensurePrivateDirectory(defaultAdminDirectory());
    const endpoint = await openAdminEndpoint(path, { dump }, log);
    log.info({ admin: path }, 'admin endpoint listening');
    return endpoint;
  } catch (error) {
    const known = error instanceof AdminEndpointError || error instanceof AdminLocationError;
    const message = known ? error.message : `cannot open admin socket ${path}: ${(error as Error).message}`;
    log.error({ admin: path }, `admin endpoint not opened: ${message}`);
    return null;
  }
}

function describeListenFailure(error: Error, options: ResolvedOptions): ListenError {
  const { code, address } = error as NodeJS.ErrnoException & { address?: string };
  // The address Node tried: with no --host, `::` (IPv6 and IPv4 alike), or `0.0.0.0` on a host without IPv6.
  const host = address ?? options.host ?? '::';
  const { door = 'lab', tls = false } = error as { door?: 'lab' | 'irc' | 'web'; tls?: boolean };
  const port = portOf(options, door, tls);
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const what = `${door === 'irc' ? 'IRC ' : door === 'web' ? 'web ' : ''}${tls ? 'TLS port' : 'port'}`;
  if (code === 'EADDRINUSE') return new ListenError(`${what} ${port} is already in use (${where})`, code);
  if (code === 'EACCES') return new ListenError(`no permission to listen on ${where}`, code);
  return new ListenError(`cannot listen on ${where}: ${error.message}`, code);
}
