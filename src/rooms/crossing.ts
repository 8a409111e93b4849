/**
 * Text crossing between the doors: what one side says, cleaned for the other. Pure.
 *
 * IRC → lab: a CTCP ACTION (`/me waves`) becomes `* nick waves`; other CTCP lose their markers;
 * IRC formatting (bold, colours, italics, …) is removed, so lab clients see the words only.
 * Lab → IRC: a multi-line message becomes one line each; CR and NUL, which no IRC line may carry,
 * are removed.
 */

const CTCP = '\x01';
// Bold, colour (with its optional fg[,bg]), hex colour, reset, monospace, reverse, italic, strike, underline.
const FORMATTING = /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9A-Fa-f]{6}(?:,[0-9A-Fa-f]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;

/** An IRC user's line as a lab member reads it. */
export function labTextOfIrc(nick: string, text: string): string {
  if (text.startsWith(CTCP)) {
    const body = text.slice(1, text.endsWith(CTCP) && text.length > 1 ? -1 : undefined);
    if (body.startsWith('ACTION ')) return `* ${nick} ${stripFormatting(body.slice('ACTION '.length))}`;
    if (body === 'ACTION') return `* ${nick}`;
    return stripFormatting(body);
  }
  return stripFormatting(text);
}

export function stripFormatting(text: string): string {
  return text.includes('\x01') || /[\x02-\x04\x0f\x11\x16\x1d-\x1f]/.test(text) ? text.replace(FORMATTING, '').replaceAll(CTCP, '') : text;
}

/** A lab message as IRC lines: one per line of the message, without CR or NUL. */
export function ircLinesOfLab(text: string): string[] {
  const clean = /[\r\0]/.test(text) ? text.replace(/[\r\0]/g, '') : text;
  return clean.split('\n');
}
