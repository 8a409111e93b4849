import { describe, expect, it } from 'vitest';
import { connect, type ChatClient } from '../src/index.js';
import { startServer } from './helpers.js';

const ROOMS = 20;
const CLIENTS = 200;
const MESSAGES = 50;

describe('load', () => {
  it('200 clients in 20 rooms each send 50 messages: every member gets each exactly once, in per-sender order', async () => {
    const server = await startServer();
    const clients: ChatClient[] = await Promise.all(Array.from({ length: CLIENTS }, () => connect('127.0.0.1', server.port)));
    const roomOf = (i: number) => i % ROOMS;
    const members = (room: number) => clients.map((_, i) => i).filter((i) => roomOf(i) === room);
    // Per member: the next sequence number expected from each sender of its room.
    const next = clients.map((_, i) => new Map(members(roomOf(i)).map((sender) => [`c${sender}`, 0])));
    const refs = new Map<number, number>();
    // Anything unexpected, a duplicate arriving late included, is kept to fail the test at the end.
    const violations: string[] = [];
    const fences = clients.map(() => 0);
    const received = clients.map((client, i) => new Promise<void>((resolve, reject) => {
      let count = 0;
      client.events$.subscribe((event) => {
        if (event.type !== 'message') return;
        if (event.text === 'fence') {
          fences[i]!++;
          return;
        }
        const match = /^m (\d+) (\d+)$/.exec(event.text);
        const expected = next[i]!.get(event.clientName);
        if (!match || event.clientName !== `c${match[1]}` || event.roomRef !== refs.get(roomOf(i)) || Number(match[2]) !== expected) {
          violations.push(`member c${i} got ${JSON.stringify(event)}, expected message ${expected} from ${event.clientName}`);
          reject(new Error(violations[0]));
          return;
        }
        next[i]!.set(event.clientName, expected + 1);
        if (++count === members(roomOf(i)).length * MESSAGES) resolve();
      });
    }));

    for (const [i, client] of clients.entries()) refs.set(roomOf(i), (await client.join(`room-${roomOf(i)}`, `c${i}`)).roomRef);
    const sent: Array<Promise<void>> = [];
    for (let n = 0; n < MESSAGES; n++) {
      for (const [i, client] of clients.entries()) sent.push(client.chat(refs.get(roomOf(i))!, `m ${i} ${n}`));
    }
    await Promise.all([...sent, ...received]);
    // A fence from every sender: each member's room delivers its fences after anything still in flight.
    await Promise.all(clients.map((client, i) => client.chat(refs.get(roomOf(i))!, 'fence')));
    await Promise.all(clients.map(async (_, i) => {
      while (fences[i]! < members(roomOf(i)).length) await new Promise((resolve) => setImmediate(resolve));
    }));
    expect(violations).toEqual([]);
    for (const counts of next) for (const count of counts.values()) expect(count).toBe(MESSAGES);
  }, 120_000);
});
