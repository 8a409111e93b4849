import type { DumpDocument } from '../src/index.js';
import { RawClient, wire } from './helpers.js';

/**
 * The scripted sequence: three clients, two rooms, a leave, an abrupt close. Afterwards
 * `a` (client-0) is in lobby and dev, `b` (client-1) only in dev as "bee", and `c` is gone.
 * Resolves once `a` has heard c's departures from both rooms.
 */
export async function playScenario(port: number): Promise<{ a: RawClient; b: RawClient }> {
  const a = await RawClient.connect(port);
  const b = await RawClient.connect(port);
  const c = await RawClient.connect(port);
  a.send(wire.join('lobby', 'a') + wire.join('dev', 'a'));
  await a.readUntil(wire.hasJoined(1, 'a'));
  b.send(wire.join('lobby', 'b') + wire.join('dev', 'bee'));
  await b.readUntil(wire.hasJoined(1, 'bee'));
  c.send(wire.join('dev', 'c') + wire.join('lobby', 'c'));
  await c.readUntil(wire.hasJoined(0, 'c'));
  b.send(wire.leave(0, 1, 'b'));
  await a.readUntil(wire.hasLeft(0, 'b'));
  c.destroy();
  // A closed connection leaves its rooms in join order: dev, then lobby.
  await a.readUntil(wire.hasLeft(1, 'c'));
  await a.readUntil(wire.hasLeft(0, 'c'));
  return { a, b };
}

/** The dump's actors and memberships, without the figures that vary from run to run. */
export function treeOf(dump: DumpDocument): unknown {
  return {
    server: { state: dump.server.state, connections: dump.server.counts.connections, rooms: dump.server.counts.rooms },
    rooms: dump.rooms.map(({ id, ref, name, state, members }) => ({ id, ref, name, state, members })),
    clients: dump.clients.map(({ id, state, joinId, rooms }) => ({ id, state, joinId, rooms })),
  };
}

/** What exists after the scenario, exactly. */
export const EXPECTED_TREE = {
  server: { state: 'running.listening', connections: 2, rooms: 2 },
  rooms: [
    { id: 'room-0', ref: 0, name: 'lobby', state: 'open', members: [{ joinId: 0, name: 'a', client: 'client-0' }] },
    {
      id: 'room-1',
      ref: 1,
      name: 'dev',
      state: 'open',
      members: [
        { joinId: 0, name: 'a', client: 'client-0' },
        { joinId: 1, name: 'bee', client: 'client-1' },
      ],
    },
  ],
  clients: [
    { id: 'client-0', state: 'ready', joinId: 0, rooms: [{ ref: 0, name: 'lobby', as: 'a' }, { ref: 1, name: 'dev', as: 'a' }] },
    { id: 'client-1', state: 'ready', joinId: 1, rooms: [{ ref: 1, name: 'dev', as: 'bee' }] },
  ],
};

/** No connection is between states: c's close has been carried through to its actor's end. */
export function settled(dump: DumpDocument): boolean {
  return dump.clients.every((client) => client.state === 'ready');
}
