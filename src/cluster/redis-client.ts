import { createClient } from '@redis/client';
import { OptionError } from '../option-error.js';
import { redisUrlProblem, unixSocketPath } from './redis-url.js';

export type RedisClient = ReturnType<typeof createClient>;

/** Reconnection backoff: fast at first, then at most every 2 s, for ever. */
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 10), 2_000);
}

/** Connection options for `redis://`, `rediss://` or `unix:///path` URLs. */
export function redisSocketOptions(url: string): { url?: string; socket: { reconnectStrategy: (retries: number) => number; connectTimeout: number; path?: string } } {
  const problem = redisUrlProblem(url);
  if (problem) throw new OptionError(problem);
  const socket = { reconnectStrategy: reconnectDelay, connectTimeout: 2_000 };
  const path = unixSocketPath(url);
  return path === null ? { url, socket } : { socket: { ...socket, path } };
}

/**
 * The client's own per-command timeout is off: the node's wait bound (commands.ts) answers for
 * every command, and node-redis' timeout costs each command an AbortSignal, a weak reference and a
 * timer that fires five seconds later whatever happened (6% of a cluster node's CPU in small rooms).
 */
export const NO_CLIENT_TIMEOUT = { timeout: 0 } as const;

/**
 * A node-redis client. The offline queue is off: a command is either written to a live
 * connection or refused at once, so a request that timed out waiting for Redis can never be
 * carried out later behind its error reply.
 */
export function createRedisClient(url: string, name: string): RedisClient {
  return createClient({ ...redisSocketOptions(url), disableOfflineQueue: true, name, commandOptions: NO_CLIENT_TIMEOUT });
}

/** The URL without its password, for logs and the dump. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
