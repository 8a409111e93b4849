import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { RawClient, startServer, wire } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// A build of its own: start.sh (another test) builds into dist/ at the same time.
const buildDir = fileURLToPath(new URL('../.test-build/client-cli', import.meta.url));
// Only a failing test waits this long; a busy 2-core machine can be slow to start a process.
const WAIT_MS = 20_000;

beforeAll(async () => {
  await rm(buildDir, { recursive: true, force: true });
  await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', buildDir], { cwd: root });
}, 60_000);

/** The interactive client as a process, driven through its stdin in piped mode. */
class Cli {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly process: ChildProcessWithoutNullStreams;
  private partial = '';
  private waiters: Array<() => void> = [];

  constructor(port: number, name: string, extra: string[] = []) {
    this.process = spawn(process.execPath, [`${buildDir}/src/cli/main.js`, 'client', '--host', '127.0.0.1', '--port', String(port), '--name', name, ...extra], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '' },
    });
    this.process.stdout.setEncoding('utf8').on('data', (text: string) => {
      const parts = (this.partial + text).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const waiter of [...this.waiters]) waiter();
    });
    this.process.stderr.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => this.process.on('close', (code) => resolve(code)));
  }

  send(line: string): void {
    this.process.stdin.write(`${line}\n`);
  }

  end(): void {
    this.process.stdin.end();
  }

  /** Waits until `line` has been printed `times` times in all. */
  async sees(line: string, times = 1): Promise<void> {
    const count = (): number => this.lines.filter((printed) => printed === line).length;
    if (count() >= times) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(line)}; printed: ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`)), WAIT_MS);
      const check = (): void => {
        if (count() < times) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }
}

describe('interactive client, piped', () => {
  it('two clients join, chat, switch rooms, leave and quit; every received event is one line', async () => {
    const server = await startServer();
    const alice = new Cli(server.port, 'alice');
    const bob = new Cli(server.port, 'bob');

    alice.send('/join lobby');
    await alice.sees('* alice joined lobby');
    bob.send('/join lobby');
    await alice.sees('* bob joined lobby');
    alice.send('hi bob');
    await bob.sees('[lobby] alice: hi bob');
    bob.send('/join games');
    await bob.sees('* bob joined games');
    alice.send('/join games');
    await bob.sees('* alice joined games');
    bob.send('game on?');
    await alice.sees('[games] bob: game on?');
    alice.send('/switch lobby');
    alice.send('back in the lobby');
    alice.send('/rooms');
    await bob.sees('[lobby] alice: back in the lobby');
    await alice.sees('  games');
    bob.send('/leave games');
    await alice.sees('* bob left games');
    bob.send('/quit');
    expect(await bob.exited).toBe(0);
    await alice.sees('* bob left lobby');
    alice.end();
    expect(await alice.exited).toBe(0);

    expect(alice.lines).toEqual([
      '* alice joined lobby',
      '* bob joined lobby',
      '[lobby] alice: hi bob',
      '* alice joined games',
      '[games] bob: game on?',
      '[lobby] alice: back in the lobby',
      '> lobby',
      '  games',
      '* bob left games',
      '* bob left lobby',
      '* alice left lobby',
      '* alice left games',
    ]);
    expect(bob.lines).toEqual([
      '* bob joined lobby',
      '[lobby] alice: hi bob',
      '* bob joined games',
      '* alice joined games',
      '[games] bob: game on?',
      '[lobby] alice: back in the lobby',
      '* bob left games',
      '* bob left lobby',
    ]);
    expect(alice.stderr + bob.stderr).toBe('');
  });

  it('indents a multi-line message, prints a refused request as an error line, and complains about misuse on stderr', async () => {
    const server = await startServer();
    const alice = new Cli(server.port, 'alice');
    alice.send('hello?');
    alice.send('/join lobby');
    await alice.sees('* alice joined lobby');
    const raw = await RawClient.connect(server.port);
    raw.send(wire.join('lobby', 'rawbob') + wire.chat(0, 1, 'rawbob', 'line one\nline two'));
    await alice.sees('  line two');
    alice.send('/join elsewhere');
    alice.send(`/leave ${'x'.repeat(70)}`);
    alice.send('/switch nowhere');
    alice.send('/dance');
    alice.end();
    expect(await alice.exited).toBe(0);
    expect(alice.lines).toEqual([
      '* alice joined lobby',
      '* rawbob joined lobby',
      '[lobby] rawbob: line one',
      '  line two',
      '* alice joined elsewhere',
      '* alice left lobby',
      '* alice left elsewhere',
    ]);
    expect(alice.stderr.split('\n')).toEqual([
      'chat-client: not in a room: /join ROOM first',
      `chat-client: not in room ${'x'.repeat(70)}`,
      'chat-client: not in room nowhere: /join it first',
      'chat-client: unknown command /dance (try /help)',
      '',
    ]);
  });

  it('shows control characters and bidi overrides in messages escaped, so they cannot rewrite the terminal', async () => {
    const server = await startServer();
    const alice = new Cli(server.port, 'alice');
    alice.send('/join lobby');
    await alice.sees('* alice joined lobby');
    const raw = await RawClient.connect(server.port);
    raw.send(wire.join('lobby', 'mallory'));
    raw.send(wire.chat(0, 1, 'mallory', 'wipe\x1b[2K\rfake line\tand a tab'));
    raw.send(wire.chat(0, 1, 'mallory', 'abc\u202edcba\u2066x\u2069 del\x7f c1\u009b2J\nsecond\x08 line'));
    await alice.sees('  second\\x08 line');
    alice.end();
    expect(await alice.exited).toBe(0);
    expect(alice.lines).toEqual([
      '* alice joined lobby',
      '* mallory joined lobby',
      '[lobby] mallory: wipe\\x1b[2K\\rfake line\tand a tab',
      '[lobby] mallory: abc\\u202edcba\\u2066x\\u2069 del\\x7f c1\\x9b2J',
      '  second\\x08 line',
      '* alice left lobby',
    ]);
  });

  it('escapes names, room names and error text too, as a server other than this one may send them', async () => {
    // This server refuses control characters in names; another server speaking the protocol may not.
    const evil = createServer((socket) => {
      socket.setEncoding('utf8').on('data', (text: string) => {
        if (text.startsWith('JOIN_CHATROOM')) {
          socket.write(wire.joined('lob\x1b[7mby', 0, 0, 0) + wire.hasJoined(0, 'alice') + wire.hasJoined(0, 'ev\x1b]0;pwned\x07e'));
          socket.write(wire.said(0, 'ev\x1b]0;pwned\x07e', 'hi') + wire.error(1, 'no such\x1b[1A thing'));
        }
        if (text.startsWith('DISCONNECT')) socket.end();
      });
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const alice = new Cli((evil.address() as AddressInfo).port, 'alice');
    alice.send('/join lobby');
    await alice.sees('! 1 MALFORMED: no such\\x1b[1A thing');
    alice.send('/rooms');
    alice.end();
    expect(await alice.exited).toBe(0);
    evil.close();
    expect(alice.lines).toEqual([
      '* alice joined lob\\x1b[7mby',
      '* ev\\x1b]0;pwned\\x07e joined lob\\x1b[7mby',
      '[lob\\x1b[7mby] ev\\x1b]0;pwned\\x07e: hi',
      '! 1 MALFORMED: no such\\x1b[1A thing',
      '> lob\\x1b[7mby',
    ]);
  });

  it('prints the server\'s error for a refused join as "! code NAME: description", and exits 1', async () => {
    const server = await startServer();
    const carol = new Cli(server.port, 'c'.repeat(65));
    carol.send('/join lobby');
    carol.end();
    expect(await carol.exited).toBe(1);
    expect(carol.lines).toHaveLength(1);
    expect(carol.lines[0]).toMatch(/^! 6 INVALID_VALUE: .+$/);
  });

  it("refuses a message over the server's line limit without sending it, keeps the connection, and exits 1", async () => {
    const server = await startServer();
    const alice = new Cli(server.port, 'alice');
    alice.send('/join lobby');
    // "MESSAGE: " and 8183 bytes make the line limit (8192) exactly; one more is over it.
    alice.send('x'.repeat(8184));
    alice.send('x'.repeat(8183));
    await alice.sees(`[lobby] alice: ${'x'.repeat(8183)}`);
    alice.end();
    expect(await alice.exited).toBe(1);
    expect(alice.lines).toEqual(['* alice joined lobby', `[lobby] alice: ${'x'.repeat(8183)}`, '* alice left lobby']);
    expect(alice.stderr).toBe("chat-client: message not sent: a line of 8193 bytes, over the server's line limit of 8192\n");
  });

  it("takes the server's limits from flags where they are not the defaults", async () => {
    const server = await startServer({ maxLineBytes: 16_384 });
    const bob = new Cli(server.port, 'bob', ['--max-line-bytes', '16384']);
    bob.send('/join lobby');
    bob.send('y'.repeat(10_000));
    bob.end();
    expect(await bob.exited).toBe(0);
    expect(bob.lines).toEqual(['* bob joined lobby', `[lobby] bob: ${'y'.repeat(10_000)}`, '* bob left lobby']);
    expect(bob.stderr).toBe('');
  });

  it('says so on stderr and exits 1 when the server goes away, or cannot be reached', async () => {
    const server = await startServer();
    const alice = new Cli(server.port, 'alice');
    alice.send('/join lobby');
    await alice.sees('* alice joined lobby');
    await server.stop();
    expect(await alice.exited).toBe(1);
    expect(alice.stderr).toBe(`chat-client: connection to 127.0.0.1:${server.port} lost: the server closed the connection\n`);

    const nobody = new Cli(server.port, 'alice');
    expect(await nobody.exited).toBe(1);
    expect(nobody.stderr).toBe(`chat-client: cannot connect to 127.0.0.1:${server.port}: ECONNREFUSED\n`);
  });
});
