import { assertEvent, enqueueActions, sendParent, setup } from 'xstate';
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
import type { ClientEvent, ServerEvent } from './events.js';

export type { Membership } from '../src/session/rules.js';
export type { ClientContext, ClientInput, ClientOutput, ClientSettings } from '../src/session/state.js';

/** Joins and leaves logged at info per connection: 50 at once, then 10 a second. */
function membershipLogBudget(context: ClientContext): LogBudget {
  return (context.logBudget ??= new LogBudget(10, 50));
}

/**
 * The transitions that end a wait: `answer`, then back to ready, where events kept meanwhile are
 * replayed in order (a guard first: most waits have none to replay); the requests that waited
 * follow from the connection, resumed on leaving the wait.
 */
function backToReady<const A extends 'recordMembership' | 'forgetMembership' | 'answerJoinRefused' | 'answerLookup'>(answer: A) {
  return [
    { guard: 'requestsWaited', target: 'ready', actions: [answer, 'replayDeferred'] },
    { target: 'ready', actions: answer },
  ] as const;
}

/**
 * The client actor: the server's side of one connection (not the client library, which is in
 * src/client-library/, nor the terminal client, src/cli/terminal-client.ts). It answers the
 * connection's requests one at a time, in arrival order, and speaks for it to rooms and the server.
 */
