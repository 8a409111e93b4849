import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Subject, concatMap, type Observable } from 'rxjs';
import { joinAnnouncement, leaveAnnouncement } from '../protocol/encode.js';
import { encodeChatRequest, encodeDisconnectRequest, encodeHeloRequest, encodeJoinRequest, encodeLeaveRequest } from '../protocol/encode-requests.js';
import { ReplyDecoder, type ServerMessage } from '../protocol/replies.js';
import type { RoomRef } from '../protocol/types.js';
import { socketBytes } from '../transport/inbound.js';
import { ChatClientError, ConnectionClosedError } from './errors.js';
import type { ChatEvent, HeloReply, Membership } from './events.js';
import { PendingRequests } from './pending.js';
import { checkMessage, checkOneLine, checkSize, DEFAULT_REQUEST_LIMITS, deliveredMessage, type RequestLimits } from './values.js';

type JoinedReply = Extract<ServerMessage, { kind: 'JOINED' }>;

/** Who a chat or leave request speaks as, where the caller wants other than its own membership. */
export interface SpeakAs {
  readonly joinId?: number;
  readonly clientName?: string;
}

export interface ConnectOptions {
  /** The server's line and request limits, if not its defaults: requests over them are refused unsent. */
  readonly limits?: Partial<RequestLimits>;
  /**
   * TLS (the server's `--tls-port`): `true` checks the server's certificate against the system's
   * CAs; `{ ca }` against this CA (PEM) instead, for a private one. The name checked is the host's.
   */
  readonly tls?: boolean | { readonly ca: string | Buffer };
}

/** A handshake not done in this long is given up (the server may be something else). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Connects to a chat server; resolves once the TCP connection is open. */
export function connect(host: string, port: number, options: ConnectOptions = {}): Promise<ChatClient> {
  return ChatClient.connect(host, port, options);
}

/**
 * A typed client for the chat protocol over one TCP connection. Calls may be pipelined: each
 * resolves on its own reply and rejects with a `ChatClientError` on the error that replaced it.
 * `events$` is hot: subscribe before acting to see everything.
 */
export class ChatClient {
  private readonly events = new Subject<ChatEvent>();
  private readonly pending = new PendingRequests();
  /** Every room name this client has learnt a ref for; refs never change for a server's life. */
  private readonly roomNames = new Map<RoomRef, string>();
  private readonly memberships = new Map<RoomRef, Membership>();
  private joinId: number | undefined;
  private lastName = 'client';
  private open = true;
  private disconnecting = false;
  private failure: string | undefined;

