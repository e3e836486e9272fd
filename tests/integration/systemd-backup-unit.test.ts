// The scheduled-backup unit and timer checked by systemd's own tools, like the daemon's unit
// (systemd-unit.test.ts): both verify clean, and the oneshot service is hardened.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, ROOT, tempDir } from '../helpers/daemon.js';

const dir = tempDir();
afterAll(() => removeDir(dir));

/** The units as shipped, except ExecStart: /usr/bin/boxagent is not installed on a test machine. */
function unitCopies(): { service: string; timer: string } {
  const text = readFileSync(join(ROOT, 'systemd/boxagent-backup.service'), 'utf8');
  expect(text).toMatch(/^ExecStart=\/usr\/bin\/boxagent backup scheduled /m);
  const service = join(dir, 'boxagent-backup.service');
  writeFileSync(service, text.replace(/^ExecStart=\/usr\/bin\/boxagent /m, 'ExecStart=/bin/true '));
  const timer = join(dir, 'boxagent-backup.timer');
  copyFileSync(join(ROOT, 'systemd/boxagent-backup.timer'), timer);
  return { service, timer };
}

describe('systemd/boxagent-backup.service and .timer', () => {
  it('pass systemd-analyze verify', () => {
    const { service, timer } = unitCopies();
    const r = spawnSync('systemd-analyze', ['verify', service, timer], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the service is hardened: systemd-analyze security rates its exposure OK or better', () => {
    const { service } = unitCopies();
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', service], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    const m = /Overall exposure level for boxagent-backup\.service: ([\d.]+) (\w+)/.exec(r.stdout);
    expect(m, r.stdout + r.stderr).not.toBeNull();
    expect(Number(m?.[1])).toBeLessThanOrEqual(4.0);
  });

  it('the timer runs daily and catches up after a box was off', () => {
    const text = readFileSync(join(ROOT, 'systemd/boxagent-backup.timer'), 'utf8');
    expect(text).toMatch(/^OnCalendar=daily$/m);
    expect(text).toMatch(/^Persistent=true$/m);
  });
});
