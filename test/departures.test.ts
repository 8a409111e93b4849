import { connect, type Socket } from 'node:net';
import { waitFor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { RawClient, joinedClient, startServer, wire, expectRead } from './helpers.js';

const MEMBERS = 1_000;

/** A member that stays: counts the departures it hears, in the order heard. */
class Watcher {
  readonly left: string[] = [];
  private text = '';
  private firstLeave: () => void = () => {};
  readonly heardFirstLeave = new Promise<void>((resolve) => (this.firstLeave = resolve));
  private allLeft: () => void = () => {};
  readonly heardAll = new Promise<void>((resolve) => (this.allLeft = resolve));

  constructor(client: RawClient, private readonly expected: number) {
    // From here on the watcher reads the socket itself: only announcements come.
    client.socket.removeAllListeners('data');
    client.socket.setEncoding('utf8');
    client.socket.on('data', (chunk: string) => this.received(chunk));
  }

  private received(chunk: string): void {
    this.text += chunk;
    let end: number;
    while ((end = this.text.indexOf('\n\n')) >= 0) {
      const match = /MESSAGE: (\S+) has left this chatroom\.$/.exec(this.text.slice(0, end));
      this.text = this.text.slice(end + 2);
      if (!match) continue;
      this.left.push(match[1]!);
      if (this.left.length === 1) this.firstLeave();
      if (this.left.length === this.expected) this.allLeft();
    }
  }
}

/**
 * `count` plain sockets joined to `room` as m0, m1, …, reading and dropping what they are sent.
 * Connected a hundred at a time, each answered a HELO (a thousand connects at once overflow the
 * listen backlog into SYN retries); then every join is sent at once, so the server takes them in
 * one turn and each member's announcements go out in one write rather than one write per join.
 */
async function members(port: number, room: string, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let start = 0; start < count; start += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - start) }, () => new Promise<void>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => socket.write('HELO member\n'));
      socket.once('data', () => resolve());
      socket.on('error', reject);
      sockets.push(socket);
    })));
  }
  for (const [i, socket] of sockets.entries()) {
    socket.on('data', () => {});
    socket.write(wire.join(room, `m${i}`));
  }
  return sockets;
}

describe('mass departures', () => {
  it('a thousand members cut at once: their departures are spread over turns (a HELO is answered meanwhile) and every remaining member hears each once, in one order', async () => {
    const server = await startServer();
    const port = server.port;
    const first = await joinedClient(port, 'crowd', 'first');
    const second = await joinedClient(port, 'crowd', 'second');
    await first.read(wire.hasJoined(0, 'second'));
    const crowd = await members(port, 'crowd', MEMBERS);
    // Every join announced, in whatever order the joins arrived: the total length is known.
    const joins = Array.from({ length: MEMBERS }, (_, i) => wire.hasJoined(0, `m${i}`)).join('');
    await Promise.all([first.next(joins.length), second.next(joins.length)]);
    const probe = await RawClient.connect(port);
    const watchers = [new Watcher(first, MEMBERS), new Watcher(second, MEMBERS)];

    // As when a load generator is stopped: every one of them closes in the same instant.
    for (const socket of crowd) socket.destroy();
    await watchers[0]!.heardFirstLeave;
    probe.send('HELO still there\n');
    await expectRead(probe, wire.helo('still there', port));
    // Answered while the departures were still being announced, not after all of them.
    expect(watchers[0]!.left.length).toBeLessThan(MEMBERS);

    await Promise.all(watchers.map((watcher) => watcher.heardAll));
    const everyone = Array.from({ length: MEMBERS }, (_, i) => `m${i}`);
    expect([...watchers[0]!.left].sort()).toEqual(everyone.sort());
    expect(watchers[1]!.left).toEqual(watchers[0]!.left);
    expect(server.inspect.roomMembers(0)).toEqual([0, 1]);
  }, 60_000);

  it('a room that fails in the middle of a turn of departures: every departer is confirmed and every departure announced once', async () => {
    const count = 100;
    const server = await startServer({ testHooks: true });
    const port = server.port;
    const first = await joinedClient(port, 'crowd', 'first');
    const crowd = await members(port, 'crowd', count);
    const joins = Array.from({ length: count }, (_, i) => wire.hasJoined(0, `m${i}`)).join('');
    await first.next(joins.length);
    const watcher = new Watcher(first, count);
    // The 50th departure carried out fails: the 49 before it in the same turn are already announced.
    server.inspect.roomActor(0)!.send({ type: 'test.failAfter', commands: 50 });

    for (const socket of crowd) socket.destroy();
    await watcher.heardAll;
    const everyone = Array.from({ length: count }, (_, i) => `m${i}`);
    expect([...watcher.left].sort()).toEqual(everyone.sort());
    // Every departer's client actor was told its departure is done, so it finished: only `first` is left.
    await waitFor(server.actor, () => server.inspect.connections() === 1, { timeout: 10_000 });
    expect(watcher.left).toHaveLength(count);
  }, 60_000);
});
