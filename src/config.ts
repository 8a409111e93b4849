import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { OptionError } from './option-error.js';
import type { TransportOptions } from './transport/connection.js';
import { labDecoders } from './transport/inbound.js';
import { IRC_DECODERS, type IrcInput } from './irc/decoder.js';
import { parseTrustedProxies } from './transport/trusted-proxies.js';
import { clusterPrefixProblem } from './cluster/keys.js';
import { redisUrlProblem } from './cluster/redis-url.js';
import { parseOrigins } from './web/origins.js';

export { OptionError };

/** Options, defaults and limits: one place, documented in the README's Options table. */

export type KillServicePolicy = 'loopback' | 'any' | 'off';
export const KILL_SERVICE_POLICIES: readonly KillServicePolicy[] = ['loopback', 'any', 'off'];

export interface ChatServerOptions {
  /** TCP port; 0 picks a free one (tests). Default 5000. */
  port?: number;
  /** Interface to listen on. Default all interfaces. */
  host?: string;
  /** The `StudentID` line of the HELO reply. */
  studentId?: string;
  /** Address to advertise in HELO and JOINED replies instead of the socket's local one (behind NAT). */
  advertiseIp?: string;
  /** Who may stop the server with KILL_SERVICE. Default `loopback`. */
  killService?: KillServicePolicy;
  /** pino level: fatal, error, warn, info, debug, trace, silent. Default `info`. */
  logLevel?: string;
  /** Quiet period after which a request missing its final newline is taken as complete. */
  quietMs?: number;
  /** How long a request may stay incomplete, from its first byte, before it is discarded with MALFORMED. */
  requestTimeoutMs?: number;
  /** Idle time before TCP keepalive probes start (finds dead peers). */
  keepAliveMs?: number;
  /** How long a whole-server stop waits for queued output to flush. */
  shutdownFlushMs?: number;
  /** Bytes since the last newline before a line is TOO_LONG (and the connection closed). */
  maxLineBytes?: number;
  /** Bytes of one request, a multi-line message included, before it is TOO_LONG. */
  maxRequestBytes?: number;
  /** Rooms one connection may be in at once. */
  maxRoomsPerConnection?: number;
  /** Rooms with members at once. */
  maxRooms?: number;
  /** Room names (and their refs) remembered after a room empties; the oldest are forgotten first. */
  rememberedRooms?: number;
  /** Connections at once. Default 20,000, or the file-descriptor limit less 64 if lower. */
  maxConnections?: number;
  /** Connections from one peer address at once (loopback exempt). */
  maxConnectionsPerAddress?: number;
  /** Connections the kernel queues for each listener until they are accepted (default 4096; capped by net.core.somaxconn). */
  listenBacklog?: number;
  /** The per-address limit counts IPv6 peers by this many leading bits (64: per /64). */
  ipv6PrefixLength?: number;
  /** Unsent output bytes per connection above which, for longer than the grace period, it is cut as a slow consumer (8× this: cut at once). */
  maxSendQueueBytes?: number;
  /** How long a connection's unsent output may stay above `maxSendQueueBytes`. */
  slowConsumerGraceMs?: number;
  /** Receive flood control: sustained bytes per second read from one connection. */
  floodBytesPerSecond?: number;
  /** Receive flood control: bytes one connection may send in a burst. */
  floodBurstBytes?: number;
  /** `CIDR[,CIDR]`: peers whose PROXY protocol header (v1 or v2) names the real client. */
  trustedProxy?: string;
  /** How long a trusted proxy may take to send its PROXY header before the connection is dropped. */
  proxyHeaderTimeoutMs?: number;
  /** Test-only: actors accept a `test.fault` event that makes them throw (supervision tests). */
  testHooks?: boolean;
  /**
   * The local admin endpoint (a Unix socket answering `dump`): a path, `true` for the default path
   * derived from the bound port, or `false` for none. Default `false` here; the CLI daemon turns it on.
   */
  admin?: string | boolean;
  /**
   * Cluster mode: the Redis that several servers share rooms through (`redis://`, `rediss://` or
   * `unix:///path`). Absent: a single server, no Redis.
   */
  redis?: string;
  /** Cluster mode: prefix of every key and channel, so deployments (or tests) can share a Redis. */
  clusterPrefix?: string;
  /** Cluster mode: a node whose lease is not renewed for this long is dead; its members are announced gone. */
  leaseMs?: number;
  /** Cluster mode: how long a request waits for Redis before it gets UNAVAILABLE. */
  redisWaitMs?: number;
  /** Cluster mode: events kept in each room's log in Redis, for nodes catching up after a gap. */
  roomLogLength?: number;
  /** The IRC front door's TCP port (0: any free one); absent: no IRC door. */
  ircPort?: number;
  /** The IRC server name (in every numeric's prefix). Default: the host name. */
  serverName?: string;
  /** The IRC network name (ISUPPORT NETWORK, the welcome). */
  networkName?: string;
  /** A file whose lines are the IRC message of the day; absent: none (422). */
  motd?: string;
  /** An IRC connection silent this long gets a PING; silent as long again after it, it is closed. */
  ircPingMs?: number;
  /** The web door's HTTP port (the chat page, and IRC over WebSocket); absent: no web door. */
  webPort?: number;
  /**
   * Origins whose pages may open the web door's WebSocket, comma-separated (`https://chat.example.org`),
   * or `*` for any. Absent: only the door's own page (the Origin's host is the request's Host).
   */
  webOrigins?: string;
  /** TLS: the certificate (PEM, with its chain) and private key every TLS listener serves. */
  tlsCert?: string;
  tlsKey?: string;
  /** The lab protocol over TLS on this port; absent: none. */
  tlsPort?: number;
  /** IRC over TLS on this port (6697 by convention); absent: none. */
  ircTlsPort?: number;
  /** The web door over HTTPS and WSS on this port; absent: none. */
  webTlsPort?: number;
  /** A TLS client that has not finished its handshake this long after connecting is dropped. */
  tlsHandshakeTimeoutMs?: number;
  /** The operators' HTTP port: /metrics (Prometheus), /healthz, /readyz; absent: none. */
  metricsPort?: number;
  /** Where the metrics port listens (default loopback only). */
  metricsHost?: string;
}

