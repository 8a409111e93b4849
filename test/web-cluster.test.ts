import { describe, it } from 'vitest';
import { RawClient, expectRead, startCluster, wire } from './helpers.js';
import { SERVER } from './irc-helpers.js';
import { redisAvailability, suiteRedis } from './redis-server.js';
import { WsPeer, webUser } from './web-helpers.js';

const available = redisAvailability() !== 'missing';

/** The web door alone (no IRC port) on two nodes sharing rooms through one Redis. */
describe.skipIf(!available)('web door in cluster mode', () => {
  const redis = suiteRedis();

  it('puts web users and a lab client on two nodes in one room, with cluster-wide names, nicks and private messages', async () => {
    const [one, two] = await startCluster(redis.url, 2, { webPort: 0, serverName: SERVER });
    const alice = await webUser(one!.webPort!, 'alice');
    alice.send('JOIN #lobby');
    await alice.until(/ 366 /);
    const bob = await webUser(two!.webPort!, 'bob');
    bob.send('JOIN #lobby');
    await bob.expect(':bob!~bob@127.0.0.1 JOIN #lobby');
    await bob.expect(`:${SERVER} 353 bob = #lobby :alice bob`);
    await bob.expect(`:${SERVER} 366 bob #lobby :End of /NAMES list`);
    await alice.expect(':bob!~bob@127.0.0.1 JOIN #lobby');

    const lab = await RawClient.connect(two!.port);
    lab.send(wire.join('lobby', 'carol'));
    await lab.readUntil(wire.hasJoined(0, 'carol'));
    await alice.expect(':carol!lab@lab/2 JOIN #lobby');
    await bob.expect(':carol!lab@lab/2 JOIN #lobby');

    alice.send('PRIVMSG #lobby :from node one');
    await bob.expect(':alice!~alice@127.0.0.1 PRIVMSG #lobby :from node one');
    await expectRead(lab, wire.said(0, 'alice', 'from node one'));

    // A nick is taken cluster-wide; a private message crosses nodes.
    const again = await WsPeer.connect(two!.webPort!);
    again.send('NICK alice', 'NICK alice2', 'USER a 0 * :A');
    await again.expect(`:${SERVER} 433 * alice :Nickname is already in use`);
    await again.until(/ 422 /);
    bob.send('PRIVMSG alice :psst');
    await alice.expect(':bob!~bob@127.0.0.1 PRIVMSG alice :psst');
  });
});
