import { encodeChat, encodeError, joinAnnouncement, leaveAnnouncement } from '../src/protocol/encode.js';
import { protocolError, type ProtocolError } from '../src/protocol/errors.js';
import type { JoinId, RoomRef } from '../src/protocol/types.js';
import type { ClusterLink, LogRead, OrderResult } from '../src/cluster/link.js';
import type { ClusterRecord } from '../src/cluster/record.js';
import { RoomSequencer } from '../src/cluster/sequencer.js';
import type { ClientActorRef, ClientEvent, RoomActorRef, RoomCommand, RoomMember } from './events.js';
import { broadcast, replyJoined } from './fan-out.js';

/**
 * A room in cluster mode. The ordering point is a Redis script (see src/cluster/scripts.ts); this
 * side only submits commands and applies what comes back, strictly in the room's order, to the
 * members on this node. Nothing is delivered before Redis has ordered it, the sender's own echo
 * included: every node shows one and the same order.
 */
export interface ClusterRoomState {
  readonly link: ClusterLink;
  readonly sequencer: RoomSequencer;
  /** Local joins sent to the ordering point and not yet ordered. */
  readonly pendingJoins: Map<JoinId, RoomMember>;
  /** Local leaves and departures not yet ordered: `reply` is the LEFT_CHATROOM owed (null for a departure). */
  readonly pendingLeaves: Map<JoinId, { reply: string | null; client: ClientActorRef }>;
  reading: boolean;
}

/** What the room's cluster side needs of the room actor. */
export interface ClusterRoom {
  readonly ref: RoomRef;
  readonly name: string;
  readonly members: Map<JoinId, RoomMember>;
  readonly cluster: ClusterRoomState;
  lastSeq: number;
  readonly stats: { messagesRouted: number; deliveries: number; lastActivity: number };
}

/** The room actor's side: itself (for answers to come back to it) and its sends to clients. */
export interface RoomIo {
  readonly self: RoomActorRef;
  notify(client: ClientActorRef, event: ClientEvent): void;
}

export function clusterRoomState(link: ClusterLink, resumeAt: number | null): ClusterRoomState {
  const sequencer = new RoomSequencer();
  if (resumeAt !== null) sequencer.startAt(resumeAt);
  return { link, sequencer, pendingJoins: new Map(), pendingLeaves: new Map(), reading: false };
}

/** The answer to a join, chat or lookup that Redis did not take within the wait bound. */
export function sharedStateUnavailable(): ProtocolError {
  return protocolError('UNAVAILABLE', 'the cluster\'s shared state could not be reached in time; try again');
}

/** True while the room has nothing on this node: no member, nothing in flight. */
export function clusterRoomIdle(room: ClusterRoom): boolean {
  const { cluster } = room;
  return room.members.size === 0 && cluster.pendingJoins.size === 0 && cluster.pendingLeaves.size === 0;
}

/**
 * Where answers from Redis go: the room's current actor, which after a restart is not the one
 * that asked (the link knows it; it is always this room's actor).
 */
function answerTo(room: ClusterRoom, asker: RoomActorRef): RoomActorRef {
  return (room.cluster.link.watcherOf(room.ref) as RoomActorRef | undefined) ?? asker;
}

