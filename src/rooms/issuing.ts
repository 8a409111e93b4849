import type { Answer } from '../answer.js';
import type { ClusterLink } from '../cluster/link.js';
import type { JoinId, RoomRef } from '../protocol/types.js';
import { RoomDirectory } from './directory.js';

/** What a join is given: its room's ref and the connection's join id. */
export interface JoinTicket {
  readonly roomRef: RoomRef;
  readonly joinId: JoinId;
}

/**
 * Where room refs and join ids come from. The supervisor asks it the same way on a single server
 * (this process's directory and counter: answers at once) and in a cluster (Redis hands refs and
 * ids out once for every node: answers later, unless this node already knows).
 */
export interface RoomIssuer {
  /** The ref the name has here, if any, without issuing one: the room limit asks this first. */
  knownRef(roomName: string): RoomRef | undefined;
  /** The room's ref (issued on the name's first join) and the connection's join id (issued on its first join). */
  issueJoin(roomName: string, joinId: JoinId | null): Answer<JoinTicket>;
  /** Whether a room has this ref: a CHAT to a room not joined is NOT_A_MEMBER then, else UNKNOWN_ROOM. */
  roomExists(ref: RoomRef): Answer<boolean>;
  /** A new cluster epoch: every ref remembered here is void, the names get new ones. */
  forgetRefs(): void;
  /** Room names remembered (for the dump). */
  readonly roomNames: number;
  /** Join ids this process handed out (for the dump): none in a cluster, where Redis does. */
  readonly joinIdsIssued: number;
}

/** A single server: refs from the directory, join ids from a counter, both at once. */
class LocalIssuer implements RoomIssuer {
  private nextJoinId = 0;

  constructor(private readonly directory: RoomDirectory) {}

  knownRef(roomName: string): RoomRef | undefined {
    return this.directory.lookup(roomName);
  }

  issueJoin(roomName: string, joinId: JoinId | null): JoinTicket {
    return { roomRef: this.directory.refFor(roomName), joinId: joinId ?? this.nextJoinId++ };
  }

  roomExists(ref: RoomRef): boolean {
    return this.directory.knows(ref);
  }

  forgetRefs(): void {
    this.directory.clear();
  }

  get roomNames(): number {
    return this.directory.size;
  }

  get joinIdsIssued(): number {
    return this.nextJoinId;
  }
}

/**
 * Cluster mode: refs and join ids are handed out once, in Redis, and a ref once known never
 * changes (within an epoch), so what this node already knows it answers at once.
 */
class ClusterIssuer implements RoomIssuer {
  constructor(
    private readonly directory: RoomDirectory,
    private readonly cluster: ClusterLink,
  ) {}

  knownRef(roomName: string): RoomRef | undefined {
    return this.directory.lookup(roomName);
  }

  issueJoin(roomName: string, joinId: JoinId | null): Answer<JoinTicket> {
    const known = this.directory.lookup(roomName);
    if (known !== undefined && joinId !== null) return { roomRef: known, joinId };
    return this.cluster.resolveJoin(roomName, joinId).then(({ ref, joinId: issued }) => {
      this.directory.remember(roomName, ref);
      return { roomRef: ref, joinId: issued };
    });
  }

  roomExists(ref: RoomRef): Answer<boolean> {
    // Another node may have handed this ref out.
    return this.directory.knows(ref) || this.cluster.roomExists(ref);
  }

  forgetRefs(): void {
    this.directory.clear();
  }

  get roomNames(): number {
    return this.directory.size;
  }

  get joinIdsIssued(): number {
    return 0;
  }
}

/**
 * The issuer for this server: `remembered` names are kept after their rooms empty; `isActive`
 * says whether a ref's room has members (its name is never forgotten then).
 */
export function roomIssuer(remembered: number, isActive: (ref: RoomRef) => boolean, cluster: ClusterLink | null): RoomIssuer {
  const directory = new RoomDirectory(remembered, isActive);
  return cluster ? new ClusterIssuer(directory, cluster) : new LocalIssuer(directory);
}
