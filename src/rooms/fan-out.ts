import type { JoinId } from '../protocol/types.js';
import type { RoomMember } from '../../actors/events.js';
import type { RoomDoor } from './door.js';
import type { LeaveCommand, RoomIo, RoomRecord, RoomState } from './order.js';
import type { ChatRecord } from './record.js';

/**
 * Fan-out: applies one ordered record to the membership and posts its bytes to the members here.
 * Whichever order placed it (the room's counter, or Redis), a record is applied here and only here.
 */
export function applyRecord(room: RoomState, record: RoomRecord, io: RoomIo): void {
  room.lastSeq = record.seq;
  room.stats.lastActivity = Date.now();
  switch (record.kind) {
    case 'joined': {
      const joiner = room.pendingJoins.get(record.joinId);
      if (joiner) admit(room, joiner, io);
      broadcast(room, record);
      // IRC's topic and names come after its JOIN line, which is the announcement.
      const burst = joiner?.door.joinBurst(room, joiner);
      if (burst) joiner!.outbound.next(burst);
      return;
    }
    case 'chat':
      if (record.style === 'nick') {
        broadcast(room, record);
        return;
      }
      if (record.style === 'topic') room.topic = { text: record.text, setBy: record.name, setAt: Math.floor(Date.now() / 1000) };
      else room.stats.messagesRouted++;
      broadcast(room, record);
      return;
    case 'left': {
      const pending = room.pendingLeaves.get(record.joinId);
      const leaver = room.members.get(record.joinId);
      if (leaver && pending?.reply) leaver.outbound.next(Buffer.from(pending.reply));
      // Sent before the leaver is removed: the leaver hears its own departure too.
      broadcast(room, record);
      finishLeave(room, record.joinId, io, false);
      return;
    }
  }
}

/**
 * Records in the room's order, as a cluster node gets them (a message of the room's channel, a
 * read of its log): consecutive plain chats fanned out together (`applyChatRun`), the rest one by one.
 */
export function applyRecords(room: RoomState, records: readonly RoomRecord[], io: RoomIo): void {
  let run: ChatRecord[] = [];
  for (const record of records) {
    if (record.kind === 'chat' && record.style !== 'topic' && record.style !== 'nick') {
      run.push(record);
      continue;
    }
    if (run.length > 0) applyChatRun(room, run, io);
    run = [];
    applyRecord(room, record, io);
  }
  applyChatRun(room, run, io);
}

/**
 * Chats ordered together (one client's run, see src/session/chat-run.ts; or what one message of a
 * cluster room's channel carried): each door's encodings of them are joined into one buffer, posted
 * once to each member of that door. A member then gets one buffer instead of one per chat, and its
 * writer nothing to join: in a busy room that is most of the per-delivery work. The bytes are the
 * same as chat by chat. Topic and NICK changes, which change the room, go record by record.
 */
export function applyChatRun(room: RoomState, records: readonly ChatRecord[], io: RoomIo): void {
  if (records.length === 0) return;
  if (records.length === 1 || records.some((record) => record.style === 'topic' || record.style === 'nick')) {
    for (const record of records) applyRecord(room, record, io);
    return;
  }
  room.lastSeq = records[records.length - 1]!.seq;
  room.stats.lastActivity = Date.now();
  room.stats.messagesRouted += records.length;
  const { doors, members } = room;
  if (oneSender(records)) {
    // A client's run: the member it is not echoed to, if any, is the same for every chat.
    const encoded = new Map<RoomDoor, Buffer | null>();
    for (const door of doors.keys()) encoded.set(door, joined(records.map((record) => door.encodeRecord(room, record)), null));
    postByDoor(room, encoded, unechoedSelf(room, records[0]!));
  } else postLeavingOutOwn(room, records);
  room.stats.deliveries += members.size * records.length;
}

/** Chats of several senders: a sender that is not to get its own lines back gets a copy without them. */
function postLeavingOutOwn(room: RoomState, records: readonly ChatRecord[]): void {
  const parts = new Map<RoomDoor, (Buffer | null)[]>();
  const encoded = new Map<RoomDoor, Buffer | null>();
  for (const door of room.doors.keys()) {
    const own = records.map((record) => door.encodeRecord(room, record));
    parts.set(door, own);
    encoded.set(door, joined(own, null));
  }
  const unechoed = unechoedSenders(room, records);
  for (const member of room.members.values()) {
    const mine = unechoed?.get(member);
    const bytes = mine ? joined(parts.get(member.door)!, mine) : encoded.get(member.door);
    if (bytes) member.outbound.next(bytes);
  }
}

/**
 * Which of `records` each member is not to get back (see `unechoedSelf`), or null when every
 * member gets them all: always on the lab's door; on IRC, the senders without `echo-message`.
 */
function unechoedSenders(room: RoomState, records: readonly ChatRecord[]): Map<RoomMember, boolean[]> | null {
  let unechoed: Map<RoomMember, boolean[]> | null = null;
  for (let i = 0; i < records.length; i++) {
    const self = unechoedSelf(room, records[i]!);
    if (!self) continue;
    unechoed ??= new Map();
    let marks = unechoed.get(self);
    if (!marks) unechoed.set(self, (marks = new Array<boolean>(records.length).fill(false)));
    marks[i] = true;
  }
  return unechoed;
}

function oneSender(records: readonly ChatRecord[]): boolean {
  const { joinId } = records[0]!;
  for (const record of records) if (record.joinId !== joinId) return false;
  return true;
}

