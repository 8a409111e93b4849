/**
 * How long a mass departure holds the server up: `node dist/bench/depart-stall.js [MEMBERS] [ROOMS]`
 * (default 10,050 members in one room; `10050 1005` is the bench's scale shape, rooms of 10). The
 * server runs here; a child process opens MEMBERS connections, spread over ROOMS rooms, and is then killed (a load generator stopped), so every one of them closes at once. Reports the
 * longest event-loop stall from the kill until the last departure was announced, the event-loop
 * delay's maximum and p99 over that window, the stalls over 50 ms (when, after the kill, each ended,
 * and how long it was), how long the departures took, and how long a probe connection (HELO every
 * 5 ms, from this process) waited for its slowest answer. `PROFILE=FILE` also writes a CPU profile
 * of that window.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { startChatServer } from '../src/index.js';

/** Member `i` of ROOMS rooms joins room `i % ROOMS`; the watcher is in the first. */
function roomOf(i: number, rooms: number): string {
  return rooms === 1 ? 'crowd' : `crowd-${i % rooms}`;
}
const LEAVE_SUFFIX = ' has left this chatroom.\n\n';

/**
 * The child: MEMBERS connections in ROOMS rooms, reading and discarding what they get. Connected a
 * few hundred at a time (each answered a HELO: more at once overflow the listen backlog), then
 * joined 200 at a time, each batch sent at once so the server announces it in one write per member.
 */
async function members(port: number, count: number, rooms: number): Promise<void> {
  const sockets: Socket[] = [];
  for (let start = 0; start < count; start += 250) {
    await Promise.all(
      Array.from({ length: Math.min(250, count - start) }, () => new Promise<void>((resolve, reject) => {
        const socket = connect({ port, host: '127.0.0.1' }, () => socket.write('HELO member\n'));
        socket.once('data', () => resolve());
        socket.once('error', reject);
        sockets.push(socket);
      })),
    );
  }
  for (const socket of sockets) socket.on('data', () => {});
  for (let start = 0; start < count; start += 200) {
    await Promise.all(
      sockets.slice(start, start + 200).map((socket, k) => new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.write(`JOIN_CHATROOM: ${roomOf(start + k, rooms)}\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: m${start + k}\n`);
      })),
    );
  }
  process.stdout.write('ready\n');
}

/** A connection of this process that joined the first room and counts the departures it hears. */
async function watcher(port: number, room: string): Promise<{ socket: Socket; departures: () => number }> {
  const socket = connect({ port, host: '127.0.0.1' });
  let text = '';
  let departures = 0;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
    let at: number;
    while ((at = text.indexOf('\n\n')) >= 0) {
      if (text.slice(0, at + 2).endsWith(LEAVE_SUFFIX)) departures++;
      text = text.slice(at + 2);
    }
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(`JOIN_CHATROOM: ${room}\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: watcher\n`);
  return { socket, departures: () => departures };
}

/** A connection sending HELO every 5 ms (one at a time): the longest wait for an answer. */
function probe(port: number): { socket: Socket; longestMs: () => number } {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  let sentAt = 0;
  let longest = 0;
  const send = (): void => {
    sentAt = performance.now();
    socket.write('HELO probe\n');
  };
  socket.on('data', () => {
    longest = Math.max(longest, performance.now() - sentAt);
    setTimeout(send, 5);
  });
  socket.once('connect', send);
  return { socket, longestMs: () => longest };
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_050);
  const rooms = Number(process.argv[3] ?? 1);
  /** Members of the watcher's room: the departures it hears. */
  const inFirstRoom = Math.ceil(count / rooms);
  const server = await startChatServer({ port: 0, host: '127.0.0.1', logLevel: 'warn' });
  const clients = (): number => server.inspect.connections();
  const watch = await watcher(server.port, roomOf(0, rooms));
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'members', String(server.port), String(count), String(rooms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
  // The join storm's announcements drained, the collector quiet.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const ping = probe(server.port);
  await new Promise((resolve) => setTimeout(resolve, 500));

  const delay = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let longest = 0;
  let ticking = true;
  /** Stalls over 50 ms: [ms after the kill it ended, its length]. */
  const stalls: [number, number][] = [];
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    if (now - last > 50) stalls.push([Math.round(now - started), Math.round(now - last)]);
    last = now;
    if (ticking) setImmediate(tick);
  };
  const session = process.env.PROFILE ? new Session() : null;
  if (session) { session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.start'); }
  const started = performance.now();
  delay.enable();
  setImmediate(tick);
  child.kill('SIGKILL');
  // Every client actor ends only once each of its rooms announced its departure.
  await new Promise<void>((resolve) => {
    const check = (): void => (clients() <= 2 && watch.departures() >= inFirstRoom ? resolve() : void setTimeout(check, 5));
    check();
  });
  const tookMs = performance.now() - started;
  // The last announcements' writes come in a turn after that: watched a little longer.
  await new Promise((resolve) => setTimeout(resolve, 200));
  if (session) { const { profile } = await session.post('Profiler.stop'); writeFileSync(process.env.PROFILE!, JSON.stringify(profile)); }
  ticking = false;
  delay.disable();
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  console.log(JSON.stringify({
    members: count,
    rooms,
    departuresMs: round(tookMs),
    longestStallMs: round(longest),
    loopDelayMaxMs: round(delay.max / 1e6),
    loopDelayP99Ms: round(delay.percentile(99) / 1e6),
    probeLongestReplyMs: round(ping.longestMs()),
    watcherHeard: watch.departures(),
    stallsOver50Ms: stalls,
  }));
  ping.socket.destroy();
  watch.socket.destroy();
  await server.stop();
}

if (process.argv[2] === 'members') void members(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]));
else void main().then(() => process.exit(0));
