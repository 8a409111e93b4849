import type { ActorRef, Snapshot } from 'xstate';
import type { Observer } from 'rxjs';
import type { Connection } from '../src/transport/connection.js';
import type { IrcInput } from '../src/irc/decoder.js';
import type { IrcPerson, MemberView, RoomDoor, RoomTopic } from '../src/rooms/door.js';
import type { IrcMessage } from '../src/irc/message.js';
import type { ChatStyle } from '../src/rooms/record.js';
import type { LogRead, OrderResult, RoomClusterEvent } from '../src/cluster/link.js';
import type { ProtocolError } from '../src/protocol/errors.js';
import type {
  ChatRequest,
  DecodeFailure,
  HeloRequest,
  JoinId,
  JoinRequest,
  LeaveRequest,
  RoomRef,
} from '../src/protocol/types.js';

/** The front doors a listener serves: the lab protocol, IRC over TCP, the web page with IRC over WebSocket. */
export type ListeningDoor = 'lab' | 'irc' | 'web';

/** The messages actors exchange: one discriminated union per receiving actor. */

export type ClientActorRef = ActorRef<Snapshot<unknown>, ClientEvent>;
export type RoomActorRef = ActorRef<Snapshot<unknown>, RoomEvent>;

/** What a room needs to know of a member: who, and where its bytes go. */
export interface RoomMember extends MemberView {
  readonly joinId: JoinId;
  /** The member's connection, for logs and the dump. */
  readonly connectionId: number;
  readonly clientName: string;
  readonly client: ClientActorRef;
  /** The member's outbound byte stream: the data plane, posted to without a state transition. */
  readonly outbound: Observer<Buffer>;
  /** Address and port the member reached us on, for its JOINED_CHATROOM reply. */
  readonly serverIp: string;
  readonly serverPort: number;
  /** The front door it came in by: how it sees the room's events. */
  readonly door: RoomDoor;
  /** How IRC users see it (null while no IRC door is open). */
  readonly person: IrcPerson | null;
}

// ---- to the client actor --------------------------------------------------------------------

/** Requests from the connection's inbound stream, in arrival order. */
export type ClientRequestEvent =
  | { type: 'request.helo'; request: HeloRequest }
  | { type: 'request.kill' }
  | { type: 'request.join'; request: JoinRequest }
  | { type: 'request.chat'; request: ChatRequest }
  /**
   * Consecutive CHATs from one read, in order (two or more): one actor step for the run rather
   * than one per request, and one room event per room (see src/session/chat-run.ts).
   */
  | { type: 'request.chats'; requests: readonly ChatRequest[] }
  | { type: 'request.leave'; request: LeaveRequest }
  | { type: 'request.disconnect' }
  | { type: 'request.failure'; failure: DecodeFailure }
  /** The peer stopped sending (or the socket closed): treated as a DISCONNECT after what came before. */
  | { type: 'request.end' };

export type ClientEvent =
  | ClientRequestEvent
  | { type: 'room.joined'; roomRef: RoomRef; roomName: string; clientName: string; joinId: JoinId; room: RoomActorRef }
  | { type: 'room.left'; roomRef: RoomRef }
  | { type: 'room.departed'; roomRef: RoomRef }
  /** Cluster mode: this node missed room events the room's log no longer holds; the connection is closed. */
  | { type: 'room.orderLost'; roomRef: RoomRef }
  /** The room's actor failed and was restarted: its messages go to the new one. */
  | { type: 'room.restarted'; roomRef: RoomRef; room: RoomActorRef }
  | { type: 'server.joinRefused'; error: ProtocolError }
  | { type: 'server.roomLookedUp'; roomRef: RoomRef; known: boolean }
  | { type: 'server.shutdown' }
  | { type: 'socket.closed' }
  /** Unsent output passed its limit: the peer stopped reading. */
  | { type: 'socket.overflow' }
  /** Test-only (with the `testHooks` option): the actor throws, to exercise supervision. */
  | { type: 'test.fault' }
  | IrcClientEvent;

/** What an IRC connection's client actor hears besides the room and server events every client does. */
export type IrcClientEvent =
  | { type: 'irc.message'; message: IrcMessage }
  /** Consecutive PRIVMSG/NOTICE lines to channels from one read (two or more), in order. */
  | { type: 'irc.channelMessages'; messages: readonly IrcMessage[] }
  | { type: 'irc.tooLong' }
  /** No PONG came within the ping period after the server's PING. */
  | { type: 'irc.pingTimeout' }
  | { type: 'server.nickClaimed'; nick: string }
  | { type: 'server.nickRefused'; nick: string; reason: 'taken' | 'unavailable' }
  | { type: 'server.nicks'; query: IrcQuery; found: readonly (NickInfo | null)[] }
  | { type: 'server.channels'; query: IrcQuery; found: readonly (ChannelInfo | null)[] }
  /** A private PRIVMSG or NOTICE for this connection from another IRC user. */
  | { type: 'irc.direct'; from: string; command: 'PRIVMSG' | 'NOTICE'; text: string }
  /** `away`: the recipient's AWAY message (RPL_AWAY to the sender). */
  | { type: 'server.directSent'; query: IrcQuery; outcome: 'sent' | 'noSuchNick' | 'lab'; away?: string }
  | { type: 'server.counts'; counts: UserCounts };

/** LUSERS' figures (this node's). */
export interface UserCounts {
  /** Users with a nick (registered IRC users and lab members' faces), visible and invisible (+i). */
  readonly visible: number;
  readonly invisible: number;
  /** IRC connections not registered yet. */
  readonly unregistered: number;
  readonly channels: number;
  /** The most users LUSERS has counted since the server started. */
  readonly max: number;
}

