import { describe, expect, it } from 'vitest';
import { joinedClient, startServer, wire } from './helpers.js';

/** Supervision: a failed actor is contained by the server actor; everything else carries on. */
describe('actor faults', () => {
  it('a failed client actor: its connection gets INTERNAL and is closed, its departures announced', async () => {
    const server = await startServer({ testHooks: true });
    const port = server.port;
    const victim = await joinedClient(port, 'r', 'victim');
    const witness = await joinedClient(port, 'r', 'witness');
    await victim.readUntil(wire.hasJoined(0, 'witness'));

    const entry = server.actor.getSnapshot().context.clients.get(0);
    expect(entry).toBeDefined();
    entry!.actor.send({ type: 'test.fault' });

    expect(await victim.readToClose()).toMatch(/^ERROR_CODE: 12\nERROR_DESCRIPTION: [^\n]+\n$/);
    expect(await witness.read(wire.hasLeft(0, 'victim'))).toBe(wire.hasLeft(0, 'victim'));
    witness.send(wire.chat(0, 1, 'witness', 'still here'));
    expect(await witness.read(wire.said(0, 'witness', 'still here'))).toBe(wire.said(0, 'witness', 'still here'));
    expect(server.actor.getSnapshot().status).toBe('active');
  });

  it('a failed room actor is restarted with its ref and membership; chat carries on', async () => {
    const server = await startServer({ testHooks: true });
    const port = server.port;
    const a = await joinedClient(port, 'r', 'a');
    const b = await joinedClient(port, 'r', 'b');
    await a.readUntil(wire.hasJoined(0, 'b'));

    const before = server.actor.getSnapshot().context.rooms.get(0)!;
    before.send({ type: 'test.fault' });
    const after = server.actor.getSnapshot().context.rooms.get(0)!;
    expect(after).not.toBe(before);
    expect([...after.getSnapshot().context.members.keys()]).toEqual([0, 1]);

    a.send(wire.chat(0, 0, 'a', 'after the restart'));
    expect(await b.read(wire.said(0, 'a', 'after the restart'))).toBe(wire.said(0, 'a', 'after the restart'));
    expect(await a.read(wire.said(0, 'a', 'after the restart'))).toBe(wire.said(0, 'a', 'after the restart'));
    b.send(wire.leave(0, 1, 'b'));
    expect(await b.read(wire.left(0, 1) + wire.hasLeft(0, 'b'))).toBe(wire.left(0, 1) + wire.hasLeft(0, 'b'));
    expect(await a.read(wire.hasLeft(0, 'b'))).toBe(wire.hasLeft(0, 'b'));
  });

  it('a room that fails in the middle of a leave is restarted and the leave carried out', async () => {
    const server = await startServer({ testHooks: true });
    const port = server.port;
    const a = await joinedClient(port, 'r', 'a');
    const b = await joinedClient(port, 'r', 'b');
    await a.readUntil(wire.hasJoined(0, 'b'));
    server.actor.getSnapshot().context.rooms.get(0)!.send({ type: 'test.failNext' });
    b.send(wire.leave(0, 1, 'b'));
    expect(await b.read(wire.left(0, 1) + wire.hasLeft(0, 'b'))).toBe(wire.left(0, 1) + wire.hasLeft(0, 'b'));
    expect(await a.read(wire.hasLeft(0, 'b'))).toBe(wire.hasLeft(0, 'b'));
    // b's connection is not stuck waiting: it is answered at once.
    b.send('HELO after\n');
    expect(await b.read(wire.helo('after', port))).toBe(wire.helo('after', port));
    expect([...server.actor.getSnapshot().context.rooms.get(0)!.getSnapshot().context.members.keys()]).toEqual([0]);
  });

  it('ignores the fault hook unless test hooks are on', async () => {
    const server = await startServer();
    const a = await joinedClient(server.port, 'r', 'a');
    server.actor.getSnapshot().context.clients.get(0)!.actor.send({ type: 'test.fault' });
    server.actor.getSnapshot().context.rooms.get(0)!.send({ type: 'test.fault' });
    a.send(wire.chat(0, 0, 'a', 'fine'));
    expect(await a.read(wire.said(0, 'a', 'fine'))).toBe(wire.said(0, 'a', 'fine'));
  });
});