/** Hands a client's command to the ordering point; the answer comes back as an event. */
export function submit(room: ClusterRoom, command: RoomCommand, io: RoomIo): void {
  const { cluster, ref } = room;
  const self = { send: (event: Parameters<RoomActorRef['send']>[0]) => answerTo(room, io.self).send(event) };
  const answer = (result: OrderResult): void => self.send({ type: 'cluster.ordered', command, result });
  // A chat ordered comes back on the room's channel like everyone's; only its failures need an answer.
  const answerChat = (result: OrderResult): void => {
    if (result.status !== 'ordered') answer(result);
  };
  const unavailable = (): void => self.send({ type: 'cluster.unavailable', command });
  switch (command.type) {
    case 'join':
      cluster.pendingJoins.set(command.member.joinId, command.member);
      cluster.link.order(ref, { kind: 'join', joinId: command.member.joinId, name: command.member.clientName }).then(answer, unavailable);
      return;
    case 'chat':
      if (!room.members.has(command.joinId)) return;
      cluster.link.order(ref, { kind: 'chat', joinId: command.joinId, text: command.text }).then(answerChat, unavailable);
      return;
    case 'leave':
    case 'depart': {
      if (!room.members.has(command.joinId)) {
        if (command.type === 'leave') command.outbound.next(Buffer.from(command.reply));
        io.notify(command.client, command.type === 'leave' ? { type: 'room.left', roomRef: ref } : { type: 'room.departed', roomRef: ref });
        return;
      }
      cluster.pendingLeaves.set(command.joinId, { reply: command.type === 'leave' ? command.reply : null, client: command.client });
      // Durable: retried until Redis has it, and announced then, at its place in the room's order.
      const ordered = cluster.link.order(ref, { kind: 'leave', joinId: command.joinId }, true);
      if (!cluster.link.reachable) {
        // Redis is known to be away: the leave is answered at once, not after the wait bound.
        finishLeave(room, command.joinId, io, true);
        ordered.catch(() => {});
        return;
      }
      ordered.then(answer, unavailable);
      return;
    }
  }
}

export function onOrdered(room: ClusterRoom, command: RoomCommand, result: OrderResult, io: RoomIo): void {
  const { cluster } = room;
  if (result.status === 'ordered') {
    // The node's first join here: the room begins, for this node, at that join's place.
    if (command.type === 'join' && !cluster.sequencer.started) cluster.sequencer.startAt(result.record.seq);
    offer(room, [result.record], io);
    return;
  }
  if (command.type === 'join' && result.status === 'alreadyIn') {
    // A retried join that had gone through: admitted by its own record, at its place; read the
    // log in case the channel missed it.
    if (room.members.has(command.member.joinId)) return;
    if (!cluster.sequencer.started) cluster.sequencer.startAt(result.joinSeq);
    catchUp(room, io);
    return;
  }
  if (result.status === 'notMember') {
    // The cluster already removed this member (the node was fenced): it is gone here too.
    if (command.type === 'chat') {
      room.members.get(command.joinId)?.outbound.next(Buffer.from(encodeError(protocolError('NOT_A_MEMBER', `this connection is no longer in room ${room.ref}`))));
      return;
    }
    if (command.type === 'leave' || command.type === 'depart') finishLeave(room, command.joinId, io, true);
  }
}

/** Redis was not reached within the wait bound. */
export function onUnavailable(room: ClusterRoom, command: RoomCommand, io: RoomIo): void {
  const unavailable = sharedStateUnavailable();
  switch (command.type) {
    case 'join':
      room.cluster.pendingJoins.delete(command.member.joinId);
      io.notify(command.member.client, { type: 'server.joinRefused', error: unavailable });
      return;
    case 'chat':
      room.members.get(command.joinId)?.outbound.next(Buffer.from(encodeError(unavailable)));
      return;
    case 'leave':
    case 'depart':
      // Answered now; the announcement follows once Redis has the leave, at its place in the order.
      finishLeave(room, command.joinId, io, true);
      return;
  }
}

export function onRecords(room: ClusterRoom, records: readonly ClusterRecord[], io: RoomIo): void {
  offer(room, records, io);
}

/** Reads the log from the next expected record, unless a read is already going. */
export function catchUp(room: ClusterRoom, io: RoomIo): void {
  const { cluster } = room;
  const self = answerTo(room, io.self);
  const from = cluster.sequencer.expected;
  if (from === null || cluster.reading) return;
  cluster.reading = true;
  cluster.link.readLog(room.ref, from).then(
    (read) => self.send({ type: 'cluster.logRead', read }),
    () => self.send({ type: 'cluster.logRead', read: null }),
  );
}

export function onLogRead(room: ClusterRoom, read: LogRead | null, io: RoomIo): void {
  const { cluster } = room;
  cluster.reading = false;
  if (read === null) {
    // Redis away: its return prompts another catch-up.
    return;
  }
  if (read.status === 'trimmed') {
    loseOrder(room, io);
    return;
  }
  offer(room, read.records, io);
  if (cluster.sequencer.hasGap()) catchUp(room, io);
}

