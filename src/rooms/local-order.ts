import type { RoomMember } from '../../actors/events.js';
import { applyDepartures, queueDeparture, scheduleDepartures, type Departure, type DepartureQueue } from './departures.js';
import { applyChatRun, applyRecord, speakerName } from './fan-out.js';
import { faultInjected, type ChatCommand, type DepartCommand, type LeaveCommand, type RoomIo, type RoomOrder, type RoomOrderEvent, type RoomState } from './order.js';
import type { ChatRecord } from './record.js';

/**
 * A single server's order: the room numbers its events itself, as they arrive, and hands each
 * record straight to fan-out. Nothing is ever in flight but the departures queued for later turns
 * (departures.ts): a joiner or leaver sits in its pending map only for the call that applies it.
 */
export class LocalOrder implements RoomOrder, DepartureQueue {
  readonly departures: Departure[];
  departuresScheduled = false;

  constructor(departures: readonly Departure[] = []) {
    this.departures = [...departures];
  }

  start(_room: RoomState, io: RoomIo): void {
    scheduleDepartures(this, io.self);
  }

  join(room: RoomState, member: RoomMember, io: RoomIo): void {
    room.pendingJoins.set(member.joinId, member);
    applyRecord(room, { seq: room.lastSeq + 1, kind: 'joined', joinId: member.joinId, name: member.clientName }, io);
  }

  chat(room: RoomState, command: ChatCommand, io: RoomIo): void {
    const record = chatRecord(room, command, room.lastSeq + 1);
    if (record) applyRecord(room, record, io);
  }

  /** Numbered one after another and fanned out together: one buffer per member for the run. */
  chats(room: RoomState, commands: readonly ChatCommand[], io: RoomIo): void {
    const records: ChatRecord[] = [];
    for (const command of commands) {
      const record = chatRecord(room, command, room.lastSeq + 1 + records.length);
      if (record) records.push(record);
    }
    applyChatRun(room, records, io);
  }

  leave(room: RoomState, command: LeaveCommand, io: RoomIo): void {
    const leaver = room.members.get(command.joinId);
    if (!leaver) return;
    room.pendingLeaves.set(command.joinId, { reply: command.reply, client: command.client });
    applyRecord(room, { seq: room.lastSeq + 1, kind: 'left', joinId: command.joinId, name: speakerName(leaver), reason: command.reason }, io);
  }

  /** Queued: a mass disconnect is announced over several turns (see departures.ts). */
  depart(_room: RoomState, command: DepartCommand, io: RoomIo): void {
    queueDeparture(this, command, io.self);
  }

  onEvent(room: RoomState, event: RoomOrderEvent, io: RoomIo): void {
    if (event.type === 'room.departures') applyDepartures(this, room, io, (departure) => orderDeparture(room, departure, io));
  }

  idle(room: RoomState): boolean {
    return room.members.size === 0 && this.departures.length === 0;
  }

  /** Its queued departures go on in the new actor; a scheduled turn went with the failed one. */
  handOver(): LocalOrder {
    return new LocalOrder(this.departures);
  }
}

/**
 * A departure's turn has come: announced if the departer is still a member. Its client is told
 * by the departure queue (not through `pendingLeaves`), member or not, in the queue's order.
 */
function orderDeparture(room: RoomState, departure: Departure, io: RoomIo): void {
  if (faultInjected(room)) throw new Error('fault injected by a test');
  const leaver = room.members.get(departure.joinId);
  if (!leaver) return;
  applyRecord(room, { seq: room.lastSeq + 1, kind: 'left', joinId: departure.joinId, name: speakerName(leaver), quit: true, reason: departure.reason }, io);
}

/** A chat's record at `seq`, or null when its sender is no member (any more). */
function chatRecord(room: RoomState, command: ChatCommand, seq: number): ChatRecord | null {
  const sender = room.members.get(command.joinId);
  if (!sender) return null;
  const { text, style, irc } = command;
  return { seq, kind: 'chat', joinId: command.joinId, name: speakerName(sender), text, style, irc };
}
