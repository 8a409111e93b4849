import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RawClient, expectRead, startServer, wire } from './helpers.js';
import { SERVER, ircUser } from './irc-helpers.js';
import { WsPeer, webUser } from './web-helpers.js';

const web = { serverName: SERVER, networkName: 'TestNet', webPort: 0 };

/** One HTTP exchange with the web door: status, headers, body. */
function http(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A handshake's outcome: the subprotocol selected, or the HTTP status it was refused with. */
function handshake(port: number, protocols: string[], origin?: string): Promise<{ protocol: string } | { status: number }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/`, protocols, origin === undefined ? {} : { origin });
    socket.on('open', () => {
      resolve({ protocol: socket.protocol });
      socket.close();
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      response.resume();
      socket.terminate();
    });
    socket.on('error', () => {});
  });
}

describe('web door: the page', () => {
  it('serves the chat page and its files with a policy that runs only its own scripts', async () => {
    const server = await startServer({ ...web });
    const page = await http(server.webPort!, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="/app.js"></script>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    for (const [path, type] of [['/app.js', 'text/javascript; charset=utf-8'], ['/irc.js', 'text/javascript; charset=utf-8'], ['/view.js', 'text/javascript; charset=utf-8'], ['/style.css', 'text/css; charset=utf-8']]) {
      const file = await http(server.webPort!, path!);
      expect([path, file.status, file.headers['content-type']]).toEqual([path, 200, type]);
    }
    expect((await http(server.webPort!, '/../package.json')).status).toBe(404);
    expect((await http(server.webPort!, '/nothing-here')).status).toBe(404);
    const post = await http(server.webPort!, '/', 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('is off by default, and a port in use is a clear start error', async () => {
    const server = await startServer({ ircPort: 0 });
    expect(server.webPort).toBeNull();
    await expect(startServer({ webPort: server.port })).rejects.toThrow(`web port ${server.port} is already in use`);
  });
});

describe('web door: IRC over WebSocket', () => {
  it('selects text.ircv3.net (else binary.ircv3.net) and sends one IRC line per message', async () => {
    const server = await startServer({ ...web });
    expect(await handshake(server.webPort!, ['text.ircv3.net', 'binary.ircv3.net'])).toEqual({ protocol: 'text.ircv3.net' });
    expect(await handshake(server.webPort!, ['binary.ircv3.net'])).toEqual({ protocol: 'binary.ircv3.net' });
    expect(await handshake(server.webPort!, [])).toEqual({ protocol: '' });

    const binary = await WsPeer.connect(server.webPort!, { protocols: ['binary.ircv3.net'] });
    binary.send('NICK bin', 'USER b 0 * :B');
    expect(await binary.message()).toEqual({ text: `:${SERVER} 001 bin :Welcome to the TestNet IRC Network bin!~b@127.0.0.1`, binary: true });

    const alice = await WsPeer.connect(server.webPort!);
    // A client that ends its messages with CR LF anyway is understood.
    alice.send('NICK alice\r\n', 'USER al 0 * :Alice');
    await alice.expect(`:${SERVER} 001 alice :Welcome to the TestNet IRC Network alice!~al@127.0.0.1`);
    await alice.until(/ 422 /);
    alice.send('JOIN #lobby');
    await alice.expect(':alice!~al@127.0.0.1 JOIN #lobby');
    await alice.expect(`:${SERVER} 353 alice = #lobby :alice`);
    await alice.expect(`:${SERVER} 366 alice #lobby :End of /NAMES list`);
  });

  it('puts web users in the same rooms as lab and IRC clients, each side in its own protocol', async () => {
    const server = await startServer({ ...web, ircPort: 0 });
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'bob'));
    await expectRead(lab, wire.joined('lobby', server.port, 0, 0) + wire.hasJoined(0, 'bob'));
    const carol = await ircUser(server.ircPort!, 'carol');
    carol.send('JOIN #lobby');
    await carol.until(/ 366 /);
    await expectRead(lab, wire.hasJoined(0, 'carol'));

    const alice = await webUser(server.webPort!, 'alice', ['echo-message', 'server-time']);
    alice.send('JOIN #lobby');
    expect(await alice.line()).toMatch(/^@time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z :alice!~alice@127\.0\.0\.1 JOIN #lobby$/);
    await alice.expect(`:${SERVER} 353 alice = #lobby :bob carol alice`);
    await alice.expect(`:${SERVER} 366 alice #lobby :End of /NAMES list`);
    await expectRead(lab, wire.hasJoined(0, 'alice'));
    await carol.expect(':alice!~alice@127.0.0.1 JOIN #lobby');

    lab.send(wire.chat(0, 0, 'bob', 'hello web\nand a second line'));
    await expectRead(lab, wire.said(0, 'bob', 'hello web\nand a second line'));
    expect((await alice.line()).replace(/^@time=\S+ /, '')).toBe(':bob!lab@lab/0 PRIVMSG #lobby :hello web');
    expect((await alice.line()).replace(/^@time=\S+ /, '')).toBe(':bob!lab@lab/0 PRIVMSG #lobby :and a second line');
    await carol.expect(':bob!lab@lab/0 PRIVMSG #lobby :hello web');
    await carol.expect(':bob!lab@lab/0 PRIVMSG #lobby :and a second line');

    alice.send('PRIVMSG #lobby :<script>alert(1)</script>');
    // echo-message: the sender's own line comes back confirmed.
    expect((await alice.line()).replace(/^@time=\S+ /, '')).toBe(':alice!~alice@127.0.0.1 PRIVMSG #lobby :<script>alert(1)</script>');
    await expectRead(lab, wire.said(0, 'alice', '<script>alert(1)</script>'));
    await carol.expect(':alice!~alice@127.0.0.1 PRIVMSG #lobby :<script>alert(1)</script>');

    alice.send('QUIT :closing the tab');
    await alice.expect('ERROR :Closing Link: 127.0.0.1 (Quit: closing the tab)');
    expect((await alice.closed).code).toBe(1000);
    await expectRead(lab, wire.hasLeft(0, 'alice'));
    await carol.expect(':alice!~alice@127.0.0.1 QUIT :Quit: closing the tab');
  });

  it('refuses other sites\' pages (403), and lets in the page\'s own origin, listed ones, and programs without one', async () => {
    const server = await startServer({ ...web });
    const port = server.webPort!;
    expect(await handshake(port, ['text.ircv3.net'], 'http://evil.example')).toEqual({ status: 403 });
    expect(await handshake(port, ['text.ircv3.net'], 'null')).toEqual({ status: 403 });
    expect(await handshake(port, ['text.ircv3.net'], `http://127.0.0.1:${port}`)).toEqual({ protocol: 'text.ircv3.net' });
    expect(await handshake(port, ['text.ircv3.net'])).toEqual({ protocol: 'text.ircv3.net' });

    const listed = await startServer({ ...web, webOrigins: 'https://chat.example.org, http://localhost:8080' });
    expect(await handshake(listed.webPort!, ['text.ircv3.net'], 'https://chat.example.org')).toEqual({ protocol: 'text.ircv3.net' });
    expect(await handshake(listed.webPort!, ['text.ircv3.net'], 'https://CHAT.example.org:443')).toEqual({ protocol: 'text.ircv3.net' });
    expect(await handshake(listed.webPort!, ['text.ircv3.net'], 'https://other.example.org')).toEqual({ status: 403 });
    const any = await startServer({ ...web, webOrigins: '*' });
    expect(await handshake(any.webPort!, ['text.ircv3.net'], 'http://evil.example')).toEqual({ protocol: 'text.ircv3.net' });
    await expect(startServer({ ...web, webOrigins: 'chat.example.org' })).rejects.toThrow('--web-origins takes origins like https://chat.example.org (or *), got "chat.example.org"');
  });

  it('answers a line too long with 417 and keeps the connection; a message past the limit closes it (1009)', async () => {
    const server = await startServer({ ...web });
    const alice = await webUser(server.webPort!, 'alice');
    alice.send(`PRIVMSG #x :${'y'.repeat(600)}`, 'PING :still');
    await alice.expect(`:${SERVER} 417 alice :Input line was too long`);
    await alice.expect(`:${SERVER} PONG ${SERVER} still`);
    alice.send('z'.repeat(17 * 1024));
    expect((await alice.closed).code).toBe(1009);
  });

  it('counts web connections under the server\'s connection limit: a refused one is told why in IRC', async () => {
    const server = await startServer({ ...web, maxConnections: 1 });
    await RawClient.connect(server.port);
    await new Promise<void>((resolve) => {
      const check = (): void => (server.inspect.connections() === 1 ? resolve() : void setTimeout(check, 5));
      check();
    });
    const refused = await WsPeer.connect(server.webPort!);
    await refused.expect('ERROR :Closing link: the server holds at most 1 connections');
    expect((await refused.closed).code).toBe(1013);
  });

  it('shows web connections in the dump as the web door, with their nick and caps', async () => {
    const server = await startServer({ ...web, ircPort: 0 });
    await webUser(server.webPort!, 'alice', ['server-time']);
    await ircUser(server.ircPort!, 'carol');
    const doors = (await server.dump()).clients.map((client) => [client.door, client.nick, client.caps]).sort();
    expect(doors).toEqual([['irc', 'carol', []], ['web', 'alice', ['cap-notify', 'server-time']]]);
  });

  it('cuts a web reader that stops reading (its buffered amount counts), and its rooms see it quit', async () => {
    const server = await startServer({ ...web, maxSendQueueBytes: 64 * 1024, slowConsumerGraceMs: 200 });
    const slow = await webUser(server.webPort!, 'slow');
    slow.send('JOIN #busy');
    await slow.until(/ 366 /);
    const fast = await RawClient.connect(server.port);
    fast.send(wire.join('busy', 'fast'));
    await fast.readUntil(wire.hasJoined(0, 'fast'));
    slow.socket.pause();
    const body = 'x'.repeat(400);
    let sent = 0;
    let received = 0;
    let departed = false;
    while (!departed && sent < 100_000) {
      fast.send(wire.chat(0, 1, 'fast', `${++sent} ${body}`));
      while (!departed && sent - received >= 32) {
        const message = await fast.readUntil('\n\n');
        if (message === wire.hasLeft(0, 'slow')) departed = true;
        else if (message.startsWith('CHAT: 0\nCLIENT_NAME: fast\n')) received++;
      }
    }
    expect(departed).toBe(true);
    slow.socket.resume();
    // What it gets is what it had not read, then (if it reads in time) the ERROR line, then the close.
    const tail: string[] = [];
    for (;;) {
      const message = await slow.message().catch(() => null);
      if (message === null) break;
      tail.push(message.text);
    }
    const errors = tail.filter((line) => line.startsWith('ERROR'));
    expect(errors.length === 0 || (errors.length === 1 && tail.at(-1) === 'ERROR :SendQ exceeded')).toBe(true);
    await slow.closed;
  }, 60_000);
});