function offer(room: ClusterRoom, records: readonly ClusterRecord[], io: RoomIo): void {
  const { cluster } = room;
  // Nothing here yet and no join of this node's under way: nothing to hold records for.
  if (!cluster.sequencer.started && cluster.pendingJoins.size === 0) return;
  for (const record of records) {
    for (const ready of cluster.sequencer.offer(record)) apply(room, ready, io);
  }
  if (cluster.sequencer.hasGap()) cluster.link.gapSeen(room.ref);
  else cluster.link.cancelGapTimer(room.ref);
}

/** Fan-out of one ordered record to this node's members. */
function apply(room: ClusterRoom, record: ClusterRecord, io: RoomIo): void {
  room.lastSeq = record.seq;
  room.stats.lastActivity = Date.now();
  switch (record.kind) {
    case 'joined': {
      const joiner = room.cluster.pendingJoins.get(record.joinId);
      if (joiner) admit(room, joiner, io);
      broadcast(room, encodeChat(room.ref, record.name, joinAnnouncement(record.name)));
      return;
    }
    case 'chat':
      room.stats.messagesRouted++;
      broadcast(room, encodeChat(room.ref, record.name, record.text));
      return;
    case 'left': {
      const pending = room.cluster.pendingLeaves.get(record.joinId);
      const leaver = room.members.get(record.joinId);
      if (leaver && pending?.reply) leaver.outbound.next(Buffer.from(pending.reply));
      // Sent before the leaver is removed: the leaver hears its own departure too.
      broadcast(room, encodeChat(room.ref, record.name, leaveAnnouncement(record.name)));
      finishLeave(room, record.joinId, io, false);
      return;
    }
  }
}

/** A local joiner is in: its reply, then (by the caller) the announcement; its client is told. */
function admit(room: ClusterRoom, member: RoomMember, io: RoomIo): void {
  room.cluster.pendingJoins.delete(member.joinId);
  room.members.set(member.joinId, member);
  replyJoined(room, member);
  io.notify(member.client, { type: 'room.joined', roomRef: room.ref, roomName: room.name, clientName: member.clientName, joinId: member.joinId, room: io.self });
}

/** The member is out on this node; its client is told. `reply`: send the LEFT_CHATROOM still owed. */
function finishLeave(room: ClusterRoom, joinId: JoinId, io: RoomIo, reply: boolean): void {
  const pending = room.cluster.pendingLeaves.get(joinId);
  const leaver = room.members.get(joinId);
  if (reply && leaver && pending?.reply) leaver.outbound.next(Buffer.from(pending.reply));
  room.members.delete(joinId);
  if (!pending) return;
  room.cluster.pendingLeaves.delete(joinId);
  io.notify(pending.client, pending.reply !== null ? { type: 'room.left', roomRef: room.ref } : { type: 'room.departed', roomRef: room.ref });
}

/**
 * The log no longer covers what this node missed: rather than show its members another order, their
 * connections are closed (each client departs, which the cluster announces in order).
 */
function loseOrder(room: ClusterRoom, io: RoomIo): void {
  const { cluster, ref } = room;
  cluster.link.warnOrderLost(ref, room.members.size);
  for (const member of room.members.values()) {
    cluster.link.order(ref, { kind: 'leave', joinId: member.joinId }, true).catch(() => {});
    io.notify(member.client, { type: 'room.orderLost', roomRef: ref });
  }
  room.members.clear();
  // Joins and leaves under way are answered now: their records will not be applied here.
  for (const joinId of [...cluster.pendingLeaves.keys()]) finishLeave(room, joinId, io, false);
  for (const joiner of cluster.pendingJoins.values()) {
    io.notify(joiner.client, { type: 'server.joinRefused', error: protocolError('UNAVAILABLE', `this node missed events of room ${ref}; try again`) });
  }
  cluster.pendingJoins.clear();
  cluster.sequencer.reset();
}
