import { describe, expect, it } from 'vitest';
import { RawClient, expectRead, startServer, wire } from './helpers.js';
import { IrcPeer, SERVER, ircUser } from './irc-helpers.js';

const irc = { serverName: SERVER, networkName: 'TestNet' };

describe('IRC door: registration', () => {
  it('answers 451 before registration, holds the burst for CAP END, and sends 001-005 and 422', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const peer = await IrcPeer.connect(server.ircPort!);
    peer.send('JOIN :', 'PING :tok', 'CAP LS 302', 'NICK alice', 'USER al 0 * :Alice Liddell');
    await peer.expect(`:${SERVER} 451 * :You have not registered`);
    await peer.expect(`:${SERVER} PONG ${SERVER} tok`);
    await peer.expect(`:${SERVER} CAP * LS :cap-notify echo-message message-tags multi-prefix server-time userhost-in-names`);
    peer.send('CAP REQ :echo-message bogus', 'CAP REQ :echo-message', 'CAP END');
    await peer.expect(`:${SERVER} CAP alice NAK :echo-message bogus`);
    await peer.expect(`:${SERVER} CAP alice ACK :echo-message`);
    await peer.expect(`:${SERVER} 001 alice :Welcome to the TestNet IRC Network alice!~al@127.0.0.1`);
    await peer.expect(`:${SERVER} 002 alice :Your host is ${SERVER}, running version actor-chat-server-0.1`);
    expect(await peer.line()).toMatch(new RegExp(`^:${SERVER} 003 alice :This server was created `));
    await peer.expect(`:${SERVER} 004 alice ${SERVER} actor-chat-server-0.1 i nt`);
    await peer.expect(`:${SERVER} 005 alice CASEMAPPING=ascii CHANTYPES=# CHANLIMIT=#:100 NICKLEN=30 CHANNELLEN=257 CHANMODES=,,,nt PREFIX= :are supported by this server`);
    await peer.expect(`:${SERVER} 005 alice NETWORK=TestNet LINELEN=512 TOPICLEN=390 MAXTARGETS=4 CLIENTTAGDENY=* ELIST=MNU WHOX :are supported by this server`);
    await peer.expect(`:${SERVER} 422 alice :MOTD File is missing`);
    peer.send('CAP LIST', 'FOO bar');
    await peer.expect(`:${SERVER} CAP alice LIST :cap-notify echo-message`);
    await peer.expect(`:${SERVER} 421 alice FOO :Unknown command`);
  });

  it('refuses a taken nick (433) and a bad one (432), and registers with the next', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    await ircUser(server.ircPort!, 'Alice');
    const peer = await IrcPeer.connect(server.ircPort!);
    peer.send('NICK alice', 'NICK 9lives', 'NICK alice2', 'USER a 0 * :A');
    await peer.expect(`:${SERVER} 433 * alice :Nickname is already in use`);
    await peer.expect(`:${SERVER} 432 * 9lives :Erroneous nickname`);
    const burst = await peer.until(/ 422 /);
    expect(burst[0]).toBe(`:${SERVER} 001 alice2 :Welcome to the TestNet IRC Network alice2!~a@127.0.0.1`);
  });

  it('gives a client that reconnects at once its nick back', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    for (let i = 0; i < 5; i++) {
      const peer = await IrcPeer.connect(server.ircPort!);
      const burst = await peer.register('again');
      expect(burst[0]).toBe(`:${SERVER} 001 again :Welcome to the TestNet IRC Network again!~again@127.0.0.1`);
      peer.close();
    }
  });

  it('shows the MOTD file line by line', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'motd-')), 'motd.txt');
    writeFileSync(file, 'Welcome!\nBe kind.\n');
    const server = await startServer({ ...irc, ircPort: 0, motd: file });
    const peer = await IrcPeer.connect(server.ircPort!);
    peer.send('NICK m', 'USER m 0 * :M');
    const burst = await peer.until(/ 376 /);
    expect(burst.slice(-4)).toEqual([
      `:${SERVER} 375 m :- ${SERVER} Message of the day - `,
      `:${SERVER} 372 m :- Welcome!`,
      `:${SERVER} 372 m :- Be kind.`,
      `:${SERVER} 376 m :End of /MOTD command`,
    ]);
  });
});

