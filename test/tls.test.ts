import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatClient } from '../src/client-library/chat-client.js';
import { RawClient, expectRead, startServer, wire } from './helpers.js';
import { WeeChat, fileContains, hasProgram } from './irc-programs.js';
import { makeTestPki } from './tls-certs.js';

const pki = makeTestPki();
const ca = readFileSync(pki.caFile);
const first = pki.serverPair('first');
const second = pki.serverPair('second');

/** A server pair at fixed paths, so a test can replace the files and reload. */
function livePair(name: string, from: { cert: string; key: string }): { tlsCert: string; tlsKey: string } {
  const tlsCert = join(pki.dir, `${name}-live.pem`);
  const tlsKey = join(pki.dir, `${name}-live.key`);
  copyFileSync(from.cert, tlsCert);
  copyFileSync(from.key, tlsKey);
  return { tlsCert, tlsKey };
}

/** The certificate a new TLS connection to `port` is shown: its subject's CN. */
function servedName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

/** `openssl s_client` to `port`, checking the certificate: sends `input`, resolves with what came back once it matches `until`. */
function sClient(port: number, input: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', pki.caFile, '-verify_return_error', '-quiet'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`openssl s_client got only ${JSON.stringify(out)}`));
    }, 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (until.test(out)) {
        clearTimeout(timer);
        child.kill();
        resolve(out);
      }
    });
    child.stdin.write(input);
  });
}

