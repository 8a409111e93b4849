import { parseArgs } from 'node:util';
import { DEFAULTS, KILL_SERVICE_POLICIES, LOG_LEVELS, OptionError, RESERVED_DESCRIPTORS, type ChatServerOptions, type KillServicePolicy } from '../config.js';
import { ClusterStartError, ListenError, startChatServer } from '../server.js';

type NumericOption = Exclude<keyof {
  [K in keyof ChatServerOptions as Required<ChatServerOptions>[K] extends number ? K : never]: true;
}, 'ircPort' | 'webPort' | 'tlsPort' | 'ircTlsPort' | 'webTlsPort' | 'metricsPort'>;

/**
 * Limits and periods, one flag and one environment variable each (README, Options). The help
 * shows each default read from DEFAULTS, with `note` after it.
 */
const NUMERIC_OPTIONS: ReadonlyArray<{ flag: string; key: NumericOption; help: string; note?: string }> = [
  { flag: 'max-line-bytes', key: 'maxLineBytes', help: 'line limit, bytes' },
  { flag: 'max-request-bytes', key: 'maxRequestBytes', help: 'request limit, bytes' },
  { flag: 'max-rooms-per-connection', key: 'maxRoomsPerConnection', help: 'rooms one connection may be in' },
  { flag: 'max-rooms', key: 'maxRooms', help: 'rooms with members' },
  { flag: 'remembered-rooms', key: 'rememberedRooms', help: 'empty room names kept with their refs' },
  { flag: 'max-connections', key: 'maxConnections', help: 'connections', note: `, or the descriptor limit less ${RESERVED_DESCRIPTORS}` },
  { flag: 'max-connections-per-address', key: 'maxConnectionsPerAddress', help: 'connections per peer address, loopback exempt' },
  { flag: 'listen-backlog', key: 'listenBacklog', help: 'connections the kernel queues for accept (capped by net.core.somaxconn)' },
  { flag: 'ipv6-prefix-length', key: 'ipv6PrefixLength', help: 'IPv6 peers count as one address per prefix of this length' },
  { flag: 'max-send-queue-bytes', key: 'maxSendQueueBytes', help: 'unsent output before a slow consumer is cut', note: '; 8x: at once' },
  { flag: 'slow-consumer-grace-ms', key: 'slowConsumerGraceMs', help: 'time allowed above the send queue limit' },
  { flag: 'flood-bytes-per-second', key: 'floodBytesPerSecond', help: 'sustained receive rate per connection' },
  { flag: 'flood-burst-bytes', key: 'floodBurstBytes', help: 'receive burst per connection' },
  { flag: 'keepalive-ms', key: 'keepAliveMs', help: 'idle time before TCP keepalive probes' },
  { flag: 'shutdown-flush-ms', key: 'shutdownFlushMs', help: 'bound on flushing output when closing' },
  { flag: 'request-timeout-ms', key: 'requestTimeoutMs', help: 'a request still incomplete this long after its first byte gets MALFORMED' },
  { flag: 'proxy-header-timeout-ms', key: 'proxyHeaderTimeoutMs', help: 'time a trusted proxy has to send its PROXY header' },
  { flag: 'lease-ms', key: 'leaseMs', help: 'cluster: a node not renewing its lease this long is dead' },
  { flag: 'redis-wait-ms', key: 'redisWaitMs', help: 'cluster: wait for Redis before UNAVAILABLE' },
  { flag: 'room-log-length', key: 'roomLogLength', help: 'cluster: events kept per room for catching up' },
  { flag: 'irc-ping-ms', key: 'ircPingMs', help: 'IRC: silence before a PING, and after it before the connection is closed' },
  { flag: 'tls-handshake-timeout-ms', key: 'tlsHandshakeTimeoutMs', help: 'TLS: time a client has to finish its handshake' },
];

const MIB = 1024 * 1024;

/** Whole mebibytes read as such (`1 MiB`); anything else as the plain number. */
function shownDefault(value: number): string {
  return value >= MIB && value % MIB === 0 ? `${value / MIB} MiB` : String(value);
}

function envName(flag: string): string {
  return flag.toUpperCase().replace(/-/g, '_');
}

