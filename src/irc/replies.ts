import type { IrcPerson, MemberView, RoomTopic } from '../rooms/door.js';
import { needsTrailing } from './message.js';
import { NUMERICS, type NumericName } from './numerics.js';
import { MAX_LINE_BYTES } from './lines.js';

/**
 * The server's replies as IRC lines (with CR LF): numerics addressed to one nick, and the multi-line
 * answers (names, who, the welcome burst). Pure: everything they say comes in as arguments.
 */

/** `:server CODE nick params… :text`; `text` defaults to the numeric's own from the table. */
export function numeric(server: string, nick: string, name: NumericName, params: readonly string[] = [], text?: string): string {
  const entry = NUMERICS[name];
  const trailing = text ?? entry.text;
  let line = `:${server} ${entry.code} ${nick || '*'}`;
  for (const param of params) line += ` ${param}`;
  if (trailing !== '' || text !== undefined) line += ` :${trailing}`;
  return `${line}\r\n`;
}

/** A line from the server itself (`:server COMMAND params`); the last param is made trailing where it must be. */
export function serverLine(server: string, command: string, params: readonly string[], trailing = false): string {
  let line = `:${server} ${command}`;
  params.forEach((param, i) => {
    line += i === params.length - 1 && (trailing || needsTrailing(param)) ? ` :${param}` : ` ${param}`;
  });
  return `${line}\r\n`;
}

/** The nick a member shows on IRC. */
export function nickOf(member: MemberView): string {
  return member.person?.nick ?? member.clientName;
}

/** A channel's topic for a joiner (332 and 333) or a TOPIC query (331 when none). */
export function topicReplies(server: string, nick: string, channel: string, topic: RoomTopic | null, sayNone: boolean): string[] {
  if (!topic) return sayNone ? [numeric(server, nick, 'RPL_NOTOPIC', [channel])] : [];
  return [numeric(server, nick, 'RPL_TOPIC', [channel], topic.text), numeric(server, nick, 'RPL_TOPICWHOTIME', [channel, topic.setBy, String(topic.setAt)])];
}

/** 353s (as many as the line limit needs) and the 366 that ends them. */
export function namesReplies(server: string, asker: IrcPerson, channel: string, members: Iterable<MemberView>): string[] {
  const full = asker.caps.has('userhost-in-names');
  const head = `:${server} 353 ${asker.nick} = ${channel} :`;
  const budget = MAX_LINE_BYTES - 2 - Buffer.byteLength(head);
  const lines: string[] = [];
  let names = '';
  for (const member of members) {
    const person = member.person;
    const name = full && person ? `${person.nick}!${person.user}@${person.host}` : nickOf(member);
    if (names !== '' && Buffer.byteLength(names) + 1 + Buffer.byteLength(name) > budget) {
      lines.push(`${head}${names}\r\n`);
      names = '';
    }
    names = names === '' ? name : `${names} ${name}`;
  }
  if (names !== '') lines.push(`${head}${names}\r\n`);
  lines.push(numeric(server, asker.nick, 'RPL_ENDOFNAMES', [channel]));
  return lines;
}

/** One 352 for a member (`H` here, `G` away); the hop count is 0: one server. */
export function whoReply(server: string, asker: string, channel: string, member: { readonly person: IrcPerson | null; readonly clientName: string; readonly joinId: number }): string {
  const person = member.person;
  const nick = person?.nick ?? member.clientName;
  const user = person?.user ?? 'lab';
  const host = person?.host ?? `lab/${member.joinId}`;
  const realname = person?.realname ?? member.clientName;
  return numeric(server, asker, 'RPL_WHOREPLY', [channel, user, host, server, nick, person?.away ? 'G' : 'H'], `0 ${realname}`);
}
