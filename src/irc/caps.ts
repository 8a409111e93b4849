/**
 * The IRCv3 capabilities this door implements, and nothing else (no SASL, no account tags): a
 * client is never offered what the server would not do.
 */
export const CAPABILITIES = ['cap-notify', 'echo-message', 'message-tags', 'multi-prefix', 'server-time', 'userhost-in-names'] as const;

const SUPPORTED: ReadonlySet<string> = new Set(CAPABILITIES);

/** The CAP LS list (no values: none of ours has one). */
export function capList(): string {
  return CAPABILITIES.join(' ');
}

/**
 * A CAP REQ's list applied to `enabled`: all or nothing (IRCv3: a request with one unknown cap is
 * NAKed whole). `-cap` disables. Returns the new set, or null to NAK.
 */
export function applyCapRequest(enabled: ReadonlySet<string>, request: string): Set<string> | null {
  const next = new Set(enabled);
  const items = request.split(' ').filter((item) => item !== '');
  if (items.length === 0) return null;
  for (const item of items) {
    const disable = item.startsWith('-');
    const name = disable ? item.slice(1) : item;
    if (!SUPPORTED.has(name)) return null;
    if (disable) next.delete(name);
    else next.add(name);
  }
  return next;
}

/** Whether a connection's lines carry tags: `server-time` (and `message-tags`, which implies tags may come). */
export function wantsTimeTags(caps: ReadonlySet<string>): boolean {
  return caps.has('server-time');
}
