/**
 * `npm run irctest [-- options]`: runs the IRC server test suite (irctest, ../shared/irctest) on
 * issue 17's core selection against this server's IRC door and against InspIRCd 3.15 with the
 * benchmark anchor's configuration, then prints each side's totals, the tests InspIRCd passes and
 * this server does not (the issue allows none) and this server's failures. A tool, not part of
 * `npm test`: InspIRCd's side takes about 11 minutes. docs/irctest.md says how to read it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseJunit, report, type Side } from './irctest-results.js';
import { SERVER_MAIN, SHARED, SERVER_NODE_FLAGS, children, freePort, inspircdMissing, startProcess, startServer, stopServer } from './processes.js';

const USAGE = `Usage: npm run irctest -- [options]

  --only ours|inspircd  run one side only (default both)
  -k EXPR               passed to pytest: run the tests whose names match EXPR
  --keep                keep the logs directory (pytest logs, JUnit files, server logs)
  --install             as root, apt-get install inspircd when it is missing
  --help                this text

Environment: IRCTEST_DIR (default ../shared/irctest), IRCTEST_VENV (default $TMPDIR/irctest-venv).
Exit status: 0; 1 when a test fails here that is not a failure by design (README); 2 when a side could not run.`;

/** Issue 17's selection: what a chat server's IRC door must do, without operators or services. */
export const SELECTION = [
  'connection_registration', 'join', 'part', 'messages', 'names', 'who', 'pingpong', 'cap', 'echo_message', 'message_tags', 'time',
  'quit', 'topic', 'list', 'isupport', 'utf8', 'multi_prefix', 'away', 'whois', 'lusers', 'channel',
].map((file) => `irctest/server_tests/${file}.py`);
export const MARKERS = 'not Ergo and not deprecated and not strict and not services';
/** Per test, as ORIGIN.md runs it: InspIRCd's passing tests take seconds (a 1 s DNS timeout per connection), the others time out. */
const TEST_TIMEOUT_S = 20;
/** irctest's external_server controller expects this name in some replies (Either(name, '*')). */
const SERVER_NAME = 'My.Little.Server';

// Beside ../shared/bench, wherever processes.ts found it (a worktree's is the main checkout's).
const SUITE = resolve(process.env.IRCTEST_DIR ?? join(SHARED, '../irctest'));
const VENV = resolve(process.env.IRCTEST_VENV ?? join(tmpdir(), 'irctest-venv'));

interface Options {
  only: 'ours' | 'inspircd' | null;
  filter: string | undefined;
  keep: boolean;
  install: boolean;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      k: { type: 'string', short: 'k' },
      keep: { type: 'boolean' },
      install: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const only = values.only ?? null;
  if (only !== null && only !== 'ours' && only !== 'inspircd') throw new Error(`--only takes ours or inspircd, not "${only}"`);
  return { only, filter: values.k, keep: values.keep ?? false, install: values.install ?? false };
}

