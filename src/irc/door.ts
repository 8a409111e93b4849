import { personSource, type MemberView, type RoomDoor, type RoomView } from '../rooms/door.js';

export { personSource };
import { ircLinesOfLab } from '../rooms/crossing.js';
import type { RoomRecord } from '../rooms/record.js';
import { splitText, MAX_LINE_BYTES } from './lines.js';
import { channelOfRoom, nickFromName } from './names.js';
import { namesReplies, topicReplies } from './replies.js';

/**
 * The IRC door's view of room traffic: joins, parts and quits as JOIN, PART and QUIT lines; chat as
 * PRIVMSG (or NOTICE, or TOPIC) from the member's `nick!user@host`. Two variants, so that each
 * room still encodes an event once per variant present: plain lines, and lines with the
 * `server-time` tag for connections that asked for it (their door is chosen when they join).
 */
export interface IrcDoors {
  readonly plain: RoomDoor;
  readonly timed: RoomDoor;
}

/**
 * `namesInBurst`: a joiner's names come from the room's own members (one server); in a cluster the
 * room here holds this node's members only, and the joiner's client actor asks for every node's.
 */
export function ircDoors(serverName: string, namesInBurst: boolean): IrcDoors {
  return { plain: ircDoor(serverName, false, namesInBurst), timed: ircDoor(serverName, true, namesInBurst) };
}

/** The `nick!user@host` IRC users see for a member of `room`, whichever door it came by. */
export function sourceOf(room: RoomView, record: RoomRecord): string {
  const person = room.members.get(record.joinId)?.person;
  if (person) return personSource(person);
  return record.source ?? `${nickFromName(record.name)}!lab@lab/${record.joinId}`;
}


function ircDoor(serverName: string, timed: boolean, namesInBurst: boolean): RoomDoor {
  return {
    name: timed ? 'irc+time' : 'irc',
    family: 'irc',
    echoesChat: false,
    encodeRecord(room, record) {
      const channel = `#${room.name}`;
      // The hot path, an IRC user's line to the room: one line, no arrays.
      if (record.kind === 'chat' && record.irc && record.style === undefined) {
        const line = `:${sourceOf(room, record)} PRIVMSG ${channel} :${record.text}\r\n`;
        return Buffer.from(timed ? `@time=${new Date().toISOString()} ${line}` : line);
      }
      const lines = recordLines(room, record, channel);
      if (lines.length === 0) return null;
      const tag = timed ? `@time=${new Date().toISOString()} ` : '';
      return Buffer.from(lines.map((line) => `${tag}${line}\r\n`).join(''));
    },
    joinReply() {
      return null;
    },
    joinBurst(room, joiner: MemberView) {
      const person = joiner.person;
      if (!person) return null;
      const channel = channelOfRoom(room.name) ?? `#${room.name}`;
      const names = namesInBurst ? namesReplies(serverName, person, channel, room.members.values()) : [];
      const lines = [...topicReplies(serverName, person.nick, channel, room.topic, false), ...names];
      return lines.length > 0 ? Buffer.from(lines.join('')) : null;
    },
  };
}

function recordLines(room: RoomView, record: RoomRecord, channel: string): string[] {
  const source = sourceOf(room, record);
  switch (record.kind) {
    case 'joined':
      return [`:${source} JOIN ${channel}`];
    case 'left':
      if (record.quit) return [`:${source} QUIT :${record.reason ?? 'Quit'}`];
      return [record.reason ? `:${source} PART ${channel} :${record.reason}` : `:${source} PART ${channel}`];
    case 'chat': {
      if (record.style === 'topic') return [`:${source} TOPIC ${channel} :${record.text}`];
      // The source as it was: its old nick (the text), its user and host.
      if (record.style === 'nick') return [`:${record.text}${source.slice(source.indexOf('!'))} NICK :${record.name}`];
      const command = record.style === 'notice' ? 'NOTICE' : 'PRIVMSG';
      const head = `:${source} ${command} ${channel} :`;
      if (record.irc) return [head + record.text];
      // Room for the head and CR LF: a receiving server's 512 holds the whole line.
      const budget = Math.max(64, MAX_LINE_BYTES - 2 - Buffer.byteLength(head));
      return ircLinesOfLab(record.text).flatMap((line) => splitText(line, budget)).map((piece) => head + piece);
    }
  }
}
