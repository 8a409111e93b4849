import { describe, expect, it } from 'vitest';
import { ChatClient, ChatClientError, ConnectionClosedError, connect, encodeChatRequest, ERRORS, type ChatEvent, type ConnectOptions } from '../src/index.js';
import { RawClient, startServer, wire } from './helpers.js';

// Only a failing test waits this long; a busy 2-core machine can be slow to start a process.
const WAIT_MS = 20_000;

/** Every event a client emits, from its connection on; tests wait for the ones they expect. */
class EventLog {
  readonly events: ChatEvent[] = [];
  private waiters: Array<() => void> = [];

  constructor(client: ChatClient) {
    client.events$.subscribe((event) => {
      this.events.push(event);
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  /** Resolves once `count` events have arrived (all of them, in order, for the test to compare). */
  async first(count: number): Promise<ChatEvent[]> {
    if (this.events.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${count} events: ${JSON.stringify(this.events)}`)), WAIT_MS);
        const check = (): void => {
          if (this.events.length < count) return;
          clearTimeout(timer);
          this.waiters = this.waiters.filter((waiter) => waiter !== check);
          resolve();
        };
        this.waiters.push(check);
      });
    }
    return this.events.slice(0, count);
  }
}

async function client(port: number, options: ConnectOptions = {}): Promise<{ client: ChatClient; log: EventLog }> {
  const c = await connect('127.0.0.1', port, options);
  return { client: c, log: new EventLog(c) };
}

const joined = (roomRef: number, roomName: string, clientName: string): ChatEvent => ({ type: 'joined', roomRef, roomName, clientName });
const left = (roomRef: number, roomName: string, clientName: string): ChatEvent => ({ type: 'left', roomRef, roomName, clientName });
const said = (roomRef: number, roomName: string, clientName: string, text: string): ChatEvent => ({ type: 'message', roomRef, roomName, clientName, text });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => new Error('expected a rejection'), (error: unknown) => error);
}

describe('client library', () => {
  it('HELO: resolves with the reply\'s fields', async () => {
    const server = await startServer({ studentId: 'lib-test' });
    const { client: a } = await client(server.port);
    expect(await a.helo('hello world')).toEqual({ line: 'HELO hello world', ip: '127.0.0.1', port: server.port, studentId: 'lib-test' });
  });

  it('join, chat, leave, disconnect: two clients talking in two rooms', async () => {
    const server = await startServer();
    const { client: a, log: aLog } = await client(server.port);
    const { client: b, log: bLog } = await client(server.port);

    expect(await a.join('lobby', 'alice')).toEqual({ roomRef: 0, roomName: 'lobby', joinId: 0, clientName: 'alice' });
    expect(await b.join('lobby', 'bob')).toEqual({ roomRef: 0, roomName: 'lobby', joinId: 1, clientName: 'bob' });
    expect(await b.join('games', 'bobby')).toEqual({ roomRef: 1, roomName: 'games', joinId: 1, clientName: 'bobby' });
    await a.join('games', 'al');
    expect(a.rooms().map((room) => room.roomName)).toEqual(['lobby', 'games']);

    await a.chat(0, 'hi bob');
    await b.chat(0, 'hi alice\nhow are you?');
    await b.chat(1, '  trimmed like the server does  ');
    await a.leave(1);
    expect(a.rooms().map((room) => room.roomName)).toEqual(['lobby']);
    await a.disconnect();
    await a.closed;

    // From alice joining games on, both see the same: every room's order is one for all its members.
    const seenByBoth = [
      joined(1, 'games', 'al'),
      said(0, 'lobby', 'alice', 'hi bob'),
      said(0, 'lobby', 'bob', 'hi alice\nhow are you?'),
      said(1, 'games', 'bobby', 'trimmed like the server does'),
      left(1, 'games', 'al'),
      left(0, 'lobby', 'alice'),
    ];
    expect(await aLog.first(9)).toEqual([joined(0, 'lobby', 'alice'), joined(0, 'lobby', 'bob'), ...seenByBoth, { type: 'closed', expected: true, reason: undefined }]);
    expect(await bLog.first(8)).toEqual([joined(0, 'lobby', 'bob'), joined(1, 'games', 'bobby'), ...seenByBoth]);
    expect(a.isOpen()).toBe(false);
    await expect(a.chat(0, 'too late')).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('a repeated join answers again, keeps the first name, announces nothing; a leave of a room not joined resolves', async () => {
    const server = await startServer();
    const { client: a, log } = await client(server.port);
    await a.join('r', 'alice');
    expect(await a.join('r', 'alicia')).toEqual({ roomRef: 0, roomName: 'r', joinId: 0, clientName: 'alice' });
    await a.chat(0, 'still alice');
    await a.leave(0);
    await a.leave(0);
    expect(await log.first(3)).toEqual([joined(0, 'r', 'alice'), said(0, 'r', 'alice', 'still alice'), left(0, 'r', 'alice')]);
  });

  it('pipelines requests: each call resolves on its own reply, in order', async () => {
    const server = await startServer();
    const { client: a, log } = await client(server.port);
    const { roomRef } = await a.join('r', 'alice');
    const sent = ['one', 'two', 'three'].map((text) => a.chat(roomRef, text));
    const joinedToo = a.join('s', 'alice');
    await Promise.all([...sent, joinedToo]);
    expect(await log.first(5)).toEqual([
      joined(0, 'r', 'alice'),
      said(0, 'r', 'alice', 'one'),
      said(0, 'r', 'alice', 'two'),
      said(0, 'r', 'alice', 'three'),
      joined(1, 's', 'alice'),
    ]);
  });

  it('rejects a call with a typed error carrying the code and name, and carries on', async () => {
    const server = await startServer();
    const { client: a } = await client(server.port);
    const { client: b } = await client(server.port);
    await a.join('r', 'alice');
    await b.join('other', 'bob');
    const cases: Array<[Promise<unknown>, number, string]> = [
      [a.chat(42, 'anyone?'), 2, 'UNKNOWN_ROOM'],
      [a.chat(1, 'not mine'), 3, 'NOT_A_MEMBER'],
      [a.chat(0, 'as bob', { joinId: 1 }), 4, 'WRONG_JOIN_ID'],
      [a.chat(0, 'as bob', { clientName: 'bob' }), 5, 'WRONG_NAME'],
      [a.chat(0, 'forged\nCLIENT_NAME: bob'), 6, 'INVALID_VALUE'],
      [a.join('r2', ''), 6, 'INVALID_VALUE'],
    ];
    for (const [call, code, name] of cases) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(ChatClientError);
      expect(error).toMatchObject({ code, errorName: name, closesConnection: false });
    }
    // The FIFO stayed in step: the next call gets its own reply.
    await a.chat(0, 'still here');
    expect(a.isOpen()).toBe(true);
  });

  it('refuses before sending what would break the framing', async () => {
    const server = await startServer();
    const { client: a } = await client(server.port);
    await a.join('r', 'alice');
    await expect(a.chat(0, 'one\n\ntwo')).rejects.toThrow(RangeError);
    await expect(a.chat(0, 'one\nCHAT: 0')).rejects.toThrow(RangeError);
    await expect(a.join('a\nroom', 'alice')).rejects.toThrow(RangeError);
    // Over the server's limits (its defaults unless told): TOO_LONG would close the connection.
    await expect(a.chat(0, 'x'.repeat(8_184))).rejects.toThrow(new RangeError("message not sent: a line of 8193 bytes, over the server's line limit of 8192"));
    const request = encodeChatRequest(0, 0, 'alice', Array.from({ length: 9 }, () => 'y'.repeat(8_000)).join('\n'));
    await expect(a.chat(0, Array.from({ length: 9 }, () => 'y'.repeat(8_000)).join('\n'))).rejects.toThrow(
      new RangeError(`message not sent: ${Buffer.byteLength(request)} bytes, over the server's request limit of 65536`),
    );
    await a.chat(0, 'x'.repeat(8_183));
    await a.chat(0, 'fine');
  });

  it('an error that closes the connection rejects the call and ends events$ with an unexpected close', async () => {
    const server = await startServer();
    // Told the server takes longer lines than it does, the client sends what the server refuses.
    const { client: a, log } = await client(server.port, { limits: { maxLineBytes: 1 << 20 } });
    const error = await rejection(a.join('x'.repeat(10_000), 'alice'));
    expect(error).toMatchObject({ code: ERRORS.TOO_LONG.code, errorName: 'TOO_LONG', closesConnection: true });
    await a.closed;
    expect(await log.first(1)).toEqual([{ type: 'closed', expected: false, reason: 'the server closed the connection' }]);
  });

  it('surfaces the server going away: pending calls reject, events$ says closed unexpectedly', async () => {
    const server = await startServer();
    const { client: a, log } = await client(server.port);
    const { client: b } = await client(server.port);
    await a.join('r', 'alice');
    await b.join('r', 'bob');
    // Bob's connection drops without DISCONNECT: the server announces the departure.
    b.destroy();
    await b.closed;
    expect((await log.first(3))[2]).toEqual(left(0, 'r', 'bob'));
    await server.stop();
    await a.closed;
    expect((await log.first(4))[3]).toEqual({ type: 'closed', expected: false, reason: 'the server closed the connection' });
  });

  it('reads room traffic from peers speaking raw bytes, and rejects a connection refused', async () => {
    const server = await startServer();
    const { client: a, log } = await client(server.port);
    await a.join('r', 'alice');
    const raw = await RawClient.connect(server.port);
    raw.send(wire.join('r', 'rawbob') + wire.chat(0, 1, 'rawbob', 'from raw\n  indented'));
    expect(await log.first(3)).toEqual([joined(0, 'r', 'alice'), joined(0, 'r', 'rawbob'), said(0, 'r', 'rawbob', 'from raw\n  indented')]);
    const port = server.port;
    await server.stop();
    await expect(connect('127.0.0.1', port)).rejects.toThrow(/ECONNREFUSED/);
  });
});
