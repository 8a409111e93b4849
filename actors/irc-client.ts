import { CapSet } from '../src/irc/caps.js';
import { logWithin, printable } from '../src/log.js';
import { channelsAnswered, countsAnswered, directAnswered, directReceived, joinRefused, nicksAnswered } from '../src/irc/session/answers.js';
import { isChannelMessage, postChannelMessage, postChannelMessages, refuseUnregistered } from '../src/irc/session/channel-line.js';
import { handleRegistered, nextOfList } from '../src/irc/session/commands.js';
import { send, reply, type IrcEffects } from '../src/irc/session/effects.js';
import { handleCommon, nickClaimed, nickRefused, registrationComplete, welcome } from '../src/irc/session/registration.js';
import type { IrcClientContext, IrcClientInput } from '../src/irc/session/state.js';
import type { ClientOutput, ServerRef } from '../src/session/state.js';
import { LogBudget } from '../src/log.js';
import { departFromRooms, followRestartedRoom, markDeparted } from '../src/session/departing.js';
import type { ClientActorRef, ClientEvent, RoomActorRef, RoomEvent, ServerEvent } from './events.js';
import { phaseLogic, type Handlers, type Next, type PhaseSelf } from './phase-logic.js';

/**
 * - ready: lines are handled as they come (registration first, then a registered user's commands);
 * - waiting: a command is with a room or the server; later lines wait in the connection;
 * - departing, closing, closed: as the lab client's (actors/client.ts).
 */
export type IrcClientPhase = 'ready' | 'waiting' | 'departing' | 'closing' | 'closed';
type Self = PhaseSelf<IrcClientContext, ClientEvent, ClientOutput, IrcClientPhase>;
type Event<T extends ClientEvent['type']> = Extract<ClientEvent, { type: T }>;
type Step = Next<IrcClientPhase, ClientEvent>;

/** A handler's sends: straight to the server and the rooms, in the order the handler makes them. */
class DirectEffects implements IrcEffects {
  constructor(
    readonly self: ClientActorRef,
    private readonly server: ServerRef,
  ) {}

  toServer(event: ServerEvent): void {
    this.server.send(event);
  }

  toRoom(room: RoomActorRef, event: RoomEvent): void {
    room.send(event);
  }
}

const effectsOf = (context: IrcClientContext, self: Self): IrcEffects => new DirectEffects(self, context.server);
const toRoom = (room: RoomActorRef, event: RoomEvent): void => room.send(event);

function membershipLogBudget(context: IrcClientContext): LogBudget {
  return (context.logBudget ??= new LogBudget(10, 50));
}

/**
 * Where a step goes, by what it decided (`context.next`): on to wait, to leave, or back to ready,
 * welcomed first if it completed registration; events kept meanwhile are handled again, in order.
 */
function decided(context: IrcClientContext): Step {
  if (context.next === 'wait') return 'waiting';
  if (context.next === 'quit') return 'departing';
  if (registrationComplete(context)) welcome(context, context.settings.maxRoomsPerConnection);
  return context.deferred.length > 0 ? { to: 'ready', raise: context.deferred.splice(0) } : 'ready';
}

/** Sent straight to the room: a channel line is most of the door's traffic, and the room answers nothing back for it. */
function line(context: IrcClientContext, { message }: Event<'irc.message'>, self: Self): Step {
  if (isChannelMessage(context, message)) return void postChannelMessage(context, message, self);
  context.stats.requests++;
  context.settings.tally.request('irc', message.command);
  if (context.log.isLevelEnabled('debug')) context.log.debug({ command: printable(message.command.slice(0, 32)) }, 'irc command');
  const fx = effectsOf(context, self);
  const common = handleCommon(context, message, fx);
  if (common !== null) context.next = common;
  else if (!context.registration.done) {
    reply(context, 'ERR_NOTREGISTERED');
    context.next = 'ready';
  } else context.next = handleRegistered(context, message, fx);
  return decided(context);
}

function joined(context: IrcClientContext, event: Event<'room.joined'>, self: Self): Step {
  context.joinId = event.joinId;
  if (!context.rooms.some((membership) => membership.roomRef === event.roomRef)) {
    // concat, not a spread: an array of exactly its length (a spread's has room for 16 more).
    context.rooms = context.rooms.concat({ roomRef: event.roomRef, roomName: event.roomName, clientName: event.clientName, room: event.room });
    logWithin(membershipLogBudget(context), context.log, 'info', { room: event.roomRef, roomName: printable(event.roomName), nick: context.person.nick, joinId: event.joinId }, 'joined', context.settings.lineBudget);
    if (context.settings.namesAfterJoin) {
      // The JOIN list goes on once the names are answered.
      context.server.send({ type: 'irc.lookupChannels', client: self, query: { command: 'NAMES', targets: [`#${event.roomName}`], rest: ['join'] } });
      context.next = 'wait';
      return decided(context);
    }
  }
  context.next = nextOfList(context, effectsOf(context, self));
  return decided(context);
}

function channelsOf(context: IrcClientContext, event: Event<'server.channels'>, self: Self): Step {
  channelsAnswered(context, event.query, event.found);
  // A joiner's names (cluster mode): its JOIN list goes on.
  if (event.query.rest[0] === 'join') context.next = nextOfList(context, effectsOf(context, self));
  else answered(context);
  return decided(context);
}

/** The command that waited is done: back to ready. */
function answered(context: IrcClientContext): void {
  context.pending = null;
  context.next = 'ready';
}

function quit(context: IrcClientContext, reason: string, error?: string): IrcClientPhase {
  context.quitReason = reason;
  if (error !== undefined) send(context, `ERROR :${error}\r\n`);
  return 'departing';
}

