import { applyCapRequest, capList } from '../caps.js';
import type { IrcMessage } from '../message.js';
import { CHANNEL_LENGTH, NICK_LENGTH, isValidNick } from '../names.js';
import { numeric, serverLine } from '../replies.js';
import { reply, send, selfSource, type IrcEffects } from './effects.js';
import { REGISTERED, type IrcClientContext, type IrcNext } from './state.js';

/**
 * Registration and the commands that work in every state: CAP negotiation (a CAP LS or REQ holds
 * registration until CAP END), NICK, USER, PASS (ignored: no accounts), PING, PONG, QUIT. Any other
 * command before registration gets 451 (irssi probes with `JOIN :` and waits for an answer).
 */

/** Commands handled the same before and after registration; null when `message` is not one. */
export function handleCommon(context: IrcClientContext, message: IrcMessage, fx: IrcEffects): IrcNext | null {
  const { params } = message;
  switch (message.command) {
    case 'CAP':
      return handleCap(context, message);
    case 'NICK':
      return askForNick(context, params[0], fx);
    case 'PASS':
      if (context.registration.done) reply(context, 'ERR_ALREADYREGISTERED');
      return 'ready';
    case 'USER':
      return handleUser(context, params);
    case 'PING':
      if (params.length === 0) {
        reply(context, 'ERR_NEEDMOREPARAMS', ['PING']);
        return 'ready';
      }
      send(context, serverLine(context.settings.serverName, 'PONG', [context.settings.serverName, params[0]!]));
      return 'ready';
    case 'PONG':
      return 'ready';
    case 'QUIT':
      context.quitReason = params[0] ? `Quit: ${params[0]}` : 'Quit';
      send(context, `ERROR :Closing Link: ${context.person.host} (${context.quitReason})\r\n`);
      return 'quit';
    default:
      return null;
  }
}

function handleCap(context: IrcClientContext, message: IrcMessage): IrcNext {
  const [sub = '', arg = ''] = message.params;
  const { serverName } = context.settings;
  const nick = context.person.nick;
  const reg = context.registration;
  switch (sub.toUpperCase()) {
    case 'LS':
      if (!reg.done) reg.capHold = true;
      // CAP LS 302 enables cap-notify implicitly (IRCv3.2).
      if (Number(arg) >= 302) context.person.caps.add('cap-notify');
      send(context, serverLine(serverName, 'CAP', [nick, 'LS', capList()], true));
      return 'ready';
    case 'LIST':
      send(context, serverLine(serverName, 'CAP', [nick, 'LIST', [...context.person.caps].join(' ')], true));
      return 'ready';
    case 'REQ': {
      if (!reg.done) reg.capHold = true;
      const next = applyCapRequest(context.person.caps, arg);
      if (next) {
        context.person.caps.clear();
        for (const cap of next) context.person.caps.add(cap);
      }
      send(context, serverLine(serverName, 'CAP', [nick, next ? 'ACK' : 'NAK', arg], true));
      return 'ready';
    }
    case 'END':
      reg.capHold = false;
      return 'ready';
    default:
      reply(context, 'ERR_INVALIDCAPCMD', [sub || '*']);
      return 'ready';
  }
}

function askForNick(context: IrcClientContext, nick: string | undefined, fx: IrcEffects): IrcNext {
  if (!nick) {
    reply(context, 'ERR_NONICKNAMEGIVEN');
    return 'ready';
  }
  if (!isValidNick(nick)) {
    reply(context, 'ERR_ERRONEUSNICKNAME', [nick]);
    return 'ready';
  }
  if (nick === context.person.nick) return 'ready';
  const { connection } = context;
  context.pending = { query: { command: 'NICK', targets: [nick], rest: [] }, queue: [] };
  // The registry holds the new nick from now; this connection takes it when the answer comes.
  fx.toServer({ type: 'irc.claimNick', client: fx.self, connectionId: connection.info.id, person: context.person, outbound: connection.outbound, nick });
  return 'wait';
}