export type ResolvedOptions = Readonly<Required<Omit<ChatServerOptions, 'advertiseIp' | 'host' | 'trustedProxy' | 'redis' | 'ircPort' | 'motd' | 'webPort' | 'webOrigins' | 'tlsCert' | 'tlsKey' | 'tlsPort' | 'ircTlsPort' | 'webTlsPort' | 'metricsPort'>>> & {
  readonly metricsPort: number | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly tlsPort: number | undefined;
  readonly ircTlsPort: number | undefined;
  readonly webTlsPort: number | undefined;
  readonly redis: string | undefined;
  readonly ircPort: number | undefined;
  readonly webPort: number | undefined;
  readonly webOrigins: string | undefined;
  readonly motd: string | undefined;
  readonly advertiseIp: string | undefined;
  readonly host: string | undefined;
  readonly trustedProxy: string | undefined;
};

export const DEFAULTS = {
  port: 5000,
  studentId: 'actor-chat-server',
  killService: 'loopback',
  logLevel: 'info',
  quietMs: 200,
  // As nginx's client_header_timeout: a person typing a request by hand has a minute.
  requestTimeoutMs: 60_000,
  keepAliveMs: 60_000,
  shutdownFlushMs: 5_000,
  // A chat line is short; 8 KiB leaves room for long messages while bounding a newline-less flood.
  maxLineBytes: 8 * 1024,
  maxRequestBytes: 64 * 1024,
  maxRoomsPerConnection: 100,
  maxRooms: 10_000,
  rememberedRooms: 100_000,
  maxConnections: 20_000,
  // A restarted daemon meets every client's reconnect at once: Node's 511 overflows (the kernel caps it at net.core.somaxconn).
  listenBacklog: 4096,
  maxConnectionsPerAddress: 100,
  // A /64 is what one IPv6 host or subscriber is normally given.
  ipv6PrefixLength: 64,
  // A reader this far behind has stopped reading; more would only grow the heap.
  maxSendQueueBytes: 1024 * 1024,
  slowConsumerGraceMs: 2_000,
  proxyHeaderTimeoutMs: 5_000,
  floodBytesPerSecond: 1024 * 1024,
  floodBurstBytes: 4 * 1024 * 1024,
  testHooks: false,
  // Off when embedded: tests and embedders run many servers in one process; `serve` turns it on.
  admin: false,
  clusterPrefix: 'chat:',
  leaseMs: 10_000,
  redisWaitMs: 3_000,
  roomLogLength: 10_000,
  networkName: 'ActorChat',
  // As InspIRCd's and Ergo's defaults: two minutes of silence before a PING.
  ircPingMs: 120_000,
  // A handshake is a few round trips; ten seconds is generous on any network and frees the descriptor soon.
  tlsHandshakeTimeoutMs: 10_000,
  // Metrics are for the operator's own Prometheus, not the world: loopback unless said otherwise.
  metricsHost: '127.0.0.1',
} as const satisfies Partial<ChatServerOptions>;

