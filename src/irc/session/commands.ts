import type { IrcQuery } from '../../../actors/events.js';
import { nameProblem } from '../../protocol/values.js';
import type { Membership } from '../../session/rules.js';
import { wantsTimeTags } from '../caps.js';
import type { IrcMessage } from '../message.js';
import { listCondition } from '../listing.js';
import { foldCase, roomOfChannel } from '../names.js';
import { reply, send, selfSource, type IrcEffects } from './effects.js';
import type { IrcClientContext, IrcNext } from './state.js';

/**
 * The commands of a registered IRC connection. Those that need a room or the server ask and wait
 * (`wait`): the answer comes back as an event (answers.ts), and the connection's later lines wait
 * behind it, so replies keep the order of the commands.
 */
export function handleRegistered(context: IrcClientContext, message: IrcMessage, fx: IrcEffects): IrcNext {
  const { params } = message;
  switch (message.command) {
    case 'JOIN':
      return startList(context, message, params[0], fx);
    case 'PART':
      return startList(context, message, params[0], fx);
    case 'PRIVMSG':
    case 'NOTICE':
      return handleMessageTo(context, message, fx);
    case 'NAMES':
      if (!params[0]) {
        reply(context, 'RPL_ENDOFNAMES', ['*']);
        return 'ready';
      }
      return ask(context, fx, 'irc.lookupChannels', { command: 'NAMES', targets: params[0].split(','), rest: [] });
    case 'WHO':
      if (!params[0]) {
        reply(context, 'RPL_ENDOFWHO', ['*']);
        return 'ready';
      }
      return params[0].startsWith('#')
        ? ask(context, fx, 'irc.lookupChannels', { command: 'WHO', targets: [params[0]], rest: params.slice(1, 2) })
        : ask(context, fx, 'irc.lookupNicks', { command: 'WHO', targets: [params[0]], rest: params.slice(1, 2) });
    case 'LUSERS':
      context.pending = { query: { command: 'LUSERS', targets: [], rest: [] }, queue: [] };
      fx.toServer({ type: 'irc.countUsers', client: fx.self });
      return 'wait';
    case 'TIME':
      reply(context, 'RPL_TIME', [context.settings.serverName], new Date().toUTCString());
      return 'ready';
    case 'WHOIS': {
      // `WHOIS server nick` asks that server: there is one.
      const target = params.length >= 2 ? params[1] : params[0];
      if (!target) return needMore(context, 'WHOIS');
      return ask(context, fx, 'irc.lookupNicks', { command: 'WHOIS', targets: [target.split(',')[0]!], rest: [] });
    }
    case 'USERHOST':
      if (params.length === 0) return needMore(context, 'USERHOST');
      return ask(context, fx, 'irc.lookupNicks', { command: 'USERHOST', targets: params.slice(0, 5), rest: [] });
    case 'LIST':
      // A condition (a mask, `>N`, `<N`) is applied to every channel; names are asked for by name.
      if (listCondition(params[0])) return ask(context, fx, 'irc.lookupChannels', { command: 'LIST', targets: [], rest: [params[0]!] });
      return ask(context, fx, 'irc.lookupChannels', { command: 'LIST', targets: params[0] && params[0] !== '' ? params[0].split(',') : [], rest: [] });
    case 'TOPIC':
      return handleTopic(context, message, fx);
    case 'MODE':
      return handleMode(context, message, fx);
    case 'AWAY':
      context.person.away = params[0] ? params[0] : null;
      reply(context, params[0] ? 'RPL_NOWAWAY' : 'RPL_UNAWAY');
      return 'ready';
    default:
      reply(context, 'ERR_UNKNOWNCOMMAND', [message.command]);
      return 'ready';
  }
}

function needMore(context: IrcClientContext, command: string): IrcNext {
  reply(context, 'ERR_NEEDMOREPARAMS', [command]);
  return 'ready';
}