export function serveUsage(): string {
  return `Usage: chat-server serve [PORT] [options]

  --port N              TCP port (default ${DEFAULTS.port}; env PORT)
  --host ADDR           interface to listen on (default all: ::, IPv4 too; env CHAT_HOST)
  --log-level LEVEL     ${LOG_LEVELS.join('|')} (default ${DEFAULTS.logLevel}; env LOG_LEVEL)
  --student-id TEXT     StudentID line of the HELO reply (env STUDENT_ID)
  --advertise-ip ADDR   address to put in HELO/JOINED replies, e.g. behind NAT (env ADVERTISE_IP)
  --kill-service P      who may KILL_SERVICE: ${KILL_SERVICE_POLICIES.join('|')} (default ${DEFAULTS.killService}; env KILL_SERVICE)
  --quiet-ms N          quiet period before an unterminated request is taken as complete (default ${DEFAULTS.quietMs})
  --trusted-proxy CIDRS load balancers whose PROXY protocol header (v1/v2) is believed (env TRUSTED_PROXY)
  --redis URL           cluster mode: share rooms with other nodes through this Redis
                        (redis://HOST:6379, rediss://..., unix:///path; env REDIS_URL)
  --cluster-prefix P    cluster mode: prefix of every Redis key and channel (default ${DEFAULTS.clusterPrefix}; env CLUSTER_PREFIX)
  --irc-port N          IRC front door on this port, off by default (env IRC_PORT)
  --server-name NAME    IRC server name (default: this host's name; env SERVER_NAME)
  --network-name NAME   IRC network name (default ${DEFAULTS.networkName}; env NETWORK_NAME)
  --motd FILE           IRC message of the day, read at start (env MOTD)
  --web-port N          web door on this port: the chat page, and IRC over WebSocket; off by default (env WEB_PORT)
  --web-origins LIST    pages (origins, comma-separated, or *) that may use the web door besides its own (env WEB_ORIGINS)
  --tls-cert FILE       TLS certificate (PEM, with its chain) for the TLS ports; SIGHUP reloads it (env TLS_CERT)
  --tls-key FILE        its private key (PEM; env TLS_KEY)
  --tls-port N          the lab protocol over TLS on this port (env TLS_PORT)
  --irc-tls-port N      IRC over TLS on this port, 6697 by convention (env IRC_TLS_PORT)
  --web-tls-port N      the web door over HTTPS and WSS on this port (env WEB_TLS_PORT)
  --metrics-port N      /metrics (Prometheus), /healthz and /readyz on this port, off by default (env METRICS_PORT)
  --metrics-host ADDR   where the metrics port listens (default ${DEFAULTS.metricsHost}; env METRICS_HOST)
${NUMERIC_OPTIONS.map((option) => `  --${option.flag.padEnd(28)}${option.help} (${shownDefault(DEFAULTS[option.key])}${option.note ?? ''}) (env ${envName(option.flag)})`).join('\n')}
  --admin PATH|off      admin socket for \`chat-server dump\` (default $XDG_RUNTIME_DIR/chat-server/PORT.sock,
                        else TMPDIR/chat-server-UID/PORT.sock, in a private directory; env ADMIN_SOCKET)
  --help                this text`;
}


