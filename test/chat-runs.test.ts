import { describe, expect, it } from 'vitest';
import type { ClientEvent } from '../actors/events.js';
import { RunFeed } from '../src/session/chat-run.js';
import { RawClient, expectRead, joinedClient, startServer, wire } from './helpers.js';
import { IrcPeer, SERVER, ircUser } from './irc-helpers.js';

/**
 * A read's consecutive chats reach the client actor as one event and each room as one event per
 * room (src/session/chat-run.ts). Whatever is batched, every reply and delivery keeps the place
 * it had when requests were taken one by one: these runs come in one write, mixing what is
 * batched with what is refused or must wait for an answer.
 */
/** A lab client `name` in rooms "one" (ref 0) and "two" (ref 1), its own announcements read. */
async function inRoomsOneAndTwo(port: number, name: string): Promise<RawClient> {
  const client = await joinedClient(port, 'one', name);
  client.send(wire.join('two', name));
  await client.readUntil(wire.hasJoined(1, name));
  return client;
}

describe('runs of chats in one read', () => {
  it('lab: chats to two rooms, a refused one and one to an unknown ref keep their order, for the sender and the rooms', async () => {
    const server = await startServer();
    const a = await inRoomsOneAndTwo(server.port, 'a');
    const b = await joinedClient(server.port, 'one', 'b');
    await a.readUntil(wire.hasJoined(0, 'b'));
    a.send(
      wire.chat(0, 0, 'a', 'first') +
        wire.chat(0, 0, 'a', 'second') +
        wire.chat(0, 7, 'a', 'wrong join id') +
        wire.chat(0, 0, 'a', 'third') +
        wire.chat(1, 0, 'a', 'to two') +
        wire.chat(99, 0, 'a', 'nowhere') +
        wire.chat(0, 0, 'a', 'fourth') +
        'HELO end\n',
    );
    await expectRead(
      a,
      wire.said(0, 'a', 'first') +
        wire.said(0, 'a', 'second') +
        wire.error(4, 'join id 7 is not this connection\'s') +
        wire.said(0, 'a', 'third') +
        wire.said(1, 'a', 'to two') +
        wire.error(2, 'no room has ref 99') +
        wire.said(0, 'a', 'fourth') +
        wire.helo('end', server.port),
    );
    await expectRead(b, wire.said(0, 'a', 'first') + wire.said(0, 'a', 'second') + wire.said(0, 'a', 'third') + wire.said(0, 'a', 'fourth'));
  });

  it('IRC: lines to two channels, one not joined and an empty one keep their order; echo-message echoes in place', async () => {
    const server = await startServer({ serverName: SERVER, ircPort: 0 });
    const alice = await ircUser(server.ircPort!, 'alice', ['echo-message']);
    alice.send('JOIN #one,#two');
    await alice.until(/ 366 alice #two /);
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('one', 'bob'));
    await alice.expect(':bob!lab@lab/1 JOIN #one');
    alice.send('PRIVMSG #one :first', 'PRIVMSG #one :second', 'PRIVMSG #nowhere :lost', 'PRIVMSG #one :third', 'NOTICE #two :to two', 'PRIVMSG #one :', 'PRIVMSG #one :fourth', 'PING :end');
    await alice.expect(':alice!~alice@127.0.0.1 PRIVMSG #one :first');
    await alice.expect(':alice!~alice@127.0.0.1 PRIVMSG #one :second');
    await alice.expect(`:${SERVER} 404 alice #nowhere :Cannot send to channel`);
    await alice.expect(':alice!~alice@127.0.0.1 PRIVMSG #one :third');
    await alice.expect(':alice!~alice@127.0.0.1 NOTICE #two :to two');
    await alice.expect(`:${SERVER} 412 alice :No text to send`);
    await alice.expect(':alice!~alice@127.0.0.1 PRIVMSG #one :fourth');
    await alice.expect(`:${SERVER} PONG ${SERVER} end`);
    await lab.readUntil(wire.hasJoined(0, 'bob'));
    await expectRead(lab, wire.said(0, 'alice', 'first') + wire.said(0, 'alice', 'second') + wire.said(0, 'alice', 'third') + wire.said(0, 'alice', 'fourth'));
  });

  it('IRC: a run reaches every door of a room as the same lines, and is not echoed to a sender without echo-message', async () => {
    const server = await startServer({ serverName: SERVER, ircPort: 0 });
    const carol = await ircUser(server.ircPort!, 'carol');
    carol.send('JOIN #one');
    await carol.until(/ 366 carol #one /);
    const dave = await ircUser(server.ircPort!, 'dave');
    dave.send('JOIN #one');
    await dave.until(/ 366 dave #one /);
    await carol.expect(':dave!~dave@127.0.0.1 JOIN #one');
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('one', 'erin'));
    await lab.readUntil(wire.hasJoined(0, 'erin'));
    await carol.expect(':erin!lab@lab/2 JOIN #one');
    await dave.expect(':erin!lab@lab/2 JOIN #one');
    carol.send('PRIVMSG #one :a', 'NOTICE #one :b', 'PRIVMSG #one :c', 'PING :end');
    await dave.expect(':carol!~carol@127.0.0.1 PRIVMSG #one :a');
    await dave.expect(':carol!~carol@127.0.0.1 NOTICE #one :b');
    await dave.expect(':carol!~carol@127.0.0.1 PRIVMSG #one :c');
    await expectRead(lab, wire.said(0, 'carol', 'a') + wire.said(0, 'carol', 'b') + wire.said(0, 'carol', 'c'));
    // Nothing of her own comes back to carol: the PONG is the next line.
    await carol.expect(`:${SERVER} PONG ${SERVER} end`);
  });

  it('IRC: a run sent before registration is answered line by line (451 each)', async () => {
    const server = await startServer({ serverName: SERVER, ircPort: 0 });
    const peer = await IrcPeer.connect(server.ircPort!);
    peer.send('PRIVMSG #a :one', 'PRIVMSG #a :two', 'NICK early', 'USER e 0 * :E');
    await peer.expect(`:${SERVER} 451 * :You have not registered`);
    await peer.expect(`:${SERVER} 451 * :You have not registered`);
    expect(await peer.line()).toMatch(new RegExp(`^:${SERVER} 001 early :Welcome to the .* early!~e@127\\.0\\.0\\.1$`));
  });

  it('lab: a chat to an unknown ref in the middle of a run: the chats before it go, the rest wait for its answer and keep their places', async () => {
    const server = await startServer();
    const a = await joinedClient(server.port, 'one', 'a');
    const b = await joinedClient(server.port, 'one', 'b');
    await a.readUntil(wire.hasJoined(0, 'b'));
    a.send(wire.chat(0, 0, 'a', 'before') + wire.chat(99, 0, 'a', 'nowhere') + wire.chat(0, 0, 'a', 'after') + wire.chat(0, 7, 'a', 'wrong join id') + wire.chat(0, 0, 'a', 'last'));
    await expectRead(
      a,
      wire.said(0, 'a', 'before') + wire.error(2, 'no room has ref 99') + wire.said(0, 'a', 'after') + wire.error(4, "join id 7 is not this connection's") + wire.said(0, 'a', 'last'),
    );
    await expectRead(b, wire.said(0, 'a', 'before') + wire.said(0, 'a', 'after') + wire.said(0, 'a', 'last'));
  });

  it('lab: a run switching rooms (one, two, one) reaches both rooms in order, and a burst past a turn\'s 64 requests too', async () => {
    const server = await startServer();
    const a = await inRoomsOneAndTwo(server.port, 'a');
    const one = await joinedClient(server.port, 'one', 'one-listener');
    const two = await joinedClient(server.port, 'two', 'two-listener', 1);
    await a.readUntil(wire.hasJoined(1, 'two-listener'));
    a.send(wire.chat(0, 0, 'a', 'x1') + wire.chat(0, 0, 'a', 'x2') + wire.chat(1, 0, 'a', 'y1') + wire.chat(0, 0, 'a', 'x3'));
    await expectRead(a, wire.said(0, 'a', 'x1') + wire.said(0, 'a', 'x2') + wire.said(1, 'a', 'y1') + wire.said(0, 'a', 'x3'));
    await expectRead(one, wire.said(0, 'a', 'x1') + wire.said(0, 'a', 'x2') + wire.said(0, 'a', 'x3'));
    await expectRead(two, wire.said(1, 'a', 'y1'));
    const burst = Array.from({ length: 150 }, (_, i) => `m${i}`);
    a.send(burst.map((text) => wire.chat(0, 0, 'a', text)).join('') + 'HELO done\n');
    await expectRead(one, burst.map((text) => wire.said(0, 'a', text)).join(''));
    await expectRead(a, burst.map((text) => wire.said(0, 'a', text)).join('') + wire.helo('done', server.port));
  });

  it('lab: chats and then the end of input in one read: the chats are delivered before the departure', async () => {
    const server = await startServer();
    const a = await joinedClient(server.port, 'one', 'a');
    const b = await joinedClient(server.port, 'one', 'b');
    await a.readUntil(wire.hasJoined(0, 'b'));
    a.send(wire.chat(0, 0, 'a', 'first') + wire.chat(0, 0, 'a', 'second'));
    a.close();
    await expectRead(b, wire.said(0, 'a', 'first') + wire.said(0, 'a', 'second') + wire.hasLeft(0, 'a'));
  });

  it('a room that fails in the middle of a run is restarted: only the chat that failed is lost', async () => {
    const server = await startServer({ testHooks: true });
    const a = await joinedClient(server.port, 'r', 'a');
    const b = await joinedClient(server.port, 'r', 'b');
    await a.readUntil(wire.hasJoined(0, 'b'));
    const before = server.inspect.roomActor(0)!;
    before.send({ type: 'test.failAfter', commands: 2 });
    a.send(wire.chat(0, 0, 'a', 'one') + wire.chat(0, 0, 'a', 'two') + wire.chat(0, 0, 'a', 'three'));
    await expectRead(b, wire.said(0, 'a', 'one') + wire.said(0, 'a', 'three'));
    expect(server.inspect.roomActor(0)).not.toBe(before);
    a.send(wire.chat(0, 0, 'a', 'after'));
    await expectRead(b, wire.said(0, 'a', 'after'));
    expect(server.inspect.roomMembers(0)).toEqual([0, 1]);
  });
});

/** A feed over plain values: chats are numbers, anything else a string. */
class NumberFeed extends RunFeed<number | string, number> {
  protected chatOf(incoming: number | string): number | null {
    return typeof incoming === 'number' ? incoming : null;
  }
  protected eventOf(incoming: number | string): ClientEvent {
    return { type: 'irc.direct', from: String(incoming), command: 'NOTICE', text: '' };
  }
  protected runEvent(chats: number[]): ClientEvent {
    return { type: 'irc.direct', from: chats.join('+'), command: 'PRIVMSG', text: '' };
  }
  protected chatEvent(chat: number): ClientEvent {
    return { type: 'irc.direct', from: String(chat), command: 'PRIVMSG', text: '' };
  }
}

describe('RunFeed', () => {
  function feed(): { feed: NumberFeed; seen: string[] } {
    const seen: string[] = [];
    const target = { send: (event: ClientEvent) => void seen.push(event.type === 'irc.direct' ? `${event.command === 'NOTICE' ? 'other' : 'chat'}:${event.from}` : event.type) };
    return { feed: new NumberFeed(target), seen };
  }

  it('sends a run once the synchronous work is done, a run of one as the plain event, and a run before anything else', async () => {
    const one = feed();
    const two = feed();
    one.feed.next(1);
    one.feed.next(2);
    two.feed.next(7);
    one.feed.next('x');
    one.feed.next(3);
    expect(one.seen).toEqual(['chat:1+2', 'other:x']);
    expect(two.seen).toEqual([]);
    await Promise.resolve();
    expect(one.seen).toEqual(['chat:1+2', 'other:x', 'chat:3']);
    expect(two.seen).toEqual(['chat:7']);
  });

  it('sends the run before the end of the stream or an error', () => {
    const ended = feed();
    ended.feed.next(1);
    ended.feed.complete();
    expect(ended.seen).toEqual(['chat:1']);
    const failed = feed();
    failed.feed.next(4);
    failed.feed.next(5);
    failed.feed.error();
    expect(failed.seen).toEqual(['chat:4+5', 'request.end']);
  });
});
