import type { RoomRef } from '../protocol/types.js';

/** Why `prefix` cannot prefix the cluster's keys, or null: braces would break the hash tags. */
export function clusterPrefixProblem(prefix: string): string | null {
  return /[{}]/.test(prefix) ? 'the cluster key prefix must not contain { or }' : null;
}

/**
 * Where the cluster's state lives in Redis. Keys that one script touches together share a hash
 * tag, so on a Redis Cluster they sit in one slot: the cluster-wide registry under `{g}`, each room
 * under `{r<ref>}` (its sequence, members, log and channel), each node's room index under `{n<id>}`.
 * `prefix` keeps several deployments (or tests) apart in one Redis; it must not contain braces.
 */
export class ClusterKeys {
  constructor(readonly prefix: string) {
    const problem = clusterPrefixProblem(prefix);
    if (problem) throw new Error(problem);
  }

  private global(name: string): string {
    return `${this.prefix}{g}:${name}`;
  }

  /** The deployment's id: gone when Redis lost its data (a new epoch). */
  get deployment(): string { return this.global('deployment'); }
  /** Hash: room name → ref. */
  get refs(): string { return this.global('refs'); }
  /** Hash: ref → room name. */
  get names(): string { return this.global('names'); }
  get nextRef(): string { return this.global('next-ref'); }
  get nextJoinId(): string { return this.global('next-join-id'); }
  get nextNodeId(): string { return this.global('next-node-id'); }
  /** Set of registered node ids (each with a lease key while it is alive). */
  get nodes(): string { return this.global('nodes'); }
  /** Set of node ids whose lease ran out and whose members' departures are still to announce. */
  get deadNodes(): string { return this.global('dead-nodes'); }
  /** Hash: IRC nick, case-folded → "<node id> <owner> <nick!user@host>": nicks are unique cluster-wide. */
  get nicks(): string { return this.global('nicks'); }
  /** Pub/sub channel: private messages for one process's IRC users (`instance`: its random id). */
  direct(instance: string): string { return this.global(`direct:${instance}`); }
  /** Set of the folded nicks a node holds: freed when it dies. */
  nodeNicks(nodeId: number): string { return this.global(`node-nicks:${nodeId}`); }
  /** String with an expiry on Redis' clock: the node's lease; its value describes the node. */
  lease(nodeId: number): string { return this.global(`lease:${nodeId}`); }

  /** Set of refs where the node has (or had) local members: what to clean up if it dies. */
  nodeRooms(nodeId: number): string { return `${this.prefix}{n${nodeId}}:rooms`; }

  private room(ref: RoomRef, name: string): string {
    return `${this.prefix}{r${ref}}:${name}`;
  }

  /** Counter: the room's last sequence number. */
  roomSeq(ref: RoomRef): string { return this.room(ref, 'seq'); }
  /** Hash: join id → "<node id> <seq of its join> <client name>". */
  roomMembers(ref: RoomRef): string { return this.room(ref, 'members'); }
  /** Stream, capped: the room's recent events, entry id `<seq>-0`. */
  roomLog(ref: RoomRef): string { return this.room(ref, 'log'); }
  /** Pub/sub channel: each room event as it is ordered. */
  roomChannel(ref: RoomRef): string { return this.room(ref, 'events'); }

  /** The room's keys in the order the ordering scripts take them. */
  roomKeys(ref: RoomRef): [string, string, string] {
    return [this.roomSeq(ref), this.roomMembers(ref), this.roomLog(ref)];
  }
}
