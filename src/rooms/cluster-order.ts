import { encodeError } from '../protocol/encode.js';
import { protocolError, type ProtocolError } from '../protocol/errors.js';
import type { ClusterLink, LogRead, OrderResult } from '../cluster/link.js';
import type { ClusterRecord } from '../cluster/record.js';
import { RoomSequencer } from '../cluster/sequencer.js';
import type { RoomActorRef, RoomCommand, RoomEvent, RoomMember } from '../../actors/events.js';
import { applyRecords, finishLeave, removeAllMembers, speakerName } from './fan-out.js';
import { chatKind, faceOf } from '../cluster/record.js';
import { personSource } from './door.js';
import type { ChatCommand, DepartCommand, LeaveCommand, RoomIo, RoomOrder, RoomOrderEvent, RoomState } from './order.js';

const NOT_MEMBER: OrderResult = { status: 'notMember' };

/** The answer to a join, chat or lookup that Redis did not take within the wait bound. */
export function sharedStateUnavailable(): ProtocolError {
  return protocolError('UNAVAILABLE', 'the cluster\'s shared state could not be reached in time; try again');
}

/**
 * Cluster mode's order: a Redis script (src/cluster/scripts.ts) gives every event of the room its
 * place, for every node; this side submits commands and hands what comes back to fan-out strictly
 * in the room's order (the sequencer holds records that arrive early and finds gaps). Nothing is
 * delivered before Redis has ordered it, the sender's own echo included: every node shows one and
 * the same order. The same object goes on in a restarted room: its sequencer and reads carry over.
 */
export class ClusterOrder implements RoomOrder {
  private readonly sequencer = new RoomSequencer();
  private reading = false;

  constructor(private readonly link: ClusterLink) {}

  start(): void {}

  join(room: RoomState, member: RoomMember, io: RoomIo): void {
    room.pendingJoins.set(member.joinId, member);
    const command: RoomCommand = { type: 'join', member };
    const face = faceOf(member.clientName, member.person ? personSource(member.person) : null);
    this.link.order(room.ref, { kind: 'join', joinId: member.joinId, name: face }).then(
      (result) => this.answerTo(room, io).send({ type: 'cluster.ordered', command, result }),
      () => this.answerTo(room, io).send({ type: 'cluster.unavailable', command }),
    );
  }

  chat(room: RoomState, command: ChatCommand, io: RoomIo): void {
    const sender = room.members.get(command.joinId);
    if (!sender) return;
    const letter = chatKind(command.style, command.irc);
    // A NICK change stores the member's new name and face for the records after it.
    const face = letter === 'k' && sender.person ? faceOf(speakerName(sender), personSource(sender.person)) : undefined;
    // A chat ordered comes back on the room's channel like everyone's; only its failures need an answer.
    this.link.orderChat(room.ref, { joinId: command.joinId, text: command.text, letter, face }, (outcome) => {
      if (outcome === 'notMember') this.answerTo(room, io).send({ type: 'cluster.ordered', command, result: NOT_MEMBER });
      else if (outcome === 'unavailable') this.answerTo(room, io).send({ type: 'cluster.unavailable', command });
    });
  }

  /** Each its own chat: the node's batching gathers a room's chats per turn into one script call anyway. */
  chats(room: RoomState, commands: readonly ChatCommand[], io: RoomIo): void {
    for (const command of commands) this.chat(room, command, io);
  }

  leave(room: RoomState, command: LeaveCommand, io: RoomIo): void {
    this.submitLeave(room, command, io);
  }

  depart(room: RoomState, command: DepartCommand, io: RoomIo): void {
    if (!room.members.has(command.joinId)) {
      io.notify(command.client, { type: 'room.departed', roomRef: room.ref });
      return;
    }
    this.submitLeave(room, command, io);
  }

  onEvent(room: RoomState, event: RoomOrderEvent, io: RoomIo): void {
    switch (event.type) {
      case 'cluster.ordered':
        return this.onOrdered(room, event.command, event.result, io);
      case 'cluster.unavailable':
        return onUnavailable(room, event.command, io);
      case 'cluster.records':
        return this.offer(room, event.records, io);
      case 'cluster.logRead':
        return this.onLogRead(room, event.read, io);
      case 'cluster.catchUp':
        return this.catchUp(room, io);
      case 'room.departures':
        return;
    }
  }

  idle(room: RoomState): boolean {
    return room.members.size === 0 && room.pendingJoins.size === 0 && room.pendingLeaves.size === 0;
  }

  handOver(): ClusterOrder {
    return this;
  }

