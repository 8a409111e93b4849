import type { RoomRef } from '../protocol/types.js';

/**
 * Room names ⇄ refs for the server's life. A ref is never reused; a name whose room emptied keeps
 * its ref until `remembered` names are held, then the oldest empty ones are forgotten first, so
 * the memory of rooms is bounded however many names clients invent.
 */
export class RoomDirectory {
  private readonly refByName = new Map<string, RoomRef>();
  private readonly nameByRef = new Map<RoomRef, string>();
  private nextRef = 0;

  /** `isActive`: whether a ref's room has members now (its name is then never forgotten). */
  constructor(
    private readonly remembered: number,
    private readonly isActive: (ref: RoomRef) => boolean,
  ) {}

  /** The room's ref, handed out on the name's first join. */
  refFor(name: string): RoomRef {
    const known = this.refByName.get(name);
    if (known !== undefined) return known;
    const ref = this.nextRef++;
    this.remember(name, ref);
    return ref;
  }

  /**
   * Cluster mode: a ref handed out in Redis, remembered here like one handed out locally. The
   * room is not active yet, but it is about to be: its own ref is never the one forgotten.
   */
  remember(name: string, ref: RoomRef): void {
    if (this.refByName.get(name) === ref) return;
    this.refByName.set(name, ref);
    this.nameByRef.set(ref, name);
    if (this.refByName.size > this.remembered) this.forgetOldestEmpty(ref);
  }

  /** Cluster mode, a new epoch: the refs remembered are void. */
  clear(): void {
    this.refByName.clear();
    this.nameByRef.clear();
  }

  /** The name's ref if it has one, without handing one out. */
  lookup(name: string): RoomRef | undefined {
    return this.refByName.get(name);
  }

  knows(ref: RoomRef): boolean {
    return this.nameByRef.has(ref);
  }

  get size(): number {
    return this.refByName.size;
  }

  /** `keep`: the ref just remembered, whose room is about to be active. */
  private forgetOldestEmpty(keep: RoomRef): void {
    for (const [name, ref] of this.refByName) {
      if (ref === keep || this.isActive(ref)) continue;
      this.refByName.delete(name);
      this.nameByRef.delete(ref);
      return;
    }
  }
}
