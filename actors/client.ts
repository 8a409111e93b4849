import { LogBudget, logWithin, printable } from '../src/log.js';
import { encodeError, encodeHelo, encodeJoined, encodeLeft } from '../src/protocol/encode.js';
import { ERRORS, protocolError } from '../src/protocol/errors.js';
import { LAB_DOOR } from '../src/rooms/lab-door.js';
import { takeChats } from '../src/session/lab-chats.js';
import { countRequest, reply, replyError } from '../src/session/lab-replies.js';
import { chatProblem, joinProblem, membershipByName, membershipOf } from '../src/session/rules.js';
import type { ClientContext, ClientInput, ClientOutput } from '../src/session/state.js';
import { isLoopback } from '../src/transport/address.js';
import { departFromRooms, followRestartedRoom, markDeparted } from '../src/session/departing.js';
import type { ClientEvent, RoomActorRef, RoomEvent } from './events.js';
import { phaseLogic, type Next, type PhaseSelf } from './phase-logic.js';

export type { Membership } from '../src/session/rules.js';
export type { ClientContext, ClientInput, ClientOutput, ClientSettings } from '../src/session/state.js';

/**
 * - ready: requests are answered as they come;
 * - waiting: one request is with a room or the server; later ones wait their turn;
 * - departing: leaving every room, in join order, before the connection is closed;
 * - closing: the output is flushed (within a limit), then the socket closes;
 * - closed: final.
 */
export type ClientPhase = 'ready' | 'waiting' | 'departing' | 'closing' | 'closed';
type Self = PhaseSelf<ClientContext, ClientEvent, ClientOutput, ClientPhase>;
type Event<T extends ClientEvent['type']> = Extract<ClientEvent, { type: T }>;

/** Joins and leaves logged at info per connection: 50 at once, then 10 a second. */
function membershipLogBudget(context: ClientContext): LogBudget {
  return (context.logBudget ??= new LogBudget(10, 50));
}

const toRoom = (room: RoomActorRef, event: RoomEvent): void => room.send(event);

/**
 * The end of a wait: back to ready, where events kept meanwhile are handled again, in order (the
 * requests that waited follow from the connection, resumed on leaving the wait).
 */
function backToReady(context: ClientContext): Next<ClientPhase, ClientEvent> {
  return context.deferred.length > 0 ? { to: 'ready', raise: context.deferred.splice(0) } : 'ready';
}

function killService(context: ClientContext, _event: Event<'request.kill'>, self: Self): void {
  countRequest(context, 'request.kill');
  const policy = context.settings.killService;
  if (policy === 'any' || (policy === 'loopback' && isLoopback(context.connection.info.peerAddress))) {
    context.server.send({ type: 'client.killService', peer: context.connection.info.peerAddress, client: self });
    return;
  }
  // The connection's logger already names the peer.
  context.log.warn({ policy }, 'KILL_SERVICE refused');
  replyError(context, protocolError('NOT_PERMITTED', `KILL_SERVICE is not permitted from this address (policy: ${policy})`));
}

function join(context: ClientContext, { request }: Event<'request.join'>, self: Self): ClientPhase | undefined {
  countRequest(context, 'request.join');
  const problem = joinProblem(request);
  if (problem !== null) return void replyError(context, problem);
  const membership = membershipByName(context, request.roomName);
  if (membership) return void reply(context, encodeJoined(request.roomName, context.serverIp, context.serverPort, membership.roomRef, context.joinId!));
  if (context.rooms.length >= context.settings.maxRoomsPerConnection) {
    return void replyError(context, protocolError('LIMIT_REACHED', `a connection may be in at most ${context.settings.maxRoomsPerConnection} rooms`));
  }
  context.server.send({
    type: 'client.join',
    client: self,
    connectionId: context.connection.info.id,
    roomName: request.roomName,
    clientName: request.clientName,
    joinId: context.joinId,
    outbound: context.connection.outbound,
    serverIp: context.serverIp,
    serverPort: context.serverPort,
    door: LAB_DOOR,
    // The supervisor gives a lab member its IRC face, when an IRC door is open.
    person: null,
  });
  return 'waiting';
}

