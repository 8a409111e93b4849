import type { RoomEvent } from '../../actors/events.js';

/**
 * What a restarted room is handed of the event its predecessor failed on. A join, leave or
 * departure goes once more (its client waits for the answer); a chat in flight is lost, and of a
 * run of chats only the one that failed (the rest go on). An event that fails twice is dropped.
 */
export function eventToRetry(inFlight: RoomEvent | null, retried: WeakSet<object>): RoomEvent | null {
  if (!inFlight) return null;
  if (inFlight.type === 'join' || inFlight.type === 'leave' || inFlight.type === 'depart') return retried.has(inFlight) ? null : inFlight;
  if (inFlight.type === 'chats' && inFlight.chats.length > 1) return { ...inFlight, chats: inFlight.chats.slice(1) };
  return null;
}

/** The log line of a room's failure: what became of the event in flight. */
export function roomFailureMessage(inFlight: RoomEvent | null, retry: RoomEvent | null): string {
  if (inFlight?.type === 'chats' && retry) return 'room actor failed; restarting it with its membership (the chat in flight is lost; the rest of its run is retried)';
  if (retry) return 'room actor failed; restarting it with its membership and retrying the event in flight';
  if (inFlight?.type === 'room.departures') return 'room actor failed; restarting it with its membership and its queued departures, the failed one first';
  return 'room actor failed; restarting it with its membership (the event in flight is lost)';
}
