/**
 * Requests by kind and error replies by code, for every connection of the server together (the
 * metrics read them when scraped). One shared object: a map increment per request, nothing per
 * delivery. IRC command names are counted only for the commands the door knows, so a client
 * sending made-up commands cannot grow the metric without bound.
 */
const IRC_COMMANDS: ReadonlySet<string> = new Set([
  'CAP', 'NICK', 'USER', 'PASS', 'PING', 'PONG', 'QUIT', 'JOIN', 'PART', 'PRIVMSG', 'NOTICE', 'NAMES', 'WHO', 'WHOIS', 'LIST', 'TOPIC',
  'MODE', 'USERHOST', 'AWAY', 'TIME', 'LUSERS', 'MOTD',
]);

export type Protocol = 'lab' | 'irc';

export class RequestTally {
  /** Per protocol: kind → count (no key string is built per request). */
  readonly requests: Readonly<Record<Protocol, Map<string, number>>> = { lab: new Map(), irc: new Map() };
  /** Per protocol: code → count. */
  readonly errors: Readonly<Record<Protocol, Map<string, number>>> = { lab: new Map(), irc: new Map() };

  request(protocol: Protocol, kind: string): void {
    const key = protocol === 'irc' && !IRC_COMMANDS.has(kind) ? 'other' : kind;
    const counts = this.requests[protocol];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  error(protocol: Protocol, code: string): void {
    const counts = this.errors[protocol];
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
}
