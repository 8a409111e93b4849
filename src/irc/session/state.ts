/**
 * An IRC client actor's state: what it is given (settings shared by all IRC connections, its
 * connection, its logger) and what it keeps (its person, registration, rooms in join order, the
 * command waiting for an answer). The rules are in actors/irc-client.ts and the handlers beside this.
 */
import type { ClientEvent, IrcQuery } from '../../../actors/events.js';
import type { LineLogger, LogBudget } from '../../log.js';
import type { RequestTally } from '../../session/tally.js';
import type { JoinId } from '../../protocol/types.js';
import type { IrcPerson } from '../../rooms/door.js';
import type { Membership } from '../../session/rules.js';
import type { ServerRef } from '../../session/state.js';
import type { Connection } from '../../transport/connection.js';
import type { IrcInput } from '../decoder.js';
import type { IrcDoors } from '../door.js';

export interface IrcSettings {
  readonly serverName: string;
  readonly networkName: string;
  /** The message of the day, line by line; null: none (422). */
  readonly motd: readonly string[] | null;
  readonly maxRoomsPerConnection: number;
  readonly flushMs: number;
  readonly testHooks: boolean;
  readonly doors: IrcDoors;
  /** Cluster mode: a joiner's names are asked of the server (every node's members), not sent by the room. */
  readonly namesAfterJoin: boolean;
  /** When the server started, for 003. */
  readonly createdAt: Date;
  readonly version: string;
  /** Shared with the lab door's connections: connected, joined, left and disconnected lines. */
  readonly lineBudget: LogBudget;
  readonly tally: RequestTally;
}

export interface IrcClientInput {
  readonly connection: Connection<IrcInput>;
  readonly settings: IrcSettings;
  readonly log: LineLogger;
  readonly server: ServerRef;
}

/** What comes after the step that handled a command: stay ready, wait for an answer, or leave. */
export type IrcNext = 'ready' | 'wait' | 'quit';

/** A command that waits for its answer, with what is left of it (a JOIN's next channels). */
export interface Pending {
  readonly query: IrcQuery;
  /** Channels (JOIN, PART) still to do after the one asked about. */
  queue: string[];
}

export interface Registration {
  nickAccepted: boolean;
  userGiven: boolean;
  capHold: boolean;
  done: boolean;
}

/** Every registered connection's: one shared object rather than one each, since nothing changes it after. */
export const REGISTERED: Readonly<Registration> = Object.freeze({ nickAccepted: true, userGiven: true, capHold: false, done: true });

export interface IrcClientContext {
  readonly connection: Connection<IrcInput>;
  readonly settings: IrcSettings;
  readonly log: LineLogger;
  readonly server: ServerRef;
  /** This connection as IRC sees it; its nick is `*` until one is accepted. Read by rooms and the registry. */
  readonly person: IrcPerson;
  /** Registration: the nick and USER given so far, and whether a CAP LS/REQ holds it until CAP END. */
  registration: Registration;
  joinId: JoinId | null;
  /** Rooms in the order joined (a QUIT departs them in this order), as the lab client keeps them. */
  rooms: readonly Membership[];
  /** The command waiting for an answer from the server or a room. */
  pending: Pending | null;
  /** What the step that just ran decided. */
  next: IrcNext;
  readonly deferred: ClientEvent[];
  departing: Membership[] | null;
  /** The QUIT message its rooms announce; `Client Quit`-like defaults when the peer just went. */
  quitReason: string;
  readonly stats: { requests: number; errors: number };
  logBudget: LogBudget | null;
  readonly signedOnAt: number;
}
