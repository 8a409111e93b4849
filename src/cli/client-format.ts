import type { ChatClientError } from '../client/errors.js';
import type { ChatEvent } from '../client/events.js';
import type { RoomRef } from '../protocol/types.js';

/** What a piece of output is: it decides the colour on a terminal. */
export type Style = 'room' | 'name' | 'announce' | 'error' | 'info';

export type Paint = (style: Style, text: string) => string;

const ANSI: Readonly<Record<Style, string>> = {
  room: '\x1b[36m',
  name: '\x1b[1m',
  announce: '\x1b[32m',
  error: '\x1b[31m',
  info: '\x1b[2m',
};

export const plain: Paint = (_style, text) => text;
export const ansi: Paint = (style, text) => `${ANSI[style]}${text}\x1b[0m`;

/** Colour only on a terminal, and never when NO_COLOR is set to anything (no-color.org). */
export function paintFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Paint {
  return stream.isTTY === true && !env.NO_COLOR ? ansi : plain;
}

/** A room's name for display; a ref this client never joined shows as `#<ref>`. */
export function roomLabel(roomRef: RoomRef, roomName: string | undefined): string {
  return roomName ?? `#${roomRef}`;
}

/**
 * One line per received event (decisions.md, piped mode): `[room] name: text` with a multi-line
 * message's continuation lines indented by two spaces, `* name joined room`, `* name left room`,
 * `! code NAME: description`. Undefined for the close, which the caller reports itself.
 */
export function formatEvent(event: ChatEvent, paint: Paint): string | undefined {
  switch (event.type) {
    case 'message': {
      const text = event.text.split('\n').join('\n  ');
      return `${paint('room', `[${roomLabel(event.roomRef, event.roomName)}]`)} ${paint('name', event.clientName)}: ${text}`;
    }
    case 'joined':
      return paint('announce', `* ${event.clientName} joined ${roomLabel(event.roomRef, event.roomName)}`);
    case 'left':
      return paint('announce', `* ${event.clientName} left ${roomLabel(event.roomRef, event.roomName)}`);
    case 'error':
      return formatError(event.error, paint);
    case 'closed':
      return undefined;
  }
}

export function formatError(error: ChatClientError, paint: Paint): string {
  return paint('error', `! ${error.code} ${error.errorName ?? 'UNKNOWN'}: ${error.description}`);
}
