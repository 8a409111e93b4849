// IRC lines for the chat page: parse what the server sends, build what the page sends. Pure.

const TAG_ESCAPES = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

function unescapeTag(value) {
  return value.replace(/\\(.?)/g, (_, c) => (c in TAG_ESCAPES ? TAG_ESCAPES[c] : c));
}

/** One line (no CR LF) as { tags, source, nick, command, params }; null for a blank line. */
export function parseLine(line) {
  let rest = line;
  const tags = {};
  if (rest.startsWith('@')) {
    const end = rest.indexOf(' ');
    if (end < 0) return null;
    for (const item of rest.slice(1, end).split(';')) {
      const eq = item.indexOf('=');
      if (eq < 0) tags[item] = '';
      else tags[item.slice(0, eq)] = unescapeTag(item.slice(eq + 1));
    }
    rest = rest.slice(end + 1).trimStart();
  }
  let source = null;
  if (rest.startsWith(':')) {
    const end = rest.indexOf(' ');
    if (end < 0) return null;
    source = rest.slice(1, end);
    rest = rest.slice(end + 1).trimStart();
  }
  const params = [];
  let command = '';
  while (rest !== '') {
    if (command !== '' && rest.startsWith(':')) {
      params.push(rest.slice(1));
      break;
    }
    const end = rest.indexOf(' ');
    const word = end < 0 ? rest : rest.slice(0, end);
    if (command === '') command = word.toUpperCase();
    else params.push(word);
    rest = end < 0 ? '' : rest.slice(end + 1).trimStart();
  }
  if (command === '') return null;
  const nick = source === null ? null : source.split('!')[0];
  return { tags, source, nick, command, params };
}

/** A command line; the last parameter is sent as trailing (it may hold spaces). */
export function buildLine(command, ...params) {
  if (params.length === 0) return command;
  const last = params[params.length - 1];
  const middle = params.slice(0, -1);
  return [command, ...middle, `:${last}`].join(' ');
}

/** IRC's CASEMAPPING=ascii: nicks and channels compare without ASCII case. */
export function fold(name) {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** A room name as the channel IRC knows it by; null when the name cannot be one. */
export function channelOf(room) {
  const name = room.startsWith('#') ? room.slice(1) : room;
  if (name === '' || /[\s,\x07]/.test(name)) return null;
  return `#${name}`;
}

const CTCP_ACTION = /^\x01ACTION (.*?)\x01?$/s;

/** A PRIVMSG's text, and whether it is an action (`/me`). */
export function readText(text) {
  const action = CTCP_ACTION.exec(text);
  // Formatting codes (bold, colours, …) are not drawn here: they are dropped.
  const plain = (action ? action[1] : text).replace(/\x03(\d{1,2}(,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g, '');
  return { text: plain, action: action !== null };
}

/** A user's line as PRIVMSGs: one per line of what they typed, none for blank lines. */
export function messageLines(target, text) {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '').map((line) => buildLine('PRIVMSG', target, line));
}
