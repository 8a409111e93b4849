import { describe, expect, it } from 'vitest';
import { RawClient, expectRead, joinedClient, startServer, wire } from './helpers.js';
import { IrcPeer, SERVER, ircUser } from './irc-helpers.js';

/**
 * A read's consecutive chats reach the client actor as one event and each room as one event per
 * room (src/session/chat-run.ts). Whatever is batched, every reply and delivery keeps the place
 * it had when requests were taken one by one: these runs come in one write, mixing what is
 * batched with what is refused or must wait for an answer.
 */
describe('runs of chats in one read', () => {
  it('lab: chats to two rooms, a refused one and one to an unknown ref keep their order, for the sender and the rooms', async () => {
    const server = await startServer();
    const a = await joinedClient(server.port, 'one', 'a');
    a.send(wire.join('two', 'a'));
    await a.readUntil(wire.hasJoined(1, 'a'));
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

  it('IRC: a run sent before registration is answered line by line (451 each)', async () => {
    const server = await startServer({ serverName: SERVER, ircPort: 0 });
    const peer = await IrcPeer.connect(server.ircPort!);
    peer.send('PRIVMSG #a :one', 'PRIVMSG #a :two', 'NICK early', 'USER e 0 * :E');
    await peer.expect(`:${SERVER} 451 * :You have not registered`);
    await peer.expect(`:${SERVER} 451 * :You have not registered`);
    expect(await peer.line()).toMatch(new RegExp(`^:${SERVER} 001 early :Welcome to the .* early!~e@127\\.0\\.0\\.1$`));
  });

  it('a room that fails in the middle of a run is restarted; the run up to the failure was delivered, and chat carries on', async () => {
    const server = await startServer({ testHooks: true });
    const a = await joinedClient(server.port, 'r', 'a');
    const b = await joinedClient(server.port, 'r', 'b');
    await a.readUntil(wire.hasJoined(0, 'b'));
    const before = server.inspect.roomActor(0)!;
    before.send({ type: 'test.failAfter', commands: 2 });
    a.send(wire.chat(0, 0, 'a', 'one') + wire.chat(0, 0, 'a', 'two') + wire.chat(0, 0, 'a', 'three'));
    await expectRead(b, wire.said(0, 'a', 'one'));
    await expect.poll(() => server.inspect.roomActor(0)).not.toBe(before);
    a.send(wire.chat(0, 0, 'a', 'after'));
    // Whether "two" and "three" were in the failed run depends on how the kernel cut the reads.
    expect(await b.readUntil(wire.said(0, 'a', 'after'))).toMatch(/MESSAGE: after\n\n$/);
    expect(server.inspect.roomMembers(0)).toEqual([0, 1]);
  });
});
