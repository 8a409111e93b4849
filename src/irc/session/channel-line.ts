import type { ChatEvent, ClientActorRef } from '../../../actors/events.js';
import { ChatPoster } from '../../session/chat-poster.js';
import type { Membership } from '../../session/rules.js';
import type { IrcMessage } from '../message.js';
import { membershipOfChannel } from './commands.js';
import { reply } from './effects.js';
import type { IrcClientContext } from './state.js';

/**
 * A PRIVMSG or NOTICE to one channel, by its shape alone: most of the door's traffic, which the
 * feed gathers into runs and the actor takes on a short path (nothing to wait for).
 */
export function isChannelLine(message: IrcMessage): boolean {
  if (message.command !== 'PRIVMSG' && message.command !== 'NOTICE') return false;
  const target = message.params[0];
  return target !== undefined && target.startsWith('#') && !target.includes(',');
}

/** A registered connection's channel line: the short path's. */
export function isChannelMessage(context: IrcClientContext, message: IrcMessage): boolean {
  return context.registration.done && isChannelLine(message);
}

/**
 * The short path's work for a run of channel lines, in order: each to its room when the
 * connection is in it (consecutive ones to one room as one event), else the numeric it is owed.
 */
export function postChannelMessages(context: IrcClientContext, messages: readonly IrcMessage[], self: ClientActorRef): void {
  const poster = new ChatPoster(self);
  for (const message of messages) {
    const membership = channelMembership(context, message);
    if (membership) poster.post(membership.room, chatOf(context, message, self));
    else {
      poster.flush();
      refuseChannelLine(context, message);
    }
  }
  poster.flush();
}

/** One channel line: posted to its room, or refused. */
export function postChannelMessage(context: IrcClientContext, message: IrcMessage, self: ClientActorRef): void {
  const membership = channelMembership(context, message);
  if (membership) membership.room.send(chatOf(context, message, self));
  else refuseChannelLine(context, message);
}

/** Counts the line; the membership it goes through, if the connection is in the channel and there is text. */
function channelMembership(context: IrcClientContext, message: IrcMessage): Membership | undefined {
  context.stats.requests++;
  context.settings.tally.request('irc', message.command);
  const [target, text] = message.params as [string, string | undefined];
  return text ? membershipOfChannel(context, target) : undefined;
}

function chatOf(context: IrcClientContext, message: IrcMessage, self: ClientActorRef): ChatEvent {
  return { type: 'chat', joinId: context.joinId!, text: message.params[1]!, style: message.command === 'NOTICE' ? 'notice' : undefined, irc: true, client: self };
}

/** A run before registration: each line answered in its place, as `handleLine` answers one (451). */
export function refuseUnregistered(context: IrcClientContext, messages: readonly IrcMessage[]): void {
  for (const message of messages) {
    context.stats.requests++;
    context.settings.tally.request('irc', message.command);
    reply(context, 'ERR_NOTREGISTERED');
  }
}

/** No external messages (+n): the same answer whether the channel exists or not; a NOTICE gets none. */
function refuseChannelLine(context: IrcClientContext, message: IrcMessage): void {
  if (message.command === 'NOTICE') return;
  if (!message.params[1]) reply(context, 'ERR_NOTEXTTOSEND');
  else reply(context, 'ERR_CANNOTSENDTOCHAN', [message.params[0]!]);
}