/** The registry gave the nick: a registered user and everyone in its rooms see the change. */
export function nickClaimed(context: IrcClientContext, nick: string, fx: IrcEffects): void {
  const previousSource = selfSource(context);
  const previous = context.person.nick;
  context.person.nick = nick;
  if (!context.registration.done) {
    context.registration.nickAccepted = true;
    return;
  }
  send(context, `:${previousSource} NICK :${nick}\r\n`);
  // Each room announces it in its order to its IRC members; the user's own line is the one above.
  for (const membership of context.rooms) fx.toRoom(membership.room, { type: 'chat', joinId: context.joinId!, text: previous, style: 'nick', irc: true, client: fx.self });
}

export function nickRefused(context: IrcClientContext, nick: string, reason: 'taken' | 'unavailable'): void {
  if (reason === 'taken') reply(context, 'ERR_NICKNAMEINUSE', [nick]);
  else reply(context, 'ERR_UNKNOWNERROR', ['NICK', nick], 'the cluster\'s shared state could not be reached in time; try again');
}

function handleUser(context: IrcClientContext, params: readonly string[]): IrcNext {
  if (context.registration.done || context.registration.userGiven) {
    reply(context, 'ERR_ALREADYREGISTERED');
    return 'ready';
  }
  if (params.length < 4 || params[0] === '' || params[3] === '') {
    reply(context, 'ERR_NEEDMOREPARAMS', ['USER']);
    return 'ready';
  }
  // The user part of `nick!user@host`: the characters a mask can hold, at most 10 (USERLEN).
  const user = params[0]!.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 10) || 'user';
  context.person.user = `~${user}`;
  context.person.realname = params[3]!;
  context.registration.userGiven = true;
  return 'ready';
}

/** NICK, USER and (if asked) CAP END all in: the welcome burst, once. */
export function registrationComplete(context: IrcClientContext): boolean {
  const reg = context.registration;
  return !reg.done && reg.nickAccepted && reg.userGiven && !reg.capHold;
}

/** 001–005 and the MOTD (or 422). */
export function welcome(context: IrcClientContext, maxRooms: number): void {
  context.registration = REGISTERED;
  const { serverName, networkName, version, createdAt, motd } = context.settings;
  const nick = context.person.nick;
  const lines = [
    numeric(serverName, nick, 'RPL_WELCOME', [], `Welcome to the ${networkName} IRC Network ${selfSource(context)}`),
    numeric(serverName, nick, 'RPL_YOURHOST', [], `Your host is ${serverName}, running version ${version}`),
    numeric(serverName, nick, 'RPL_CREATED', [], `This server was created ${createdAt.toUTCString()}`),
    numeric(serverName, nick, 'RPL_MYINFO', [serverName, version, 'i', 'nt']),
    // In two lines: a message has at most 15 parameters.
    numeric(serverName, nick, 'RPL_ISUPPORT', [
      'CASEMAPPING=ascii', 'CHANTYPES=#', `CHANLIMIT=#:${maxRooms}`, `NICKLEN=${NICK_LENGTH}`, `CHANNELLEN=${CHANNEL_LENGTH}`, 'CHANMODES=,,,nt', 'PREFIX=',
    ]),
    numeric(serverName, nick, 'RPL_ISUPPORT', [`NETWORK=${networkName}`, 'LINELEN=512', 'TOPICLEN=390', 'MAXTARGETS=4', 'CLIENTTAGDENY=*', 'ELIST=MNU', 'WHOX']),
  ];
  if (motd) {
    lines.push(numeric(serverName, nick, 'RPL_MOTDSTART', [], `- ${serverName} Message of the day - `));
    for (const line of motd) lines.push(numeric(serverName, nick, 'RPL_MOTD', [], `- ${line}`));
    lines.push(numeric(serverName, nick, 'RPL_ENDOFMOTD'));
  } else {
    lines.push(numeric(serverName, nick, 'ERR_NOMOTD'));
  }
  send(context, ...lines);
}
