import type { ActorRefLike, InspectionEvent } from 'xstate';
import type { Logger } from 'pino';

/** Numeric fields worth following a message by; names and message text are never logged here. */
const TRACED_FIELDS = ['roomRef', 'joinId'] as const;

/**
 * The control plane at log level `trace`: every message one actor sends another, as one line with
 * its source, target and type, so a request's path through the tree can be followed. Payloads are
 * left out, and the data plane (bytes posted to outbound streams) is not an actor message at all:
 * the dump counts it instead.
 */
export function traceActorMessages(log: Logger): (event: InspectionEvent) => void {
  return (inspection) => {
    if (inspection.type !== '@xstate.event') return;
    const { event } = inspection;
    const fields: Record<string, string | number> = {
      from: inspection.sourceRef ? actorName(inspection.sourceRef) : directSender(event),
      to: actorName(inspection.actorRef),
      event: event.type,
    };
    for (const name of TRACED_FIELDS) {
      const value: unknown = event[name];
      if (typeof value === 'number') fields[name] = value;
    }
    if (event.type === 'join' && typeof event.member === 'object' && event.member !== null) {
      const { joinId } = event.member as { joinId?: unknown };
      if (typeof joinId === 'number') fields.joinId = joinId;
    }
    log.trace(fields, 'actor message');
  };
}

/** Events only a client actor sends: for these, the client an event carries is its sender. */
const CLIENT_SENT = /^(client\.|irc\.|chats?$|leave$|depart$)/;

/**
 * Client and room actors send straight to each other and to the server (not through xstate's
 * relay, which would name the sender), so the sender is read off the event: the client a client's
 * message carries, or the ref a room's `room.*` message carries. What carries neither (a room's
 * refusal of a join in cluster mode) is logged as from `outside`.
 */
function directSender(event: { type: string; client?: unknown; connectionId?: unknown; roomRef?: unknown }): string {
  if (CLIENT_SENT.test(event.type) && isActorRef(event.client)) return actorName(event.client);
  if (event.type.startsWith('room.') && typeof event.roomRef === 'number') return `room-${event.roomRef}`;
  if (event.type === 'irc.releaseNick' && typeof event.connectionId === 'number') return `client-${event.connectionId}`;
  return 'outside';
}

function isActorRef(value: unknown): value is ActorRefLike {
  return typeof value === 'object' && value !== null && 'getSnapshot' in value && 'send' in value;
}

/**
 * `client-3` (by connection id), `room-0` (by ref), `server`; other actors (invoked helpers) by
 * session id. Client and room actors share one id per kind (see actors/server.ts), so the number
 * comes from the actor's own snapshot.
 */
function actorName(ref: ActorRefLike): string {
  const id = 'id' in ref && typeof ref.id === 'string' ? ref.id : undefined;
  if (id === 'client' || id === 'room') {
    const context = (ref.getSnapshot() as { context?: { connection?: { info: { id: number } }; ref?: number } }).context;
    if (id === 'client' && context?.connection) return `client-${context.connection.info.id}`;
    if (id === 'room' && typeof context?.ref === 'number') return `room-${context.ref}`;
  }
  return id ?? ref.sessionId;
}
