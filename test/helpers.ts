import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { afterEach, expect } from 'vitest';
import { startChatServer, type ChatServerHandle, type StartOptions } from '../src/index.js';
import { testPrefix } from './redis-server.js';

const running = new Set<ChatServerHandle>();
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all([...running].map((server) => server.stop()));
  running.clear();
});

/** A real server on a free loopback port, stopped after the test. */
export async function startServer(options: StartOptions = {}): Promise<ChatServerHandle> {
  const server = await startChatServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', ...options });
  running.add(server);
  return server;
}

// Only a failing test waits this long; a busy 2-core machine can be slow to deliver a burst.
const WAIT_MS = 20_000;

/** A raw protocol peer: writes bytes, and reads exactly the bytes a test expects. */
export class RawClient {
  /** Text received; what is before `position` has been read. Compacted now and then. */
  private received = '';
  private position = 0;
  private readonly decoder = new StringDecoder('utf8');
  private waiters: Array<() => void> = [];
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += this.decoder.write(chunk);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    sockets.add(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves when the bytes were handed to the kernel: used to make a split write two reads. */
  async sendAndFlush(data: string | Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** Waits for the next `length` characters and returns them (the caller asserts equality). */
  async next(length: number): Promise<string> {
    await this.until(() => this.received.length - this.position >= length, `${length} characters`);
    return this.take(this.position + length);
  }

  /** Reads exactly as many characters as `expected` has; the test compares them. */
  async read(expected: string): Promise<string> {
    return this.next(expected.length);
  }

  /** Reads up to and including `terminator`. */
  async readUntil(terminator: string): Promise<string> {
    let found = -1;
    await this.until(() => (found = this.received.indexOf(terminator, this.position)) >= 0, JSON.stringify(terminator));
    return this.take(found + terminator.length);
  }

  /** Everything received and not yet read, once the peer has closed. */
  async readToClose(): Promise<string> {
    await this.until(() => this.ended, 'close');
    return this.take(this.received.length);
  }

  pending(): string {
    return this.received.slice(this.position);
  }

  private take(end: number): string {
    const out = this.received.slice(this.position, end);
    this.position = end;
    if (this.position > 1 << 20) {
      this.received = this.received.slice(this.position);
      this.position = 0;
    }
    return out;
  }

  isClosed(): boolean {
    return this.ended;
  }

  close(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private until(ready: () => boolean, what: string): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${what}; received so far: ${JSON.stringify(this.pending().slice(0, 2000))}`));
      }, WAIT_MS);
      const check = (): void => {
        if (ready()) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((waiter) => waiter !== check);
          resolve();
        } else if (this.ended) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((waiter) => waiter !== check);
          reject(new Error(`connection closed while waiting for ${what}; received: ${JSON.stringify(this.pending().slice(0, 2000))}`));
        }
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The protocol's request and reply texts, so tests read like protocol.md. */
export const wire = {
  join: (room: string, name: string) => `JOIN_CHATROOM: ${room}\nCLIENT_IP: 0\nPORT: 0\nCLIENT_NAME: ${name}\n`,
  chat: (ref: number, joinId: number, name: string, message: string) => `CHAT: ${ref}\nJOIN_ID: ${joinId}\nCLIENT_NAME: ${name}\nMESSAGE: ${message}\n\n`,
  leave: (ref: number, joinId: number, name: string) => `LEAVE_CHATROOM: ${ref}\nJOIN_ID: ${joinId}\nCLIENT_NAME: ${name}\n`,
  disconnect: (name: string) => `DISCONNECT: 0\nPORT: 0\nCLIENT_NAME: ${name}\n`,
  joined: (room: string, port: number, ref: number, joinId: number) => `JOINED_CHATROOM: ${room}\nSERVER_IP: 127.0.0.1\nPORT: ${port}\nROOM_REF: ${ref}\nJOIN_ID: ${joinId}\n`,
  left: (ref: number, joinId: number) => `LEFT_CHATROOM: ${ref}\nJOIN_ID: ${joinId}\n`,
  said: (ref: number, name: string, message: string) => `CHAT: ${ref}\nCLIENT_NAME: ${name}\nMESSAGE: ${message}\n\n`,
  hasJoined: (ref: number, name: string) => `CHAT: ${ref}\nCLIENT_NAME: ${name}\nMESSAGE: ${name} has joined this chatroom.\n\n`,
  hasLeft: (ref: number, name: string) => `CHAT: ${ref}\nCLIENT_NAME: ${name}\nMESSAGE: ${name} has left this chatroom.\n\n`,
  helo: (text: string, port: number, studentId = 'actor-chat-server') => `HELO ${text}\nIP:127.0.0.1\nPort:${port}\nStudentID:${studentId}\n`,
  error: (code: number, description: string) => `ERROR_CODE: ${code}\nERROR_DESCRIPTION: ${description}\n`,
};

/** Reads exactly `text`'s length and asserts those are its bytes. */
export async function expectRead(client: RawClient, text: string): Promise<void> {
  expect(await client.read(text)).toBe(text);
}

/** Reads one error reply and returns its code. */
export async function readErrorCode(client: RawClient): Promise<number> {
  const reply = await client.readUntil('\n');
  const match = /^ERROR_CODE: (\d+)\n$/.exec(reply);
  if (!match) throw new Error(`expected an error reply, got ${JSON.stringify(reply + client.pending())}`);
  await client.readUntil('\n');
  return Number(match[1]);
}

/** A raw client that has joined `room` as `name` and read its own announcement (room ref `ref`). */
export async function joinedClient(port: number, room: string, name: string, ref = 0): Promise<RawClient> {
  const client = await RawClient.connect(port);
  client.send(wire.join(room, name));
  await client.readUntil(wire.hasJoined(ref, name));
  return client;
}

/** alice (on `alicePort`) and bob (on `bobPort`) in room1 (ref 0); alice has read bob's announcement. */
export async function aliceAndBob(alicePort: number, bobPort: number): Promise<{ a: RawClient; b: RawClient }> {
  const a = await joinedClient(alicePort, 'room1', 'alice');
  const b = await joinedClient(bobPort, 'room1', 'bob');
  await a.read(wire.hasJoined(0, 'bob'));
  return { a, b };
}

/** `count` in-process nodes sharing the Redis at `redis` under a fresh key prefix: a cluster of their own. */
export async function startCluster(redis: string, count: number, options: StartOptions = {}): Promise<ChatServerHandle[]> {
  const clusterPrefix = testPrefix();
  const nodes = [];
  for (let i = 0; i < count; i++) nodes.push(await startServer({ redis, clusterPrefix, ...options }));
  return nodes;
}

/**
 * `count` members of room "busy" (ref 0), member i on `ports[i % ports.length]`, each having read
 * every announcement; then each member in `senders` posts `perSender` chats ("s:n") at once.
 * Returns the members and the message texts each one read, in order.
 */
export async function concurrentSenders(ports: readonly number[], count: number, senders: readonly number[], perSender: number): Promise<{ members: RawClient[]; sequences: string[][] }> {
  const members: RawClient[] = [];
  for (let i = 0; i < count; i++) members.push(await joinedClient(ports[i % ports.length]!, 'busy', `m${i}`));
  // Everyone has now seen every later join: drain those announcements first.
  for (let i = 0; i < count; i++) for (let j = i + 1; j < count; j++) await members[i]!.read(wire.hasJoined(0, `m${j}`));
  for (let n = 0; n < perSender; n++) for (const s of senders) members[s]!.send(wire.chat(0, s, `m${s}`, `${s}:${n}`));
  const total = perSender * senders.length;
  const sequences = await Promise.all(members.map(async (member) => {
    const seen: string[] = [];
    for (let k = 0; k < total; k++) seen.push(/MESSAGE: (.*)\n\n$/.exec(await member.readUntil('\n\n'))![1]!);
    return seen;
  }));
  return { members, sequences };
}
