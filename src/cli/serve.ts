import { parseArgs } from 'node:util';
import { KILL_SERVICE_POLICIES, OptionError, type ChatServerOptions, type KillServicePolicy } from '../config.js';
import { ListenError, startChatServer } from '../server.js';

export const SERVE_USAGE = `Usage: chat-server serve [PORT] [options]

  --port N              TCP port (default 5000; env PORT)
  --host ADDR           interface to listen on (default all; env CHAT_HOST)
  --log-level LEVEL     fatal|error|warn|info|debug|trace|silent (default info; env LOG_LEVEL)
  --student-id TEXT     StudentID line of the HELO reply (env STUDENT_ID)
  --advertise-ip ADDR   address to put in HELO/JOINED replies, e.g. behind NAT (env ADVERTISE_IP)
  --kill-service P      who may KILL_SERVICE: loopback|any|off (default loopback; env KILL_SERVICE)
  --quiet-ms N          quiet period before an unterminated request is taken as complete (default 200)
  --admin PATH|off      admin socket for \`chat-server dump\` (default $XDG_RUNTIME_DIR or the temp
                        directory, chat-server-PORT.sock; env ADMIN_SOCKET)
  --help                this text`;

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
      admin: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 1) throw new OptionError(`unexpected argument "${positionals[1]}"`);
  const killService = values['kill-service'] ?? env.KILL_SERVICE;
  if (killService !== undefined && !KILL_SERVICE_POLICIES.includes(killService as KillServicePolicy)) {
    throw new OptionError(`--kill-service must be one of ${KILL_SERVICE_POLICIES.join(', ')}, got "${killService}"`);
  }
  return {
    port: integer('port', positionals[0] ?? values.port ?? env.PORT),
    host: values.host ?? env.CHAT_HOST,
    logLevel: values['log-level'] ?? env.LOG_LEVEL,
    studentId: values['student-id'] ?? env.STUDENT_ID,
    advertiseIp: values['advertise-ip'] ?? env.ADVERTISE_IP,
    killService: killService as KillServicePolicy | undefined,
    quietMs: integer('--quiet-ms', values['quiet-ms'] ?? env.QUIET_MS),
    admin: adminOption(values.admin ?? env.ADMIN_SOCKET),
  };
}

/** The daemon: runs in the foreground until KILL_SERVICE, SIGINT or SIGTERM, then exits 0. */
export async function serve(argv: string[]): Promise<number> {
  const options = parseServeArgs(argv, process.env);
  if (options === 'help') {
    console.log(SERVE_USAGE);
    return 0;
  }
  let server;
  try {
    server = await startChatServer(options);
  } catch (error) {
    if (error instanceof ListenError || error instanceof OptionError) {
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
  process.on('SIGUSR2', logDump);
  await server.closed;
  process.off('SIGUSR2', logDump);
  return server.actor.getSnapshot().status === 'error' ? 1 : 0;
}
