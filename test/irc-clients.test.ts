import { describe, expect, it } from 'vitest';
import { RawClient, expectRead, startServer, wire } from './helpers.js';
import { IiClient, WeeChat, fileContains, hasProgram } from './irc-programs.js';

/**
 * Real IRC programs in a room with a lab client: what a person with irssi, WeeChat or ii sees.
 * Each side is checked in its own terms: the lab client's exact bytes, the program's own log.
 */
describe('real IRC clients and a lab client in one room', () => {
  it.runIf(hasProgram('weechat-headless'))('WeeChat joins, chats both ways (multi-line too), and parts', async () => {
    const server = await startServer({ ircPort: 0, serverName: 'irc.test' });
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'bob smith'));
    await lab.readUntil(wire.hasJoined(0, 'bob smith'));

    const wee = WeeChat.start(server.ircPort!, 'wee', '#lobby');
    await expectRead(lab, wire.hasJoined(0, 'wee'));
    const log = wee.log('irc.test.#lobby');
    await fileContains(log, 'wee (~');

    lab.send(wire.chat(0, 0, 'bob smith', 'hello wee\nsecond line'));
    await expectRead(lab, wire.said(0, 'bob smith', 'hello wee\nsecond line'));
    const seen = await fileContains(log, /bob_smith\tsecond line/);
    expect(seen).toMatch(/bob_smith\thello wee\n.*bob_smith\tsecond line/);

    await wee.input('irc.test.#lobby', 'hi from WeeChat');
    await expectRead(lab, wire.said(0, 'wee', 'hi from WeeChat'));
    await wee.input('irc.test.#lobby', '/me waves');
    await expectRead(lab, wire.said(0, 'wee', '* wee waves'));
    await wee.input('irc.test.#lobby', '/part');
    await expectRead(lab, wire.hasLeft(0, 'wee'));
  });

  it.runIf(hasProgram('ii'))('ii joins, chats both ways, sees a lab member leave, and quits', async () => {
    const server = await startServer({ ircPort: 0, serverName: 'irc.test' });
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'bob'));
    await lab.readUntil(wire.hasJoined(0, 'bob'));

    const ii = IiClient.start(server.ircPort!, 'iiuser');
    await ii.command('/j #lobby');
    await expectRead(lab, wire.hasJoined(0, 'iiuser'));
    await ii.say('#lobby', 'hello from ii');
    await expectRead(lab, wire.said(0, 'iiuser', 'hello from ii'));

    lab.send(wire.chat(0, 0, 'bob', 'hi ii'));
    await fileContains(ii.channelLog('#lobby'), '<bob> hi ii');
    lab.send(wire.disconnect('bob'));
    // A QUIT is not a channel's: ii logs it with the server's lines.
    await fileContains(ii.serverLog(), 'bob(lab@lab/0) has quit "Quit"');
  });
});
