/**
 * IRC's names against the lab's. The door uses `CASEMAPPING=ascii`: only A–Z fold, so what a
 * client compares is what the server compares. Nicks are unique and short; channels are `#` and
 * the room's exact name, when that name can be a channel name at all.
 */

/** NICKLEN in ISUPPORT. */
export const NICK_LENGTH = 30;
/** CHANNELLEN in ISUPPORT: `#` and a room name of up to 64 code points, in bytes. */
export const CHANNEL_LENGTH = 1 + 64 * 4;

/** ASCII case folding: A–Z to a–z, nothing else. */
export function foldCase(name: string): string {
  return name.replace(/[A-Z]/g, (char) => char.toLowerCase());
}

// A nick: a letter or one of []\`_^{|} first, then those, digits and -.
const NICK = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;

/** Whether `nick` may be a nick here (432 ERR_ERRONEUSNICKNAME if not). */
export function isValidNick(nick: string): boolean {
  return nick.length > 0 && nick.length <= NICK_LENGTH && NICK.test(nick);
}

/**
 * A lab member's name as a nick other IRC users can address: characters a nick may not have become
 * `_`, a leading digit or `-` gets a `_` before it, cut to NICKLEN less room for a suffix. The
 * registry (one per node or cluster) adds a suffix when the result is taken.
 */
export function nickFromName(name: string, room = 4): string {
  let nick = '';
  for (const char of name) nick += /[A-Za-z0-9[\]\\`_^{|}-]/.test(char) ? char : '_';
  if (nick === '' || /^[0-9-]/.test(nick)) nick = `_${nick}`;
  return nick.slice(0, NICK_LENGTH - room);
}

/** A room whose name can be a channel: no space, comma, BEL, CR, LF or NUL (RFC 2812 chanstring). */
export function roomCanBeChannel(roomName: string): boolean {
  return roomName !== '' && !/[ ,\x07\r\n\0]/.test(roomName);
}

/** The channel of a room, or null when its name cannot be one (it is then not listed on IRC). */
export function channelOfRoom(roomName: string): string | null {
  return roomCanBeChannel(roomName) ? `#${roomName}` : null;
}

/** The room name a channel names, or null when it is not one of ours (`&x`, `+x`, or no name). */
export function roomOfChannel(channel: string): string | null {
  if (!channel.startsWith('#') || channel.length < 2) return null;
  const name = channel.slice(1);
  return roomCanBeChannel(name) ? name : null;
}