/** Sent straight to the room: each chat reaches its room before the next request is answered. */
function chat(context: ClientContext, { request }: Event<'request.chat'>, self: Self): ClientPhase | undefined {
  countRequest(context, 'request.chat');
  const problem = chatProblem(context, request);
  if (problem === null) {
    membershipOf(context, request.roomRef)!.room.send({ type: 'chat', joinId: request.joinId, text: request.message, client: self });
    return undefined;
  }
  if (problem !== 'foreign') return void replyError(context, problem);
  context.server.send({ type: 'client.lookupRoom', client: self, roomRef: request.roomRef });
  return 'waiting';
}

/**
 * A read's run of CHATs, one event per room (see RunFeed). At a CHAT to a room this connection is
 * not in, the chats before it are taken, the server is asked about its ref, and the rest wait
 * (kept, in order) for the answer.
 */
function chats(context: ClientContext, { requests }: Event<'request.chats'>, self: Self): ClientPhase | undefined {
  const foreign = takeChats(context, requests, self);
  if (foreign < 0) return undefined;
  context.server.send({ type: 'client.lookupRoom', client: self, roomRef: requests[foreign]!.roomRef });
  for (const request of requests.slice(foreign + 1)) context.deferred.push({ type: 'request.chat', request });
  return 'waiting';
}

function leave(context: ClientContext, { request }: Event<'request.leave'>, self: Self): ClientPhase | undefined {
  countRequest(context, 'request.leave');
  const membership = membershipOf(context, request.roomRef);
  if (!membership) return void reply(context, encodeLeft(request.echo.roomRef, request.echo.joinId));
  membership.room.send({ type: 'leave', joinId: context.joinId!, reply: encodeLeft(request.echo.roomRef, request.echo.joinId), client: self, outbound: context.connection.outbound });
  return 'waiting';
}

function failure(context: ClientContext, { failure }: Event<'request.failure'>): ClientPhase | undefined {
  countRequest(context, 'request.failure');
  replyError(context, protocolError(failure.error, failure.description));
  return ERRORS[failure.error].closes ? 'departing' : undefined;
}

function slowConsumer(context: ClientContext): ClientPhase {
  context.stats.errors++;
  context.settings.tally.error('lab', 'SLOW_CONSUMER');
  context.log.warn({ queuedBytes: context.connection.queuedBytes() }, 'slow consumer: output limit passed; closing');
  // Behind the output already queued; the close is bounded by the flush limit either way.
  context.connection.sendBeyondLimit(Buffer.from(encodeError(protocolError('SLOW_CONSUMER'))));
  return 'departing';
}

function orderLost(context: ClientContext, { roomRef }: Event<'room.orderLost'>): ClientPhase {
  context.rooms = context.rooms.filter((membership) => membership.roomRef !== roomRef);
  context.log.warn({ room: roomRef }, 'cluster: room events missed beyond its log; closing the connection');
  replyError(context, protocolError('UNAVAILABLE', `this node missed events of room ${roomRef}; reconnect`));
  return 'departing';
}

// Mutated in place, as the rooms are: the context is this actor's alone.
function joined(context: ClientContext, event: Event<'room.joined'>): Next<ClientPhase, ClientEvent> {
  context.joinId = event.joinId;
  if (!membershipOf(context, event.roomRef)) {
    // concat, not a spread: an array of exactly its length (a spread's has room for 16 more).
    context.rooms = context.rooms.concat({ roomRef: event.roomRef, roomName: event.roomName, clientName: event.clientName, room: event.room });
    logWithin(membershipLogBudget(context), context.log, 'info', { room: event.roomRef, roomName: printable(event.roomName), name: printable(event.clientName), joinId: event.joinId }, 'joined', context.settings.lineBudget);
  }
  return backToReady(context);
}

function left(context: ClientContext, { roomRef }: Event<'room.left'>): Next<ClientPhase, ClientEvent> {
  if (membershipOf(context, roomRef)) {
    context.rooms = context.rooms.filter((membership) => membership.roomRef !== roomRef);
    logWithin(membershipLogBudget(context), context.log, 'info', { room: roomRef }, 'left', context.settings.lineBudget);
  }
  return backToReady(context);
}

// The requests behind one that waits stay in the connection (which stops reading once a few
// dozen do) and come back a turn's worth at a time: a burst behind a slow answer costs neither
// unbounded memory here nor one long replay that holds every other connection up. (What is kept
// here is at most the rest of one read's run of chats: see `chats`.)
const keep = (context: ClientContext, event: ClientEvent): void => void context.deferred.push(event);

