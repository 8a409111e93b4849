import { lstat, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminLocationError } from '../errors.js';

export { AdminLocationError } from '../errors.js';

/**
 * Where the admin socket lives, and the checks that keep another local user from standing in for
 * the daemon. The socket's own mode (0600) keeps others from connecting; these keep others from
 * listening in its place: in a shared temp directory anyone can bind a path first.
 */


/** This process's uid; undefined where the platform has none (Windows), and no owner is checked. */
const ownUid = (): number | undefined => process.getuid?.();

/**
 * `$XDG_RUNTIME_DIR/chat-server` (that directory is already the user's own, mode 0700), else
 * `<temp>/chat-server-<uid>`: one per user, like tmux's `/tmp/tmux-<uid>`, so users never share it.
 */
export function defaultAdminDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'chat-server');
  const uid = ownUid();
  return join(tmpdir(), uid === undefined ? 'chat-server' : `chat-server-${uid}`);
}

/** The default admin socket of the daemon listening on `port`. */
export function defaultAdminPath(port: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultAdminDirectory(env), `${port}.sock`);
}

/**
 * Creates the directory (mode 0700) if missing, then checks it as tmux checks its socket
 * directory: a real directory (not a symlink), owned by this user, no group or other bits. One
 * that fails is refused, never repaired: whoever made it may already have put a socket in it.
 */
export async function ensurePrivateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const stat = await lstat(dir);
  const uid = ownUid();
  if (!stat.isDirectory()) throw new AdminLocationError(`admin socket directory ${dir} is not a directory${stat.isSymbolicLink() ? ' (a symlink)' : ''}: refusing it`);
  if (uid !== undefined && stat.uid !== uid) throw new AdminLocationError(`admin socket directory ${dir} is owned by uid ${stat.uid}, not by this user (uid ${uid}): refusing it`);
  if (uid !== undefined && (stat.mode & 0o077) !== 0) {
    throw new AdminLocationError(`admin socket directory ${dir} has mode ${octal(stat.mode)}, open to other users: refusing it (chmod 700 it, or remove it)`);
  }
}

/**
 * Before `dump` talks to a socket: it must be a socket owned by this user or root. A socket
 * another user made (squatting the path before the daemon started) would answer with whatever
 * figures that user likes. A missing path is left for the connect to report.
 */
export async function checkAdminSocket(path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (!stat) return;
  if (!stat.isSocket()) throw new AdminLocationError(`${path} is not a socket`);
  const uid = ownUid();
  if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
    throw new AdminLocationError(`${path} is owned by uid ${stat.uid}, not by you (uid ${uid}) or root: not asking it`);
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