/** Descriptors kept back from connections: log files, the listener, the admin socket, DNS. */
export const RESERVED_DESCRIPTORS = 64;

/** The soft limit on open files, where the platform tells (Linux); undefined elsewhere. */
export function descriptorLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    return match && match[1] !== 'unlimited' ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function resolveOptions(options: ChatServerOptions = {}): ResolvedOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const fdLimit = descriptorLimit();
  const maxConnections = fdLimit === undefined ? DEFAULTS.maxConnections : Math.max(1, Math.min(DEFAULTS.maxConnections, fdLimit - RESERVED_DESCRIPTORS));
  const resolved = { ...DEFAULTS, maxConnections, serverName: defaultServerName(), advertiseIp: undefined, host: undefined, trustedProxy: undefined, redis: undefined, ircPort: undefined, motd: undefined, webPort: undefined, webOrigins: undefined, tlsCert: undefined, tlsKey: undefined, tlsPort: undefined, ircTlsPort: undefined, webTlsPort: undefined, metricsPort: undefined, ...defined } as ResolvedOptions;
  if (!KILL_SERVICE_POLICIES.includes(resolved.killService)) {
    throw new OptionError(`--kill-service must be one of ${KILL_SERVICE_POLICIES.join(', ')}, got "${resolved.killService}"`);
  }
  if (resolved.trustedProxy !== undefined) parseTrustedProxies(resolved.trustedProxy);
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    throw new OptionError(`port must be an integer from 0 to 65535`);
  }
  const optionalPorts = [['--irc-port', resolved.ircPort], ['--web-port', resolved.webPort], ['--tls-port', resolved.tlsPort], ['--irc-tls-port', resolved.ircTlsPort], ['--web-tls-port', resolved.webTlsPort], ['--metrics-port', resolved.metricsPort]] as const;
  for (const [flag, port] of optionalPorts) {
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new OptionError(`${flag} must be an integer from 0 to 65535`);
  }
  const tlsPorts = optionalPorts.slice(2, 5).filter(([, port]) => port !== undefined).map(([flag]) => flag);
  if ((resolved.tlsCert === undefined) !== (resolved.tlsKey === undefined)) throw new OptionError('--tls-cert and --tls-key go together');
  if (tlsPorts.length > 0 && resolved.tlsCert === undefined) throw new OptionError(`${tlsPorts.join(' and ')} need${tlsPorts.length === 1 ? 's' : ''} --tls-cert and --tls-key`);
  if (resolved.webOrigins !== undefined) parseOrigins(resolved.webOrigins);
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(resolved.serverName)) throw new OptionError(`--server-name must be a host name (letters, digits, dots, dashes), got "${resolved.serverName}"`);
  if (!/^[A-Za-z0-9._-]+$/.test(resolved.networkName)) throw new OptionError(`--network-name must be one word of letters, digits, dots, dashes or underscores, got "${resolved.networkName}"`);
  if (!LOG_LEVELS.includes(resolved.logLevel)) throw new OptionError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${resolved.logLevel}"`);
  for (const key of AT_LEAST_ONE) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) throw new OptionError(`${key} must be a whole number of at least 1, got ${resolved[key]}`);
  }
  if (clusterPrefixProblem(resolved.clusterPrefix)) throw new OptionError('--cluster-prefix must not contain { or }');
  const redisProblem = resolved.redis === undefined ? null : redisUrlProblem(resolved.redis);
  if (redisProblem) throw new OptionError(redisProblem);
  // libuv takes the backlog as a 32-bit int (4294967296 would wrap to 0); no kernel queues more than 65535.
  if (resolved.listenBacklog > 65_535) throw new OptionError(`listenBacklog must be at most 65535, got ${resolved.listenBacklog}`);
  if (!Number.isInteger(resolved.ipv6PrefixLength) || resolved.ipv6PrefixLength < 1 || resolved.ipv6PrefixLength > 128) {
    throw new OptionError(`ipv6PrefixLength must be a whole number from 1 to 128, got ${resolved.ipv6PrefixLength}`);
  }
  for (const key of PERIODS) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 0) throw new OptionError(`${key} must be a whole number of milliseconds, got ${resolved[key]}`);
  }
  return resolved;
}

