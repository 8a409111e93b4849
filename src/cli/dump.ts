import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULTS, OptionError } from '../config.js';
import type { DumpDocument } from '../admin/dump.js';
import { AdminLocationError, checkAdminSocket, defaultAdminPath } from '../admin/location.js';
import { AdminUnreachable, askAdmin } from '../admin/protocol.js';
import { renderDump } from '../admin/render.js';

export const DUMP_USAGE = `Usage: chat-server dump [--port N | --socket PATH] [--json] [--watch SECONDS]

  --port N              the daemon's TCP port: its admin socket is found from it (default ${DEFAULTS.port}; env PORT)
  --socket PATH         the daemon's admin socket (env ADMIN_SOCKET)
  --json                one JSON document (its fields: docs/dump.md) instead of the tree
  --watch SECONDS       refresh every SECONDS until Ctrl-C (with --json: one document per line)
  --help                this text`;

interface DumpArgs {
  readonly path: string;
  readonly json: boolean;
  readonly watchMs: number | null;
}

export function parseDumpArgs(argv: string[], env: NodeJS.ProcessEnv): DumpArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      socket: { type: 'string' },
      json: { type: 'boolean' },
      watch: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values.port !== undefined && values.socket !== undefined) throw new OptionError('give --port or --socket, not both');
  const portText = values.port ?? env.PORT ?? String(DEFAULTS.port);
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new OptionError(`--port must be a TCP port, got "${portText}"`);
  const path = values.socket ?? (values.port === undefined ? env.ADMIN_SOCKET : undefined) ?? defaultAdminPath(Number(portText), env);
  let watchMs: number | null = null;
  if (values.watch !== undefined) {
    const seconds = Number(values.watch);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new OptionError(`--watch must be a positive number of seconds, got "${values.watch}"`);
    watchMs = seconds * 1000;
  }
  return { path, json: values.json ?? false, watchMs };
}

async function fetchDump(path: string): Promise<DumpDocument> {
  await checkAdminSocket(path);
  const reply = await askAdmin(path, { op: 'dump' });
  if (!reply.ok) throw new AdminUnreachable(`${path}: ${reply.error.code}: ${reply.error.message}`);
  return reply.dump;
}

/** Resolves once written: stdout to a pipe is asynchronous, and main() exits right after. */
function print(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

/** Prints the daemon's dump; with --watch, again every interval until interrupted. */
export async function dump(argv: string[]): Promise<number> {
  const args = parseDumpArgs(argv, process.env);
  if (args === 'help') {
    console.log(DUMP_USAGE);
    return 0;
  }
  const redraw = args.watchMs !== null && !args.json && process.stdout.isTTY;
  try {
    for (;;) {
      const document = await fetchDump(args.path);
      if (args.json) await print(args.watchMs === null ? `${JSON.stringify(document, null, 2)}\n` : `${JSON.stringify(document)}\n`);
      // Home, clear screen: the tree is redrawn in place.
      else await print(redraw ? `\x1b[H\x1b[2J${renderDump(document)}` : renderDump(document));
      if (args.watchMs === null) return 0;
      await sleep(args.watchMs);
    }
  } catch (error) {
    if (!(error instanceof AdminUnreachable || error instanceof AdminLocationError)) throw error;
    console.error(`chat-server dump: ${error.message}`);
    return 1;
  }
}
