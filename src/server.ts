import { createActor, type Actor } from 'xstate';
import { serverMachine } from '../actors/server.js';
import { resolveOptions, type ChatServerOptions, type ResolvedOptions } from './config.js';
import { createLogger, type Logger } from './log.js';

export type ServerActor = Actor<typeof serverMachine>;

export interface ChatServerHandle {
  /** The bound address: `port` is the real one when `port: 0` was asked for. */
  readonly host: string;
  readonly port: number;
  readonly options: ResolvedOptions;
  /** The supervisor: the server actor, with the whole tree below it. */
  readonly actor: ServerActor;
  /** Stop accepting, flush and close every connection; resolves when every socket and actor is gone. */
  stop(): Promise<void>;
  /** Resolves once the server has stopped, however it was stopped (stop(), KILL_SERVICE, a signal). */
  readonly closed: Promise<void>;
}

export interface StartOptions extends ChatServerOptions {
  /** A pino logger to use instead of one made from `logLevel`. */
  logger?: Logger;
}

/** A listen failure (port in use, no permission): a clear one-line message, no stack needed. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

/** Starts the whole supervisor in-process; resolves once it listens. */
export async function startChatServer(options: StartOptions = {}): Promise<ChatServerHandle> {
  const resolved = resolveOptions(options);
  const log = options.logger ?? createLogger(resolved.logLevel);
  const actor = createActor(serverMachine, { input: { options: resolved, log } });

  const closed = new Promise<void>((resolve) => {
    actor.subscribe({
      complete: () => resolve(),
      error: (err: unknown) => {
        // The supervisor itself failed: nothing can be contained above it.
        log.fatal({ err }, 'server actor failed');
        resolve();
      },
    });
  });
  const listening = new Promise<{ host: string; port: number }>((resolve, reject) => {
    const subscription = actor.subscribe((snapshot) => {
      if (snapshot.context.address) {
        subscription.unsubscribe();
        resolve(snapshot.context.address);
      } else if (snapshot.context.failure) {
        subscription.unsubscribe();
        reject(describeListenFailure(snapshot.context.failure, resolved));
      }
    });
  });
  actor.start();
  const address = await listening;
  return {
    host: address.host,
    port: address.port,
    options: resolved,
    actor,
    closed,
    stop: async () => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'stop' });
      await closed;
    },
  };
}

function describeListenFailure(error: Error, options: ResolvedOptions): ListenError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${options.host ?? '0.0.0.0'}:${options.port}`;
  if (code === 'EADDRINUSE') return new ListenError(`port ${options.port} is already in use (${where})`, code);
  if (code === 'EACCES') return new ListenError(`no permission to listen on ${where}`, code);
  return new ListenError(`cannot listen on ${where}: ${error.message}`, code);
}