function ask(context: IrcClientContext, fx: IrcEffects, type: 'irc.lookupChannels' | 'irc.lookupNicks', query: IrcQuery): IrcNext {
  context.pending = { query, queue: [] };
  fx.toServer(type === 'irc.lookupNicks' ? { type, client: fx.self, query, asker: context.person } : { type, client: fx.self, query });
  return 'wait';
}

/** This connection's membership of a channel, matched as the server matches names (ASCII case). */
export function membershipOfChannel(context: IrcClientContext, channel: string): Membership | undefined {
  const name = roomOfChannel(channel);
  if (name === null) return undefined;
  const exact = context.rooms.find((membership) => membership.roomName === name);
  if (exact) return exact;
  const folded = foldCase(name);
  return context.rooms.find((membership) => foldCase(membership.roomName) === folded);
}

/** JOIN and PART take comma lists: one channel at a time, each answered before the next. */
function startList(context: IrcClientContext, message: IrcMessage, list: string | undefined, fx: IrcEffects): IrcNext {
  if (!list) return needMore(context, message.command);
  if (message.command === 'JOIN' && list === '0') {
    // `JOIN 0` leaves every channel.
    const channels = context.rooms.map((membership) => `#${membership.roomName}`);
    if (channels.length === 0) return 'ready';
    context.pending = { query: { command: 'PART', targets: channels, rest: [] }, queue: channels };
  } else {
    const channels = list.split(',').filter((channel) => channel !== '');
    context.pending = { query: { command: message.command, targets: channels, rest: message.command === 'PART' ? message.params.slice(1, 2) : [] }, queue: channels };
  }
  return nextOfList(context, fx);
}

/** The next channel of a JOIN or PART list; `ready` once the list is done. */
export function nextOfList(context: IrcClientContext, fx: IrcEffects): IrcNext {
  const pending = context.pending;
  while (pending && pending.queue.length > 0) {
    const channel = pending.queue.shift()!;
    const started = pending.query.command === 'JOIN' ? joinOne(context, channel, fx) : partOne(context, channel, pending.query.rest[0], fx);
    if (started) return 'wait';
  }
  context.pending = null;
  return 'ready';
}

/** Asks for one channel; false when it was answered here (bad name, already in it, limit). */
function joinOne(context: IrcClientContext, channel: string, fx: IrcEffects): boolean {
  const roomName = roomOfChannel(channel);
  if (roomName === null || nameProblem('room name', roomName) !== null) {
    reply(context, 'ERR_NOSUCHCHANNEL', [channel]);
    return false;
  }
  if (membershipOfChannel(context, channel)) return false;
  if (context.rooms.length >= context.settings.maxRoomsPerConnection) {
    reply(context, 'ERR_TOOMANYCHANNELS', [channel]);
    return false;
  }
  const { connection, person, settings } = context;
  fx.toServer({
    type: 'client.join',
    client: fx.self,
    connectionId: connection.info.id,
    roomName,
    clientName: person.nick,
    joinId: context.joinId,
    fold: true,
    outbound: connection.outbound,
    serverIp: connection.info.localAddress,
    serverPort: connection.info.localPort,
    door: wantsTimeTags(person.caps) ? settings.doors.timed : settings.doors.plain,
    person,
  });
  return true;
}

function partOne(context: IrcClientContext, channel: string, reason: string | undefined, fx: IrcEffects): boolean {
  const membership = membershipOfChannel(context, channel);
  if (!membership) {
    reply(context, roomOfChannel(channel) === null ? 'ERR_NOSUCHCHANNEL' : 'ERR_NOTONCHANNEL', [channel]);
    return false;
  }
  fx.toRoom(membership.room, { type: 'leave', joinId: context.joinId!, reply: '', client: fx.self, outbound: context.connection.outbound, reason: reason || undefined });
  return true;
}

