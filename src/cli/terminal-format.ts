import type { ChatClientError } from '../client-library/errors.js';
import type { ChatEvent } from '../client-library/events.js';
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

/**
 * What other users sent can hold terminal controls: ESC sequences that clear or rewrite lines, a
 * bare CR that overwrites the line, C1 controls (some terminals act on them), and the bidi
 * overrides that reorder what is shown (Trojan Source). C0 (tab aside: it only moves the cursor
 * on), DEL, C1 and those overrides are shown escaped (a message's newlines are its line breaks,
 * split off before). A backslash is left alone: text that reads `\x1b` harms nothing.
 */
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\r': '\\r', '\n': '\\n' };

export function shown(text: string): string {
  return text.replace(UNSAFE, (char) => NAMED[char] ?? escapeCode(char.charCodeAt(0)));
}

function escapeCode(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A room's name for display; a ref this client never joined shows as `#<ref>`. */
export function roomLabel(roomRef: RoomRef, roomName: string | undefined): string {
  return roomName === undefined ? `#${roomRef}` : shown(roomName);
}

/**
 * One line per received event (decisions.md, piped mode): `[room] name: text` with a multi-line
 * message's continuation lines indented by two spaces, `* name joined room`, `* name left room`,
 * `! code NAME: description`. Undefined for the close, which the caller reports itself.
 */
export function formatEvent(event: ChatEvent, paint: Paint): string | undefined {
  switch (event.type) {
    case 'message': {
      const text = event.text.split('\n').map(shown).join('\n  ');
      return `${paint('room', `[${roomLabel(event.roomRef, event.roomName)}]`)} ${paint('name', shown(event.clientName))}: ${text}`;
    }
    case 'joined':
      return paint('announce', `* ${shown(event.clientName)} joined ${roomLabel(event.roomRef, event.roomName)}`);
    case 'left':
      return paint('announce', `* ${shown(event.clientName)} left ${roomLabel(event.roomRef, event.roomName)}`);
    case 'error':
      return formatError(event.error, paint);
    case 'closed':
      return undefined;
  }
}

export function formatError(error: ChatClientError, paint: Paint): string {
  return paint('error', `! ${error.code} ${shown(error.errorName ?? 'UNKNOWN')}: ${shown(error.description)}`);
}
