import type { ActorRef, Snapshot } from 'xstate';
import type { Observer } from 'rxjs';
import type { Connection } from '../src/transport/connection.js';
import type { RoomDoor } from '../src/rooms/door.js';
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

/** The messages actors exchange: one discriminated union per receiving actor. */

export type ClientActorRef = ActorRef<Snapshot<unknown>, ClientEvent>;
export type RoomActorRef = ActorRef<Snapshot<unknown>, RoomEvent>;

/** What a room needs to know of a member: who, and where its bytes go. */
export interface RoomMember {
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
}

// ---- to the client actor --------------------------------------------------------------------

/** Requests from the connection's inbound stream, in arrival order. */
export type ClientRequestEvent =
  | { type: 'request.helo'; request: HeloRequest }
  | { type: 'request.kill' }
  | { type: 'request.join'; request: JoinRequest }
  | { type: 'request.chat'; request: ChatRequest }
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
  | { type: 'test.fault' };

// ---- to a room actor ----------------------------------------------------------------------

export type RoomEvent =
  | { type: 'join'; member: RoomMember }
  | { type: 'chat'; joinId: JoinId; text: string }
  /** A LEAVE_CHATROOM: the reply echoes the request's ref and join id. */
  /** `reply` is the LEFT_CHATROOM owed to the leaver, echoing the request's ref and join id. */
  | { type: 'leave'; joinId: JoinId; reply: string; client: ClientActorRef; outbound: Observer<Buffer> }
  /** DISCONNECT or a closed connection: announce and remove, no reply. */
  | { type: 'depart'; joinId: JoinId; client: ClientActorRef }
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

/** The events a room puts in its order: a client's join, chat, leave or departure. */
export type RoomCommand = Extract<RoomEvent, { type: 'join' | 'chat' | 'leave' | 'depart' }>;

// ---- to the server actor ----------------------------------------------------------------

export type ServerEvent =
  | { type: 'listener.listening'; host: string; port: number }
  | { type: 'listener.failed'; error: Error }
  /** Admitted under the connection limits; its peer is the real client's (a trusted proxy's header). */
  | { type: 'listener.connection'; connection: Connection }
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
      outbound: Observer<Buffer>;
      serverIp: string;
      serverPort: number;
      door: RoomDoor;
    }
  | { type: 'client.lookupRoom'; client: ClientActorRef; roomRef: RoomRef }
  | { type: 'client.killService'; peer: string }
  | { type: 'room.empty'; roomRef: RoomRef }
  | { type: 'stop' };
