/**
 * How long a dump holds chat up with many connections:
 * `node dist/bench/dump-stall.js [CONNECTIONS] [SENDERS]` (defaults 10,000 and 10).
 * The server runs here; a child process opens the connections (each in one of 100 rooms) and keeps
 * a chat going. Reports the dump's collection time and the longest event-loop stall while an admin
 * dump is taken, beside the longest stall in an equal window without one.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startChatServer } from '../src/index.js';

const ROOMS = 100;
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

async function peers(port: number, count: number, senders: number): Promise<void> {
  const sockets: Socket[] = [];
  for (let start = 0; start < count; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, count - start) }, (_, k) => {
        const i = start + k;
        return new Promise<void>((resolve, reject) => {
          const socket = connect({ port, host: '127.0.0.1' }, () => {
            socket.write(`JOIN_CHATROOM: r${i % ROOMS}\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: p${i}\n`);
          });
          socket.once('data', () => resolve());
          socket.on('data', () => {});
          socket.once('error', reject);
          sockets.push(socket);
        });
      }),
    );
  }
  process.stdout.write('ready\n');
  // A steady chat: each sender posts one message every 50 ms to its room of count / 100 members.
  setInterval(() => {
    for (let i = 0; i < senders; i++) sockets[i]!.write(`CHAT: ${i % ROOMS}\nJOIN_ID: ${i}\nCLIENT_NAME: p${i}\nMESSAGE: hello\n\n`);
  }, 50);
}

/** The longest gap between event-loop turns while `during` runs. */
async function longestStall(during: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  let ticking = true;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  await during();
  ticking = false;
  return Math.round(longest * 100) / 100;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000);
  const senders = process.argv[3] ?? '10';
  const admin = join(await mkdtemp(join(tmpdir(), 'dump-stall-')), 'admin.sock');
  const server = await startChatServer({ port: 0, host: '127.0.0.1', logLevel: 'warn', admin });
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'peers', String(server.port), String(count), senders], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (let round = 0; round < 3; round++) {
    const baseline = await longestStall(() => new Promise((resolve) => setTimeout(resolve, 300)));
    let tookMs = 0;
    let bytes = 0;
    const stall = await longestStall(async () => {
      const started = performance.now();
      // From another process, as an operator would: only the server's side of the work lands here.
      const { stdout } = await promisify(execFile)(process.execPath, [cli, 'dump', '--socket', admin, '--json'], { maxBuffer: 1 << 30 });
      tookMs = performance.now() - started;
      bytes = stdout.length;
      const dump = JSON.parse(stdout) as { clients: unknown[] };
      if (dump.clients.length !== count) throw new Error('incomplete dump');
    });
    console.log(JSON.stringify({ connections: count, senders: Number(senders), dumpRoundTripMs: Math.round(tookMs), replyBytes: bytes, longestStallMs: stall, longestStallWithoutDumpMs: baseline }));
  }
  child.kill();
  await server.stop();
}

if (process.argv[2] === 'peers') void peers(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
else void main().then(() => process.exit(0));
