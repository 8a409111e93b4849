import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../src/client-library/chat-client.js';
import type { DumpDocument } from '../src/index.js';
import { makeTestPki } from './tls-certs.js';
import { EXPECTED_TREE, playScenario, settled, treeOf } from './dump-scenario.js';
import { aliceAndBob, expectRead, joinedClient, RawClient, wire } from './helpers.js';
import { redisAvailability, suiteRedis, testPrefix } from './redis-server.js';
import { heloJoinChatLeaveDisconnect, labTesterSequence, spread, unknownRoomError, type Node } from './transcript-scenarios.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('start.sh', () => {
  it('builds on first run, serves the protocol, and exits 0 on KILL_SERVICE', async () => {
    const { port, exited } = await startDaemon('./start.sh', ['0', '--host', '127.0.0.1', '--student-id', 'from-start-sh']);
    const client = await RawClient.connect(port);
    client.send('HELO from a test\n');
    await expectRead(client, wire.helo('from a test', port, 'from-start-sh'));
    client.send('KILL_SERVICE\n');
    await client.closed;
    expect(await exited).toBe(0);
  }, 120_000);

  // After the first test (dist/ is built): the daemon's SIGHUP, as an operator's renewal hook sends it.
  it('reloads its TLS certificate on SIGHUP, keeping connections, and keeps serving the old one when the new is bad', async () => {
    const pki = makeTestPki();
    const [first, second] = [pki.serverPair('first'), pki.serverPair('second')];
    const cert = join(pki.dir, 'live.pem');
    const key = join(pki.dir, 'live.key');
    await copyFile(first.cert, cert);
    await copyFile(first.key, key);
    const daemon = spawn('./start.sh', ['0', '--host', '127.0.0.1', '--admin', 'off', '--tls-cert', cert, '--tls-key', key, '--tls-port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    spawnedDaemons.add(daemon);
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
    const log: Array<{ msg?: string; port?: number; door?: string; tls?: boolean; level?: number }> = [];
    const waiting: Array<() => void> = [];
    createInterface({ input: daemon.stdout }).on('line', (line) => {
      log.push(JSON.parse(line) as (typeof log)[number]);
      for (const wake of waiting.splice(0)) wake();
    });
    const logged = async (test: (entry: (typeof log)[number]) => boolean): Promise<(typeof log)[number]> => {
      for (;;) {
        const found = log.find(test);
        if (found) return found;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    };
    const port = (await logged((entry) => entry.msg === 'listening' && entry.tls === true)).port!;
    const ca = await readFile(pki.caFile);
    const servedName = (): Promise<string> => new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.destroy();
      });
      socket.on('error', reject);
    });
    expect(await servedName()).toBe('first');
    const live = await ChatClient.connect('127.0.0.1', port, { tls: { ca } });
    await live.join('lobby', 'alice');

    await copyFile(second.cert, cert);
    await copyFile(second.key, key);
    daemon.kill('SIGHUP');
    await logged((entry) => entry.msg === 'TLS certificate and key reloaded');
    expect(await servedName()).toBe('second');
    expect((await live.helo('still up')).line).toBe('HELO still up');

    await writeFile(cert, 'garbage');
    daemon.kill('SIGHUP');
    const error = await logged((entry) => entry.level === 50);
    expect(error.msg).toMatch(/^TLS certificate not reloaded, the old one stays/);
    expect(await servedName()).toBe('second');
    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  // In this file, after the test above: start.sh has built dist/ once, with no second build racing it.
  it('the dump command shows the daemon\'s actors as a tree and as JSON, over a 0600 socket', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chat-start-sh-'));
    const admin = join(dir, 'admin.sock');
    const daemon = spawn('./start.sh', ['0', '--host', '127.0.0.1', '--admin', admin], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
    const lines = createInterface({ input: daemon.stdout });
    const logged: DumpDocument[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      let listening = 0;
      // `listening` (with the port) comes first; the admin endpoint opens right after it.
      lines.on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; port?: number; admin?: string; dump?: DumpDocument };
        if (entry.msg === 'dump' && entry.dump) logged.push(entry.dump);
        if (entry.msg === 'listening' && entry.port) listening = entry.port;
        if (entry.msg === 'admin endpoint listening' && entry.admin === admin) resolve(listening);
      });
      void exited.then((code) => reject(new Error(`start.sh exited with ${code} before its admin endpoint listened`)));
    });
    try {
      expect((await stat(admin)).mode & 0o777).toBe(0o600);
      await playScenario(port);
      // c's close reaches its actor just after its departures reach a: wait until no connection is between states.
      let dump = await dumpJson(admin);
      for (let tries = 0; !settled(dump) && tries < 50; tries++) dump = await dumpJson(admin);
      expect(treeOf(dump)).toEqual(EXPECTED_TREE);
      expect(dump.server.address).toEqual({ host: '127.0.0.1', port });

      const { stdout: tree } = await dumpCommand('--socket', admin);
      expect(tree).toMatch(/^server {2}running\.listening {2}up \d+s {2}127\.0\.0\.1:\d+\n/);
      expect(tree).toContain('room-0  ref 0 "lobby"  open  1 members');
      expect(tree).toContain('client-0  127.0.0.1:');

      // SIGUSR2: the same document, as one log line.
      daemon.kill('SIGUSR2');
      await new Promise<void>((resolve) => lines.on('line', () => logged.length > 0 && resolve()));
      expect(treeOf(logged[0]!)).toEqual(EXPECTED_TREE);
    } finally {
      daemon.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    const failure = await dumpCommand('--socket', admin).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stderr: `chat-server dump: no daemon at ${admin} (ENOENT)\n` });
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  // Also after the first test (dist/ is built). Descriptors run out: accepts fail, the server warns,
  // keeps serving the connections it has, and accepts again once descriptors are free.
  it('survives running out of file descriptors (EMFILE) and accepts again afterwards', async () => {
    const { port, exited } = await startDaemon('bash', ['-c', 'ulimit -n 64 && exec ./start.sh 0 --host 127.0.0.1 --admin off --max-connections 1000']);
    const first = await RawClient.connect(port);
    first.send('HELO first\n');
    await first.readUntil('StudentID:actor-chat-server\n');
    // More connections than descriptors: the kernel completes them; the server cannot take them
    // all. libuv closes the ones it cannot take (with a reserved descriptor), so they are told at
    // once rather than left hanging, and the loop does not spin.
    const crowd = await Promise.all(Array.from({ length: 80 }, () => RawClient.connect(port)));
    for (const client of crowd) client.send('HELO crowd\n');
    const answered = await Promise.all(crowd.map((client) => client.readUntil('StudentID:').then(() => true, () => false)));
    expect(answered.filter(Boolean).length).toBeLessThan(80);
    expect(crowd.filter((client, i) => !answered[i] && !client.isClosed())).toEqual([]);
    // The connection it had is unharmed.
    first.send('HELO still here\n');
    await expectRead(first, wire.helo('still here', port));
    for (const client of crowd) client.destroy();
    // Descriptors come back as the server sees the closes; then a new connection is served.
    for (let attempt = 0; ; attempt++) {
      const late = await RawClient.connect(port);
      late.send('HELO late\n');
      if (await late.readUntil('StudentID:').then(() => true, () => false)) break;
      expect(attempt).toBeLessThan(50);
    }
    first.send('KILL_SERVICE\n');
    expect(await exited).toBe(0);
  }, 120_000);

  // Also after the first test. With few descriptors the default connection limit (the limit less
  // 64) is what refuses a burst: each refused connection gets its LIMIT_REACHED line and is closed
  // at once, so refusals do not use up the descriptors kept back and end as bare resets.
  it('refuses a burst past the connection limit with one LIMIT_REACHED line each, descriptors short', async () => {
    const { port, exited } = await startDaemon('bash', ['-c', 'ulimit -n 128 && exec ./start.sh 0 --host 127.0.0.1 --admin off']);
    const served: RawClient[] = [];
    for (let i = 0; i < 64; i++) {
      const client = await RawClient.connect(port);
      client.send('HELO served\n');
      served.push(client);
    }
    for (const client of served) await client.readUntil('StudentID:actor-chat-server\n');
    const burst = await Promise.all(Array.from({ length: 200 }, () => RawClient.connect(port)));
    const replies = await Promise.all(burst.map((client) => client.readToClose()));
    const refusal = 'ERROR_CODE: 7\nERROR_DESCRIPTION: the server holds at most 64 connections\n';
    expect(replies.filter((reply) => reply !== refusal)).toEqual([]);
    served[0]!.send('KILL_SERVICE\n');
    expect(await exited).toBe(0);
  }, 120_000);
});