describe('IRC door: one room with lab clients', () => {
  it('joins, chats both ways (multi-line, ACTION, formatting), parts and quits, each side in its own protocol', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'bob smith'));
    await expectRead(lab, wire.joined('lobby', server.port, 0, 0) + wire.hasJoined(0, 'bob smith'));

    const alice = await ircUser(server.ircPort!, 'alice');
    alice.send('JOIN #lobby');
    await alice.expect(':alice!~alice@127.0.0.1 JOIN #lobby');
    await alice.expect(`:${SERVER} 353 alice = #lobby :bob_smith alice`);
    await alice.expect(`:${SERVER} 366 alice #lobby :End of /NAMES list`);
    await expectRead(lab, wire.hasJoined(0, 'alice'));

    lab.send(wire.chat(0, 0, 'bob smith', 'hello\nsecond line'));
    await expectRead(lab, wire.said(0, 'bob smith', 'hello\nsecond line'));
    await alice.expect(':bob_smith!lab@lab/0 PRIVMSG #lobby :hello');
    await alice.expect(':bob_smith!lab@lab/0 PRIVMSG #lobby :second line');

    alice.send('PRIVMSG #lobby :\x02hi\x02 \x0304,01bob\x03', 'PRIVMSG #lobby :\x01ACTION waves\x01', 'NOTICE #lobby :note');
    await expectRead(lab, wire.said(0, 'alice', 'hi bob') + wire.said(0, 'alice', '* alice waves') + wire.said(0, 'alice', 'note'));

    alice.send('PART #lobby :see you');
    await alice.expect(':alice!~alice@127.0.0.1 PART #lobby :see you');
    await expectRead(lab, wire.hasLeft(0, 'alice'));

    alice.send('JOIN #lobby');
    await alice.until(/ 366 /);
    await expectRead(lab, wire.hasJoined(0, 'alice'));
    alice.send('QUIT :bye now');
    await alice.expect('ERROR :Closing Link: 127.0.0.1 (Quit: bye now)');
    expect(await alice.raw.readToClose()).toBe('');
    await expectRead(lab, wire.hasLeft(0, 'alice'));
  });

  it('shows a lab member joining, leaving and disconnecting as JOIN, PART and QUIT', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const alice = await ircUser(server.ircPort!, 'alice');
    alice.send('JOIN #lobby');
    await alice.until(/ 366 /);
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'bob'));
    await alice.expect(':bob!lab@lab/1 JOIN #lobby');
    lab.send(wire.leave(0, 1, 'bob'));
    await alice.expect(':bob!lab@lab/1 PART #lobby');
    lab.send(wire.join('lobby', 'bob'));
    await alice.expect(':bob!lab@lab/1 JOIN #lobby');
    lab.send(wire.disconnect('bob'));
    await alice.expect(':bob!lab@lab/1 QUIT :Quit');
  });

  it('gives a lab name its nick cleaned, suffixed when an IRC user holds it, and frees it when the member leaves', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const alice = await ircUser(server.ircPort!, 'alice');
    alice.send('JOIN #lobby');
    await alice.until(/ 366 /);
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'alice') + wire.join('other', '9 lives!'));
    await lab.readUntil(wire.hasJoined(1, '9 lives!'));
    await alice.expect(':alice-2!lab@lab/1 JOIN #lobby');
    alice.send('WHOIS alice-2', 'NICK _9_lives_');
    await alice.expect(`:${SERVER} 311 alice alice-2 lab lab/1 * :alice`);
    await alice.expect(`:${SERVER} 319 alice alice-2 :#lobby`);
    await alice.expect(`:${SERVER} 312 alice alice-2 ${SERVER} :a lab-protocol client`);
    await alice.expect(`:${SERVER} 318 alice alice-2 :End of /WHOIS list`);
    await alice.expect(`:${SERVER} 433 alice _9_lives_ :Nickname is already in use`);
    lab.send(wire.leave(1, 1, '9 lives!'));
    await lab.readUntil(wire.hasLeft(1, '9 lives!'));
    alice.send('NICK _9_lives_');
    await alice.expect(':alice!~alice@127.0.0.1 NICK :_9_lives_');
  });

  it('announces a NICK change to the IRC users in the renamer\'s rooms, and lab members see the new name', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const alice = await ircUser(server.ircPort!, 'alice');
    const carol = await ircUser(server.ircPort!, 'carol');
    alice.send('JOIN #lobby');
    await alice.until(/ 366 /);
    carol.send('JOIN #lobby');
    await carol.until(/ 366 /);
    await alice.expect(':carol!~carol@127.0.0.1 JOIN #lobby');
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'bob'));
    await lab.readUntil(wire.hasJoined(0, 'bob'));
    await alice.expect(':bob!lab@lab/2 JOIN #lobby');
    alice.send('NICK alicia', 'PRIVMSG #lobby :renamed');
    await alice.expect(':alice!~alice@127.0.0.1 NICK :alicia');
    await carol.expect(':bob!lab@lab/2 JOIN #lobby');
    await carol.expect(':alice!~alice@127.0.0.1 NICK :alicia');
    await carol.expect(':alicia!~alice@127.0.0.1 PRIVMSG #lobby :renamed');
    await expectRead(lab, wire.said(0, 'alicia', 'renamed'));
  });

  it('echoes a PRIVMSG to its sender only with echo-message, with server-time tags when asked', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const plain = await ircUser(server.ircPort!, 'plain');
    const echo = await ircUser(server.ircPort!, 'echo', ['echo-message', 'server-time']);
    plain.send('JOIN #r');
    await plain.until(/ 366 /);
    echo.send('JOIN #r');
    await echo.until(/ 366 /);
    await plain.expect(':echo!~echo@127.0.0.1 JOIN #r');
    plain.send('PRIVMSG #r :from plain');
    echo.send('PRIVMSG #r :from echo');
    expect(await echo.line()).toMatch(/^@time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z :plain!~plain@127\.0\.0\.1 PRIVMSG #r :from plain$/);
    expect(await echo.line()).toMatch(/^@time=\S+ :echo!~echo@127\.0\.0\.1 PRIVMSG #r :from echo$/);
    // plain's own line never comes back: the next it reads is echo's.
    await plain.expect(':echo!~echo@127.0.0.1 PRIVMSG #r :from echo');
  });

  it('joins a room by its name folded (ASCII), and the JOIN line carries the room\'s own name', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('Lobby', 'bob'));
    await lab.readUntil(wire.hasJoined(0, 'bob'));
    const alice = await ircUser(server.ircPort!, 'alice');
    alice.send('JOIN #LOBBY', 'JOIN #has,#two', 'JOIN nohash');
    await alice.expect(':alice!~alice@127.0.0.1 JOIN #Lobby');
    await alice.expect(`:${SERVER} 353 alice = #Lobby :bob alice`);
    await alice.expect(`:${SERVER} 366 alice #Lobby :End of /NAMES list`);
    await alice.until(/366 alice #has /);
    await alice.until(/366 alice #two /);
    await alice.expect(`:${SERVER} 403 alice nohash :No such channel`);
    await expectRead(lab, wire.hasJoined(0, 'alice'));
  });
});