/** The hard output limit, as a multiple of the soft one: room for one burst, not for a backlog. */
const HARD_OUTPUT_FACTOR = 8;

/** What every connection's transport is made with: the same for all, made once. */
export function transportOptions(options: ResolvedOptions): TransportOptions {
  return {
    decoders: labDecoders({ maxLineBytes: options.maxLineBytes, maxRequestBytes: options.maxRequestBytes }),
    quietMs: options.quietMs,
    requestTimeoutMs: options.requestTimeoutMs,
    keepAliveMs: options.keepAliveMs,
    output: {
      softBytes: options.maxSendQueueBytes,
      hardBytes: options.maxSendQueueBytes * HARD_OUTPUT_FACTOR,
      graceMs: options.slowConsumerGraceMs,
    },
    flood: { bytesPerSecond: options.floodBytesPerSecond, burstBytes: options.floodBurstBytes },
  };
}

/** Whether IRC is spoken at all: over TCP (`--irc-port`), or over WebSocket by the web door. */
export function ircSpoken(options: ResolvedOptions): boolean {
  return options.ircPort !== undefined || options.webPort !== undefined || options.ircTlsPort !== undefined || options.webTlsPort !== undefined;
}

/** The IRC door's: the same limits and periods, IRC's codec. */
export function ircTransportOptions(options: ResolvedOptions): TransportOptions<IrcInput> {
  return { ...transportOptions(options), decoders: IRC_DECODERS };
}

export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** Limits where 0 would refuse everything (or, for a rate, divide by zero). */
const AT_LEAST_ONE = [
  'maxLineBytes', 'maxRequestBytes', 'maxRoomsPerConnection', 'maxRooms', 'rememberedRooms', 'maxConnections',
  'maxConnectionsPerAddress', 'listenBacklog', 'maxSendQueueBytes', 'floodBytesPerSecond', 'floodBurstBytes', 'keepAliveMs',
  'leaseMs', 'redisWaitMs', 'roomLogLength', 'requestTimeoutMs', 'ircPingMs',
] as const;

/** The host name as an IRC server name: a name that starts with a letter or digit and has no odd characters. */
function defaultServerName(): string {
  const name = hostname().replace(/[^A-Za-z0-9.-]/g, '');
  return /^[A-Za-z0-9]/.test(name) ? name : 'chat.local';
}
const PERIODS = ['quietMs', 'shutdownFlushMs', 'slowConsumerGraceMs', 'proxyHeaderTimeoutMs', 'tlsHandshakeTimeoutMs'] as const;