  /**
   * Where answers from Redis go: the room's current actor, which after a restart is not the one
   * that asked (the link knows it; it is always this room's actor).
   */
  private answerTo(room: RoomState, io: RoomIo): { send(event: RoomEvent): void } {
    return (this.link.watcherOf(room.ref) as RoomActorRef | undefined) ?? io.self;
  }

  /** A member's leave or departure: durable, retried until Redis has it, announced at its place. */
  private submitLeave(room: RoomState, command: LeaveCommand | DepartCommand, io: RoomIo): void {
    room.pendingLeaves.set(command.joinId, { reply: command.type === 'leave' ? command.reply : null, client: command.client });
    const letter = command.type === 'depart' ? 'q' : command.reason ? 'p' : 'l';
    const reason = command.type === 'depart' ? (command.reason ?? 'Quit') : command.reason;
    const ordered = this.link.order(room.ref, { kind: 'leave', joinId: command.joinId, letter, reason }, true);
    if (!this.link.reachable) {
      // Redis is known to be away: the leave is answered at once, not after the wait bound.
      finishLeave(room, command.joinId, io, true);
      ordered.catch(() => {});
      return;
    }
    ordered.then(
      (result) => this.answerTo(room, io).send({ type: 'cluster.ordered', command, result }),
      () => this.answerTo(room, io).send({ type: 'cluster.unavailable', command }),
    );
  }

  private onOrdered(room: RoomState, command: RoomCommand, result: OrderResult, io: RoomIo): void {
    if (result.status === 'ordered') {
      // The node's first join here: the room begins, for this node, at that join's place.
      if (command.type === 'join' && !this.sequencer.started) this.sequencer.startAt(result.record.seq);
      this.offer(room, [result.record], io);
      return;
    }
    if (command.type === 'join' && result.status === 'alreadyIn') {
      // A retried join that had gone through: admitted by its own record, at its place; read the
      // log in case the channel missed it.
      if (room.members.has(command.member.joinId)) return;
      if (!this.sequencer.started) this.sequencer.startAt(result.joinSeq);
      this.catchUp(room, io);
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

  /** Reads the log from the next expected record, unless a read is already going. */
  private catchUp(room: RoomState, io: RoomIo): void {
    const from = this.sequencer.expected;
    if (from === null || this.reading) return;
    this.reading = true;
    const self = this.answerTo(room, io);
    this.link.readLog(room.ref, from).then(
      (read) => self.send({ type: 'cluster.logRead', read }),
      () => self.send({ type: 'cluster.logRead', read: null }),
    );
  }

  private onLogRead(room: RoomState, read: LogRead | null, io: RoomIo): void {
    this.reading = false;
    // Redis away: its return prompts another catch-up.
    if (read === null) return;
    if (read.status === 'trimmed') {
      this.loseOrder(room, io);
      return;
    }
    this.offer(room, read.records, io);
    if (this.sequencer.hasGap()) this.catchUp(room, io);
  }

  private offer(room: RoomState, records: readonly ClusterRecord[], io: RoomIo): void {
    // Nothing here yet and no join of this node's under way: nothing to hold records for.
    if (!this.sequencer.started && room.pendingJoins.size === 0) return;
    applyRecords(room, this.sequencer.offerAll(records), io);
    if (this.sequencer.hasGap()) this.link.gapSeen(room.ref);
    else this.link.cancelGapTimer(room.ref);
  }

  /**
   * The log no longer covers what this node missed: rather than show its members another order,
   * their connections are closed (each client departs, which the cluster announces in order).
   */
  private loseOrder(room: RoomState, io: RoomIo): void {
    const { ref } = room;
    this.link.warnOrderLost(ref, room.members.size);
    for (const member of room.members.values()) {
      this.link.order(ref, { kind: 'leave', joinId: member.joinId }, true).catch(() => {});
      io.notify(member.client, { type: 'room.orderLost', roomRef: ref });
    }
    removeAllMembers(room);
    // Joins and leaves under way are answered now: their records will not be applied here.
    for (const joinId of [...room.pendingLeaves.keys()]) finishLeave(room, joinId, io, false);
    for (const joiner of room.pendingJoins.values()) {
      io.notify(joiner.client, { type: 'server.joinRefused', error: protocolError('UNAVAILABLE', `this node missed events of room ${ref}; try again`) });
    }
    room.pendingJoins.clear();
    this.sequencer.reset();
  }
}

/** Redis was not reached within the wait bound. */
function onUnavailable(room: RoomState, command: RoomCommand, io: RoomIo): void {
  const unavailable = sharedStateUnavailable();
  switch (command.type) {
    case 'join':
      room.pendingJoins.delete(command.member.joinId);
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
