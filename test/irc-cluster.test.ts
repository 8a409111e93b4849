import { describe, expect, it } from 'vitest';
import { RawClient, expectRead, startCluster, wire } from './helpers.js';
import { SERVER, ircUser } from './irc-helpers.js';
import { redisAvailability, suiteRedis } from './redis-server.js';

const available = redisAvailability() !== 'missing';

/** The IRC door on two nodes sharing rooms through one Redis: one room, one order, one set of nicks. */
describe.skipIf(!available)('IRC door in cluster mode', () => {
  const redis = suiteRedis();

  const nodes = () => startCluster(redis.url, 2, { ircPort: 0, serverName: SERVER });

  it('puts IRC users and lab clients on two nodes in one room, in one order, each side in its own protocol', async () => {
    const [one, two] = await nodes();
    const alice = await ircUser(one!.ircPort!, 'alice');
    alice.send('JOIN #lobby');
    await alice.until(/ 366 /);
    const carol = await ircUser(two!.ircPort!, 'carol');
    carol.send('JOIN #lobby');
    await carol.expect(':carol!~carol@127.0.0.1 JOIN #lobby');
    // NAMES lists the members of every node.
    await carol.expect(`:${SERVER} 353 carol = #lobby :alice carol`);
    await carol.expect(`:${SERVER} 366 carol #lobby :End of /NAMES list`);
    await alice.expect(':carol!~carol@127.0.0.1 JOIN #lobby');

    const lab = await RawClient.connect(two!.port);
    lab.send(wire.join('lobby', 'Bob Smith'));
    await lab.readUntil(wire.hasJoined(0, 'Bob Smith'));
    await alice.expect(':Bob_Smith!lab@lab/2 JOIN #lobby');
    await carol.expect(':Bob_Smith!lab@lab/2 JOIN #lobby');

    alice.send('PRIVMSG #lobby :from node one');
    await carol.expect(':alice!~alice@127.0.0.1 PRIVMSG #lobby :from node one');
    await expectRead(lab, wire.said(0, 'alice', 'from node one'));
    lab.send(wire.chat(0, 2, 'Bob Smith', 'two\nlines'));
    await alice.expect(':Bob_Smith!lab@lab/2 PRIVMSG #lobby :two');
    await alice.expect(':Bob_Smith!lab@lab/2 PRIVMSG #lobby :lines');
    await carol.expect(':Bob_Smith!lab@lab/2 PRIVMSG #lobby :two');
    await carol.expect(':Bob_Smith!lab@lab/2 PRIVMSG #lobby :lines');

    alice.send('WHO #lobby', 'TOPIC #lobby :shared topic');
    await alice.expect(`:${SERVER} 352 alice #lobby ~alice 127.0.0.1 ${SERVER} alice H :0 alice Realname`);
    await alice.expect(`:${SERVER} 352 alice #lobby ~carol 127.0.0.1 ${SERVER} carol H :0 carol`);
    await alice.expect(`:${SERVER} 352 alice #lobby lab lab/2 ${SERVER} Bob_Smith H :0 Bob Smith`);
    await alice.expect(`:${SERVER} 315 alice #lobby :End of WHO list`);
    await alice.expect(':alice!~alice@127.0.0.1 TOPIC #lobby :shared topic');
    await carol.expect(':alice!~alice@127.0.0.1 TOPIC #lobby :shared topic');

    carol.send('PART #lobby :bye', 'QUIT :gone');
    await alice.expect(':carol!~carol@127.0.0.1 PART #lobby :bye');
    await expectRead(lab, wire.said(0, 'Bob Smith', 'two\nlines') + wire.hasLeft(0, 'carol'));
  });

  it('bursts from IRC users on both nodes at once: one order on every door, and a sender without echo-message never gets its own lines', async () => {
    const [one, two] = await nodes();
    const alice = await ircUser(one!.ircPort!, 'alice');
    alice.send('JOIN #burst');
    await alice.until(/ 366 alice #burst /);
    const carol = await ircUser(two!.ircPort!, 'carol', ['echo-message']);
    carol.send('JOIN #burst');
    await carol.until(/ 366 carol #burst /);
    await alice.expect(':carol!~carol@127.0.0.1 JOIN #burst');
    const lab = await RawClient.connect(one!.port);
    lab.send(wire.join('burst', 'erin'));
    await lab.readUntil(wire.hasJoined(0, 'erin'));
    await alice.until(/^:erin!\S+ JOIN #burst$/);
    await carol.until(/^:erin!\S+ JOIN #burst$/);

    // Each says 30 lines in one write, at the same time: the nodes order them as batches that
    // interleave, and each node fans out other nodes' records together with its own.
    const count = 30;
    alice.send(...Array.from({ length: count }, (_, i) => `PRIVMSG #burst :a${i}`));
    carol.send(...Array.from({ length: count }, (_, i) => `PRIVMSG #burst :c${i}`));
    const order: { nick: string; text: string }[] = [];
    for (let i = 0; i < 2 * count; i++) {
      const match = /^CHAT: 0\nCLIENT_NAME: (\w+)\nMESSAGE: (\w+)\n\n$/.exec(await lab.readUntil('\n\n'));
      expect(match).not.toBeNull();
      order.push({ nick: match![1]!, text: match![2]! });
    }
    for (const nick of ['alice', 'carol']) {
      expect(order.filter((m) => m.nick === nick).map((m) => m.text)).toEqual(Array.from({ length: count }, (_, i) => `${nick[0]}${i}`));
    }
    const line = ({ nick, text }: { nick: string; text: string }) => `:${nick}!~${nick}@127.0.0.1 PRIVMSG #burst :${text}`;
    // carol asked for echo-message: every line, her own in their places.
    for (const message of order) await carol.expect(line(message));
    // alice did not: carol's lines only, in the same order, and nothing after them but her PONG.
    for (const message of order.filter((m) => m.nick === 'carol')) await alice.expect(line(message));
    alice.send('PING :end');
    await alice.expect(`:${SERVER} PONG ${SERVER} end`);
  });

  it('keeps nicks unique across nodes, lab faces included, and carries private messages between nodes', async () => {
    const [one, two] = await nodes();
    const alice = await ircUser(one!.ircPort!, 'alice');
    const lab = await RawClient.connect(one!.port);
    lab.send(wire.join('lobby', 'dave'));
    await lab.readUntil(wire.hasJoined(0, 'dave'));

    const other = await ircUser(two!.ircPort!, 'other');
    other.send('NICK ALICE', 'NICK dave', 'NICK alice2', 'PRIVMSG alice :across nodes', 'PRIVMSG dave :hi', 'WHOIS alice');
    await other.expect(`:${SERVER} 433 other ALICE :Nickname is already in use`);
    await other.expect(`:${SERVER} 433 other dave :Nickname is already in use`);
    await other.expect(':other!~other@127.0.0.1 NICK :alice2');
    await alice.expect(':alice2!~other@127.0.0.1 PRIVMSG alice :across nodes');
    await other.expect(`:${SERVER} 531 alice2 dave :dave is a lab-protocol client: it can only be reached in a room it is in`);
    expect(await other.line()).toMatch(new RegExp(`^:${SERVER} 311 alice2 alice `));

    // A lab name the other node's lab member holds gets a suffix here.
    const lab2 = await RawClient.connect(two!.port);
    lab2.send(wire.join('lobby', 'dave'));
    await lab2.readUntil(wire.hasJoined(0, 'dave'));
    alice.send('JOIN #lobby');
    const names = await alice.until(/ 366 /);
    expect(names).toContain(`:${SERVER} 353 alice = #lobby :dave dave-2 alice`);
  });
});
