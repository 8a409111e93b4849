/**
 * The Redis URLs cluster mode takes: `redis://`, `rediss://` or `unix:///absolute/path`. Kept apart
 * from the client so that checking an option does not load the Redis client.
 */
export function redisUrlProblem(url: string): string | null {
  if (/^rediss?:\/\/./.test(url) || /^unix:\/\/\//.test(url)) return null;
  if (url.startsWith('unix://')) return `--redis unix:// URL needs an absolute socket path, got "${url}"`;
  return `--redis must be a redis://, rediss:// or unix:// URL, got "${url}"`;
}

/** The socket path of a `unix://` URL, or null for a TCP URL. */
export function unixSocketPath(url: string): string | null {
  return url.startsWith('unix://') ? decodeURIComponent(url.slice('unix://'.length)) : null;
}
