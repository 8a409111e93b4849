import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const analyzer = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;
const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

describe('operations files', () => {
  it.runIf(analyzer)('the systemd unit passes systemd-analyze verify (installed where it says, here: this checkout)', () => {
    const unit = readFileSync(join(root, 'docs/ops/chat-server.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/opt\/actor-chat-server\/start\.sh$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^LimitNOFILE=\d+$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    const dir = mkdtempSync(join(tmpdir(), 'chat-unit-'));
    const path = join(dir, 'chat-server.service');
    // As installed: the unit's paths are this checkout's.
    writeFileSync(path, unit.replaceAll('/opt/actor-chat-server', root.replace(/\/$/, '')));
    const result = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr.trim() }).toEqual({ status: 0, stderr: '' });
  });

  it.runIf(promtool)('the example alert rules pass promtool check rules', () => {
    const result = spawnSync('promtool', ['check', 'rules', join(root, 'docs/ops/alerts.yml')], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('SUCCESS: 5 rules found');
  });
});
