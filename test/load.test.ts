import { describe, expect, it } from 'vitest';
import { RawClient, startServer, wire } from './helpers.js';

const ROOMS = 20;
const CLIENTS = 200;
const MESSAGES = 50;

describe('load', () => {
  it('200 clients in 20 rooms each send 50 messages: every member gets each exactly once, in per-sender order', async () => {
    const server = await startServer();
    const port = server.port;
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawClient.connect(port)));
    const roomOf = (i: number) => i % ROOMS;
    // Join sequentially per room so every client knows how many announcements precede the chat.
    const joinIds: number[] = [];
    const refs = new Map<number, number>();
    for (const [i, client] of clients.entries()) {
      client.send(wire.join(`room-${roomOf(i)}`, `c${i}`));
      const reply = await client.readUntil('\n\n');
      const ref = Number(/ROOM_REF: (\d+)/.exec(reply)![1]);
      joinIds[i] = Number(/JOIN_ID: (\d+)/.exec(reply)![1]);
      refs.set(roomOf(i), ref);
    }
    const members = (room: number) => clients.map((_, i) => i).filter((i) => roomOf(i) === room);
    // Drain the announcements of those who joined later.
    await Promise.all(clients.map(async (client, i) => {
      const later = members(roomOf(i)).filter((j) => j > i);
      for (let k = 0; k < later.length; k++) await client.readUntil('\n\n');
    }));

    for (let n = 0; n < MESSAGES; n++) {
      for (const [i, client] of clients.entries()) client.send(wire.chat(refs.get(roomOf(i))!, joinIds[i]!, `c${i}`, `m ${i} ${n}`));
    }
    await Promise.all(clients.map(async (client, i) => {
      const expectedSenders = members(roomOf(i));
      const next = new Map(expectedSenders.map((s) => [s, 0]));
      for (let k = 0; k < expectedSenders.length * MESSAGES; k++) {
        const message = await client.readUntil('\n\n');
        const match = /^CHAT: (\d+)\nCLIENT_NAME: c(\d+)\nMESSAGE: m (\d+) (\d+)\n\n$/.exec(message);
        expect(match, message).not.toBeNull();
        const [, ref, name, sender, seq] = match!.map(Number);
        expect(ref).toBe(refs.get(roomOf(i)));
        expect(name).toBe(sender);
        expect(next.has(sender!), `member ${i} got a message from c${sender} of another room`).toBe(true);
        expect(seq, `from c${sender} to c${i}`).toBe(next.get(sender!));
        next.set(sender!, seq! + 1);
      }
      for (const count of next.values()) expect(count).toBe(MESSAGES);
      expect(client.pending()).toBe('');
    }));
  }, 120_000);
});
