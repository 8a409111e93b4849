import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from 'xstate';
import { askAdmin } from '../src/admin/protocol.js';
import { renderDump } from '../src/admin/render.js';
import { replyPieces } from '../src/admin/serialize.js';
import { dump as dumpCommand, parseDumpArgs } from '../src/cli/dump.js';
import { DUMP_VERSION } from '../src/index.js';
import { EXPECTED_TREE, playScenario, treeOf } from './dump-scenario.js';
import { RawClient, startServer, wire } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-dump-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pino logger whose lines the test reads back. */
function memoryLogger(level: string): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

/** Runs `action` with environment variables set (undefined: unset), then puts them back. */
async function withEnv<T>(vars: Record<string, string | undefined>, action: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(vars);
  try {
    return await action();
  } finally {
    apply(saved);
  }
}

describe('debug dump', () => {
  it('shows exactly the actors and memberships that exist after joins, a leave and an abrupt close', async () => {
    const server = await startServer();
    await playScenario(server.port);
    // c's socket is closed; its actor ends once the close is carried through.
    await waitFor(server.actor, () => server.inspect.clientActor(2) === undefined, { timeout: 20_000 });
    const dump = await server.dump();
    expect(dump.version).toBe(DUMP_VERSION);
    expect(treeOf(dump)).toEqual(EXPECTED_TREE);
    expect(dump.server.id).toBe('server');
    expect(dump.server.counts.acceptedTotal).toBe(3);
    expect(dump.rooms[1]!.messagesRouted).toBe(0);
    const [a, b] = dump.clients;
    expect(a!.requests).toBe(2);
    expect(b!.requests).toBe(3);
    expect(a!.bytesIn).toBe(Buffer.byteLength(wire.join('lobby', 'a') + wire.join('dev', 'a')));
    expect(a!.bytesOut).toBeGreaterThan(0);
    expect(a!.queuedBytes).toBe(0);
    expect(a!.peer.address).toBe('127.0.0.1');
    expect(dump.process.rssBytes).toBeGreaterThan(0);

    // The endpoint writes a reply in slices; joined, they are the same document.
    const many = { ...dump, clients: Array.from({ length: 1_201 }, (_, i) => ({ ...dump.clients[0]!, id: `client-${i}` })) };
    const reply = { ok: true, op: 'dump', id: 'x', dump: many } as const;
    const line = [...replyPieces(reply)].join('');
    expect(line.endsWith('}\n') && line.indexOf('\n') === line.length - 1).toBe(true);
    expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(reply)));

    const tree = renderDump(dump);
    expect(tree).toContain('room-1  ref 1 "dev"  open  2 members');
    expect(tree).toContain('├─ 0 a\n');
    expect(tree).toContain('└─ 1 bee\n');
    expect(tree).toMatch(/client-1 {2}127\.0\.0\.1:\d+ {2}ready {2}join id 1 {2}rooms 1 "dev" as bee/);
    expect(tree).not.toContain('client-2');
  });

  it('answers dump on a 0600 Unix socket, with error replies for unknown or malformed requests', async () => {
    const path = join(dir, 'admin.sock');
    const server = await startServer({ admin: path });
    expect(server.adminPath).toBe(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await playScenario(server.port);
    await waitFor(server.actor, () => server.inspect.clientActor(2) === undefined, { timeout: 20_000 });

    const reply = await askAdmin(path, { op: 'dump', id: 7 });
    expect(reply.ok && reply.id === 7 && treeOf(reply.dump)).toEqual(EXPECTED_TREE);
    expect(await askAdmin(path, { op: 'reboot' })).toEqual({ ok: false, error: { code: 'UNKNOWN_OP', message: 'no such operation: "reboot" (known: dump)' } });

    await server.stop();
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it('replaces a stale socket file left by a dead daemon, and does not steal a live one', async () => {
    const path = join(dir, 'admin.sock');
    // A daemon killed outright leaves its socket file behind.
    const dead = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    await new Promise((resolve) => dead.on('exit', resolve));
    expect((await stat(path)).isSocket()).toBe(true);

    const first = await startServer({ admin: path });
    expect(first.adminPath).toBe(path);
    const { logger, lines } = memoryLogger('info');
    const second = await startServer({ admin: path, logger });
    expect(second.adminPath).toBeNull();
    expect(lines.some((line) => line.level === 50 && String(line.msg).includes('in use by a running daemon'))).toBe(true);
    const reply = await askAdmin(path, { op: 'dump' });
    expect(reply.ok && reply.dump.server.address?.port).toBe(first.port);
  });

  it('refuses a path that is not a socket', async () => {
    const path = join(dir, 'not-a-socket');
    await writeFile(path, 'keep me');
    const server = await startServer({ admin: path });
    expect(server.adminPath).toBeNull();
    expect((await stat(path)).isFile()).toBe(true);
  });

  it('returns a dump taken during a chat burst, and the burst is delivered whole', async () => {
    const server = await startServer({ admin: join(dir, 'admin.sock') });
    const CLIENTS = 30;
    const MESSAGES = 50;
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawClient.connect(server.port)));
    for (const [i, client] of clients.entries()) {
      client.send(wire.join('burst', `c${i}`));
      await client.readUntil(wire.hasJoined(0, `c${i}`));
    }
    for (let n = 0; n < MESSAGES; n++) for (const [i, client] of clients.entries()) client.send(wire.chat(0, i, `c${i}`, `m${n}`));
    const [viaApi, viaSocket] = await Promise.all([server.dump(), askAdmin(server.adminPath!, { op: 'dump' })]);
    expect(viaApi.clients).toHaveLength(CLIENTS);
    expect(viaSocket.ok && viaSocket.dump.rooms[0]!.members).toHaveLength(CLIENTS);
    const last = clients.at(-1)!;
    await last.readUntil(wire.said(0, `c${CLIENTS - 1}`, `m${MESSAGES - 1}`));
    const after = await server.dump();
    expect(after.rooms[0]!.messagesRouted).toBe(CLIENTS * MESSAGES);
  });

  it('logs actor-to-actor messages at trace level, without message text', async () => {
    const { logger, lines } = memoryLogger('trace');
    const server = await startServer({ logger });
    const client = await RawClient.connect(server.port);
    client.send(wire.join('traced', 'tess') + wire.chat(0, 0, 'tess', 'secret words'));
    await client.readUntil(wire.said(0, 'tess', 'secret words'));
    // A run of chats in one read is posted as one event, by the client directly: still named.
    client.send(wire.chat(0, 0, 'tess', 'more') + wire.chat(0, 0, 'tess', 'words'));
    await client.readUntil(wire.said(0, 'tess', 'words'));
    // Client and room actors send to each other directly: the sender is named from the event.
    client.send(wire.leave(0, 0, 'tess'));
    await client.readUntil(wire.left(0, 0));
    const messages = lines.filter((line) => line.msg === 'actor message').map(({ from, to, event }) => ({ from, to, event }));
    expect(messages).toEqual(expect.arrayContaining([
      { from: 'client-0', to: 'server', event: 'client.join' },
      { from: 'server', to: 'room-0', event: 'join' },
      { from: 'room-0', to: 'client-0', event: 'room.joined' },
      { from: 'client-0', to: 'room-0', event: 'chat' },
      { from: 'client-0', to: 'room-0', event: 'chats' },
      { from: 'client-0', to: 'room-0', event: 'leave' },
      { from: 'room-0', to: 'client-0', event: 'room.left' },
      { from: 'room-0', to: 'server', event: 'room.empty' },
    ]));
    // From outside the tree come only the connection's requests and signals, and the server's start.
    expect(messages.filter((message) => message.from === 'outside' && !/^(request\.|socket\.|listener\.|xstate\.init$)/.test(String(message.event)))).toEqual([]);
    expect(JSON.stringify(lines)).not.toContain('secret words');
  });

  it('opens the default socket in a private directory of its own, where `dump --port` finds it', async () => {
    const server = await withEnv({ XDG_RUNTIME_DIR: dir }, () => startServer({ admin: true }));
    expect(server.adminPath).toBe(join(dir, 'chat-server', `${server.port}.sock`));
    expect((await stat(join(dir, 'chat-server'))).mode & 0o777).toBe(0o700);
    expect(parseDumpArgs(['--port', String(server.port)], { XDG_RUNTIME_DIR: dir })).toMatchObject({ path: server.adminPath });
    const reply = await askAdmin(server.adminPath!, { op: 'dump' });
    expect(reply.ok && reply.dump.server.address?.port).toBe(server.port);
  });

  const uid = process.getuid?.() ?? 0;
  /** Starts a server with the default admin location under `dir`; the error lines it logged. */
  async function adminRefusal(): Promise<string[]> {
    const { logger, lines } = memoryLogger('info');
    const server = await withEnv({ XDG_RUNTIME_DIR: undefined, TMPDIR: dir }, () => startServer({ admin: true, logger }));
    expect(server.adminPath).toBeNull();
    const client = await RawClient.connect(server.port);
    client.send('HELO still serving\n');
    await client.readUntil('StudentID:');
    await server.stop();
    return lines.filter((line) => line.level === 50).map((line) => String(line.msg));
  }

  // Another local user made the directory first: chown stands in for that user, which needs root.
  it.skipIf(uid !== 0)('refuses a default directory owned by another user; chat is served all the same', async () => {
    const squatted = join(dir, `chat-server-${uid}`);
    await mkdir(squatted, { mode: 0o700 });
    await chown(squatted, 65534, 65534);
    expect(await adminRefusal()).toEqual([`admin endpoint not opened: admin socket directory ${squatted} is owned by uid 65534, not by this user (uid ${uid}): refusing it`]);
    await rm(squatted, { recursive: true });
  });

  it('refuses a default directory that is not private (open mode, a symlink); chat is served all the same', async () => {
    const squatted = join(dir, `chat-server-${uid}`);
    await mkdir(squatted, { mode: 0o700 });
    await chmod(squatted, 0o755);
    expect(await adminRefusal()).toEqual([`admin endpoint not opened: admin socket directory ${squatted} has mode 0755, open to other users: refusing it (chmod 700 it, or remove it)`]);
    await rm(squatted, { recursive: true });
    await mkdir(join(dir, 'elsewhere'), { mode: 0o700 });
    await symlink(join(dir, 'elsewhere'), squatted);
    expect(await adminRefusal()).toEqual([`admin endpoint not opened: admin socket directory ${squatted} is not a directory (a symlink): refusing it`]);
    await rm(squatted);
  });

  // A socket another user made: chown stands in for that user, which needs root.
  it.skipIf(uid !== 0)("the dump command refuses a socket that is not its own user's or root's", async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const path = join(dir, 'admin.sock');
    await startServer({ admin: path });
    await chown(path, 65534, 65534);
    expect(await dumpCommand(['--socket', path])).toBe(1);
    expect(errors.mock.calls).toEqual([[`chat-server dump: ${path} is owned by uid 65534, not by you (uid ${uid}) or root: not asking it`]]);
    errors.mockRestore();
  });

  it('the dump command refuses a path that is not a socket', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const file = join(dir, 'plain-file');
    await writeFile(file, '');
    expect(await dumpCommand(['--socket', file])).toBe(1);
    expect(errors.mock.calls).toEqual([[`chat-server dump: ${file} is not a socket`]]);
    errors.mockRestore();
  });

  it('the dump command says in one line that no daemon answers, and exits 1', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const path = join(dir, 'nobody.sock');
    expect(await dumpCommand(['--socket', path])).toBe(1);
    expect(errors.mock.calls).toEqual([[`chat-server dump: no daemon at ${path} (ENOENT)`]]);
    errors.mockRestore();
  });
});
