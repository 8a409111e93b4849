import type { IrcPerson } from '../rooms/door.js';
import { foldCase } from './names.js';

/**
 * WHOX and LIST's extended conditions (ISUPPORT `WHOX`, `ELIST=MNU`): pure helpers over what a
 * WHO or LIST already found.
 */

/** WHOX fields, in the order a 354 carries them whatever order they were asked in. */
const WHOX_ORDER = 'tcuihsnfdlaor';

/** A WHO's `%fields[,token]`, or null when the WHO has none (a plain 352 reply). */
export function whoxSpec(param: string | undefined): { fields: string; token: string } | null {
  if (!param?.startsWith('%')) return null;
  const [fields = '', token = ''] = param.slice(1).split(',', 2);
  return { fields: [...WHOX_ORDER].filter((field) => fields.includes(field)).join(''), token: token.slice(0, 3) };
}

/** One 354's parameters (after the asker's nick) for `person` seen in `channel`. */
export function whoxParams(spec: { fields: string; token: string }, server: string, channel: string, person: IrcPerson): string[] {
  const params: string[] = [];
  for (const field of spec.fields) {
    switch (field) {
      case 't': params.push(spec.token || '0'); break;
      case 'c': params.push(channel); break;
      case 'u': params.push(person.user); break;
      case 'i': params.push(person.family === 'lab' ? '255.255.255.255' : person.host.replace(/^0:/, ':')); break;
      case 'h': params.push(person.host); break;
      case 's': params.push(server); break;
      case 'n': params.push(person.nick); break;
      case 'f': params.push(person.away ? 'G' : 'H'); break;
      case 'd': params.push('0'); break;
      case 'l': params.push('0'); break;
      // No accounts here.
      case 'a': params.push('0'); break;
      case 'o': params.push('n/a'); break;
      case 'r': params.push(person.realname); break;
    }
  }
  return params;
}

/** A mask (`*`, `?`) as a pattern over ASCII-folded names. */
export function maskPattern(mask: string): RegExp {
  const source = foldCase(mask).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/**
 * LIST's conditions (ELIST M, N, U): `#c*n` names that match, `!#c*n` names that do not, `>N` and
 * `<N` more or fewer users. Null when `arg` is a plain channel list (LIST asks for those by name).
 */
export function listCondition(arg: string | undefined): ((channel: string, users: number) => boolean) | null {
  if (!arg) return null;
  const conditions = arg.split(',').map((item): ((channel: string, users: number) => boolean) | null => {
    if (/^>\d+$/.test(item)) return (_, users) => users > Number(item.slice(1));
    if (/^<\d+$/.test(item)) return (_, users) => users < Number(item.slice(1));
    if (item.startsWith('!')) {
      const pattern = maskPattern(item.slice(1));
      return (channel) => !pattern.test(foldCase(channel));
    }
    if (/[*?]/.test(item)) {
      const pattern = maskPattern(item);
      return (channel) => pattern.test(foldCase(channel));
    }
    return null;
  });
  if (conditions.some((condition) => condition === null)) return null;
  return (channel, users) => conditions.every((condition) => condition!(channel, users));
}