/** Every request, and the signals below: a request type added later must be listed here (or the build fails). */
type KeptWhileWaiting = Extract<ClientEvent['type'], `request.${string}`> | 'socket.overflow' | 'room.orderLost';

/** None should come while waiting (the connection is paused); kept so none is lost. */
const KEPT_WHILE_WAITING: { readonly [K in KeptWhileWaiting]: typeof keep } = {
  'request.helo': keep, 'request.kill': keep, 'request.join': keep, 'request.chat': keep, 'request.chats': keep,
  'request.leave': keep, 'request.disconnect': keep, 'request.end': keep, 'request.failure': keep,
  // The reply it waits for comes synchronously; leaving now would strand it.
  'socket.overflow': keep,
  // Handled once the request in flight is answered: a join under way must be departed too.
  'room.orderLost': keep,
};

/**
 * The client actor: the server's side of one connection (not the client library, which is in
 * src/client-library/, nor the terminal client, src/cli/terminal-client.ts). It answers the
 * connection's requests one at a time, in arrival order, and speaks for it to rooms and the server.
 */
export const clientLogic = phaseLogic<ClientContext, ClientEvent, ClientInput, ClientOutput, ClientPhase>({
  context: (input) => ({
    connection: input.connection,
    settings: input.settings,
    log: input.log,
    server: input.server,
    serverIp: input.settings.advertiseIp ?? input.connection.info.localAddress,
    serverPort: input.connection.info.localPort,
    joinId: null,
    rooms: [],
    deferred: [],
    departing: null,
    stats: { requests: 0, errors: 0 },
    logBudget: null,
  }),
  initial: 'ready',
  on: {
    'server.shutdown': () => 'closing',
    'room.restarted': (context, event) => followRestartedRoom(context, event.roomRef, event.room),
    'test.fault': (context) => {
      if (context.settings.testHooks) throw new Error('fault injected by a test');
    },
  },
  phases: {
    ready: {
      on: {
        'request.helo': (context, { request }) => {
          countRequest(context, 'request.helo');
          reply(context, encodeHelo(request.line, context.serverIp, context.serverPort, context.settings.studentId));
        },
        'request.kill': killService,
        'request.join': join,
        'request.chat': chat,
        'request.chats': chats,
        'request.leave': leave,
        'request.disconnect': (context) => {
          countRequest(context, 'request.disconnect');
          return 'departing';
        },
        'request.end': () => 'departing',
        'request.failure': failure,
        'socket.overflow': slowConsumer,
        'room.orderLost': orderLost,
      },
    },
    waiting: {
      entry: (context) => context.connection.pauseRequests(),
      exit: (context) => context.connection.resumeRequests(),
      on: {
        ...KEPT_WHILE_WAITING,
        'room.joined': joined,
        'room.left': left,
        'server.joinRefused': (context, { error }) => {
          replyError(context, error);
          return backToReady(context);
        },
        'server.roomLookedUp': (context, { roomRef, known }) => {
          replyError(context, known ? protocolError('NOT_A_MEMBER', `this connection is not in room ${roomRef}`) : protocolError('UNKNOWN_ROOM', `no room has ref ${roomRef}`));
          return backToReady(context);
        },
      },
    },
    departing: {
      entry: (context, self) => departFromRooms(context, self, toRoom),
      always: (context) => ((context.departing?.length ?? 0) === 0 ? 'closing' : undefined),
      on: {
        'room.departed': (context, { roomRef }, self) => markDeparted(context, roomRef, self, toRoom),
      },
    },
    closing: {
      entry: (context) => context.connection.close(context.settings.flushMs),
      always: (context) => (context.connection.isOpen() ? undefined : 'closed'),
      on: { 'socket.closed': () => 'closed' },
    },
    closed: {
      entry: (context) => {
        const fields = { requests: context.stats.requests, bytesIn: context.connection.bytesIn(), bytesOut: context.connection.bytesOut() };
        logWithin(context.settings.lineBudget, context.log, 'info', fields, 'disconnected');
      },
      final: true,
    },
  },
  output: (context) => ({ connectionId: context.connection.info.id }),
});
