import type { AnyActorRef } from 'xstate';
import type { JoinId, RoomRef } from '../protocol/types.js';
import type { ServerActor } from '../server-actor.js';
import { clientDump, type ClientDump } from './dump.js';

/**
 * A live look into the actor tree, taken at once (no Redis, unlike a whole dump): for tests and
 * tools that embed the server (README, Embedding). It reads the supervisor's registries and never
 * changes them; the actor refs it hands out are for sending events (a test's fault hooks), and
 * the figures are the dump's.
 */
export interface ServerInspector {
  /** Client actors alive: connections the server is not done with. */
  connections(): number;
  /** Room actors alive: rooms with members (or work under way) here. */
  rooms(): number;
  /** The client actor of connection `id` (the id in logs and the dump), while it lives. */
  clientActor(id: number): AnyActorRef | undefined;
  /** The room actor of the room with ref `ref`, while it lives. */
  roomActor(ref: RoomRef): AnyActorRef | undefined;
  /** The join ids of the room's members here, in join order (empty for no such room). */
  roomMembers(ref: RoomRef): JoinId[];
  /** The dump's figures of connection `id`. */
  client(id: number): ClientDump | undefined;
  /** The dump's figures of the connection whose peer is at `port` (a test's own socket's local port). */
  clientByPeerPort(port: number): ClientDump | undefined;
}

export function inspectorOf(actor: ServerActor): ServerInspector {
  const context = () => actor.getSnapshot().context;
  return {
    connections: () => context().clients.size,
    rooms: () => context().rooms.size,
    clientActor: (id) => context().clients.get(id)?.actor,
    roomActor: (ref) => context().rooms.get(ref),
    roomMembers: (ref) => [...(context().rooms.get(ref)?.getSnapshot().context.members.keys() ?? [])],
    client: (id) => {
      const entry = context().clients.get(id);
      return entry ? clientDump(`client-${id}`, entry.actor.getSnapshot()) : undefined;
    },
    clientByPeerPort: (port) => {
      for (const [id, { actor: client, connection }] of context().clients) {
        if (connection.info.peerPort === port) return clientDump(`client-${id}`, client.getSnapshot());
      }
      return undefined;
    },
  };
}
