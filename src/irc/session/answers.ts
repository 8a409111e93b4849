import type { ChannelInfo, IrcQuery, NickInfo, UserCounts } from '../../../actors/events.js';
import type { ProtocolError } from '../../protocol/errors.js';
import { channelOfRoom } from '../names.js';
import { listCondition, whoxParams, whoxSpec } from '../listing.js';
import { needsTrailing } from '../message.js';
import type { IrcPerson } from '../../rooms/door.js';
import { namesReplies, numeric, topicReplies, whoReply } from '../replies.js';
import { reply, send, fromSource, type IrcEffects } from './effects.js';
import { nextDirect, nextOfList } from './commands.js';
import type { IrcClientContext, IrcNext } from './state.js';

/**
 * The answers to what an IRC command asked the server or a room, as the numerics the command is
 * owed; then the command's next step (the next channel of a JOIN list), or ready.
 */

/** A JOIN the server refused (a limit): the channel's error, then the list goes on. */
export function joinRefused(context: IrcClientContext, error: ProtocolError, fx: IrcEffects): IrcNext {
  const channel = context.pending?.query.command === 'JOIN' ? lastAsked(context) : '*';
  reply(context, 'ERR_TOOMANYCHANNELS', [channel], error.description);
  return nextOfList(context, fx);
}

/** The channel a JOIN or PART list asked about last: the one before what is left of it. */
function lastAsked(context: IrcClientContext): string {
  const pending = context.pending!;
  return pending.query.targets[pending.query.targets.length - pending.queue.length - 1] ?? '*';
}

export function channelsAnswered(context: IrcClientContext, query: IrcQuery, found: readonly (ChannelInfo | null)[]): void {
  const { serverName } = context.settings;
  const nick = context.person.nick;
  const lines: string[] = [];
  switch (query.command) {
    case 'NAMES':
      query.targets.forEach((channel, i) => {
        const room = found[i];
        if (room) lines.push(...namesReplies(serverName, context.person, channelOfRoom(room.name)!, room.members));
        else lines.push(numeric(serverName, nick, 'RPL_ENDOFNAMES', [channel]));
      });
      break;
    case 'WHO': {
      const room = found[0];
      const channel = room ? channelOfRoom(room.name)! : query.targets[0]!;
      const whox = whoxSpec(query.rest[0]);
      if (room) for (const member of room.members) lines.push(whox && member.person ? whoxReply(serverName, nick, whox, channel, member.person) : whoReply(serverName, nick, channel, member));
      lines.push(numeric(serverName, nick, 'RPL_ENDOFWHO', [query.targets[0]!]));
      break;
    }
    case 'LIST': {
      lines.push(numeric(serverName, nick, 'RPL_LISTSTART', ['Channel']));
      const condition = listCondition(query.rest[0]);
      for (const room of found) {
        if (room && (!condition || condition(channelOfRoom(room.name)!, room.members.length))) lines.push(numeric(serverName, nick, 'RPL_LIST', [channelOfRoom(room.name)!, String(room.members.length)], room.topic?.text ?? ''));
      }
      lines.push(numeric(serverName, nick, 'RPL_LISTEND'));
      break;
    }
    case 'TOPIC': {
      const room = found[0];
      if (!room) lines.push(numeric(serverName, nick, 'ERR_NOSUCHCHANNEL', [query.targets[0]!]));
      else lines.push(...topicReplies(serverName, nick, channelOfRoom(room.name)!, room.topic, true));
      break;
    }
    case 'MODE': {
      const room = found[0];
      const channel = room ? channelOfRoom(room.name)! : query.targets[0]!;
      const modes = query.rest[0];
      if (!room) lines.push(numeric(serverName, nick, 'ERR_NOSUCHCHANNEL', [channel]));
      else if (modes === undefined) lines.push(numeric(serverName, nick, 'RPL_CHANNELMODEIS', [channel, '+nt']));
      else if (/^\+?b$/.test(modes)) lines.push(numeric(serverName, nick, 'RPL_ENDOFBANLIST', [channel]));
      else lines.push(numeric(serverName, nick, 'ERR_CHANOPRIVSNEEDED', [channel]));
      break;
    }
  }
  if (lines.length > 0) send(context, ...lines);
  context.stats.errors += lines.filter((line) => / (40\d|44\d|48\d) /.test(line.slice(0, 40))).length;
}

