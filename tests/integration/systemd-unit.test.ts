// The shipped unit checked by systemd's own tools (Debian's systemd package; a missing tool fails the test).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceAllowClass, scanDevices } from '../../agent/cli/device-scan.js';
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

  it('allows every device class that `devices scan` offers', () => {
    // No such hardware here: a sysfs tree with one node of each kind the scan knows (the only mock).
    const root = join(dir, 'sysroot');
    const node = (cls: string, name: string, files: Record<string, string> = {}): void => {
      const real = join(root, 'sys/devices/fake', cls, name);
      mkdirSync(join(real, 'driver'), { recursive: true });
      for (const [f, text] of Object.entries(files)) writeFileSync(join(real, f), text);
      mkdirSync(join(root, 'sys/class', cls, name), { recursive: true });
      symlinkSync(real, join(root, 'sys/class', cls, name, 'device'));
    };
    for (const tty of ['ttyUSB0', 'ttyACM0', 'ttyS0']) node('tty', tty);
    node('usbmisc', 'lp0');
    node('printer', 'lp0');
    node('hidraw', 'hidraw0');
    node('video4linux', 'video0');
    const found = scanDevices(root);
    expect(new Set(found.map((d) => d.class))).toEqual(
      new Set(['serial', 'usb-printer', 'parallel-printer', 'hid', 'video']),
    );
    const unit = readFileSync(join(ROOT, 'systemd/boxagent.service'), 'utf8');
    const allowed = [...unit.matchAll(/^DeviceAllow=(\S+) rw$/gm)].map((m) => m[1]);
    for (const d of found) {
      const cls = deviceAllowClass(d.node);
      expect(cls, `${d.node} has no DeviceAllow class`).toBeDefined();
      expect(allowed, `${d.node} (${cls}) is not allowed by the unit`).toContain(cls);
    }
  });
});
