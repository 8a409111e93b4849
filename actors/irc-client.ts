import { CapSet } from '../src/irc/caps.js';
import { assertEvent, enqueueActions, sendParent, setup } from 'xstate';
import { logWithin, printable } from '../src/log.js';
import { channelsAnswered, countsAnswered, directAnswered, directReceived, joinRefused, nicksAnswered } from '../src/irc/session/answers.js';
import { isChannelMessage, postChannelMessage, postChannelMessages, refuseUnregistered } from '../src/irc/session/channel-line.js';
import { handleRegistered, nextOfList } from '../src/irc/session/commands.js';
import { send, reply, type IrcEffects } from '../src/irc/session/effects.js';
import { handleCommon, nickClaimed, nickRefused, registrationComplete, welcome } from '../src/irc/session/registration.js';
import type { IrcClientContext, IrcClientInput } from '../src/irc/session/state.js';
import type { ClientOutput } from '../src/session/state.js';
import { LogBudget } from '../src/log.js';
import { departFromRooms, followRestartedRoom, markDeparted } from '../src/session/departing.js';
import type { ClientEvent, ServerEvent } from './events.js';

type Enqueue = {
  sendTo(actor: Parameters<IrcEffects['toRoom']>[0], event: Parameters<IrcEffects['toRoom']>[1]): void;
  sendParent(event: ServerEvent): void;
};

function effectsOf(self: IrcEffects['self'], enqueue: Enqueue): IrcEffects {
  return { self, toServer: (event) => enqueue.sendParent(event), toRoom: (room, event) => enqueue.sendTo(room, event) };
}

function membershipLogBudget(context: IrcClientContext): LogBudget {
  return (context.logBudget ??= new LogBudget(10, 50));
}

/** The transitions after a step, by what the step decided (`context.next`). */
const decide = [
  { guard: 'wantsToWait', target: 'waiting' },
  { guard: 'wantsToQuit', target: 'departing' },
  { guard: 'registrationDone', target: 'ready', actions: ['welcome', 'replayDeferred'] },
  { target: 'ready', actions: 'replayDeferred' },
] as const;

/**
 * An IRC connection's client actor: registration (CAP, NICK, USER) first, then the commands of a
 * registered user, one at a time in arrival order. Rooms, the supervisor and the departure rules
 * are the lab client's; what differs is the codec (src/irc/) and the commands (src/irc/session/).
 */
