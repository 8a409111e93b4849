import { userInfo } from 'node:os';
import { clearLine, createInterface, cursorTo } from 'node:readline';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ChatClient } from '../client-library/chat-client.js';
import type { ChatEvent } from '../client-library/events.js';
import { DEFAULTS } from '../config.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../client-library/values.js';
import { ClientCommands, CLIENT_HELP, type CommandOutput } from './terminal-commands.js';
import { formatEvent, paintFor, type Paint } from './terminal-format.js';

/** The client's own default: the server on this machine. */
const DEFAULT_HOST = '127.0.0.1';

export const CLIENT_USAGE = `Usage: chat-client [--host H] [--port P] [--name N] [--room R]
       chat-server client [options]

  --host ADDR             server address (default ${DEFAULT_HOST}; env CHAT_HOST)
  --port N                server port (default ${DEFAULTS.port}; env PORT)
  --name NAME             the name to join rooms with (default: your user name)
  --room ROOM             join ROOM at once
  --max-line-bytes N      the server's line limit: a longer line is refused unsent (default ${DEFAULT_REQUEST_LIMITS.maxLineBytes})
  --max-request-bytes N   the server's request limit, likewise (default ${DEFAULT_REQUEST_LIMITS.maxRequestBytes})
  --tls                   connect over TLS (the server's --tls-port), checking its certificate
  --ca FILE               check it against this CA certificate (PEM) instead of the system's; implies --tls
  --help                  this text

With stdin a terminal: a prompt. Piped: the same commands line by line, every received event
printed one per line; exits once stdin has ended and its requests are answered, with status 1
if any of them was refused.

${CLIENT_HELP}`;

interface ClientArgs {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly room: string | undefined;
  readonly limits: RequestLimits;
  readonly tls: boolean | { readonly ca: Buffer };
}

function limit(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new RangeError(`--${flag} must be a whole number of bytes, at least 1, got "${text}"`);
  return Number(text);
}

function parseClientArgs(argv: string[], env: NodeJS.ProcessEnv): ClientArgs | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      name: { type: 'string' },
      room: { type: 'string' },
      'max-line-bytes': { type: 'string' },
      'max-request-bytes': { type: 'string' },
      tls: { type: 'boolean' },
      ca: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const port = values.port ?? env.PORT ?? String(DEFAULTS.port);
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new RangeError(`--port must be a port number, got "${port}"`);
  const limits = {
    maxLineBytes: limit('max-line-bytes', values['max-line-bytes'], DEFAULT_REQUEST_LIMITS.maxLineBytes),
    maxRequestBytes: limit('max-request-bytes', values['max-request-bytes'], DEFAULT_REQUEST_LIMITS.maxRequestBytes),
  };
  const tls = values.ca !== undefined ? { ca: readFileSync(values.ca) } : values.tls === true;
  return { host: values.host ?? env.CHAT_HOST ?? DEFAULT_HOST, port: Number(port), name: values.name ?? userInfo().username, room: values.room, limits, tls };
}

/** The interactive client; resolves with the exit status (0 after /quit or the end of stdin). */
export async function client(argv: string[]): Promise<number> {
  let args: ClientArgs | 'help';
  try {
    args = parseClientArgs(argv, process.env);
  } catch (error) {
    console.error(`chat-client: ${error instanceof Error ? error.message : String(error)} (try --help)`);
    return 2;
  }
  if (args === 'help') {
    console.log(CLIENT_USAGE);
    return 0;
  }
  const where = `${args.host}:${args.port}`;
  let chat: ChatClient;
  try {
    chat = await ChatClient.connect(args.host, args.port, { limits: args.limits, tls: args.tls });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    console.error(`chat-client: cannot connect to ${where}: ${code ?? ''}${code && args.tls ? ` (${message})` : code ? '' : message}`);
    return 1;
  }
  const paint = paintFor(process.stdout, process.env);
  const ended = new Promise<number>((resolve) => {
    chat.events$.subscribe((event) => {
      if (event.type !== 'closed') return;
      // On a terminal the prompt is on the current line: start the message on a line of its own.
      const fresh = process.stdin.isTTY && process.stdout.isTTY ? '\n' : '';
      if (!event.expected) console.error(`${fresh}chat-client: connection to ${where} lost: ${event.reason ?? 'closed'}`);
      resolve(event.expected ? 0 : 1);
    });
  });
  const session = process.stdin.isTTY ? terminalSession(chat, args, paint) : pipedSession(chat, args, paint);
  // A lost connection ends the client at once; an expected close follows the session's own
  // DISCONNECT, and the session's status (a refused request) then decides.
  return Promise.race([ended.then((status) => (status === 0 ? session : status)), session.then(async (status) => Math.max(status, await ended))]);
}

/** Prints every received event (the close aside) through `print`. */
function printEvents(chat: ChatClient, paint: Paint, print: (line: string, event: ChatEvent) => void): void {
  chat.events$.subscribe((event) => {
    const line = formatEvent(event, paint);
    if (line !== undefined) print(line, event);
  });
}

async function start(commands: ClientCommands, args: ClientArgs): Promise<void> {
  if (args.room !== undefined) await commands.run(`/join ${args.room}`);
}

/**
 * Stdin piped: one command at a time, each answered before the next, so output is deterministic.
 * Resolves 1 if any request was refused, so a script can tell.
 */
async function pipedSession(chat: ChatClient, args: ClientArgs, paint: Paint): Promise<number> {
  const out: CommandOutput = {
    say: (line) => process.stdout.write(`${line}\n`),
    complain: (line) => process.stderr.write(`chat-client: ${line}\n`),
  };
  printEvents(chat, paint, (line) => out.say(line));
  const commands = new ClientCommands(chat, args.name, out, paint);
  await start(commands, args);
  const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of input) {
    if (!chat.isOpen() || (await commands.run(line)) === 'quit') break;
  }
  input.close();
  await chat.disconnect();
  return commands.anyRefused() ? 1 : 0;
}

/** Stdin a terminal: a prompt that incoming lines are printed above, never through. */
async function terminalSession(chat: ChatClient, args: ClientArgs, paint: Paint): Promise<number> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  let quitting = false;
  const above = (line: string): void => {
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
    process.stdout.write(`${line}\n`);
    if (!quitting) rl.prompt(true);
  };
  const commands = new ClientCommands(chat, args.name, { say: above, complain: (line) => above(paint('error', line)) }, paint);
  printEvents(chat, paint, above);
  const reprompt = (): void => {
    const room = commands.currentRoom();
    rl.setPrompt(room === undefined ? '> ' : `${paint('room', `[${room}]`)} > `);
    rl.prompt();
  };
  above(paint('info', `connected to ${args.host}:${args.port} as ${args.name}; /help for commands`));
  await start(commands, args);
  reprompt();
  await new Promise<void>((resolve) => {
    let queue = Promise.resolve();
    const quit = (): void => {
      if (quitting) return;
      quitting = true;
      rl.removeAllListeners('line');
      void queue.then(() => chat.disconnect()).then(resolve, resolve);
    };
    rl.on('line', (line) => {
      queue = queue.then(async () => {
        if ((await commands.run(line)) === 'quit') quit();
        else reprompt();
      });
    });
    rl.on('SIGINT', quit);
    rl.on('close', quit);
  });
  rl.close();
  return 0;
}
