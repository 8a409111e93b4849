import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RawClient, wire } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('start.sh', () => {
  it('builds on first run, serves the protocol, and exits 0 on KILL_SERVICE', async () => {
    const daemon = spawn('./start.sh', ['0', '--host', '127.0.0.1', '--student-id', 'from-start-sh'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
    const lines = createInterface({ input: daemon.stdout });
    const port = await new Promise<number>((resolve, reject) => {
      lines.on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'listening' && entry.port) resolve(entry.port);
      });
      void exited.then((code) => reject(new Error(`start.sh exited with ${code} before listening`)));
    });
    const client = await RawClient.connect(port);
    client.send('HELO from a test\n');
    expect(await client.read(wire.helo('from a test', port, 'from-start-sh'))).toBe(wire.helo('from a test', port, 'from-start-sh'));
    client.send('KILL_SERVICE\n');
    await client.closed;
    expect(await exited).toBe(0);
  }, 120_000);
});
