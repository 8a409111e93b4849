import type { Unsubscribable } from 'rxjs';
import type { ClientEvent } from '../../../actors/events.js';
import type { Connection, Incoming } from '../../transport/connection.js';
import { RunFeed } from '../../session/chat-run.js';
import type { IrcInput } from '../decoder.js';
import type { IrcMessage } from '../message.js';
import { isChannelLine } from './channel-line.js';

/**
 * Feeds an IRC client actor from its connection: each line and signal becomes one event, in
 * order, a read's consecutive PRIVMSGs and NOTICEs to channels one event (see RunFeed).
 */
class IrcConnectionFeed extends RunFeed<Incoming<IrcInput>, IrcMessage> {
  protected chatOf(incoming: Incoming<IrcInput>): IrcMessage | null {
    return incoming.kind === 'message' && isChannelLine(incoming.message) ? incoming.message : null;
  }

  protected eventOf(incoming: Incoming<IrcInput>): ClientEvent {
    return toClientEvent(incoming);
  }

  protected runEvent(messages: IrcMessage[]): ClientEvent {
    return { type: 'irc.channelMessages', messages };
  }

  protected chatEvent(message: IrcMessage): ClientEvent {
    return { type: 'irc.message', message };
  }
}

export function feedFromIrcConnection(actor: { send(event: ClientEvent): void }, connection: Connection<IrcInput>): Unsubscribable {
  return connection.incoming$.subscribe(new IrcConnectionFeed(actor));
}

function toClientEvent(incoming: Incoming<IrcInput>): ClientEvent {
  switch (incoming.kind) {
    case 'message': return { type: 'irc.message', message: incoming.message };
    case 'tooLong': return { type: 'irc.tooLong' };
    case 'end': return { type: 'request.end' };
    case 'closed': return { type: 'socket.closed' };
    case 'overflow': return { type: 'socket.overflow' };
  }
}
