/**
 * What a connection may do, judged from its own state alone: the checks the client actor makes
 * before it asks a room or the server anything.
 */
import type { RoomActorRef } from '../../actors/events.js';
import { protocolError, type ProtocolError } from '../protocol/errors.js';
import type { ChatRequest, JoinId, JoinRequest, RoomRef } from '../protocol/types.js';
import { nameProblem, quotedDigits } from '../protocol/values.js';

/** This connection's place in one room. */
export interface Membership {
  readonly roomRef: RoomRef;
  readonly roomName: string;
  /** The name the connection joined this room with: the only one it may speak under there. */
  readonly clientName: string;
  readonly room: RoomActorRef;
}

/** What the checks read of a connection: its rooms in join order, and its join id once it has one. */
interface ConnectionState {
  readonly rooms: readonly Membership[];
  readonly joinId: JoinId | null;
}

export function membershipOf(context: ConnectionState, roomRef: RoomRef): Membership | undefined {
  return context.rooms.find((membership) => membership.roomRef === roomRef);
}

export function membershipByName(context: ConnectionState, roomName: string): Membership | undefined {
  return context.rooms.find((membership) => membership.roomName === roomName);
}

/** Why a JOIN's names are refused, or null. */
export function joinProblem(request: JoinRequest): ProtocolError | null {
  const problem = nameProblem('room name', request.roomName) ?? nameProblem('client name', request.clientName);
  return problem ? protocolError('INVALID_VALUE', problem) : null;
}

/** Why this connection may not post this CHAT, or 'foreign' when it is not in the room at all. */
export function chatProblem(context: ConnectionState, request: ChatRequest): ProtocolError | 'foreign' | null {
  const membership = membershipOf(context, request.roomRef);
  const tooBig = request.tooBig;
  // A ref past 2^53 − 1 is no room's: answered here, quoting it as sent, with no need to ask.
  if (!membership) return tooBig?.roomRef !== undefined ? protocolError('UNKNOWN_ROOM', `no room has ref ${quotedDigits(tooBig.roomRef)}`) : 'foreign';
  if (request.joinId !== context.joinId) {
    return protocolError('WRONG_JOIN_ID', `join id ${tooBig?.joinId !== undefined ? quotedDigits(tooBig.joinId) : request.joinId} is not this connection's`);
  }
  if (request.clientName !== membership.clientName) return protocolError('WRONG_NAME', `this connection joined room ${request.roomRef} as another name`);
  if (request.forgedLine !== null) return protocolError('INVALID_VALUE', 'a message line reads as a reply field');
  return null;
}