describe('IRC door: queries', () => {
  it('answers NAMES, WHO, LIST, TOPIC, MODE, USERHOST, AWAY and private messages', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const alice = await ircUser(server.ircPort!, 'alice');
    const carol = await ircUser(server.ircPort!, 'carol', ['userhost-in-names']);
    alice.send('JOIN #lobby');
    await alice.until(/ 366 /);
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'bob') + wire.join('has space', 'bob'));
    await alice.expect(':bob!lab@lab/1 JOIN #lobby');

    carol.send('NAMES #lobby', 'WHO #lobby', 'LIST', 'TOPIC #lobby', 'MODE #lobby', 'MODE #lobby b', 'USERHOST alice bob nobody');
    await carol.expect(`:${SERVER} 353 carol = #lobby :alice!~alice@127.0.0.1 bob!lab@lab/1`);
    await carol.expect(`:${SERVER} 366 carol #lobby :End of /NAMES list`);
    await carol.expect(`:${SERVER} 352 carol #lobby ~alice 127.0.0.1 ${SERVER} alice H :0 alice Realname`);
    await carol.expect(`:${SERVER} 352 carol #lobby lab lab/1 ${SERVER} bob H :0 bob`);
    await carol.expect(`:${SERVER} 315 carol #lobby :End of WHO list`);
    await carol.expect(`:${SERVER} 321 carol Channel :Users  Name`);
    // The room named with a space cannot be a channel: not listed.
    await carol.expect(`:${SERVER} 322 carol #lobby 2 :`);
    await carol.expect(`:${SERVER} 323 carol :End of /LIST`);
    await carol.expect(`:${SERVER} 331 carol #lobby :No topic is set`);
    await carol.expect(`:${SERVER} 324 carol #lobby +nt`);
    await carol.expect(`:${SERVER} 368 carol #lobby :End of channel ban list`);
    await carol.expect(`:${SERVER} 302 carol :alice=+~alice@127.0.0.1 bob=+lab@lab/1`);

    carol.send('WHO #lobby %tnuhfr,42', 'LIST >1', 'LIST !#lob*', 'LIST #LOB*');
    await carol.expect(`:${SERVER} 354 carol 42 ~alice 127.0.0.1 alice H :alice Realname`);
    await carol.expect(`:${SERVER} 354 carol 42 lab lab/1 bob H bob`);
    await carol.expect(`:${SERVER} 315 carol #lobby :End of WHO list`);
    for (const shown of [[`:${SERVER} 322 carol #lobby 2 :`], [], [`:${SERVER} 322 carol #lobby 2 :`]]) {
      await carol.expect(`:${SERVER} 321 carol Channel :Users  Name`);
      for (const line of shown) await carol.expect(line);
      await carol.expect(`:${SERVER} 323 carol :End of /LIST`);
    }

    alice.send('TOPIC #lobby :Today: tests', 'TOPIC #nowhere :x');
    await alice.expect(':alice!~alice@127.0.0.1 TOPIC #lobby :Today: tests');
    await alice.expect(`:${SERVER} 442 alice #nowhere :You're not on that channel`);
    carol.send('JOIN #lobby');
    await carol.expect(':carol!~carol@127.0.0.1 JOIN #lobby');
    await carol.expect(`:${SERVER} 332 carol #lobby :Today: tests`);
    expect(await carol.line()).toMatch(new RegExp(`^:${SERVER} 333 carol #lobby alice \\d+$`));
    await carol.expect(`:${SERVER} 353 carol = #lobby :alice!~alice@127.0.0.1 bob!lab@lab/1 carol!~carol@127.0.0.1`);
    await carol.expect(`:${SERVER} 366 carol #lobby :End of /NAMES list`);

    carol.send('AWAY :lunch', 'PRIVMSG alice :psst', 'PRIVMSG bob :hi', 'PRIVMSG nobody :hi', 'PRIVMSG #elsewhere :hi', 'AWAY');
    await carol.expect(`:${SERVER} 306 carol :You have been marked as being away`);
    await alice.until(/JOIN #lobby$/);
    await alice.expect(':carol!~carol@127.0.0.1 PRIVMSG alice :psst');
    await carol.expect(`:${SERVER} 531 carol bob :bob is a lab-protocol client: it can only be reached in a room it is in`);
    await carol.expect(`:${SERVER} 401 carol nobody :No such nick/channel`);
    await carol.expect(`:${SERVER} 404 carol #elsewhere :Cannot send to channel`);
    await carol.expect(`:${SERVER} 305 carol :You are no longer marked as being away`);
  });
});

