import { encodeError } from '../protocol/encode.js';
import { ERRORS, type ProtocolError } from '../protocol/errors.js';
import type { ClientContext } from './state.js';

/** Request events by the protocol's word for them. */
const LAB_KINDS: Readonly<Record<string, string>> = {
  'request.helo': 'HELO', 'request.kill': 'KILL_SERVICE', 'request.join': 'JOIN_CHATROOM', 'request.chat': 'CHAT',
  'request.leave': 'LEAVE_CHATROOM', 'request.disconnect': 'DISCONNECT', 'request.failure': 'malformed',
};

/** One lab request taken (by its event type): counted, tallied by kind, logged at debug by kind only. */
export function countRequest(context: ClientContext, eventType: string): void {
  context.stats.requests++;
  context.settings.tally.request('lab', LAB_KINDS[eventType] ?? 'other');
  // The kind only: what clients send stays out of the log.
  if (context.log.isLevelEnabled('debug')) context.log.debug({ request: eventType.slice('request.'.length) }, 'request');
}

export function reply(context: ClientContext, text: string): void {
  context.connection.outbound.next(Buffer.from(text));
}

export function replyError(context: ClientContext, error: ProtocolError): void {
  context.stats.errors++;
  context.settings.tally.error('lab', error.name);
  context.log.debug({ code: ERRORS[error.name].code, error: error.name, description: error.description }, 'error reply');
  reply(context, encodeError(error));
}
