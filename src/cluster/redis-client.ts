import { createClient } from '@redis/client';
import { OptionError } from '../option-error.js';

export type RedisClient = ReturnType<typeof createClient>;

/** Reconnection backoff: fast at first, then at most every 2 s, for ever. */
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 10), 2_000);
}

/** Connection options for `redis://`, `rediss://` or `unix:///path` URLs. */
export function redisSocketOptions(url: string): { url?: string; socket: { reconnectStrategy: (retries: number) => number; connectTimeout: number; path?: string } } {
  const socket = { reconnectStrategy: reconnectDelay, connectTimeout: 2_000 };
  if (url.startsWith('unix://')) {
    const path = decodeURIComponent(url.slice('unix://'.length));
    if (!path.startsWith('/')) throw new OptionError(`--redis unix:// URL needs an absolute socket path, got "${url}"`);
    return { socket: { ...socket, path } };
  }
  if (!/^rediss?:\/\//.test(url)) throw new OptionError(`--redis must be a redis://, rediss:// or unix:// URL, got "${url}"`);
  return { url, socket };
}

/**
 * A node-redis client. The offline queue is off: a command is either written to a live
 * connection or refused at once, so a request that timed out waiting for Redis can never be
 * carried out later behind its error reply.
 */
export function createRedisClient(url: string, name: string): RedisClient {
  return createClient({ ...redisSocketOptions(url), disableOfflineQueue: true, name });
}

/** The URL without its password, for logs and the dump. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
