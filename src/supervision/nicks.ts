import { CapSet } from '../irc/caps.js';
import type { Observer } from 'rxjs';
import type { ClientActorRef } from '../../actors/events.js';
import { foldCase, nickFromName } from '../irc/names.js';
import type { IrcPerson } from '../rooms/door.js';

/** Who holds a nick: an IRC connection, or a lab member's IRC face. */
export interface NickOwner {
  readonly person: IrcPerson;
  /** The IRC connection's actor and output; null for a lab member (it cannot be messaged privately). */
  readonly client: ClientActorRef | null;
  readonly outbound: Observer<Buffer> | null;
  readonly connectionId: number;
  readonly signedOnAt: number;
}

/** A lab member's IRC face, shared by its memberships under one name, counted. */
interface LabFace {
  readonly owner: NickOwner;
  rooms: number;
}

/**
 * One nick registry per server (CASEMAPPING=ascii): IRC users own their nicks; each lab member
 * (a connection under one name) gets a nick made from its name, suffixed when taken, for as long
 * as it is in a room. Held by the supervisor alone.
 */
export class NickRegistry {
  private readonly byNick = new Map<string, NickOwner>();
  /** An IRC connection's owner entry and the nick it holds in `byNick` (its person takes it on the answer). */
  private readonly byConnection = new Map<number, { owner: NickOwner; key: string }>();
  private readonly labFaces = new Map<string, LabFace>();

  find(nick: string): NickOwner | undefined {
    return this.byNick.get(foldCase(nick));
  }

  /** The nick for `owner`, freeing its old one; false when someone else holds it. */
  claim(nick: string, owner: NickOwner): boolean {
    const key = foldCase(nick);
    const holder = this.byNick.get(key);
    if (holder && holder.person !== owner.person) return false;
    const previous = this.byConnection.get(owner.connectionId);
    if (previous && previous.key !== key && this.byNick.get(previous.key) === previous.owner) this.byNick.delete(previous.key);
    const kept = previous?.owner ?? owner;
    this.byNick.set(key, kept);
    this.byConnection.set(owner.connectionId, { owner: kept, key });
    return true;
  }

  /** Whether `nick` is free here for `person` (held by nobody else this node knows of). */
  freeFor(nick: string, person: IrcPerson): boolean {
    const holder = this.byNick.get(foldCase(nick));
    return !holder || holder.person === person;
  }

  /** The folded nick an IRC connection holds, if any. */
  keyOfConnection(connectionId: number): string | null {
    return this.byConnection.get(connectionId)?.key ?? null;
  }

  /** The IRC connection `connectionId`'s holder entry, if it holds a nick. */
  ownerOfConnection(connectionId: number): NickOwner | undefined {
    return this.byConnection.get(connectionId)?.owner;
  }

  /** An IRC connection is gone: its nick is free. Returns the folded nick it held, if any. */
  releaseConnection(connectionId: number): string | null {
    const entry = this.byConnection.get(connectionId);
    if (!entry) return null;
    this.byConnection.delete(connectionId);
    if (this.byNick.get(entry.key) === entry.owner) this.byNick.delete(entry.key);
    return entry.key;
  }

  /** Whether the lab member `joinId` under `name` has its IRC face already (a room in common). */
  hasLabFace(joinId: number, name: string): boolean {
    return this.labFaces.has(`${joinId} ${name}`);
  }

  /**
   * A lab member's IRC face for one more room: the same person in every room it joins under
   * `name`. `nick`: the one the cluster gave it; else the first free one here.
   */
  labPerson(joinId: number, name: string, connectionId: number, nick?: string): IrcPerson {
    const key = `${joinId} ${name}`;
    const face = this.labFaces.get(key);
    if (face) {
      face.rooms++;
      return face.owner.person;
    }
    const person: IrcPerson = { nick: nick || this.freeNick(nickFromName(name), joinId), user: 'lab', host: `lab/${joinId}`, realname: name, away: null, invisible: false, caps: new CapSet(), family: 'lab' };
    const owner: NickOwner = { person, client: null, outbound: null, connectionId, signedOnAt: Math.floor(Date.now() / 1000) };
    this.byNick.set(foldCase(person.nick), owner);
    this.labFaces.set(key, { owner, rooms: 1 });
    return person;
  }

  /** A lab member left one room: its nick is freed when it is in none under that name. Returns the folded nick freed. */
  releaseLabPerson(person: IrcPerson): string | null {
    const key = `${person.host.slice('lab/'.length)} ${person.realname}`;
    const face = this.labFaces.get(key);
    if (!face || face.owner.person !== person || --face.rooms > 0) return null;
    this.labFaces.delete(key);
    const nickKey = foldCase(person.nick);
    if (this.byNick.get(nickKey) === face.owner) this.byNick.delete(nickKey);
    return nickKey;
  }

  get size(): number {
    return this.byNick.size;
  }

  /** Every holder: registered IRC users and lab members' faces. */
  holders(): IterableIterator<NickOwner> {
    return this.byNick.values();
  }

  /** `base`, or `base` with the first free suffix (`-2`, `-3`, …). */
  private freeNick(base: string, joinId: number): string {
    if (!this.byNick.has(foldCase(base))) return base;
    for (let n = 2; n < 1000; n++) {
      const nick = `${base}-${n}`;
      if (!this.byNick.has(foldCase(nick))) return nick;
    }
    return `lab-${joinId}`;
  }
}
