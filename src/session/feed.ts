import type { Unsubscribable } from 'rxjs';
import type { ClientEvent } from '../../actors/events.js';
import type { ChatRequest } from '../protocol/types.js';
import type { Connection, Incoming } from '../transport/connection.js';
import { RunFeed } from './chat-run.js';

/**
 * Feeds a client actor from its connection: each request and signal on the connection's stream
 * becomes one event, in arrival order, a read's consecutive CHATs one event (see RunFeed). One
 * plain object rather than an invoked child actor or a closure per callback: at 10,000
 * connections a second actor per connection costs more memory than the connection itself.
 */
class ConnectionFeed extends RunFeed<Incoming, ChatRequest> {
  protected chatOf(incoming: Incoming): ChatRequest | null {
    return incoming.kind === 'CHAT' ? incoming : null;
  }

  protected eventOf(incoming: Incoming): ClientEvent {
    return toClientEvent(incoming);
  }

  protected runEvent(requests: ChatRequest[]): ClientEvent {
    return { type: 'request.chats', requests };
  }

  protected chatEvent(request: ChatRequest): ClientEvent {
    return { type: 'request.chat', request };
  }
}

/** Starts feeding `actor` from `connection`; returns the teardown. */
export function feedFromConnection(actor: { send(event: ClientEvent): void }, connection: Connection): Unsubscribable {
  return connection.incoming$.subscribe(new ConnectionFeed(actor));
}

/** One request or signal from the connection as the client actor's event. */
function toClientEvent(decoded: Incoming): ClientEvent {
  switch (decoded.kind) {
    case 'HELO': return { type: 'request.helo', request: decoded };
    case 'KILL_SERVICE': return { type: 'request.kill' };
    case 'JOIN': return { type: 'request.join', request: decoded };
    case 'CHAT': return { type: 'request.chat', request: decoded };
    case 'LEAVE': return { type: 'request.leave', request: decoded };
    case 'DISCONNECT': return { type: 'request.disconnect' };
    case 'FAILURE': return { type: 'request.failure', failure: decoded };
    case 'end': return { type: 'request.end' };
    case 'closed': return { type: 'socket.closed' };
    case 'overflow': return { type: 'socket.overflow' };
  }
}
