import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * Real IRC clients for the tests: Debian's `ii` (a file-system client: a FIFO in, a log file out)
 * and `weechat-headless` (WeeChat without its terminal: commands through its FIFO, what it shows
 * through its logger). Under CI=true (.ci/run installs them) a missing one is a failure.
 */

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

export function hasProgram(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (!found && process.env.CI === 'true') throw new Error(`the IRC client tests need ${name} under CI=true`);
  return found;
}

// Only a failing test waits this long.
const WAIT_MS = 20_000;

/** Polls `read` until it returns something other than undefined: for files a program writes. */
export async function eventually<T>(what: string, read: () => T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function readOr(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** Waits until the file at `path` contains `text`; returns its content. */
export function fileContains(path: string, text: string | RegExp): Promise<string> {
  return eventually(`${path} to contain ${String(text)}`, () => {
    const content = readOr(path);
    return (typeof text === 'string' ? content.includes(text) : text.test(content)) ? content : undefined;
  });
}

/** ii 1.8: `dir/<host>/in` takes commands, `dir/<host>/<#chan>/in` a channel's lines, `out` files log. */
export class IiClient {
  private constructor(readonly dir: string) {}

  static start(port: number, nick: string): IiClient {
    const dir = mkdtempSync(join(tmpdir(), 'ii-'));
    const child = spawn('ii', ['-s', '127.0.0.1', '-p', String(port), '-n', nick, '-i', dir], { stdio: 'ignore' });
    children.add(child);
    return new IiClient(dir);
  }

  private path(...parts: string[]): string {
    return join(this.dir, '127.0.0.1', ...parts);
  }

  /** Writes a command line to the server FIFO (`/j #lobby`), once ii has made it. */
  async command(line: string): Promise<void> {
    await eventually('ii server FIFO', () => (existsSync(this.path('in')) ? true : undefined));
    writeFileSync(this.path('in'), `${line}\n`);
  }

  async say(channel: string, text: string): Promise<void> {
    await eventually(`ii FIFO of ${channel}`, () => (existsSync(this.path(channel, 'in')) ? true : undefined));
    writeFileSync(this.path(channel, 'in'), `${text}\n`);
  }

  channelLog(channel: string): string {
    return this.path(channel, 'out');
  }

  serverLog(): string {
    return this.path('out');
  }
}

/** WeeChat 3.8 without a terminal: commands through its FIFO plugin, buffers logged as they change. */
export class WeeChat {
  private constructor(readonly dir: string, private readonly child: ChildProcess) {}

  /** `tlsCa`: connect over TLS (WeeChat 3.8 calls it `-ssl`), checking the server's certificate against this CA file. */
  static start(port: number, nick: string, channel: string, tlsCa?: string): WeeChat {
    const dir = mkdtempSync(join(tmpdir(), 'weechat-'));
    const commands = [
      '/set logger.file.flush_delay 0',
      '/set fifo.file.enabled on',
      ...(tlsCa ? [`/set weechat.network.gnutls_ca_user "${tlsCa}"`] : []),
      `/server add test 127.0.0.1/${port} ${tlsCa ? '-ssl -ssl_verify=on' : '-notls'} -nicks=${nick} -autojoin=${channel}`,
      '/connect test',
    ].join(';');
    const child = spawn('weechat-headless', ['--dir', dir, '-r', commands], { stdio: 'ignore' });
    children.add(child);
    return new WeeChat(dir, child);
  }

  /** A line into a buffer (`irc.test.#lobby`): text, or a command such as `/part`. */
  async input(buffer: string, line: string): Promise<void> {
    const fifo = await eventually('WeeChat FIFO', () => readdirSync(this.dir).find((name) => name.startsWith('weechat_fifo')));
    writeFileSync(join(this.dir, fifo), `${buffer} *${line}\n`);
  }

  log(buffer: string): string {
    return join(this.dir, 'logs', `${buffer}.weechatlog`);
  }

  quit(): void {
    this.child.kill('SIGTERM');
  }
}
