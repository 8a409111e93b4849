/** Typed requests, as the codec hands them to the rest of the server. */

/** A room's reference number on the wire (`ROOM_REF`, `CHAT:`, `LEAVE_CHATROOM:`). */
export type RoomRef = number;
/** A connection's join id: one per connection, the same in every room it joins. */
export type JoinId = number;

export interface HeloRequest {
  readonly kind: 'HELO';
  /** The request line as received (without `\r`): the reply echoes it. */
  readonly line: string;
}

export interface KillServiceRequest {
  readonly kind: 'KILL_SERVICE';
}

export interface JoinRequest {
  readonly kind: 'JOIN';
  readonly roomName: string;
  readonly clientName: string;
}

export interface ChatRequest {
  readonly kind: 'CHAT';
  readonly roomRef: RoomRef;
  readonly joinId: JoinId;
  readonly clientName: string;
  /** The message, continuation lines joined with `\n`. */
  readonly message: string;
  /** A continuation line reads as a reply field (`CLIENT_NAME:` ...): refused as INVALID_VALUE. */
  readonly forgedLine: string | null;
  /**
   * The digits as sent of a ref or join id past 2^53 − 1, whose number is then 2^53 − 1 (no ref
   * or id gets that far): error descriptions quote what was sent. Absent otherwise.
   */
  readonly tooBig?: { readonly roomRef?: string; readonly joinId?: string };
}

export interface LeaveRequest {
  readonly kind: 'LEAVE';
  readonly roomRef: RoomRef;
  readonly joinId: JoinId;
  readonly clientName: string;
  /** The ref and join id as sent (`007` stays `007`): LEFT_CHATROOM echoes them. */
  readonly echo: { readonly roomRef: string; readonly joinId: string };
}

export interface DisconnectRequest {
  readonly kind: 'DISCONNECT';
  readonly clientName: string;
}

export type Request =
  | HeloRequest
  | KillServiceRequest
  | JoinRequest
  | ChatRequest
  | LeaveRequest
  | DisconnectRequest;

/** A block the codec could not turn into a request; the connection answers it with one error. */
export interface DecodeFailure {
  readonly kind: 'FAILURE';
  readonly error: 'MALFORMED' | 'TOO_LONG';
  readonly description: string;
}

export type Decoded = Request | DecodeFailure;