/** What an IRC command asked the server, handed back with the answer so the actor can finish it. */
export interface IrcQuery {
  readonly command: string;
  /** The names asked about: nicks or channels, as the client wrote them. */
  readonly targets: readonly string[];
  /** Anything else the command said (WHO's mask flags, PRIVMSG's text). */
  readonly rest: readonly string[];
}

/** A nick's owner as the registry knows it. */
export interface NickInfo {
  readonly person: IrcPerson;
  /** The channels it is in, for WHOIS (those whose names can be channels). */
  readonly channels: readonly string[];
  readonly signedOnAt: number;
}

/** A room as IRC queries see it: its members (on this node) and topic. */
export interface ChannelInfo {
  readonly name: string;
  readonly members: readonly MemberView[];
  readonly topic: RoomTopic | null;
}

// ---- to a room actor ----------------------------------------------------------------------

export type RoomEvent =
  | { type: 'join'; member: RoomMember }
  /** `client`: the sender, when it posts the chat itself rather than as an actor's send (for the trace). */
  | { type: 'chat'; joinId: JoinId; text: string; style?: ChatStyle; irc?: boolean; client?: ClientActorRef }
  /**
   * One client's consecutive chats to this room, in order (two or more): one step for them all.
   * Posted directly rather than as an actor's `sendTo`: `client` names the sender for the trace.
   */
  | { type: 'chats'; chats: readonly ChatEvent[]; client: ClientActorRef }
  /** A LEAVE_CHATROOM: the reply echoes the request's ref and join id. */
  /** `reply` is the LEFT_CHATROOM owed to the leaver, echoing the request's ref and join id. */
  /** `reply` is empty when none is owed (IRC's PART has none); `reason` is IRC's PART message. */
  | { type: 'leave'; joinId: JoinId; reply: string; client: ClientActorRef; outbound: Observer<Buffer>; reason?: string }
  /** DISCONNECT or a closed connection: announce and remove, no reply. `reason`: an IRC QUIT's. */
  | { type: 'depart'; joinId: JoinId; client: ClientActorRef; reason?: string }
  /** The room's own: its next turn of queued departures. */
  | { type: 'room.departures' }
  /** Test-only (with `testHooks`): fail now, or fail on the next event. */
  | { type: 'test.fault' }
  | { type: 'test.failNext' }
  /** Test-only: the `commands`-th command carried out from now (departures included) fails. */
  | { type: 'test.failAfter'; commands: number }
  // Cluster mode: the ordering point's answers, records from other nodes, and log reads.
  | RoomClusterEvent
  | { type: 'cluster.ordered'; command: RoomCommand; result: OrderResult }
  | { type: 'cluster.unavailable'; command: RoomCommand }
  | { type: 'cluster.logRead'; read: LogRead | null };

/** One chat for a room. */
export type ChatEvent = Extract<RoomEvent, { type: 'chat' }>;

/** The events a room puts in its order: a client's join, chat, leave or departure. */
export type RoomCommand = Extract<RoomEvent, { type: 'join' | 'chat' | 'leave' | 'depart' }>;

// ---- to the server actor ----------------------------------------------------------------

export type ServerEvent =
  | { type: 'listener.listening'; door: ListeningDoor; tls: boolean; host: string; port: number }
  | { type: 'listener.failed'; door: ListeningDoor; tls: boolean; error: Error }
  /** Admitted under the connection limits; its peer is the real client's (a trusted proxy's header). */
  | { type: 'listener.connection'; connection: Connection }
  | { type: 'listener.ircConnection'; connection: Connection<IrcInput> }
  /** Refused under the connection limits: already answered LIMIT_REACHED and closed. */
  | { type: 'listener.refused'; peer: string; reason: string }
  | { type: 'listener.proxyRefused'; peer: string; reason: string }
  | { type: 'listener.acceptFailed'; error: Error }
  | {
      type: 'client.join';
      client: ClientActorRef;
      connectionId: number;
      roomName: string;
      clientName: string;
      /** Null until the connection's first join: ids are handed out on demand. */
      joinId: JoinId | null;
      /** IRC: a room whose name matches case-insensitively (ASCII) counts when none matches exactly. */
      fold?: boolean;
      outbound: Observer<Buffer>;
      serverIp: string;
      serverPort: number;
      door: RoomDoor;
      /** An IRC connection's own person; a lab member gets one from the supervisor when IRC is open. */
      person: IrcPerson | null;
    }
  | { type: 'client.lookupRoom'; client: ClientActorRef; roomRef: RoomRef }
  // From IRC client actors: the nick registry, and what IRC asks of rooms it is not in.
  | { type: 'irc.claimNick'; client: ClientActorRef; connectionId: number; person: IrcPerson; outbound: Observer<Buffer>; nick: string }
  /** `asker`: who asks (a WHO mask leaves out invisible users it shares no channel with). */
  | { type: 'irc.lookupNicks'; client: ClientActorRef; query: IrcQuery; asker?: IrcPerson }
  | { type: 'irc.lookupChannels'; client: ClientActorRef; query: IrcQuery }
  | { type: 'irc.sendDirect'; client: ClientActorRef; from: IrcPerson; query: IrcQuery }
  | { type: 'irc.countUsers'; client: ClientActorRef }
  /** The connection is leaving: its nick is free at once (a reconnect may take it back). */
  | { type: 'irc.releaseNick'; connectionId: number }
  /** A lab member with an IRC face left a room: its nick is freed when it is in no room under that name. */
  | { type: 'room.personGone'; roomRef: RoomRef; person: IrcPerson }
  | { type: 'client.killService'; peer: string; client: ClientActorRef }
  | { type: 'room.empty'; roomRef: RoomRef }
  | { type: 'stop' };