export const clientMachine = setup({
  types: {
    context: {} as ClientContext,
    events: {} as ClientEvent,
    input: {} as ClientInput,
    output: {} as ClientOutput,
  },
  guards: {
    killAllowed: ({ context }) => {
      const policy = context.settings.killService;
      return policy === 'any' || (policy === 'loopback' && isLoopback(context.connection.info.peerAddress));
    },
    joinInvalid: ({ event }) => {
      assertEvent(event, 'request.join');
      return joinProblem(event.request) !== null;
    },
    alreadyInRoom: ({ context, event }) => {
      assertEvent(event, 'request.join');
      return membershipByName(context, event.request.roomName) !== undefined;
    },
    atRoomLimit: ({ context }) => context.rooms.length >= context.settings.maxRoomsPerConnection,
    chatAllowed: ({ context, event }) => {
      assertEvent(event, 'request.chat');
      return chatProblem(context, event.request) === null;
    },
    runAsksServer: ({ context, event }) => {
      assertEvent(event, 'request.chats');
      return event.requests.some((request) => chatProblem(context, request) === 'foreign');
    },
    chatToForeignRoom: ({ context, event }) => {
      assertEvent(event, 'request.chat');
      return chatProblem(context, event.request) === 'foreign';
    },
    leaveOfMember: ({ context, event }) => {
      assertEvent(event, 'request.leave');
      return membershipOf(context, event.request.roomRef) !== undefined;
    },
    failureCloses: ({ event }) => {
      assertEvent(event, 'request.failure');
      return ERRORS[event.failure.error].closes;
    },
    requestsWaited: ({ context }) => context.deferred.length > 0,
    allDeparted: ({ context }) => (context.departing?.length ?? 0) === 0,
    socketClosed: ({ context }) => !context.connection.isOpen(),
    testHooksEnabled: ({ context }) => context.settings.testHooks,
  },
  actions: {
    countRequest: ({ context, event }) => countRequest(context, event.type),
    answerHelo: ({ context, event }) => {
      assertEvent(event, 'request.helo');
      const { request } = event;
      reply(context, encodeHelo(request.line, context.serverIp, context.serverPort, context.settings.studentId));
    },
    askServerToStop: sendParent(({ context }): ServerEvent => ({ type: 'client.killService', peer: context.connection.info.peerAddress })),
    refuseKill: ({ context }) => {
      // The connection's logger already names the peer.
      context.log.warn({ policy: context.settings.killService }, 'KILL_SERVICE refused');
      replyError(context, protocolError('NOT_PERMITTED', `KILL_SERVICE is not permitted from this address (policy: ${context.settings.killService})`));
    },
    refuseJoinValue: ({ context, event }) => {
      assertEvent(event, 'request.join');
      replyError(context, joinProblem(event.request)!);
    },
    answerRepeatedJoin: ({ context, event }) => {
      assertEvent(event, 'request.join');
      const { request } = event;
      const roomRef = membershipByName(context, request.roomName)!.roomRef;
      reply(context, encodeJoined(request.roomName, context.serverIp, context.serverPort, roomRef, context.joinId!));
    },
    refuseJoinLimit: ({ context }) => {
      replyError(context, protocolError('LIMIT_REACHED', `a connection may be in at most ${context.settings.maxRoomsPerConnection} rooms`));
    },
    askServerToJoin: sendParent(({ context, event, self }): ServerEvent => {
      assertEvent(event, 'request.join');
      const { request } = event;
      return {
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
      };
    }),
    // Mutated in place, as the rooms are: the context is this actor's alone, and an assign would
    // copy it and its snapshot on every join.
    recordMembership: ({ context, event }) => {
      assertEvent(event, 'room.joined');
      const joined = event;
      context.joinId = joined.joinId;
      if (membershipOf(context, joined.roomRef)) return;
      // concat, not a spread: an array of exactly its length (a spread's has room for 16 more).
      context.rooms = context.rooms.concat({ roomRef: joined.roomRef, roomName: joined.roomName, clientName: joined.clientName, room: joined.room });
      logWithin(membershipLogBudget(context), context.log, 'info', { room: joined.roomRef, roomName: printable(joined.roomName), name: printable(joined.clientName), joinId: joined.joinId }, 'joined', context.settings.lineBudget);
    },
    /**
     * Sent straight to the room, not as a `sendTo` (which xstate carries out only once the whole
     * step is done): chats replayed after a wait are taken in one step, and each must reach its
     * room before the next request is answered.
     */
    postChat: ({ context, event, self }) => {
      assertEvent(event, 'request.chat');
      const { request } = event;
      membershipOf(context, request.roomRef)!.room.send({ type: 'chat', joinId: request.joinId, text: request.message, client: self });
    },
    /** A read's run of CHATs none of which needs the server: one step, and one event per room (see RunFeed). */
    takeRun: ({ context, event, self }) => {
      assertEvent(event, 'request.chats');
      takeChats(context, event.requests, self);
    },
    /**
     * A run with a CHAT to a room this connection is not in: the chats before it are taken, the
     * server is asked about its ref, and the rest wait (deferred, in order) for the answer.
     */
    takeRunUntilLookup: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'request.chats');
      const { requests } = event;
      const foreign = takeChats(context, requests, self);
      enqueue.sendParent({ type: 'client.lookupRoom', client: self, roomRef: requests[foreign]!.roomRef });
      for (const request of requests.slice(foreign + 1)) context.deferred.push({ type: 'request.chat', request });
    }),
    askServerAboutRoom: sendParent(({ event, self }): ServerEvent => {
      assertEvent(event, 'request.chat');
      return { type: 'client.lookupRoom', client: self, roomRef: event.request.roomRef };
    }),
    refuseChat: ({ context, event }) => {
      assertEvent(event, 'request.chat');
      const problem = chatProblem(context, event.request);
      if (problem !== null && problem !== 'foreign') replyError(context, problem);
    },
    answerLookup: ({ context, event }) => {
      assertEvent(event, 'server.roomLookedUp');
      const { roomRef, known } = event;
      replyError(context, known ? protocolError('NOT_A_MEMBER', `this connection is not in room ${roomRef}`) : protocolError('UNKNOWN_ROOM', `no room has ref ${roomRef}`));
    },
    askRoomToLeave: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'request.leave');
      const { request } = event;
      const membership = membershipOf(context, request.roomRef)!;
      enqueue.sendTo(membership.room, {
        type: 'leave',
        joinId: context.joinId!,
        reply: encodeLeft(request.echo.roomRef, request.echo.joinId),
        client: self,
        outbound: context.connection.outbound,
      });
    }),
    answerLeaveOfNonMember: ({ context, event }) => {
      assertEvent(event, 'request.leave');
      const { request } = event;
      reply(context, encodeLeft(request.echo.roomRef, request.echo.joinId));
    },
    forgetMembership: ({ context, event }) => {
      assertEvent(event, 'room.left');
      const { roomRef } = event;
      if (!membershipOf(context, roomRef)) return;
      context.rooms = context.rooms.filter((membership) => membership.roomRef !== roomRef);
      logWithin(membershipLogBudget(context), context.log, 'info', { room: roomRef }, 'left', context.settings.lineBudget);
    },
    answerJoinRefused: ({ context, event }) => {
      assertEvent(event, 'server.joinRefused');
      replyError(context, event.error);
    },
    answerFailure: ({ context, event }) => {
      assertEvent(event, 'request.failure');
      const { failure } = event;
      replyError(context, protocolError(failure.error, failure.description));
    },
    defer: ({ context, event }) => {
      context.deferred.push(event);
    },
    // The requests behind one that waits stay in the connection (which stops reading once a few
    // dozen do) and come back a turn's worth at a time: a burst behind a slow answer costs
    // neither unbounded memory here nor one long replay that holds every other connection up.
    // (What is kept here is at most the rest of one read's run of chats: see takeRunUntilLookup.)
    pauseRequests: ({ context }) => {
      context.connection.pauseRequests();
    },
    resumeRequests: ({ context }) => {
      context.connection.resumeRequests();
    },
    /** Back to ready: events that waited are handled now, in their order (requests come from the connection). */
    replayDeferred: enqueueActions(({ context, enqueue }) => {
      for (const request of context.deferred.splice(0)) enqueue.raise(request);
    }),
    departFromRooms: enqueueActions(({ context, enqueue, self }) => {
      departFromRooms(context, self, (room, event) => enqueue.sendTo(room, event));
    }),
    markDeparted: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'room.departed');
      markDeparted(context, event.roomRef, self, (room, event) => enqueue.sendTo(room, event));
    }),
    followRestartedRoom: ({ context, event }) => {
      assertEvent(event, 'room.restarted');
      followRestartedRoom(context, event.roomRef, event.room);
    },
    answerSlowConsumer: ({ context }) => {
      context.stats.errors++;
      context.settings.tally.error('lab', 'SLOW_CONSUMER');
      context.log.warn({ queuedBytes: context.connection.queuedBytes() }, 'slow consumer: output limit passed; closing');
      // Behind the output already queued; the close is bounded by the flush limit either way.
      context.connection.sendBeyondLimit(Buffer.from(encodeError(protocolError('SLOW_CONSUMER'))));
    },
    answerOrderLost: ({ context, event }) => {
      assertEvent(event, 'room.orderLost');
      const { roomRef } = event;
      context.rooms = context.rooms.filter((membership) => membership.roomRef !== roomRef);
      context.log.warn({ room: roomRef }, 'cluster: room events missed beyond its log; closing the connection');
      replyError(context, protocolError('UNAVAILABLE', `this node missed events of room ${roomRef}; reconnect`));
    },
    failOnPurpose: () => {
      throw new Error('fault injected by a test');
    },
    closeOutbound: ({ context }) => {
      context.connection.close(context.settings.flushMs);
    },
    logDisconnect: ({ context }) => {
      const fields = { requests: context.stats.requests, bytesIn: context.connection.bytesIn(), bytesOut: context.connection.bytesOut() };
      logWithin(context.settings.lineBudget, context.log, 'info', fields, 'disconnected');
    },
  },
}).createMachine({
  id: 'client',
  context: ({ input }) => ({
    connection: input.connection,
    settings: input.settings,
    log: input.log,
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
    'server.shutdown': '.closing',
    'room.restarted': { actions: 'followRestartedRoom' },
    'test.fault': { guard: 'testHooksEnabled', actions: 'failOnPurpose' },
  },
  states: {
    ready: {
      on: {
        'request.helo': { actions: ['countRequest', 'answerHelo'] },
        'request.kill': [
          { guard: 'killAllowed', actions: ['countRequest', 'askServerToStop'] },
          { actions: ['countRequest', 'refuseKill'] },
        ],
        'request.join': [
          { guard: 'joinInvalid', actions: ['countRequest', 'refuseJoinValue'] },
          { guard: 'alreadyInRoom', actions: ['countRequest', 'answerRepeatedJoin'] },
          { guard: 'atRoomLimit', actions: ['countRequest', 'refuseJoinLimit'] },
          { target: 'waiting', actions: ['countRequest', 'askServerToJoin'] },
        ],
        'request.chat': [
          { guard: 'chatAllowed', actions: ['countRequest', 'postChat'] },
          { guard: 'chatToForeignRoom', target: 'waiting', actions: ['countRequest', 'askServerAboutRoom'] },
          { actions: ['countRequest', 'refuseChat'] },
        ],
        'request.chats': [
          { guard: 'runAsksServer', target: 'waiting', actions: 'takeRunUntilLookup' },
          { actions: 'takeRun' },
        ],
        'request.leave': [
          { guard: 'leaveOfMember', target: 'waiting', actions: ['countRequest', 'askRoomToLeave'] },
          { actions: ['countRequest', 'answerLeaveOfNonMember'] },
        ],
        'request.disconnect': { target: 'departing', actions: 'countRequest' },
        'request.end': { target: 'departing' },
        'request.failure': [
          { guard: 'failureCloses', target: 'departing', actions: ['countRequest', 'answerFailure'] },
          { actions: ['countRequest', 'answerFailure'] },
        ],
        'socket.overflow': { target: 'departing', actions: 'answerSlowConsumer' },
        'room.orderLost': { target: 'departing', actions: 'answerOrderLost' },
      },
    },
    /** One request is with a room or the server; later ones wait their turn. */
    waiting: {
      entry: 'pauseRequests',
      exit: 'resumeRequests',
      on: {
        // None should come (the connection is paused while a request waits, and the rest of a run
        // that waits is kept by takeRunUntilLookup itself); kept so none is lost.
        'request.*': { actions: 'defer' },
        'room.joined': backToReady('recordMembership'),
        'room.left': backToReady('forgetMembership'),
        'server.joinRefused': backToReady('answerJoinRefused'),
        'server.roomLookedUp': backToReady('answerLookup'),
        // The reply it waits for comes synchronously; leaving now would strand it.
        'socket.overflow': { actions: 'defer' },
        // Handled once the request in flight is answered: a join under way must be departed too.
        'room.orderLost': { actions: 'defer' },
      },
    },
    /** Leaving every room, in join order, before the connection is closed. */
    departing: {
      entry: 'departFromRooms',
      always: { guard: 'allDeparted', target: 'closing' },
      on: {
        'room.departed': { actions: 'markDeparted' },
      },
    },
    closing: {
      entry: 'closeOutbound',
      always: { guard: 'socketClosed', target: 'closed' },
      on: { 'socket.closed': 'closed' },
    },
    closed: {
      entry: 'logDisconnect',
      type: 'final',
    },
  },
  output: ({ context }) => ({ connectionId: context.connection.info.id }),
});