/** PRIVMSG and NOTICE: to a channel the connection is in (through its room), or to an IRC user. */
function handleMessageTo(context: IrcClientContext, message: IrcMessage, fx: IrcEffects): IrcNext {
  const [targets, text] = message.params;
  const notice = message.command === 'NOTICE';
  if (!targets) {
    if (!notice) reply(context, 'ERR_NORECIPIENT', [], `No recipient given (${message.command})`);
    return 'ready';
  }
  if (text === undefined || text === '') {
    if (!notice) reply(context, 'ERR_NOTEXTTOSEND');
    return 'ready';
  }
  const nicks: string[] = [];
  for (const target of targets.split(',').slice(0, 4)) {
    if (!target.startsWith('#')) {
      nicks.push(target);
      continue;
    }
    const membership = membershipOfChannel(context, target);
    if (membership) {
      fx.toRoom(membership.room, { type: 'chat', joinId: context.joinId!, text, style: notice ? 'notice' : undefined, irc: true, client: fx.self });
    } else if (!notice) {
      // No external messages (+n): the same answer whether the channel exists or not.
      reply(context, 'ERR_CANNOTSENDTOCHAN', [target]);
    }
  }
  if (nicks.length === 0) return 'ready';
  const query: IrcQuery = { command: message.command, targets: nicks, rest: [text] };
  context.pending = { query, queue: [...nicks] };
  return nextDirect(context, fx);
}

/** The next nick of a private message's targets; `ready` once all are asked and answered. */
export function nextDirect(context: IrcClientContext, fx: IrcEffects): IrcNext {
  const pending = context.pending;
  const nick = pending?.queue.shift();
  if (!pending || nick === undefined) {
    context.pending = null;
    return 'ready';
  }
  fx.toServer({ type: 'irc.sendDirect', client: fx.self, from: context.person, query: { command: pending.query.command, targets: [nick], rest: pending.query.rest } });
  return 'wait';
}

function handleTopic(context: IrcClientContext, message: IrcMessage, fx: IrcEffects): IrcNext {
  const [channel, text] = message.params;
  if (!channel) return needMore(context, 'TOPIC');
  if (text === undefined) return ask(context, fx, 'irc.lookupChannels', { command: 'TOPIC', targets: [channel], rest: [] });
  const membership = membershipOfChannel(context, channel);
  if (!membership) {
    reply(context, 'ERR_NOTONCHANNEL', [channel]);
    return 'ready';
  }
  fx.toRoom(membership.room, { type: 'chat', joinId: context.joinId!, text: text.slice(0, 390), style: 'topic', irc: true, client: fx.self });
  return 'ready';
}

function handleMode(context: IrcClientContext, message: IrcMessage, fx: IrcEffects): IrcNext {
  const [target, modes] = message.params;
  if (!target) return needMore(context, 'MODE');
  if (target.startsWith('#')) return ask(context, fx, 'irc.lookupChannels', { command: 'MODE', targets: [target], rest: modes === undefined ? [] : [modes] });
  if (foldCase(target) !== foldCase(context.person.nick)) {
    reply(context, 'ERR_USERSDONTMATCH');
    return 'ready';
  }
  if (modes === undefined) {
    reply(context, 'RPL_UMODEIS', [invisible(context) ? '+i' : '+']);
    return 'ready';
  }
  // One user mode exists: +i, which changes nothing here (nobody can list strangers anyway).
  const unknown = /[^+\-i]/.test(modes);
  const set = modes.lastIndexOf('+') > modes.lastIndexOf('-');
  if (modes.includes('i') && set !== invisible(context)) {
    context.person.invisible = set;
    send(context, `:${selfSource(context)} MODE ${context.person.nick} :${set ? '+i' : '-i'}\r\n`);
  }
  if (unknown) reply(context, 'ERR_UMODEUNKNOWNFLAG');
  return 'ready';
}

function invisible(context: IrcClientContext): boolean {
  return context.person.invisible;
}
