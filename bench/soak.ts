/**
 * Soak: connects, joins, chats, leaves and closes (politely or abruptly) in a loop against an
 * in-process server, then checks that memory, open handles and the actor count return to their
 * baseline. `npm run soak -- --minutes 10 [--workers 50]`
 */
import { parseArgs } from 'node:util';
import { startChatServer, type ChatServerHandle } from '../src/index.js';
import { BenchPeer } from './peer.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '1' }, workers: { type: 'string', default: '50' }, rooms: { type: 'string', default: '20' } },
});
const minutes = Number(values.minutes);
const workers = Number(values.workers);
const roomCount = Number(values.rooms);
const gc = (globalThis as { gc?: () => void }).gc;

interface Figures {
  rssMiB: number;
  heapMiB: number;
  handles: number;
  actors: number;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    gc?.();
  }
}

function figures(server: ChatServerHandle): Figures {
  const memory = process.memoryUsage();
  return {
    rssMiB: Math.round((memory.rss / 2 ** 20) * 10) / 10,
    heapMiB: Math.round((memory.heapUsed / 2 ** 20) * 10) / 10,
    handles: process.getActiveResourcesInfo().length,
    actors: 1 + server.inspect.connections() + server.inspect.rooms(),
  };
}

let cycles = 0;
let messages = 0;
let failures = 0;

async function cycle(port: number, worker: number, n: number): Promise<void> {
  const peer = await BenchPeer.open(port);
  const name = `w${worker}`;
  peer.send(`HELO soak ${n}\n`);
  await peer.waitFor('StudentID:');
  const rooms = [...new Set([n % roomCount, (n * 7 + worker) % roomCount, (worker * 3) % roomCount])];
  const refs: number[] = [];
  let joinId = 0;
  for (const room of rooms) {
    peer.send(`JOIN_CHATROOM: soak-${room}\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: ${name}\n`);
    const reply = await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (chunk: string): void => {
        text += chunk;
        const match = /ROOM_REF: (\d+)\nJOIN_ID: (\d+)\n/.exec(text);
        if (match) {
          peer.socket.off('data', onData);
          resolve(match[0]);
        }
      };
      peer.socket.on('data', onData);
      peer.socket.once('close', () => reject(new Error('closed')));
    });
    const [, ref, id] = /ROOM_REF: (\d+)\nJOIN_ID: (\d+)\n/.exec(reply)!;
    refs.push(Number(ref));
    joinId = Number(id);
  }
  for (let k = 0; k < 5; k++) {
    const ref = refs[k % refs.length]!;
    const text = `soak ${worker} ${n} ${k}`;
    peer.send(`CHAT: ${ref}\nJOIN_ID: ${joinId}\nCLIENT_NAME: ${name}\nMESSAGE: ${text}\n\n`);
    await peer.waitFor(`MESSAGE: ${text}\n\n`);
    messages++;
  }
  peer.send(`LEAVE_CHATROOM: ${refs[0]}\nJOIN_ID: ${joinId}\nCLIENT_NAME: ${name}\n`);
  await peer.waitFor(`LEFT_CHATROOM: ${refs[0]}\n`);
  if (n % 2 === 0) {
    peer.send(`DISCONNECT: 0\nPORT: 0\nCLIENT_NAME: ${name}\n`);
  } else {
    peer.socket.destroy();
  }
  await peer.end();
  cycles++;
}

async function main(): Promise<void> {
  if (!gc) console.error('soak: run with --expose-gc for steadier memory figures (npm run soak does)');
  const server = await startChatServer({ port: 0, host: '127.0.0.1', logLevel: 'warn' });
  // Warm up once so lazily loaded code does not count as growth.
  await Promise.all(Array.from({ length: workers }, (_, w) => cycle(server.port, w, 0)));
  await settle();
  const before = figures(server);
  const deadline = Date.now() + minutes * 60_000;
  const started = Date.now();
  const progress = setInterval(() => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    process.stderr.write(`\rsoak: ${elapsed}s of ${minutes * 60}s, ${cycles} cycles, ${messages} messages, rss ${figures(server).rssMiB} MiB   `);
  }, 1000);
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let n = 1; Date.now() < deadline; n++) {
        await cycle(server.port, w, n).catch(() => {
          failures++;
        });
      }
    }),
  );
  clearInterval(progress);
  process.stderr.write('\n');
  // Every connection has closed on the client side; wait for the server to see the last of them.
  while (server.inspect.connections() > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  await settle();
  const after = figures(server);
  await server.stop();
  console.log(`soak: ${minutes} min, ${workers} workers, ${cycles} cycles (connect, join, chat, leave, close), ${messages} messages, ${failures} failed cycles`);
  console.log('figure      before   after');
  for (const key of Object.keys(before) as Array<keyof Figures>) console.log(`${key.padEnd(10)} ${String(before[key]).padStart(7)} ${String(after[key]).padStart(7)}`);
  const ok = failures === 0 && after.actors === before.actors && after.handles <= before.handles && after.heapMiB < before.heapMiB * 1.5 + 5;
  console.log(ok ? 'soak: back to baseline' : 'soak: NOT back to baseline');
  process.exitCode = ok ? 0 : 1;
}

void main();
