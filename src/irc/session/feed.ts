import type { Observer, Subscription } from 'rxjs';
import type { ClientEvent } from '../../../actors/events.js';
import type { Connection, Incoming } from '../../transport/connection.js';
import type { IrcInput } from '../decoder.js';

/** Feeds an IRC client actor from its connection: each line and signal becomes one event, in order. */
class IrcConnectionFeed implements Observer<Incoming<IrcInput>> {
  constructor(private readonly actor: { send(event: ClientEvent): void }) {}

  next(incoming: Incoming<IrcInput>): void {
    this.actor.send(toClientEvent(incoming));
  }

  complete(): void {}

  error(): void {
    this.actor.send({ type: 'request.end' });
  }
}

export function feedFromIrcConnection(actor: { send(event: ClientEvent): void }, connection: Connection<IrcInput>): Subscription {
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