const keep = (context: IrcClientContext, event: ClientEvent): void => void context.deferred.push(event);

/** Lines and signals that come while a command waits: handled once it is answered. */
const KEPT_WHILE_WAITING: Handlers<IrcClientContext, ClientEvent, IrcClientPhase, Self> = {
  'irc.message': keep, 'irc.channelMessages': keep, 'irc.tooLong': keep, 'request.end': keep,
  'irc.pingTimeout': keep, 'socket.overflow': keep, 'room.orderLost': keep,
};

/**
 * An IRC connection's client actor: registration (CAP, NICK, USER) first, then the commands of a
 * registered user, one at a time in arrival order. Rooms, the supervisor and the departure rules
 * are the lab client's; what differs is the codec (src/irc/) and the commands (src/irc/session/).
 */
export const ircClientLogic = phaseLogic<IrcClientContext, ClientEvent, IrcClientInput, ClientOutput, IrcClientPhase>({
  context: (input) => ({
    connection: input.connection,
    settings: input.settings,
    log: input.log,
    server: input.server,
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
    'server.shutdown': (context) => {
      context.connection.sendBeyondLimit(Buffer.from('ERROR :Server shutting down\r\n'));
      return 'closing';
    },
    'room.restarted': (context, event) => followRestartedRoom(context, event.roomRef, event.room),
    'irc.direct': (context, event) => directReceived(context, event.from, event.command, event.text),
    'test.fault': (context) => {
      if (context.settings.testHooks) throw new Error('fault injected by a test');
    },
  },
  phases: {
    ready: {
      on: {
        'irc.message': line,
        /** A read's run of channel lines: one step, and one event per room (see RunFeed). */
        'irc.channelMessages': (context, { messages }, self) => {
          // Before registration PRIVMSG and NOTICE are not registration commands (451 each).
          if (context.registration.done) postChannelMessages(context, messages, self);
          else refuseUnregistered(context, messages);
        },
        'irc.tooLong': (context) => reply(context, 'ERR_INPUTTOOLONG'),
        'request.end': (context) => quit(context, 'Connection closed'),
        'irc.pingTimeout': (context) => {
          context.log.info({}, 'ping timeout');
          return quit(context, 'Ping timeout', 'Ping timeout');
        },
        'socket.overflow': (context) => {
          context.stats.errors++;
          context.settings.tally.error('irc', 'SendQ exceeded');
          context.log.warn({ queuedBytes: context.connection.queuedBytes() }, 'slow consumer: output limit passed; closing');
          context.connection.sendBeyondLimit(Buffer.from('ERROR :SendQ exceeded\r\n'));
          return quit(context, 'SendQ exceeded');
        },
        'room.orderLost': (context, { roomRef }) => {
          context.rooms = context.rooms.filter((membership) => membership.roomRef !== roomRef);
          return quit(context, 'Server lost the room order', 'This server missed events of a channel; reconnect');
        },
      },
    },
    waiting: {
      entry: (context) => context.connection.pauseRequests(),
      exit: (context) => context.connection.resumeRequests(),
      on: {
        ...KEPT_WHILE_WAITING,
        'server.nickClaimed': (context, { nick }, self) => {
          nickClaimed(context, nick, effectsOf(context, self));
          answered(context);
          return decided(context);
        },
        'server.nickRefused': (context, { nick, reason }) => {
          nickRefused(context, nick, reason);
          answered(context);
          return decided(context);
        },
        'room.joined': joined,
        'room.left': (context, { roomRef }, self) => {
          context.rooms = context.rooms.filter((membership) => membership.roomRef !== roomRef);
          logWithin(membershipLogBudget(context), context.log, 'info', { room: roomRef }, 'left', context.settings.lineBudget);
          context.next = nextOfList(context, effectsOf(context, self));
          return decided(context);
        },
        'server.joinRefused': (context, { error }, self) => {
          context.next = joinRefused(context, error, effectsOf(context, self));
          return decided(context);
        },
        'server.channels': channelsOf,
        'server.nicks': (context, { query, found }) => {
          nicksAnswered(context, query, found);
          answered(context);
          return decided(context);
        },
        'server.directSent': (context, { query, outcome, away }, self) => {
          context.next = directAnswered(context, query, outcome, away, effectsOf(context, self));
          return decided(context);
        },
        'server.counts': (context, { counts }) => {
          countsAnswered(context, counts);
          answered(context);
          return decided(context);
        },
      },
    },
    departing: {
      // The nick is free at once, before the rooms have announced the quit.
      entry: (context, self) => {
        context.server.send({ type: 'irc.releaseNick', connectionId: context.connection.info.id });
        departFromRooms(context, self, toRoom, context.quitReason);
      },
      always: (context) => ((context.departing?.length ?? 0) === 0 ? 'closing' : undefined),
      on: {
        'room.departed': (context, { roomRef }, self) => markDeparted(context, roomRef, self, toRoom, context.quitReason),
      },
    },
    closing: {
      entry: (context) => context.connection.close(context.settings.flushMs),
      always: (context) => (context.connection.isOpen() ? undefined : 'closed'),
      on: { 'socket.closed': () => 'closed' },
    },
    closed: {
      entry: (context) => {
        const fields = { requests: context.stats.requests, bytesIn: context.connection.bytesIn(), bytesOut: context.connection.bytesOut(), reason: context.quitReason };
        logWithin(context.settings.lineBudget, context.log, 'info', fields, 'disconnected');
      },
      final: true,
    },
  },
  output: (context) => ({ connectionId: context.connection.info.id }),
});