describe.skipIf(redisAvailability() === 'missing')('start.sh cluster nodes', () => {
  const redis = suiteRedis();
  afterEach(killSpawnedDaemons);

  async function nodes(count: number, leaseMs: number, extra: string[] = []): Promise<(Node & { process: ChildProcess })[]> {
    const prefix = testPrefix();
    const started = [];
    for (let i = 0; i < count; i++) {
      const { port, exited, daemon } = await startDaemon('./start.sh', ['0', '--host', '127.0.0.1', '--admin', 'off', '--redis', redis.url, '--cluster-prefix', prefix, '--lease-ms', String(leaseMs), ...extra]);
      started.push({ port, closed: exited, process: daemon });
    }
    return started;
  }

  it('runs the protocol.md transcripts with their clients spread over two daemons', async () => {
    const daemons = spread(await nodes(2, 10_000, ['--student-id', 'S123']));
    await heloJoinChatLeaveDisconnect(daemons, 'S123');
    await unknownRoomError(daemons, 'S123');
  }, 120_000);

  it("runs the lab's tester sequence with its clients spread over three daemons", async () => {
    await labTesterSequence(spread(await nodes(3, 10_000)));
  }, 120_000);

  it('a node frozen past its lease is declared dead; when it wakes it drops its connections and registers anew', async () => {
    const [n1, n2] = await nodes(2, 1_500);
    const { a, b } = await aliceAndBob(n1!.port, n2!.port);
    n2!.process.kill('SIGSTOP');
    try {
      await expectRead(a, wire.hasLeft(0, 'bob'));
    } finally {
      n2!.process.kill('SIGCONT');
    }
    // No zombie: bob is gone from the room, so his node must not keep him connected as a member.
    expect(await b.readToClose()).toMatch(/^ERROR_CODE: 10\nERROR_DESCRIPTION: [^\n]*\n$/);
    await joinedClient(n2!.port, 'room1', 'bob');
    await expectRead(a, wire.hasJoined(0, 'bob'));
    expect(a.pending()).toBe('');
  }, 120_000);

  it('kill -9 of a node: each of its members is announced gone once, within the lease bound', async () => {
    const leaseMs = 1_500;
    const [n1, n2] = await nodes(2, leaseMs);
    const a = await joinedClient(n1!.port, 'room1', 'alice');
    const b = await RawClient.connect(n2!.port);
    b.send(wire.join('room1', 'bob'));
    b.send(wire.join('room2', 'bob'));
    await b.readUntil(wire.hasJoined(1, 'bob'));
    a.send(wire.join('room2', 'alice'));
    await a.readUntil(wire.hasJoined(0, 'bob'));
    await a.readUntil(wire.hasJoined(1, 'alice'));
    const killedAt = Date.now();
    n2!.process.kill('SIGKILL');
    const text = await a.next(wire.hasLeft(0, 'bob').length + wire.hasLeft(1, 'bob').length);
    // Lease, plus one search period, plus a margin for a loaded machine.
    expect(Date.now() - killedAt).toBeLessThan(leaseMs * 2 + 3_000);
    expect(text.split(/(?<=\n\n)/).sort()).toEqual([wire.hasLeft(0, 'bob'), wire.hasLeft(1, 'bob')]);
    // Once: nothing more arrives before alice's own next message.
    a.send(wire.chat(0, 0, 'alice', 'alone'));
    await expectRead(a, wire.said(0, 'alice', 'alone'));
    expect(a.pending()).toBe('');
  }, 120_000);
});

/** Every daemon this file started: whatever a failed test left running is killed at the end. */
const spawnedDaemons = new Set<ChildProcess>();
function killSpawnedDaemons(): void {
  for (const daemon of spawnedDaemons) if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
}
afterAll(killSpawnedDaemons);

/** Runs the daemon (through start.sh) and resolves once its log says which port it listens on. */
async function startDaemon(command: string, args: string[]): Promise<{ port: number; exited: Promise<number | null>; daemon: ChildProcess }> {
  const daemon = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  spawnedDaemons.add(daemon);
  const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: daemon.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'listening' && entry.port) resolve(entry.port);
    });
    void exited.then((code) => reject(new Error(`start.sh exited with ${code} before listening`)));
  });
  return { port, exited, daemon };
}

function dumpCommand(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['dist/src/cli/main.js', 'dump', ...args], { cwd: root });
}

async function dumpJson(admin: string): Promise<DumpDocument> {
  const { stdout } = await dumpCommand('--socket', admin, '--json');
  return JSON.parse(stdout) as DumpDocument;
}
