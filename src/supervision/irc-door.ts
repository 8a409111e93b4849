/**
 * The supervisor's share of the IRC door: its settings, its nick registry, its keep-alive, the
 * case-folded index of room names IRC joins by, and the answers to what IRC asks of rooms and
 * nicks. The statechart that calls these is actors/server.ts.
 */
import { ircSpoken } from '../config.js';
import { readFileSync } from 'node:fs';
import type { Actor } from 'xstate';
import type { ChannelInfo, IrcQuery, NickInfo } from '../../actors/events.js';
import type { IrcPerson } from '../rooms/door.js';
import type { roomLogic } from '../../actors/room.js';
import { ircDoors } from '../irc/door.js';
import { PingSweeper, type KeptAlive } from '../irc/keep-alive.js';
import { channelOfRoom, foldCase, roomOfChannel } from '../irc/names.js';
import { maskPattern } from '../irc/listing.js';
import type { IrcSettings } from '../irc/session/state.js';
import type { ResolvedOptions } from '../config.js';
import { OptionError } from '../option-error.js';
import type { LogBudget } from '../log.js';
import type { RequestTally } from '../session/tally.js';
import type { RoomRef } from '../protocol/types.js';
import type { RoomIssuer } from '../rooms/issuing.js';
import { NickRegistry } from './nicks.js';

export interface IrcDoorState {
  readonly settings: IrcSettings;
  readonly nicks: NickRegistry;
  readonly sweeper: PingSweeper;
  /** Live rooms by case-folded name: IRC matches names without regard to ASCII case. */
  readonly foldedRooms: Map<string, RoomRef>;
  /** IRC connections not registered yet, for LUSERS. */
  unregistered(): number;
  /** The most users LUSERS has counted (counting is a scan: it is not done per registration). */
  maxUsers: number;
}

const VERSION = 'actor-chat-server-0.1';

/** The door's state when an IRC port is configured; null otherwise (nothing of it is made). */
/** `ircClients`: the supervisor's entries for the IRC and web doors' connections, as they are now (keep-alive sweeps them). */
export function ircDoorState(options: ResolvedOptions, lineBudget: LogBudget, tally: RequestTally, unregistered: () => number, ircClients: () => Iterable<KeptAlive>): IrcDoorState | null {
  if (!ircSpoken(options)) return null;
  return {
    settings: {
      serverName: options.serverName,
      networkName: options.networkName,
      motd: options.motd === undefined ? null : readMotd(options.motd),
      maxRoomsPerConnection: options.maxRoomsPerConnection,
      flushMs: options.shutdownFlushMs,
      testHooks: options.testHooks,
      doors: ircDoors(options.serverName, options.redis === undefined),
      namesAfterJoin: options.redis !== undefined,
      createdAt: new Date(),
      version: VERSION,
      lineBudget,
      tally,
    },
    nicks: new NickRegistry(),
    sweeper: new PingSweeper(options.ircPingMs, options.serverName, ircClients),
    foldedRooms: new Map(),
    unregistered,
    maxUsers: 0,
  };
}

function readMotd(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new OptionError(`--motd: cannot read ${path}: ${(error as Error).message}`);
  }
  // Each line within an IRC line once the 372 prefix is added; control characters out.
  return text.replace(/\r/g, '').replace(/\n$/, '').split('\n').map((line) => line.replace(/[\0-\x08\x0a-\x1f]/g, '').slice(0, 400));
}

export type Rooms = ReadonlyMap<RoomRef, Actor<typeof roomLogic>>;

/** The live room a channel names: its exact name first, then its ASCII-folded one. */
export function roomOfChannelName(irc: IrcDoorState, issuer: RoomIssuer, rooms: Rooms, channel: string): Actor<typeof roomLogic> | undefined {
  const name = roomOfChannel(channel);
  if (name === null) return undefined;
  const exact = issuer.knownRef(name);
  const ref = exact !== undefined && rooms.has(exact) ? exact : irc.foldedRooms.get(foldCase(name));
  return ref === undefined ? undefined : rooms.get(ref);
}

/** A join by IRC: the name of the live room it matches without regard to case, if any. */
export function foldedRoomName(irc: IrcDoorState, issuer: RoomIssuer, rooms: Rooms, roomName: string): string {
  const exact = issuer.knownRef(roomName);
  if (exact !== undefined && rooms.has(exact)) return roomName;
  const ref = irc.foldedRooms.get(foldCase(roomName));
  const room = ref === undefined ? undefined : rooms.get(ref);
  return room ? room.getSnapshot().context.name : roomName;
}

export function roomStarted(irc: IrcDoorState | null, ref: RoomRef, name: string): void {
  if (irc && !irc.foldedRooms.has(foldCase(name))) irc.foldedRooms.set(foldCase(name), ref);
}

export function roomStopped(irc: IrcDoorState | null, ref: RoomRef, name: string): void {
  if (irc && irc.foldedRooms.get(foldCase(name)) === ref) irc.foldedRooms.delete(foldCase(name));
}

export function channelInfo(room: Actor<typeof roomLogic>): ChannelInfo {
  const { name, members, topic } = room.getSnapshot().context;
  return { name, members: [...members.values()], topic };
}

/** What IRC asked of channels (NAMES, WHO, LIST, TOPIC, MODE), answered from the rooms' own state. */
export function lookUpChannels(irc: IrcDoorState, issuer: RoomIssuer, rooms: Rooms, query: IrcQuery): (ChannelInfo | null)[] {
  if (query.command === 'LIST' && query.targets.length === 0) {
    const all: ChannelInfo[] = [];
    for (const room of rooms.values()) {
      const info = channelInfo(room);
      if (info.members.length > 0 && channelOfRoom(info.name) !== null) all.push(info);
    }
    return all;
  }
  return query.targets.map((channel) => {
    const room = roomOfChannelName(irc, issuer, rooms, channel);
    if (!room) return null;
    const info = channelInfo(room);
    return info.members.length > 0 ? info : null;
  });
}

/** What IRC asked of nicks (WHOIS, WHO, USERHOST); a WHO mask (`*`, `?`) gives every visible match. */
export function lookUpNicks(irc: IrcDoorState, rooms: Rooms, query: IrcQuery, asker?: IrcPerson): (NickInfo | null)[] {
  const target = query.targets[0] ?? '';
  if (query.command === 'WHO' && /[*?]/.test(target)) {
    const pattern = maskPattern(target);
    const askerChannels = asker ? new Set(channelsOf(rooms, asker)) : new Set<string>();
    const found: NickInfo[] = [];
    for (const holder of irc.nicks.holders()) {
      const { person } = holder;
      if (person.user === '' || !pattern.test(foldCase(person.nick))) continue;
      const channels = channelsOf(rooms, person);
      if (person.invisible && person !== asker && !channels.some((channel) => askerChannels.has(channel))) continue;
      found.push({ person, channels, signedOnAt: holder.signedOnAt });
    }
    return found;
  }
  return query.targets.map((nick) => {
    const owner = irc.nicks.find(nick);
    if (!owner || owner.person.user === '') return null;
    return { person: owner.person, channels: channelsOf(rooms, owner.person), signedOnAt: owner.signedOnAt };
  });
}

/** The channels `person` is in here. */
function channelsOf(rooms: Rooms, person: IrcPerson): string[] {
  const channels: string[] = [];
  for (const room of rooms.values()) {
    const { members, name } = room.getSnapshot().context;
    const channel = channelOfRoom(name);
    if (channel === null) continue;
    for (const member of members.values()) {
      if (member.person === person) {
        channels.push(channel);
        break;
      }
    }
  }
  return channels;
}

