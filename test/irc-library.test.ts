import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { RawClient, expectRead, startServer, wire } from './helpers.js';

// irc-framework (a CommonJS package without types): the bot library many Node IRC bots use.
const require = createRequire(import.meta.url);
const { Client } = require('irc-framework') as { Client: new () => IrcFrameworkClient };

interface IrcFrameworkClient {
  connect(options: { host: string; port: number; nick: string; username?: string; gecos?: string; auto_reconnect?: boolean; enable_echomessage?: boolean }): void;
  on(event: string, listener: (event: Record<string, unknown>) => void): void;
  once(event: string, listener: (event: Record<string, unknown>) => void): void;
  join(channel: string): void;
  part(channel: string, message?: string): void;
  say(target: string, text: string): void;
  quit(message?: string): void;
  changeNick(nick: string): void;
  user: { nick: string };
  network: { cap: { enabled: string[] }; options: Record<string, unknown> };
}

function waitFor(client: IrcFrameworkClient, event: string, match: (event: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    client.on(event, (value) => {
      if (match(value)) resolve(value);
    });
  });
}

async function connected(port: number, nick: string): Promise<IrcFrameworkClient> {
  const client = new Client();
  const registered = waitFor(client, 'registered');
  client.connect({ host: '127.0.0.1', port, nick, username: nick, gecos: `${nick} bot`, auto_reconnect: false });
  await registered;
  return client;
}

describe('irc-framework (a real client library) on the IRC door', () => {
  it('negotiates caps, joins a room with a lab client, sees names with spaces cleaned, and chats both ways', async () => {
    const server = await startServer({ ircPort: 0, serverName: 'irc.test' });
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'Bob Smith'));
    await lab.readUntil(wire.hasJoined(0, 'Bob Smith'));

    const bot = await connected(server.ircPort!, 'bot');
    // irc-framework asks for what it knows; the server grants what it has.
    expect(bot.network.cap.enabled).toEqual(expect.arrayContaining(['multi-prefix', 'server-time', 'message-tags']));
    const userlist = waitFor(bot, 'userlist');
    bot.join('#lobby');
    const names = await userlist;
    expect((names.users as Array<{ nick: string }>).map((user) => user.nick).sort()).toEqual(['Bob_Smith', 'bot']);
    await expectRead(lab, wire.hasJoined(0, 'bot'));

    const heard = waitFor(bot, 'privmsg');
    lab.send(wire.chat(0, 0, 'Bob Smith', 'hello bot'));
    const message = await heard;
    expect([message.nick, message.target, message.message, message.hostname]).toEqual(['Bob_Smith', '#lobby', 'hello bot', 'lab/0']);
    // server-time: the library reads the time tag.
    expect(typeof message.time).toBe('number');

    bot.say('#lobby', 'hello lab');
    await expectRead(lab, wire.said(0, 'Bob Smith', 'hello bot') + wire.said(0, 'bot', 'hello lab'));
  });

  it('tells a client its nick is taken, then registers the one it falls back to; private messages reach IRC users', async () => {
    const server = await startServer({ ircPort: 0, serverName: 'irc.test' });
    const first = await connected(server.ircPort!, 'twin');
    const second = new Client();
    const inUse = waitFor(second, 'nick in use');
    const registered = waitFor(second, 'registered');
    second.connect({ host: '127.0.0.1', port: server.ircPort!, nick: 'TWIN', auto_reconnect: false });
    // Taken without regard to case (CASEMAPPING=ascii); the bot falls back as bots do.
    expect((await inUse).nick).toBe('TWIN');
    second.changeNick('twin_');
    await registered;
    expect(second.user.nick).toBe('twin_');

    const heard = waitFor(first, 'privmsg');
    second.say('twin', 'psst');
    const message = await heard;
    expect([message.nick, message.target, message.message]).toEqual([second.user.nick, 'twin', 'psst']);
    first.quit('done');
    second.quit('done');
  });
});
