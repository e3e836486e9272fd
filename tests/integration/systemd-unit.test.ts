// The shipped unit checked by systemd's own tools (Debian's systemd package; a missing tool fails the test).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, ROOT, tempDir } from '../helpers/daemon.js';

const dir = tempDir();
afterAll(() => removeDir(dir));

/** The unit as shipped, except ExecStart: /usr/bin/boxagent is not installed on a test machine. */
function unitCopy(): string {
  const text = readFileSync(join(ROOT, 'systemd/boxagent.service'), 'utf8');
  expect(text).toMatch(/^ExecStart=\/usr\/bin\/boxagent run /m);
  const file = join(dir, 'boxagent.service');
  writeFileSync(file, text.replace(/^ExecStart=\/usr\/bin\/boxagent /m, 'ExecStart=/bin/true '));
  return file;
}

describe('systemd/boxagent.service', () => {
  it('passes systemd-analyze verify', () => {
    const r = spawnSync('systemd-analyze', ['verify', unitCopy()], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('is hardened: systemd-analyze security rates its exposure OK or better', () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', unitCopy()], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    const m = /Overall exposure level for boxagent\.service: ([\d.]+) (\w+)/.exec(r.stdout);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m?.[1])).toBeLessThanOrEqual(4.0);
  });
});
