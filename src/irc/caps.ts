/**
 * The IRCv3 capabilities this door implements, and nothing else (no SASL, no account tags): a
 * client is never offered what the server would not do.
 */
export const CAPABILITIES = ['cap-notify', 'echo-message', 'message-tags', 'multi-prefix', 'server-time', 'userhost-in-names'] as const;

type Capability = (typeof CAPABILITIES)[number];

const SUPPORTED: ReadonlySet<string> = new Set(CAPABILITIES);

/**
 * The capabilities a connection enabled, as bits: every IRC connection (and every lab member's
 * IRC face) has one, and a Set's table is a hundred bytes more each at 10,000 connections.
 * Only the capabilities above can be in it; iterates in their order.
 */
export class CapSet implements Iterable<string> {
  private bits = 0;

  has(name: string): boolean {
    const index = CAPABILITIES.indexOf(name as Capability);
    return index >= 0 && (this.bits & (1 << index)) !== 0;
  }

  /** Adds a capability of ours; any other name is ignored (a REQ is checked before it is applied). */
  add(name: string): this {
    const index = CAPABILITIES.indexOf(name as Capability);
    if (index >= 0) this.bits |= 1 << index;
    return this;
  }

  delete(name: string): boolean {
    const had = this.has(name);
    const index = CAPABILITIES.indexOf(name as Capability);
    if (index >= 0) this.bits &= ~(1 << index);
    return had;
  }

  clear(): void {
    this.bits = 0;
  }

  get size(): number {
    let count = 0;
    for (let bits = this.bits; bits !== 0; bits &= bits - 1) count++;
    return count;
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let index = 0; index < CAPABILITIES.length; index++) if ((this.bits & (1 << index)) !== 0) yield CAPABILITIES[index]!;
  }
}

/** The CAP LS list (no values: none of ours has one). */
export function capList(): string {
  return CAPABILITIES.join(' ');
}

/**
 * A CAP REQ's list applied to `enabled`: all or nothing (IRCv3: a request with one unknown cap is
 * NAKed whole). `-cap` disables. Returns the new set, or null to NAK.
 */
export function applyCapRequest(enabled: Iterable<string>, request: string): Set<string> | null {
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
export function wantsTimeTags(caps: CapSet): boolean {
  return caps.has('server-time');
}
