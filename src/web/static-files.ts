import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/** The chat page's files, by path, with their types: hand-written, no build step. */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/irc.js': { file: 'irc.js', type: 'text/javascript; charset=utf-8' },
  '/view.js': { file: 'view.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/**
 * The page's folder: beside this file when run from the sources (tests), and under `src/` from
 * the compiled `dist/src/web/` (the package ships `src/web/page`).
 */
function pageDirectory(): string {
  const beside = fileURLToPath(new URL('./page/', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../../src/web/page/', import.meta.url));
}

interface PageFile {
  readonly body: Buffer;
  readonly type: string;
}

/** Read once, when the door opens: a handful of small files, served from memory. */
export function loadPage(): ReadonlyMap<string, PageFile> {
  const directory = pageDirectory();
  const files = new Map<string, PageFile>();
  for (const [path, { file, type }] of Object.entries(FILES)) files.set(path, { body: readFileSync(directory + file), type });
  return files;
}

/**
 * What every answer carries: the page runs only its own scripts and styles and talks only to its
 * own host (a message shown as HTML could run nothing), is not framed, and leaks no referrer.
 */
function securityHeaders(host: string | undefined): Record<string, string> {
  // 'self' covers ws: and wss: to the page's host in current browsers; named too for older ones.
  const socket = host !== undefined && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return {
    'Content-Security-Policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'${socket}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  };
}

/** An HTTP request to the web door: the page's files (GET, HEAD), else 404 or 405. */
export function servePage(files: ReadonlyMap<string, PageFile>, request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? '/').split('?')[0]!;
  const headers = securityHeaders(request.headers.host);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { ...headers, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  const file = files.get(path);
  if (!file) {
    response.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  response.writeHead(200, { ...headers, 'Content-Type': file.type, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache' });
  response.end(request.method === 'HEAD' ? undefined : file.body);
}