/** The venv's python, with pytest and pytest-timeout; made on first use. */
function ensureVenv(): string {
  const python = join(VENV, 'bin/python');
  const ready = (): boolean => existsSync(python) && spawnSync(python, ['-c', 'import pytest, pytest_timeout'], { stdio: 'ignore' }).status === 0;
  if (ready()) return python;
  process.stderr.write(`irctest: making the venv ${VENV} (pytest, pytest-timeout)\n`);
  const steps: [string, string[]][] = [['python3', ['-m', 'venv', VENV]], [join(VENV, 'bin/pip'), ['install', '-q', 'pytest', 'pytest-timeout']]];
  for (const [command, args] of steps) {
    const run = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed${run.error ? `: ${run.error.message}` : ''}`);
  }
  if (!ready()) throw new Error(`the venv ${VENV} still cannot import pytest and pytest_timeout`);
  return python;
}

/** Why InspIRCd's side cannot run, or null; installs it first when asked to and allowed. */
function inspircdUnavailable(install: boolean): string | null {
  const missing = inspircdMissing();
  if (missing === null || !missing.startsWith('InspIRCd is not installed')) return missing;
  if (!install) return `${missing}; or npm run irctest -- --install, as root`;
  if (process.getuid?.() !== 0) return `${missing}; --install needs root`;
  spawnSync('apt-get', ['install', '-y', 'inspircd'], { stdio: ['ignore', 'inherit', 'inherit'] });
  return inspircdMissing();
}

/** The last lines of a log, for a server that did not start. */
function tail(file: string, lines = 5): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((line) => `\n    ${line}`).join('');
}

/** Runs the selection against 127.0.0.1:port; its log and JUnit file are `name`.log and .xml in `work`. */
async function runSelection(side: Side, python: string, port: number, name: string, work: string, filter: string | undefined): Promise<Side> {
  const junit = join(work, `${name}.xml`);
  const log = join(work, `${name}.log`);
  const args = ['-m', 'pytest', '-p', 'no:cacheprovider', '--timeout', String(TEST_TIMEOUT_S), '--controller', 'irctest.controllers.external_server',
    '-m', MARKERS, '-rA', '--junitxml', junit, ...(filter === undefined ? [] : ['-k', filter]), ...SELECTION];
  process.stdout.write(`${side.label}: running the selection on 127.0.0.1:${port} (log: ${log})\n`);
  const output = openSync(log, 'w');
  const started = Date.now();
  const pytest = spawn(python, args, {
    cwd: SUITE,
    env: { ...process.env, IRCTEST_SERVER_HOSTNAME: '127.0.0.1', IRCTEST_SERVER_PORT: String(port) },
    stdio: ['ignore', output, output],
  });
  closeSync(output);
  children.add(pytest);
  const status = await new Promise<number | null>((done) => pytest.once('exit', (code) => done(code)));
  children.delete(pytest);
  const seconds = (Date.now() - started) / 1000;
  const summary = readFileSync(log, 'utf8').trimEnd().split('\n').at(-1) ?? '';
  process.stdout.write(`${side.label}: ${summary}\n`);
  // 0: all passed, 1: some failed, 5: -k matched nothing; anything else is pytest's own trouble.
  if (![0, 1, 5].includes(status ?? -1) || !existsSync(junit)) return { ...side, absent: `pytest exited with ${status ?? 'a signal'}:${tail(log)}`, seconds };
  return { ...side, results: parseJunit(readFileSync(junit, 'utf8')), seconds };
}

async function runOurs(python: string, work: string, filter: string | undefined): Promise<Side> {
  const side: Side = { label: 'this server', results: null };
  const ircPort = await freePort();
  const log = join(work, 'ours-server.log');
  const args = [...SERVER_NODE_FLAGS, SERVER_MAIN, 'serve', '--port', '0', '--irc-port', String(ircPort), '--host', '127.0.0.1', '--admin', 'off',
    '--server-name', SERVER_NAME, '--log-level', 'warn'];
  const daemon = await startProcess(args, ircPort, "server's IRC door", log).catch(() => null);
  if (daemon === null) return { ...side, absent: `the daemon did not start with --irc-port ${ircPort}:${tail(log)}` };
  try {
    return await runSelection(side, python, ircPort, 'ours', work, filter);
  } finally {
    await stopServer({ children: [daemon], ports: [ircPort], redis: null, scratch: null }, 'project');
  }
}

async function runInspircd(python: string, work: string, options: Options): Promise<Side> {
  const side: Side = { label: 'InspIRCd 3.15', results: null };
  const unavailable = inspircdUnavailable(options.install);
  if (unavailable !== null) return { ...side, absent: unavailable };
  // Its stdout goes to inspircd-server.log, its own log (connections, not traffic) to inspircd-server-own.log.
  const serverOptions = { door: 'irc', nodes: 1, redisUrl: undefined, redisShards: 0, reference: undefined, prefix: 'irctest', log: join(work, 'inspircd-server.log') } as const;
  const server = await startServer('inspircd', serverOptions).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
  if (typeof server === 'string') return { ...side, absent: server };
  try {
    return await runSelection(side, python, server.ports[0]!, 'inspircd', work, options.filter);
  } finally {
    await stopServer(server, 'inspircd');
  }
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!existsSync(join(SUITE, 'irctest/server_tests'))) throw new Error(`no irctest at ${SUITE} (set IRCTEST_DIR)`);
  const python = ensureVenv();
  const work = mkdtempSync(join(tmpdir(), 'irctest-run-'));
  if (!options.keep) process.once('exit', () => rmSync(work, { recursive: true, force: true }));
  const notAsked: Side = { label: '', results: null, absent: 'not asked for: --only' };
  const ours = options.only === 'inspircd' ? { ...notAsked, label: 'this server' } : await runOurs(python, work, options.filter);
  const inspircd = options.only === 'ours' ? { ...notAsked, label: 'InspIRCd 3.15' } : await runInspircd(python, work, options);
  const { lines, regressed } = report(ours, inspircd);
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
  if (options.keep) process.stdout.write(`logs and JUnit files: ${work}\n`);
  const oursBroken = options.only !== 'inspircd' && ours.results === null;
  // InspIRCd not installed skips the comparison; InspIRCd or pytest failing is a failed run.
  const inspircdBroken = options.only !== 'ours' && inspircd.results === null && inspircdMissing() === null;
  return oursBroken || inspircdBroken ? 2 : regressed ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    for (const child of children) child.kill('SIGKILL');
    process.stderr.write(`irctest: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