function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new OptionError(`${name} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

/** The daemon opens its admin endpoint unless told `off`; an empty value means the default path. */
function adminOption(text: string | undefined): string | boolean {
  if (text === undefined || text === '') return true;
  return text === 'off' ? false : text;
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): ChatServerOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'log-level': { type: 'string' },
      'student-id': { type: 'string' },
      'advertise-ip': { type: 'string' },
      'kill-service': { type: 'string' },
      'quiet-ms': { type: 'string' },
      'trusted-proxy': { type: 'string' },
      redis: { type: 'string' },
      'cluster-prefix': { type: 'string' },
      'irc-port': { type: 'string' },
      'server-name': { type: 'string' },
      'network-name': { type: 'string' },
      motd: { type: 'string' },
      'web-port': { type: 'string' },
      'web-origins': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-port': { type: 'string' },
      'irc-tls-port': { type: 'string' },
      'web-tls-port': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      ...Object.fromEntries(NUMERIC_OPTIONS.map((option) => [option.flag, { type: 'string' as const }])),
      admin: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const flags = values as Record<string, string | boolean | undefined>;
  const numeric: Partial<Record<NumericOption, number>> = {};
  for (const option of NUMERIC_OPTIONS) {
    const text = flags[option.flag] ?? env[envName(option.flag)];
    const value = integer(`--${option.flag}`, typeof text === 'string' ? text : undefined);
    if (value !== undefined) numeric[option.key] = value;
  }
  if (values.help) return 'help';
  if (positionals.length > 1) throw new OptionError(`unexpected argument "${positionals[1]}"`);
  return {
    port: integer('port', positionals[0] ?? values.port ?? env.PORT),
    host: values.host ?? env.CHAT_HOST,
    logLevel: values['log-level'] ?? env.LOG_LEVEL,
    studentId: values['student-id'] ?? env.STUDENT_ID,
    advertiseIp: values['advertise-ip'] ?? env.ADVERTISE_IP,
    // Checked, with the other options, by resolveOptions when the server starts.
    killService: (values['kill-service'] ?? env.KILL_SERVICE) as KillServicePolicy | undefined,
    quietMs: integer('--quiet-ms', values['quiet-ms'] ?? env.QUIET_MS),
    trustedProxy: values['trusted-proxy'] ?? env.TRUSTED_PROXY,
    redis: (values.redis ?? env.REDIS_URL) || undefined,
    clusterPrefix: values['cluster-prefix'] ?? env.CLUSTER_PREFIX,
    ircPort: integer('--irc-port', values['irc-port'] ?? env.IRC_PORT),
    serverName: values['server-name'] ?? env.SERVER_NAME,
    networkName: values['network-name'] ?? env.NETWORK_NAME,
    motd: (values.motd ?? env.MOTD) || undefined,
    webPort: integer('--web-port', values['web-port'] ?? env.WEB_PORT),
    webOrigins: (values['web-origins'] ?? env.WEB_ORIGINS) || undefined,
    tlsCert: (values['tls-cert'] ?? env.TLS_CERT) || undefined,
    tlsKey: (values['tls-key'] ?? env.TLS_KEY) || undefined,
    tlsPort: integer('--tls-port', values['tls-port'] ?? env.TLS_PORT),
    ircTlsPort: integer('--irc-tls-port', values['irc-tls-port'] ?? env.IRC_TLS_PORT),
    webTlsPort: integer('--web-tls-port', values['web-tls-port'] ?? env.WEB_TLS_PORT),
    metricsPort: integer('--metrics-port', values['metrics-port'] ?? env.METRICS_PORT),
    metricsHost: values['metrics-host'] ?? env.METRICS_HOST,
    ...numeric,
    admin: adminOption(values.admin ?? env.ADMIN_SOCKET),
  };
}

/** The daemon: runs in the foreground until KILL_SERVICE, SIGINT or SIGTERM, then exits 0; SIGHUP reloads the TLS pair. */
export async function serve(argv: string[]): Promise<number> {
  const options = parseServeArgs(argv, process.env);
  if (options === 'help') {
    console.log(serveUsage());
    return 0;
  }
  let server;
  try {
    server = await startChatServer(options);
  } catch (error) {
    if (error instanceof ListenError || error instanceof OptionError || error instanceof ClusterStartError) {
      console.error(`chat-server: ${error.message}`);
      return 1;
    }
    throw error;
  }
  const stop = (): void => {
    void server.stop();
  };
  const logDump = (): void => {
    server.dump().then(
      (dump) => server.log.info({ dump }, 'dump'),
      (err: unknown) => server.log.error({ err }, 'dump failed'),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // As nginx and most daemons: SIGHUP reloads the certificate; connections are kept.
  const reloadTls = (): void => void server.reloadTls();
  process.on('SIGUSR2', logDump);
  process.on('SIGHUP', reloadTls);
  await server.closed;
  process.off('SIGUSR2', logDump);
  process.off('SIGHUP', reloadTls);
  return server.actor.getSnapshot().status === 'error' ? 1 : 0;
}