export const ircClientMachine = setup({
  types: {
    context: {} as IrcClientContext,
    events: {} as ClientEvent,
    input: {} as IrcClientInput,
    output: {} as ClientOutput,
  },
  guards: {
    toChannel: ({ context, event }) => event.type === 'irc.message' && isChannelMessage(context, event.message),
    registered: ({ context }) => context.registration.done,
    wantsToWait: ({ context }) => context.next === 'wait',
    wantsToQuit: ({ context }) => context.next === 'quit',
    registrationDone: ({ context }) => registrationComplete(context),
    allDeparted: ({ context }) => (context.departing?.length ?? 0) === 0,
    socketClosed: ({ context }) => !context.connection.isOpen(),
    testHooksEnabled: ({ context }) => context.settings.testHooks,
  },
  actions: {
    /**
     * Sent straight to the room, not through `enqueueActions`: a channel line is most of the
     * door's traffic, and the room answers nothing back to this actor for it.
     */
    postToChannel: ({ context, event, self }) => {
      assertEvent(event, 'irc.message');
      postChannelMessage(context, event.message, self);
    },
    /** A read's run of channel lines: one step, and one event per room (see RunFeed). */
    postToChannels: ({ context, event, self }) => {
      assertEvent(event, 'irc.channelMessages');
      postChannelMessages(context, event.messages, self);
    },
    /** A run before registration: PRIVMSG and NOTICE are not registration commands (451 each). */
    refuseUnregistered: ({ context, event }) => {
      assertEvent(event, 'irc.channelMessages');
      refuseUnregistered(context, event.messages);
    },
    handleLine: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'irc.message');
      context.stats.requests++;
      context.settings.tally.request('irc', event.message.command);
      const fx = effectsOf(self, enqueue);
      const { message } = event;
      if (context.log.isLevelEnabled('debug')) context.log.debug({ command: printable(message.command.slice(0, 32)) }, 'irc command');
      const common = handleCommon(context, message, fx);
      if (common !== null) context.next = common;
      else if (!context.registration.done) {
        reply(context, 'ERR_NOTREGISTERED');
        context.next = 'ready';
      } else context.next = handleRegistered(context, message, fx);
    }),
    answerTooLong: ({ context }) => reply(context, 'ERR_INPUTTOOLONG'),
    welcome: ({ context }) => welcome(context, context.settings.maxRoomsPerConnection),
    nickClaimed: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'server.nickClaimed');
      nickClaimed(context, event.nick, effectsOf(self, enqueue));
      context.pending = null;
      context.next = 'ready';
    }),
    nickRefused: ({ context, event }) => {
      assertEvent(event, 'server.nickRefused');
      nickRefused(context, event.nick, event.reason);
      context.pending = null;
      context.next = 'ready';
    },
    joined: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'room.joined');
      context.joinId = event.joinId;
      if (!context.rooms.some((membership) => membership.roomRef === event.roomRef)) {
        // concat, not a spread: an array of exactly its length (a spread's has room for 16 more).
        context.rooms = context.rooms.concat({ roomRef: event.roomRef, roomName: event.roomName, clientName: event.clientName, room: event.room });
        logWithin(membershipLogBudget(context), context.log, 'info', { room: event.roomRef, roomName: printable(event.roomName), nick: context.person.nick, joinId: event.joinId }, 'joined', context.settings.lineBudget);
        if (context.settings.namesAfterJoin) {
          // The JOIN list goes on once the names are answered.
          enqueue.sendParent({ type: 'irc.lookupChannels', client: self, query: { command: 'NAMES', targets: [`#${event.roomName}`], rest: ['join'] } });
          context.next = 'wait';
          return;
        }
      }
      context.next = nextOfList(context, effectsOf(self, enqueue));
    }),
    left: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'room.left');
      context.rooms = context.rooms.filter((membership) => membership.roomRef !== event.roomRef);
      logWithin(membershipLogBudget(context), context.log, 'info', { room: event.roomRef }, 'left', context.settings.lineBudget);
      context.next = nextOfList(context, effectsOf(self, enqueue));
    }),
    joinRefused: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'server.joinRefused');
      context.next = joinRefused(context, event.error, effectsOf(self, enqueue));
    }),
    channelsAnswered: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'server.channels');
      channelsAnswered(context, event.query, event.found);
      // A joiner's names (cluster mode): its JOIN list goes on.
      if (event.query.rest[0] === 'join') {
        context.next = nextOfList(context, effectsOf(self, enqueue));
        return;
      }
      context.pending = null;
      context.next = 'ready';
    }),
    countsAnswered: ({ context, event }) => {
      assertEvent(event, 'server.counts');
      countsAnswered(context, event.counts);
      context.pending = null;
      context.next = 'ready';
    },
    /** Leaving: the nick is free at once, before the rooms have announced the quit. */
    releaseNick: sendParent(({ context }): ServerEvent => ({ type: 'irc.releaseNick', connectionId: context.connection.info.id })),
    nicksAnswered: ({ context, event }) => {
      assertEvent(event, 'server.nicks');
      nicksAnswered(context, event.query, event.found);
      context.pending = null;
      context.next = 'ready';
    },
    directAnswered: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'server.directSent');
      context.next = directAnswered(context, event.query, event.outcome, event.away, effectsOf(self, enqueue));
    }),
    directReceived: ({ context, event }) => {
      assertEvent(event, 'irc.direct');
      directReceived(context, event.from, event.command, event.text);
    },
    defer: ({ context, event }) => {
      context.deferred.push(event);
    },
    pauseRequests: ({ context }) => context.connection.pauseRequests(),
    resumeRequests: ({ context }) => context.connection.resumeRequests(),
    replayDeferred: enqueueActions(({ context, enqueue }) => {
      for (const event of context.deferred.splice(0)) enqueue.raise(event);
    }),
    sayShuttingDown: ({ context }) => {
      context.connection.sendBeyondLimit(Buffer.from('ERROR :Server shutting down\r\n'));
    },
    quitOnEnd: ({ context }) => {
      context.quitReason = 'Connection closed';
    },
    quitOnPingTimeout: ({ context }) => {
      context.quitReason = 'Ping timeout';
      send(context, 'ERROR :Ping timeout\r\n');
      context.log.info({}, 'ping timeout');
    },
    quitOnOverflow: ({ context }) => {
      context.quitReason = 'SendQ exceeded';
      context.stats.errors++;
      context.settings.tally.error('irc', 'SendQ exceeded');
      context.log.warn({ queuedBytes: context.connection.queuedBytes() }, 'slow consumer: output limit passed; closing');
      context.connection.sendBeyondLimit(Buffer.from('ERROR :SendQ exceeded\r\n'));
    },
    quitOnOrderLost: ({ context, event }) => {
      assertEvent(event, 'room.orderLost');
      context.rooms = context.rooms.filter((membership) => membership.roomRef !== event.roomRef);
      context.quitReason = 'Server lost the room order';
      send(context, 'ERROR :This server missed events of a channel; reconnect\r\n');
    },
    departFromRooms: enqueueActions(({ context, enqueue, self }) => {
      departFromRooms(context, self, (room, event) => enqueue.sendTo(room, event), context.quitReason);
    }),
    markDeparted: enqueueActions(({ context, event, enqueue, self }) => {
      assertEvent(event, 'room.departed');
      markDeparted(context, event.roomRef, self, (room, event) => enqueue.sendTo(room, event), context.quitReason);
    }),
    followRestartedRoom: ({ context, event }) => {
      assertEvent(event, 'room.restarted');
      followRestartedRoom(context, event.roomRef, event.room);
    },
    failOnPurpose: () => {
      throw new Error('fault injected by a test');
    },
    closeOutbound: ({ context }) => context.connection.close(context.settings.flushMs),
    logDisconnect: ({ context }) => {
      const fields = { requests: context.stats.requests, bytesIn: context.connection.bytesIn(), bytesOut: context.connection.bytesOut(), reason: context.quitReason };
      logWithin(context.settings.lineBudget, context.log, 'info', fields, 'disconnected');
    },
  },
}).createMachine({
  id: 'ircClient',
  context: ({ input }) => ({
    connection: input.connection,
    settings: input.settings,
    log: input.log,
    person: {
      nick: '*',
      user: '',
      // A host starting with `:` would end the prefix early: IPv6 gets a leading 0, as ircds do.
      host: input.connection.info.peerAddress.startsWith(':') ? `0${input.connection.info.peerAddress}` : input.connection.info.peerAddress,
      realname: '',
      away: null,
      invisible: false,
      caps: new CapSet(),
      family: 'irc',
    },
    registration: { nickAccepted: false, userGiven: false, capHold: false, done: false },
    joinId: null,
    rooms: [],
    pending: null,
    next: 'ready',
    deferred: [],
    departing: null,
    quitReason: 'Quit',
    stats: { requests: 0, errors: 0 },
    logBudget: null,
    signedOnAt: Math.floor(Date.now() / 1000),
  }),
  initial: 'ready',
  on: {
    'server.shutdown': { target: '.closing', actions: 'sayShuttingDown' },
    'room.restarted': { actions: 'followRestartedRoom' },
    'irc.direct': { actions: 'directReceived' },
    'test.fault': { guard: 'testHooksEnabled', actions: 'failOnPurpose' },
  },
  states: {
    ready: {
      on: {
        'irc.message': [
          { guard: 'toChannel', actions: 'postToChannel' },
          { target: 'deciding', actions: 'handleLine' },
        ],
        'irc.channelMessages': [{ guard: 'registered', actions: 'postToChannels' }, { actions: 'refuseUnregistered' }],
        'irc.tooLong': { actions: 'answerTooLong' },
        'request.end': { target: 'departing', actions: 'quitOnEnd' },
        'irc.pingTimeout': { target: 'departing', actions: 'quitOnPingTimeout' },
        'socket.overflow': { target: 'departing', actions: 'quitOnOverflow' },
        'room.orderLost': { target: 'departing', actions: 'quitOnOrderLost' },
      },
    },
    deciding: { always: decide },
    /** A command is with a room or the server; later lines wait in the connection. */
    waiting: {
      entry: 'pauseRequests',
      exit: 'resumeRequests',
      on: {
        'irc.message': { actions: 'defer' },
        'irc.channelMessages': { actions: 'defer' },
        'irc.tooLong': { actions: 'defer' },
        'request.end': { actions: 'defer' },
        'irc.pingTimeout': { actions: 'defer' },
        'socket.overflow': { actions: 'defer' },
        'room.orderLost': { actions: 'defer' },
        'server.nickClaimed': { target: 'deciding', actions: 'nickClaimed' },
        'server.nickRefused': { target: 'deciding', actions: 'nickRefused' },
        'room.joined': { target: 'deciding', actions: 'joined' },
        'room.left': { target: 'deciding', actions: 'left' },
        'server.joinRefused': { target: 'deciding', actions: 'joinRefused' },
        'server.channels': { target: 'deciding', actions: 'channelsAnswered' },
        'server.nicks': { target: 'deciding', actions: 'nicksAnswered' },
        'server.directSent': { target: 'deciding', actions: 'directAnswered' },
        'server.counts': { target: 'deciding', actions: 'countsAnswered' },
      },
    },
    departing: {
      entry: ['releaseNick', 'departFromRooms'],
      always: { guard: 'allDeparted', target: 'closing' },
      on: { 'room.departed': { actions: 'markDeparted' } },
    },
    closing: {
      entry: 'closeOutbound',
      always: { guard: 'socketClosed', target: 'closed' },
      on: { 'socket.closed': 'closed' },
    },
    closed: { entry: 'logDisconnect', type: 'final' },
  },
  output: ({ context }) => ({ connectionId: context.connection.info.id }),
});
