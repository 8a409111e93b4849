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
  /** `protocol kind` → count. */
  readonly requests = new Map<string, number>();
  /** `protocol code` → count. */
  readonly errors = new Map<string, number>();

  request(protocol: Protocol, kind: string): void {
    const key = `${protocol} ${protocol === 'irc' && !IRC_COMMANDS.has(kind) ? 'other' : kind}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  error(protocol: Protocol, code: string): void {
    const key = `${protocol} ${code}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }
}