describe('TLS on every door', () => {
  it('speaks the lab protocol over TLS with the project\'s client, in the same rooms as plain TCP, and the dump says which is which', async () => {
    const server = await startServer({ ...livePair('lab', first), tlsPort: 0 });
    const plain = await RawClient.connect(server.port);
    plain.send(wire.join('lobby', 'plain'));
    await plain.readUntil(wire.hasJoined(0, 'plain'));

    const secure = await ChatClient.connect('127.0.0.1', server.tlsPort!, { tls: { ca } });
    const membership = await secure.join('lobby', 'secure');
    expect(membership.roomRef).toBe(0);
    await expectRead(plain, wire.hasJoined(0, 'secure'));
    await secure.chat(0, 'over TLS');
    await expectRead(plain, wire.said(0, 'secure', 'over TLS'));

    const peers = (await server.dump()).clients.map((client) => client.tls).sort();
    expect(peers).toEqual([false, true]);
    // A client that does not trust the certificate does not connect.
    await expect(ChatClient.connect('127.0.0.1', server.tlsPort!, { tls: true })).rejects.toThrow(/certificate/);
    await secure.disconnect();
  });

  it('answers openssl s_client on the lab and IRC TLS ports', async () => {
    const server = await startServer({ ...livePair('sclient', first), tlsPort: 0, ircTlsPort: 0, serverName: 'irc.test' });
    const helo = await sClient(server.tlsPort!, 'HELO over tls\n', /StudentID:.*\n/);
    expect(helo).toBe(`HELO over tls\nIP:127.0.0.1\nPort:${server.tlsPort}\nStudentID:actor-chat-server\n`);
    const irc = await sClient(server.ircTlsPort!, 'NICK alice\r\nUSER a 0 * :A\r\n', / 422 /);
    expect(irc.split('\r\n')[0]).toBe(':irc.test 001 alice :Welcome to the ActorChat IRC Network alice!~a@127.0.0.1');
  });

  it('serves the web door over HTTPS and WSS', async () => {
    const server = await startServer({ ...livePair('web', first), webTlsPort: 0, serverName: 'irc.test' });
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.webTlsPort!, path: '/', ca }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(status).toBe(200);
    const socket = new WebSocket(`wss://127.0.0.1:${server.webTlsPort}/`, ['text.ircv3.net'], { ca });
    const welcome = await new Promise<string>((resolve, reject) => {
      socket.on('open', () => {
        socket.send('NICK alice');
        socket.send('USER a 0 * :A');
      });
      socket.on('message', (data: Buffer) => resolve(data.toString()));
      socket.on('error', reject);
    });
    socket.close();
    expect(welcome).toBe(':irc.test 001 alice :Welcome to the ActorChat IRC Network alice!~a@127.0.0.1');
    expect((await server.dump()).clients.map((client) => [client.door, client.tls])).toEqual([['web', true]]);
  });

  it('reloads the certificate under live connections; a pair that cannot be used keeps the old one and logs one error', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const files = livePair('reload', first);
    const server = await startServer({ ...files, tlsPort: 0, logger });
    expect(await servedName(server.tlsPort!)).toBe('first');
    const before = await ChatClient.connect('127.0.0.1', server.tlsPort!, { tls: { ca } });
    await before.join('lobby', 'before');

    copyFileSync(second.cert, files.tlsCert);
    copyFileSync(second.key, files.tlsKey);
    expect(server.reloadTls()).toBe(true);
    expect(await servedName(server.tlsPort!)).toBe('second');
    // The connection made before the reload carries on.
    const after = await ChatClient.connect('127.0.0.1', server.tlsPort!, { tls: { ca } });
    await after.join('lobby', 'after');
    await before.chat(0, 'still here');

    writeFileSync(files.tlsCert, 'not a certificate');
    const errorsBefore = lines.filter((line) => JSON.parse(line).level === 50).length;
    expect(server.reloadTls()).toBe(false);
    const errors = lines.filter((line) => JSON.parse(line).level === 50);
    expect(errors.length - errorsBefore).toBe(1);
    expect(JSON.parse(errors.at(-1)!).msg).toMatch(/^TLS certificate not reloaded, the old one stays: the TLS certificate .* cannot be used/);
    expect(await servedName(server.tlsPort!)).toBe('second');
    await before.disconnect();
    await after.disconnect();
  });

  it('drops a client that never finishes its handshake, which never holds a place under the connection limit', async () => {
    const server = await startServer({ ...livePair('stall', first), tlsPort: 0, maxConnections: 1, tlsHandshakeTimeoutMs: 300 });
    const stalled = netConnect({ host: '127.0.0.1', port: server.tlsPort! });
    const closed = new Promise<number>((resolve) => {
      const at = Date.now();
      stalled.on('close', () => resolve(Date.now() - at));
      stalled.on('error', () => {});
    });
    // Meanwhile the one place is free for a client that completes its handshake.
    const client = await ChatClient.connect('127.0.0.1', server.tlsPort!, { tls: { ca } });
    await client.join('lobby', 'fine');
    expect(await closed).toBeLessThan(5_000);
    await client.disconnect();
  });

  it('refuses to start with a TLS port but no certificate, or an unusable pair', async () => {
    await expect(startServer({ tlsPort: 0 })).rejects.toThrow('--tls-port needs --tls-cert and --tls-key');
    await expect(startServer({ tlsCert: first.cert, tlsPort: 0 })).rejects.toThrow('--tls-cert and --tls-key go together');
    await expect(startServer({ tlsCert: first.cert, tlsKey: second.key, tlsPort: 0 })).rejects.toThrow(/cannot be used/);
  });

  it.runIf(hasProgram('weechat-headless'))('WeeChat connects over TLS (-tls, checking the certificate) and chats with a lab client', async () => {
    const server = await startServer({ ...livePair('weechat', first), ircTlsPort: 0, serverName: 'irc.test' });
    const lab = await RawClient.connect(server.port);
    lab.send(wire.join('lobby', 'bob'));
    await lab.readUntil(wire.hasJoined(0, 'bob'));
    const wee = WeeChat.start(server.ircTlsPort!, 'wee', '#lobby', pki.caFile);
    await expectRead(lab, wire.hasJoined(0, 'wee'));
    lab.send(wire.chat(0, 0, 'bob', 'hello over TLS'));
    await fileContains(wee.log('irc.test.#lobby'), /bob\thello over TLS/);
    await wee.input('irc.test.#lobby', 'hi back');
    await expectRead(lab, wire.said(0, 'bob', 'hello over TLS') + wire.said(0, 'wee', 'hi back'));
    expect((await server.dump()).clients.find((client) => client.door === 'irc')?.tls).toBe(true);
    wee.quit();
  });
});
