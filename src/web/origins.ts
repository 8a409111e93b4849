import { OptionError } from '../option-error.js';

/**
 * Which pages may open the web door's WebSocket. Browsers send every WebSocket handshake with the
 * page's Origin and let any page connect anywhere, so without this check any site a user visits
 * could chat in their name from their browser (cross-site WebSocket hijacking). Programs that are
 * not browsers send no Origin and are let in: they could claim any Origin anyway.
 */
export type OriginPolicy =
  /** Only the door's own page: the Origin's host and port are the ones the request was sent to. */
  | { readonly kind: 'same' }
  | { readonly kind: 'any' }
  /** These origins (scheme://host[:port], lower-cased, default ports left out), and the door's own page. */
  | { readonly kind: 'listed'; readonly origins: ReadonlySet<string> };

/** `--web-origins`: absent → same origin only; `*` → any; else a comma-separated list of origins. */
export function parseOrigins(text: string | undefined): OriginPolicy {
  if (text === undefined || text.trim() === '') return { kind: 'same' };
  if (text.trim() === '*') return { kind: 'any' };
  const origins = new Set<string>();
  for (const item of text.split(',')) {
    const origin = normalOrigin(item.trim());
    if (origin === null) throw new OptionError(`--web-origins takes origins like https://chat.example.org (or *), got "${item.trim()}"`);
    origins.add(origin);
  }
  return { kind: 'listed', origins };
}

/** An origin as browsers send it (`https://host:port`, no path), or null when it is not one. */
function normalOrigin(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') return null;
  // URL drops a scheme's default port and lower-cases the host: the form to compare.
  return url.origin;
}

/**
 * Whether a handshake may go on. `origin`: its Origin header (undefined when it sent none);
 * `host`: its Host header, the address the browser was told to reach.
 */
export function originAllowed(policy: OriginPolicy, origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (policy.kind === 'any') return true;
  const normal = normalOrigin(origin);
  if (normal === null) return false;
  if (policy.kind === 'listed' && policy.origins.has(normal)) return true;
  return host !== undefined && new URL(normal).host === hostOf(host);
}

/** A Host header as URL writes hosts: lower-cased, a scheme's default port left out. */
function hostOf(host: string): string {
  try {
    const url = new URL(`http://${host}`);
    return url.host;
  } catch {
    return '';
  }
}
