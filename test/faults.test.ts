import { describe, expect, it } from 'vitest';
import { joinedClient, startServer, wire, expectRead } from './helpers.js';

/** Supervision: a failed actor is contained by the server actor; everything else carries on. */
describe('actor faults', () => {
  it('a failed client actor: its connection gets INTERNAL and is closed, its departures announced', async () => {
    const server = await startServer({ testHooks: true });
    const port = server.port;
    const victim = await joinedClient(port, 'r', 'victim');
    const witness = await joinedClient(port, 'r', 'witness');
    await victim.readUntil(wire.hasJoined(0, 'witness'));

    const victimActor = server.inspect.clientActor(0);
    expect(victimActor).toBeDefined();
    victimActor!.send({ type: 'test.fault' });

    expect(await victim.readToClose()).toMatch(/^ERROR_CODE: 12\nERROR_DESCRIPTION: [^\n]+\n$/);
    await expectRead(witness, wire.hasLeft(0, 'victim'));
    witness.send(wire.chat(0, 1, 'witness', 'still here'));
    await expectRead(witness, wire.said(0, 'witness', 'still here'));
    expect(server.actor.getSnapshot().status).toBe('active');
  });

  it('a failed room actor is restarted with its ref and membership; chat carries on', async () => {
    const server = await startServer({ testHooks: true });
    const port = server.port;
    const a = await joinedClient(port, 'r', 'a');
    const b = await joinedClient(port, 'r', 'b');
    await a.readUntil(wire.hasJoined(0, 'b'));

    const before = server.inspect.roomActor(0)!;
    before.send({ type: 'test.fault' });
    const after = server.inspect.roomActor(0)!;
    expect(after).not.toBe(before);
    expect(server.inspect.roomMembers(0)).toEqual([0, 1]);

    a.send(wire.chat(0, 0, 'a', 'after the restart'));
    await expectRead(b, wire.said(0, 'a', 'after the restart'));
    await expectRead(a, wire.said(0, 'a', 'after the restart'));
    b.send(wire.leave(0, 1, 'b'));
    await expectRead(b, wire.left(0, 1) + wire.hasLeft(0, 'b'));
    await expectRead(a, wire.hasLeft(0, 'b'));
  });

  it('a room that fails in the middle of a leave is restarted and the leave carried out', async () => {
    const server = await startServer({ testHooks: true });
    const port = server.port;
    const a = await joinedClient(port, 'r', 'a');
    const b = await joinedClient(port, 'r', 'b');
    await a.readUntil(wire.hasJoined(0, 'b'));
    server.inspect.roomActor(0)!.send({ type: 'test.failNext' });
    b.send(wire.leave(0, 1, 'b'));
    await expectRead(b, wire.left(0, 1) + wire.hasLeft(0, 'b'));
    await expectRead(a, wire.hasLeft(0, 'b'));
    // b's connection is not stuck waiting: it is answered at once.
    b.send('HELO after\n');
    await expectRead(b, wire.helo('after', port));
    expect(server.inspect.roomMembers(0)).toEqual([0]);
  });

  it('ignores the fault hook unless test hooks are on', async () => {
    const server = await startServer();
    const a = await joinedClient(server.port, 'r', 'a');
    server.inspect.clientActor(0)!.send({ type: 'test.fault' });
    server.inspect.roomActor(0)!.send({ type: 'test.fault' });
    a.send(wire.chat(0, 0, 'a', 'fine'));
    await expectRead(a, wire.said(0, 'a', 'fine'));
  });
});
