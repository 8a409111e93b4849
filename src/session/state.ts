/**
 * A client actor's state: what it is given (settings shared by all, its connection, its logger)
 * and what it keeps (its rooms in join order, its join id, what waits). The rules over it are the
 * actor's (actors/client.ts) and the checks in rules.ts.
 */
import type { RequestTally } from './tally.js';
import type { ClientEvent, ServerEvent } from '../../actors/events.js';
import type { KillServicePolicy } from '../config.js';
import type { LineLogger, LogBudget } from '../log.js';
import type { JoinId } from '../protocol/types.js';
import type { Connection } from '../transport/connection.js';
import type { Membership } from './rules.js';

export interface ClientSettings {
  readonly studentId: string;
  readonly advertiseIp: string | undefined;
  readonly killService: KillServicePolicy;
  readonly maxRoomsPerConnection: number;
  /** How long a closing connection may take to flush before it is cut. */
  readonly flushMs: number;
  readonly testHooks: boolean;
  /**
   * Shared by every connection of the server: its lines (connected, joined, left, disconnected)
   * are logged at info 2,000 at once, then 200 a second, past that at debug, so a storm of
   * thousands of connections neither floods the log nor spends its time writing it.
   */
  readonly lineBudget: LogBudget;
  /** Requests by kind and errors by code, the server's (shared with the IRC door's settings). */
  readonly tally: RequestTally;
}

/** What a finished client actor reports to its supervisor. */
export interface ClientOutput {
  readonly connectionId: number;
}

/** The supervisor, as a client actor sees it: where joins, lookups and the rest are sent. */
export interface ServerRef {
  send(event: ServerEvent): void;
}

export interface ClientInput {
  readonly connection: Connection;
  readonly settings: ClientSettings;
  readonly log: LineLogger;
  readonly server: ServerRef;
}

export interface ClientContext {
  readonly connection: Connection;
  readonly settings: ClientSettings;
  readonly log: LineLogger;
  readonly server: ServerRef;
  /** The address and port replies advertise: the one the peer reached us on, unless configured. */
  readonly serverIp: string;
  readonly serverPort: number;
  joinId: JoinId | null;
  /**
   * Rooms in the order joined (a DISCONNECT announces them in this order). Private to this actor.
   * An array replaced on each change rather than a Map: exactly as long as it needs to be (a
   * connection is in one room or a few; a Map's table is some 180 bytes per connection at 10,000),
   * and a scan of at most a hundred is cheaper than a second index.
   */
  rooms: readonly Membership[];
  /**
   * Events kept while a request waits for a room or the server, handled once it is answered: an
   * overflow or lost order. Requests themselves wait in the connection, paused meanwhile.
   */
  readonly deferred: ClientEvent[];
  /**
   * Rooms still to announce this connection's departure, in join order; the first is asked, the
   * next only once it is done, so every node shows them in that order (in cluster mode rooms are
   * ordered independently, possibly on different Redis shards).
   */
  departing: Membership[] | null;
  readonly stats: { requests: number; errors: number };
  /** Made on the first join: most connections never need one. */
  logBudget: LogBudget | null;
}
