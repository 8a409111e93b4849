import type { ClientActorRef } from '../../actors/events.js';
import type { ChatRequest } from '../protocol/types.js';
import { ChatPoster } from './chat-poster.js';
import { countRequest, replyError } from './lab-replies.js';
import { chatProblem, membershipOf } from './rules.js';
import type { ClientContext } from './state.js';

/**
 * Takes a run's CHATs in order, as one by one: each allowed one to its room (consecutive ones to
 * a room as one event), each refused one answered in its place. Stops at the first to a room this
 * connection is not in (the server is asked about it): its index, or -1 when there is none.
 */
export function takeChats(context: ClientContext, requests: readonly ChatRequest[], self: ClientActorRef): number {
  const poster = new ChatPoster(self);
  for (let i = 0; i < requests.length; i++) {
    const request = requests[i]!;
    countRequest(context, 'request.chat');
    const problem = chatProblem(context, request);
    if (problem === null) {
      poster.post(membershipOf(context, request.roomRef)!.room, { type: 'chat', joinId: request.joinId, text: request.message, client: self });
      continue;
    }
    poster.flush();
    if (problem === 'foreign') return i;
    replyError(context, problem);
  }
  poster.flush();
  return -1;
}