/** One buffer of `parts`, leaving out the missing ones and those `left` marks; null when none is left. */
function joined(parts: readonly (Buffer | null)[], left: readonly boolean[] | null): Buffer | null {
  const kept: Buffer[] = [];
  for (let i = 0; i < parts.length; i++) if (parts[i] && !left?.[i]) kept.push(parts[i]!);
  return kept.length === 0 ? null : kept.length === 1 ? kept[0]! : Buffer.concat(kept);
}

/**
 * One encoding per door present, posted to every member of that door: the same Buffer to each.
 * A room of one door (most rooms; every room before the second door opened) encodes once and
 * posts it to all, as it always did.
 */
function broadcast(room: RoomState, record: RoomRecord): void {
  const { doors, members } = room;
  if (doors.size === 1) {
    const [door] = doors.keys();
    const bytes = door!.encodeRecord(room, record);
    if (!bytes) return;
    const skip = !door!.echoesChat ? unechoedSelf(room, record) : undefined;
    for (const member of members.values()) if (member !== skip) member.outbound.next(bytes);
  } else if (doors.size > 1) {
    const encoded = new Map<RoomDoor, Buffer | null>();
    for (const door of doors.keys()) encoded.set(door, door.encodeRecord(room, record));
    postByDoor(room, encoded, unechoedSelf(room, record));
  }
  room.stats.deliveries += members.size;
}

/** Each member gets its door's bytes (the same Buffer for all of a door), `skip` none. */
function postByDoor(room: RoomState, encoded: ReadonlyMap<RoomDoor, Buffer | null>, skip: RoomMember | undefined): void {
  for (const member of room.members.values()) {
    const bytes = encoded.get(member.door);
    if (bytes && member !== skip) member.outbound.next(bytes);
  }
}

/**
 * The member a record is not sent back to, if any: on IRC, a sender without `echo-message` does
 * not get its own chat, and a quitting user never its own QUIT (the lab's door echoes both).
 */
function unechoedSelf(room: RoomState, record: RoomRecord): RoomMember | undefined {
  // A topic change is confirmed to its setter by its own TOPIC line, as on any IRC server.
  if (record.kind === 'joined' || (record.kind === 'left' && !record.quit) || (record.kind === 'chat' && record.style === 'topic')) return undefined;
  const self = room.members.get(record.joinId);
  if (!self || self.door.echoesChat) return undefined;
  // A renamed user has its NICK line from its own connection, once.
  const always = record.kind === 'left' || record.style === 'nick';
  return always || !self.person?.caps.has('echo-message') ? self : undefined;
}

/** The name a member speaks under: an IRC user's nick as it is now (NICK changes it), else its join name. */
export function speakerName(member: RoomMember): string {
  const person = member.person;
  return person !== null && person.family === 'irc' ? person.nick : member.clientName;
}

/** The joiner's own reply (the lab's JOINED_CHATROOM), with the address and port it reached this node on. */
export function replyJoined(room: RoomState, member: RoomMember): void {
  const bytes = member.door.joinReply(room, member);
  if (bytes) member.outbound.next(bytes);
}

/** Adds a member, counting its door. */
export function addMember(room: RoomState, member: RoomMember): void {
  room.members.set(member.joinId, member);
  room.doors.set(member.door, (room.doors.get(member.door) ?? 0) + 1);
}

/** Removes a member (if it is one), counting its door out. */
export function removeMember(room: RoomState, joinId: JoinId): void {
  const member = room.members.get(joinId);
  if (!member) return;
  room.members.delete(joinId);
  const left = (room.doors.get(member.door) ?? 1) - 1;
  if (left <= 0) room.doors.delete(member.door);
  else room.doors.set(member.door, left);
}

export function removeAllMembers(room: RoomState): void {
  room.members.clear();
  room.doors.clear();
}

/** The doors of `members`, counted: for a room restarted with the membership it had. */
export function doorsOf(members: Iterable<RoomMember>): Map<RoomDoor, number> {
  const doors = new Map<RoomDoor, number>();
  for (const member of members) doors.set(member.door, (doors.get(member.door) ?? 0) + 1);
  return doors;
}

/** A joiner is in: its reply, then (by the caller) the announcement; its client is told. */
function admit(room: RoomState, member: RoomMember, io: RoomIo): void {
  room.pendingJoins.delete(member.joinId);
  addMember(room, member);
  // The joiner's reply keeps its place before the announcement, as on the wire.
  replyJoined(room, member);
  io.notify(member.client, { type: 'room.joined', roomRef: room.ref, roomName: room.name, clientName: member.clientName, joinId: member.joinId, room: io.self });
}

/**
 * The member is out here; a leave or departure waiting for this is answered: its client is told
 * (room.left or room.departed), and with `reply` the LEFT_CHATROOM still owed is sent first.
 */
export function finishLeave(room: RoomState, joinId: JoinId, io: RoomIo, reply: boolean): void {
  const pending = room.pendingLeaves.get(joinId);
  const leaver = room.members.get(joinId);
  if (reply && leaver && pending?.reply) leaver.outbound.next(Buffer.from(pending.reply));
  removeMember(room, joinId);
  if (leaver?.person?.family === 'lab') io.personGone(leaver.person);
  if (!pending) return;
  room.pendingLeaves.delete(joinId);
  io.notify(pending.client, pending.reply !== null ? { type: 'room.left', roomRef: room.ref } : { type: 'room.departed', roomRef: room.ref });
}

/** A leave the room has no member for (it raced a departure): still owed its echo and its answer. */
export function answerStrayLeave(room: RoomState, command: LeaveCommand, io: RoomIo): void {
  if (command.reply) command.outbound.next(Buffer.from(command.reply));
  io.notify(command.client, { type: 'room.left', roomRef: room.ref });
}