  /** Room traffic and the connection's end, as typed events; completes after `closed`. */
  readonly events$: Observable<ChatEvent> = this.events.asObservable();
  /** Resolves when the connection has closed, however it closed. */
  readonly closed: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    private readonly limits: RequestLimits,
  ) {
    socket.setNoDelay(true);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.failure ??= error.code ?? error.message;
    });
    const decoder = new ReplyDecoder();
    socketBytes(socket)
      .pipe(concatMap((chunk) => decoder.push(chunk)))
      .subscribe({
        next: (message) => this.receive(message),
        complete: () => {
          if (decoder.hasPending()) this.failure ??= 'the connection closed in the middle of a reply';
        },
      });
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.onClose();
      resolve();
    }));
  }

  static async connect(host: string, port: number, options: ConnectOptions = {}): Promise<ChatClient> {
    const tls = options.tls;
    const socket: Socket = tls
      ? tlsConnect({ host, port, ca: typeof tls === 'object' ? tls.ca : undefined, servername: isIP(host) === 0 ? host : undefined })
      : netConnect({ host, port });
    await new Promise<void>((resolve, reject) => {
      const timer = tls ? setTimeout(() => socket.destroy(new Error(`no TLS handshake with ${host}:${port} within ${TLS_HANDSHAKE_TIMEOUT_MS} ms`)), TLS_HANDSHAKE_TIMEOUT_MS) : undefined;
      const onError = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once('error', onError);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve();
      });
    });
    return new ChatClient(socket, { ...DEFAULT_REQUEST_LIMITS, ...options.limits });
  }

  /** The rooms this connection is in, in the order joined. */
  rooms(): Membership[] {
    return [...this.memberships.values()];
  }

  /** The name of a room whose ref this client has seen in a JOINED_CHATROOM reply. */
  roomName(roomRef: RoomRef): string | undefined {
    return this.roomNames.get(roomRef);
  }

  isOpen(): boolean {
    return this.open;
  }

  async helo(text: string): Promise<HeloReply> {
    checkOneLine('the HELO text', text);
    const request = encodeHeloRequest(text);
    checkSize('HELO', request, this.limits);
    const reply = this.send(request, this.pending.expect('HELO'));
    const { line, ip, port, studentId } = await reply;
    return { line, ip, port, studentId };
  }

  /** Joins a room (again: the server answers, announces nothing and keeps the first name). */
  async join(roomName: string, clientName: string): Promise<Membership> {
    checkOneLine('a room name', roomName);
    checkOneLine('a client name', clientName);
    const request = encodeJoinRequest(roomName, clientName);
    checkSize('join', request, this.limits);
    this.lastName = clientName;
    const onAnswer = (reply: JoinedReply): void => this.remember(reply, clientName);
    const reply = await this.send(request, this.pending.expect('JOINED', { onAnswer }));
    return this.memberships.get(reply.roomRef) ?? { roomRef: reply.roomRef, roomName: reply.roomName, joinId: reply.joinId, clientName };
  }

  /** Says `text` in a room; resolves when the server has delivered it back to this client. */
  async chat(roomRef: RoomRef, text: string, as: SpeakAs = {}): Promise<void> {
    checkMessage(text);
    const { joinId, clientName } = this.speaker(roomRef, as);
    const request = encodeChatRequest(roomRef, joinId, clientName, text);
    checkSize('message', request, this.limits);
    const echo = { roomRef, clientName, message: deliveredMessage(text) };
    await this.send(request, this.pending.expect('CHAT', { echo }));
  }

  /** Leaves a room; leaving a room this connection is not in is answered all the same. */
  async leave(roomRef: RoomRef, as: SpeakAs = {}): Promise<void> {
    const { joinId, clientName } = this.speaker(roomRef, as);
    const onAnswer = (): void => void this.memberships.delete(roomRef);
    await this.send(encodeLeaveRequest(roomRef, joinId, clientName), this.pending.expect('LEFT', { onAnswer }));
  }

  /** Sends DISCONNECT: the server announces the departures, then closes; resolves on the close. */
  async disconnect(): Promise<void> {
    if (!this.open) return;
    this.disconnecting = true;
    await this.send(encodeDisconnectRequest(this.lastName), this.pending.expectClose());
  }

  /** Drops the connection without a word: the server announces the departures to the others. */
  destroy(): void {
    this.disconnecting = true;
    this.socket.destroy();
  }

  private send<T>(request: string, answered: Promise<T>): Promise<T> {
    if (!this.open || this.socket.destroyed) this.pending.close(new ConnectionClosedError('the connection is closed'));
    else this.socket.write(request);
    return answered;
  }

  private speaker(roomRef: RoomRef, as: SpeakAs): { joinId: number; clientName: string } {
    const membership = this.memberships.get(roomRef);
    return {
      joinId: as.joinId ?? membership?.joinId ?? this.joinId ?? 0,
      clientName: as.clientName ?? membership?.clientName ?? this.lastName,
    };
  }

  private receive(message: ServerMessage): void {
    switch (message.kind) {
      case 'INVALID':
        return this.outOfStep(message.description);
      case 'ERROR': {
        const error = new ChatClientError(message.code, message.name, message.description);
        if (!this.pending.rejectOldest(error)) this.events.next({ type: 'error', error });
        return;
      }
      case 'CHAT':
        this.pending.answer(message);
        return this.announce(message);
      default:
        if (!this.pending.answer(message)) this.outOfStep(`a ${message.kind} reply that no request is waiting for`);
    }
  }

  private remember(reply: JoinedReply, clientName: string): void {
    this.roomNames.set(reply.roomRef, reply.roomName);
    this.joinId = reply.joinId;
    // A repeated join keeps the first name (the reply does not carry it, so it comes from the request).
    if (!this.memberships.has(reply.roomRef)) {
      this.memberships.set(reply.roomRef, { roomRef: reply.roomRef, roomName: reply.roomName, joinId: reply.joinId, clientName });
    }
  }

  private announce(message: Extract<ServerMessage, { kind: 'CHAT' }>): void {
    const { roomRef, clientName } = message;
    const roomName = this.roomNames.get(roomRef);
    if (message.message === joinAnnouncement(clientName)) this.events.next({ type: 'joined', roomRef, roomName, clientName });
    else if (message.message === leaveAnnouncement(clientName)) this.events.next({ type: 'left', roomRef, roomName, clientName });
    else this.events.next({ type: 'message', roomRef, roomName, clientName, text: message.message });
  }

  /** The stream no longer reads as replies to our requests: nothing after this can be trusted. */
  private outOfStep(description: string): void {
    this.failure ??= `the server sent ${description}`;
    this.socket.destroy();
  }

  private onClose(): void {
    this.open = false;
    const reason = this.failure ?? (this.disconnecting ? undefined : 'the server closed the connection');
    this.pending.close(new ConnectionClosedError(reason ?? 'the connection closed'));
    this.events.next({ type: 'closed', expected: this.disconnecting && this.failure === undefined, reason });
    this.events.complete();
  }
}
