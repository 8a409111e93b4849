import type { ChatClient } from '../client-library/chat-client.js';
import { ChatClientError } from '../client-library/errors.js';
import type { Membership } from '../client-library/events.js';
import type { RoomRef } from '../protocol/types.js';
import { formatError, shown, type Paint } from './terminal-format.js';

export const CLIENT_HELP = `Commands:
  TEXT            say TEXT in the current room (//TEXT says /TEXT)
  /join ROOM      join ROOM and make it the current room
  /leave [ROOM]   leave ROOM (default: the current room)
  /rooms          list the rooms joined; > marks the current one
  /switch ROOM    make ROOM (joined already) the current room
  /help           this text
  /quit           disconnect and exit (Ctrl-C and Ctrl-D too)`;

/** Where the commands' own output goes: `say` for what was asked for, `complain` for a misuse. */
export interface CommandOutput {
  say(line: string): void;
  complain(line: string): void;
}

/**
 * The interactive client's commands over a ChatClient: one line in, its requests answered, then
 * the next. Room traffic is printed by the caller from `events$`; this prints only answers.
 */
export class ClientCommands {
  private current: RoomRef | undefined;
  /** Requests of this session refused: by the server (an ERROR_CODE) or here (too long to send). */
  private refusals = 0;

  constructor(
    private readonly client: ChatClient,
    private readonly name: string,
    private readonly out: CommandOutput,
    private readonly paint: Paint,
  ) {}

  /** Whether any request of this session was refused: piped mode's exit status says so. */
  anyRefused(): boolean {
    return this.refusals > 0;
  }

  /** The current room's name, for the prompt. */
  currentRoom(): string | undefined {
    const name = this.current === undefined ? undefined : this.client.roomName(this.current);
    return name === undefined ? undefined : shown(name);
  }

  /** Runs one line; resolves 'quit' when the user asked to leave. */
  async run(line: string): Promise<'quit' | undefined> {
    if (line.trim() === '') return undefined;
    if (!line.startsWith('/') || line.startsWith('//')) return this.guard(() => this.say(line.startsWith('//') ? line.slice(1) : line));
    const space = line.indexOf(' ');
    const command = space < 0 ? line : line.slice(0, space);
    const argument = space < 0 ? '' : line.slice(space + 1).trim();
    switch (command) {
      case '/join':
        return this.guard(() => this.join(argument));
      case '/leave':
        return this.guard(() => this.leave(argument));
      case '/rooms':
        return this.rooms();
      case '/switch':
        return this.switchTo(argument);
      case '/help':
        for (const helpLine of CLIENT_HELP.split('\n')) this.out.say(this.paint('info', helpLine));
        return undefined;
      case '/quit':
        return 'quit';
      default:
        this.out.complain(`unknown command ${command} (try /help)`);
        return undefined;
    }
  }

  private async say(text: string): Promise<void> {
    if (this.current === undefined) return this.out.complain('not in a room: /join ROOM first');
    await this.client.chat(this.current, text);
  }

  private async join(roomName: string): Promise<void> {
    if (roomName === '') return this.out.complain('usage: /join ROOM');
    const membership = await this.client.join(roomName, this.name);
    this.current = membership.roomRef;
  }

  private async leave(roomName: string): Promise<void> {
    const membership = roomName === '' ? this.membership(this.current) : this.byName(roomName);
    if (membership === undefined) return this.out.complain(roomName === '' ? 'not in a room' : `not in room ${roomName}`);
    await this.client.leave(membership.roomRef);
    if (this.current === membership.roomRef) this.current = this.client.rooms().at(-1)?.roomRef;
  }

  private rooms(): undefined {
    const rooms = this.client.rooms();
    if (rooms.length === 0) this.out.say(this.paint('info', '(no rooms joined)'));
    for (const room of rooms) this.out.say(`${room.roomRef === this.current ? '>' : ' '} ${shown(room.roomName)}`);
    return undefined;
  }

  private switchTo(roomName: string): undefined {
    const membership = this.byName(roomName);
    if (membership === undefined) this.out.complain(roomName === '' ? 'usage: /switch ROOM' : `not in room ${roomName}: /join it first`);
    else this.current = membership.roomRef;
    return undefined;
  }

  private membership(roomRef: RoomRef | undefined): Membership | undefined {
    return this.client.rooms().find((room) => room.roomRef === roomRef);
  }

  private byName(roomName: string): Membership | undefined {
    return this.client.rooms().find((room) => room.roomName === roomName);
  }

  /** A refused request is reported and the session carries on; a closed connection ends it elsewhere. */
  private async guard(action: () => Promise<void>): Promise<undefined> {
    try {
      await action();
    } catch (error) {
      if (!(error instanceof ChatClientError || error instanceof RangeError)) {
        if (this.client.isOpen()) throw error;
        return undefined;
      }
      this.refusals++;
      if (error instanceof ChatClientError) this.out.say(formatError(error, this.paint));
      else this.out.complain(error.message);
    }
    return undefined;
  }
}
