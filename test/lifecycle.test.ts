import { describe, expect, it } from 'vitest';
import { ListenError, startChatServer } from '../src/index.js';
import { isLoopback } from '../src/transport/address.js';
import { RawClient, readErrorCode, startServer, wire, expectRead } from './helpers.js';
import { ERRORS } from '../src/protocol/errors.js';

describe('server lifecycle', () => {
  it('honours KILL_SERVICE from loopback: stops accepting, closes every connection, resolves closed', async () => {
    const server = await startServer();
    const bystander = await RawClient.connect(server.port);
    bystander.send(wire.join('r', 'bystander'));
    await bystander.readUntil(wire.hasJoined(0, 'bystander'));
    const killer = await RawClient.connect(server.port);
    killer.send('KILL_SERVICE\n');
    await server.closed;
    await Promise.all([bystander.closed, killer.closed]);
    // No departure announcements on a whole-server stop: everyone is going.
    expect(bystander.pending()).toBe('');
    await expect(RawClient.connect(server.port)).rejects.toThrow(/ECONNREFUSED/);
    expect(server.actor.getSnapshot().status).toBe('done');
  });

  it('refuses KILL_SERVICE with NOT_PERMITTED when the policy says off, and carries on', async () => {
    const server = await startServer({ killService: 'off' });
    const client = await RawClient.connect(server.port);
    client.send('KILL_SERVICE\n');
    expect(await readErrorCode(client)).toBe(ERRORS.NOT_PERMITTED.code);
    client.send('HELO alive\n');
    await expectRead(client, wire.helo('alive', server.port));
  });

  it('counts 127.0.0.0/8 and ::1 as loopback, nothing else', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address), address).toBe(true);
    for (const address of ['10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', '1.2.3.4', 'fe80::1', '']) expect(isLoopback(address), address).toBe(false);
  });

  it('stop() flushes queued output, closes every socket and resolves when all actors are gone', async () => {
    const server = await startServer();
    const client = await RawClient.connect(server.port);
    client.send(wire.join('r', 'a') + wire.chat(0, 0, 'a', 'before the stop'));
    await client.readUntil(wire.hasJoined(0, 'a'));
    await server.stop();
    expect(await client.readToClose()).toBe(wire.said(0, 'a', 'before the stop'));
    expect(server.inspect.connections()).toBe(0);
    expect(server.inspect.rooms()).toBe(0);
  });

  it('rejects with a one-line ListenError when the port is in use', async () => {
    const server = await startServer();
    const error = await startChatServer({ port: server.port, host: '127.0.0.1', logLevel: 'silent' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ListenError);
    expect((error as ListenError).message).toBe(`port ${server.port} is already in use (127.0.0.1:${server.port})`);
  });

  it('says what it really binds with no --host: [::] (IPv6 and IPv4), or 0.0.0.0 on a host without IPv6', async () => {
    const server = await startServer({ host: undefined });
    expect(['::', '0.0.0.0']).toContain(server.host);
    const bound = server.host === '::' ? '[::]' : server.host;
    const error = await startChatServer({ port: server.port, logLevel: 'silent' }).catch((err: unknown) => err);
    expect((error as ListenError).message).toBe(`port ${server.port} is already in use (${bound}:${server.port})`);
  });
});