describe('IRC door: LUSERS', () => {
  it('counts users, connections not registered yet (not those that quit) and channels', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const alice = await ircUser(server.ircPort!, 'alice');
    alice.send('JOIN #lobby');
    await alice.until(/ 366 /);
    const pending = await IrcPeer.connect(server.ircPort!);
    pending.send('NICK half', 'PING :sync');
    await pending.until(/PONG/);
    const quitting = await IrcPeer.connect(server.ircPort!);
    quitting.send('NICK gone', 'QUIT');
    await quitting.until(/^ERROR/);
    alice.send('MODE alice +i', 'LUSERS');
    await alice.expect(':alice!~alice@127.0.0.1 MODE alice :+i');
    expect(await alice.until(/ 266 /)).toEqual([
      `:${SERVER} 251 alice :There are 0 users and 1 invisible on 1 servers`,
      `:${SERVER} 253 alice 1 :unknown connection(s)`,
      `:${SERVER} 254 alice 1 :channels formed`,
      `:${SERVER} 255 alice :I have 1 clients and 0 servers`,
      `:${SERVER} 265 alice :Current local users 1, max 1`,
      `:${SERVER} 266 alice :Current global users 1, max 1`,
    ]);
  });
});

describe('IRC door: limits and keep-alive', () => {
  it('answers 417 to a line over 512 bytes, drops it, and carries on', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    const alice = await ircUser(server.ircPort!, 'alice');
    alice.send(`PRIVMSG #x :${'a'.repeat(600)}`, 'PING :still');
    await alice.expect(`:${SERVER} 417 alice :Input line was too long`);
    await alice.expect(`:${SERVER} PONG ${SERVER} still`);
  });

  it('PINGs a silent connection and closes it with ERROR :Ping timeout when nothing comes back', async () => {
    const server = await startServer({ ...irc, ircPort: 0, ircPingMs: 150 });
    const quiet = await ircUser(server.ircPort!, 'quiet');
    const answering = await ircUser(server.ircPort!, 'answering');
    await answering.expect(`PING :${SERVER}`);
    answering.send(`PONG :${SERVER}`);
    await quiet.expect(`PING :${SERVER}`);
    await quiet.expect('ERROR :Ping timeout');
    expect(await quiet.raw.readToClose()).toBe('');
    // The one that answered is PINGed again, not closed.
    await answering.expect(`PING :${SERVER}`);
    expect(answering.raw.isClosed()).toBe(false);
  });

  it('shares the connection limit with the lab door: a refused IRC connection gets an ERROR line', async () => {
    const server = await startServer({ ...irc, ircPort: 0, maxConnections: 1 });
    await RawClient.connect(server.port);
    await new Promise<void>((resolve) => {
      const check = (): void => (server.inspect.connections() === 1 ? resolve() : void setTimeout(check, 5));
      check();
    });
    const refused = await RawClient.connect(server.ircPort!);
    expect(await refused.readToClose()).toBe('ERROR :Closing link: the server holds at most 1 connections\r\n');
  });

  it('shows the door, nick and caps of each connection in the dump', async () => {
    const server = await startServer({ ...irc, ircPort: 0 });
    await ircUser(server.ircPort!, 'alice', ['server-time']);
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'bob'));
    await lab.readUntil(wire.hasJoined(0, 'bob'));
    const dump = await server.dump();
    const doors = dump.clients.map((client) => [client.door, client.nick, client.caps]);
    expect(doors).toEqual([
      // CAP LS 302 enables cap-notify by itself.
      ['irc', 'alice', ['cap-notify', 'server-time']],
      ['lab', undefined, undefined],
    ]);
  });
});