export function nicksAnswered(context: IrcClientContext, query: IrcQuery, found: readonly (NickInfo | null)[]): void {
  const { serverName } = context.settings;
  const nick = context.person.nick;
  const lines: string[] = [];
  switch (query.command) {
    case 'WHO': {
      const whox = whoxSpec(query.rest[0]);
      for (const info of found) {
        if (!info) continue;
        const channel = info.channels[0] ?? '*';
        lines.push(whox ? whoxReply(serverName, nick, whox, channel, info.person) : whoReply(serverName, nick, channel, { person: info.person, clientName: info.person.nick, joinId: 0 }));
      }
      lines.push(numeric(serverName, nick, 'RPL_ENDOFWHO', [query.targets[0]!]));
      break;
    }
    case 'WHOIS': {
      const info = found[0];
      const target = query.targets[0]!;
      if (!info) {
        lines.push(numeric(serverName, nick, 'ERR_NOSUCHNICK', [target]));
      } else {
        const { person } = info;
        lines.push(numeric(serverName, nick, 'RPL_WHOISUSER', [person.nick, person.user, person.host, '*'], person.realname));
        if (info.channels.length > 0) lines.push(numeric(serverName, nick, 'RPL_WHOISCHANNELS', [person.nick], info.channels.join(' ')));
        lines.push(numeric(serverName, nick, 'RPL_WHOISSERVER', [person.nick, serverName], person.family === 'lab' ? 'a lab-protocol client' : context.settings.networkName));
        if (person.away) lines.push(numeric(serverName, nick, 'RPL_AWAY', [person.nick], person.away));
      }
      lines.push(numeric(serverName, nick, 'RPL_ENDOFWHOIS', [info?.person.nick ?? target]));
      break;
    }
    case 'USERHOST': {
      const words = found.flatMap((info) => (info ? [`${info.person.nick}=${info.person.away ? '-' : '+'}${info.person.user}@${info.person.host}`] : []));
      lines.push(numeric(serverName, nick, 'RPL_USERHOST', [], words.join(' ')));
      break;
    }
  }
  send(context, ...lines);
}

/** A private message's outcome for one nick; the echo (with echo-message) only once it went. */
export function directAnswered(context: IrcClientContext, query: IrcQuery, outcome: 'sent' | 'noSuchNick' | 'lab', away: string | undefined, fx: IrcEffects): IrcNext {
  const target = query.targets[0]!;
  const notice = query.command === 'NOTICE';
  if (outcome === 'sent') {
    if (away !== undefined && !notice) reply(context, 'RPL_AWAY', [target], away);
    if (context.person.caps.has('echo-message')) send(context, fromSource(context, `${context.person.nick}!${context.person.user}@${context.person.host}`, `${query.command} ${target} :${query.rest[0]}`));
  } else if (!notice) {
    if (outcome === 'noSuchNick') reply(context, 'ERR_NOSUCHNICK', [target]);
    else reply(context, 'ERR_CANNOTSENDTOUSER', [target], `${target} is a lab-protocol client: it can only be reached in a room it is in`);
  }
  return nextDirect(context, fx);
}

function whoxReply(server: string, nick: string, spec: { fields: string; token: string }, channel: string, person: IrcPerson): string {
  return numeric(server, nick, 'RPL_WHOSPCRPL', whoxParams(spec, server, channel, person).map((param, i, all) => (i === all.length - 1 && needsTrailing(param) ? `:${param}` : param)), undefined);
}

/** LUSERS: this node's users, connections not registered yet, channels; one server. */
export function countsAnswered(context: IrcClientContext, counts: UserCounts): void {
  const { serverName } = context.settings;
  const nick = context.person.nick;
  const users = counts.visible + counts.invisible;
  send(
    context,
    numeric(serverName, nick, 'RPL_LUSERCLIENT', [], `There are ${counts.visible} users and ${counts.invisible} invisible on 1 servers`),
    numeric(serverName, nick, 'RPL_LUSERUNKNOWN', [String(counts.unregistered)], 'unknown connection(s)'),
    numeric(serverName, nick, 'RPL_LUSERCHANNELS', [String(counts.channels)]),
    numeric(serverName, nick, 'RPL_LUSERME', [], `I have ${users} clients and 0 servers`),
    // Without the optional count parameters (RFC 2812's form): a long-lived server's max is its own business.
    numeric(serverName, nick, 'RPL_LOCALUSERS', [], `Current local users ${users}, max ${counts.max}`),
    numeric(serverName, nick, 'RPL_GLOBALUSERS', [], `Current global users ${users}, max ${counts.max}`),
  );
}

/** A private message from another IRC user. */
export function directReceived(context: IrcClientContext, source: string, command: string, text: string): void {
  send(context, fromSource(context, source, `${command} ${context.person.nick} :${text}`));
}
