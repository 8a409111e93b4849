import { execFile, spawn } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** What a clone holds before anything is built: no dist/. */
const CLONED = ['src', 'actors', 'bench', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'start.sh'];

let dir: string;
let clone: string;
let prefix: string;
/** A directory ahead on the commands' PATH whose `npm` notes each run in `npmRuns`, then runs the real one. */
let spyBin: string;
let npmRuns: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-install-'));
  clone = join(dir, 'clone');
  prefix = join(dir, 'prefix');
  await mkdir(clone);
  for (const entry of CLONED) await cp(join(root, entry), join(clone, entry), { recursive: true, preserveTimestamps: true });
  // Installed dependencies without the network: a node_modules of links to this checkout's, and an
  // install record newer than the lockfile, so start.sh does not run `npm ci` (which would need the
  // registry). Links, not one link to the directory: nothing done in the copy reaches the original.
  const modules = join(clone, 'node_modules');
  await mkdir(modules);
  for (const entry of await readdir(join(root, 'node_modules'))) {
    if (entry !== '.package-lock.json') await symlink(join(root, 'node_modules', entry), join(modules, entry));
  }
  await copyFile(join(root, 'node_modules', '.package-lock.json'), join(modules, '.package-lock.json'));
  spyBin = join(dir, 'spy-bin');
  npmRuns = join(dir, 'npm-runs');
  await mkdir(spyBin);
  const realNpm = (await run('sh', ['-c', 'command -v npm'])).stdout.trim();
  await writeFile(join(spyBin, 'npm'), `#!/bin/sh\necho "$*" >> '${npmRuns}'\nexec '${realNpm}' "$@"\n`, { mode: 0o755 });
  // A folder install links the folder: it neither builds nor installs anything (offline, no registry).
  await run('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', clone], { cwd: dir });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs an installed command in `cwd` with `input` on stdin; resolves with its output and status. */
function installed(command: string, args: string[], input: string, cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(prefix, 'bin', command), args, { cwd, env: { ...process.env, NO_COLOR: '', PATH: `${spyBin}:${process.env.PATH ?? ''}` } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (error) => resolve({ status: null, stdout, stderr: String(error) }));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('npm install -g from a clone', () => {
  it("installs chat-client and chat-server that work at once: the README's piped example, then dump", async () => {
    const server = await startServer({ admin: join(dir, 'admin.sock') });
    // First use builds (output on stderr); stdout is the session's alone. Two commands started at
    // once on the fresh clone: one builds while the other waits for it, and both work.
    const [piped, help] = await Promise.all([
      installed('chat-client', ['--port', String(server.port), '--name', 'robot'], '/join lobby\nhello from a script\n', dir),
      installed('chat-server', ['--help'], '', dir),
    ]);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: chat-server/);
    expect((await readFile(npmRuns, 'utf8')).split('\n').filter((line) => line.startsWith('run') && line.includes('build'))).toHaveLength(1);
    expect(piped.stdout, piped.stderr).toBe('* robot joined lobby\n[lobby] robot: hello from a script\n* robot left lobby\n');
    expect(piped.status).toBe(0);
    // Built now. A relative path means the caller's directory, not the clone's.
    const dump = await installed('chat-server', ['dump', '--socket', 'admin.sock', '--json'], '', dir);
    expect(dump.stderr).toBe('');
    expect((JSON.parse(dump.stdout) as { server: { address: { port: number } } }).server.address.port).toBe(server.port);
  }, 180_000);
});
