// The boot selector's choice of app tree and its trial bookkeeping, on real directories: a valid `current`
// is run, a broken one falls back to the packaged tree, a release on trial gets one start and is switched
// back at the next start when it has not confirmed, leaving the report for the old version.
import { mkdirSync, readlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseTree } from '../../../agent/update/boot.js';
import {
  compareVersions,
  readRolledBack,
  readTrial,
  switchCurrent,
  writeTrial,
} from '../../../agent/update/releases.js';
import { removeDir, tempDir } from '../../helpers/daemon.js';

const work = tempDir('boxagent-boot-');
afterAll(() => removeDir(work));
let n = 0;

function tree(dir: string, version: string): string {
  mkdirSync(join(dir, 'dist/agent/cli'), { recursive: true });
  writeFileSync(join(dir, 'dist/agent/cli/main.js'), '');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ version }));
  return dir;
}

function box(): { dir: string; own: string } {
  const base = join(work, `b${++n}`);
  const dir = join(base, 'releases');
  mkdirSync(dir, { recursive: true });
  return { dir, own: tree(join(base, 'app'), '1.0.0') };
}

describe('boot selector', () => {
  it('runs current when valid, else the packaged tree', () => {
    const { dir, own } = box();
    expect(chooseTree(dir, own, true)).toBe(own);
    const v2 = tree(join(dir, '2.0.0'), '2.0.0');
    switchCurrent(dir, v2);
    expect(readlinkSync(join(dir, 'current'))).toBe('2.0.0');
    expect(chooseTree(dir, own, true)).toBe(v2);
    // A release dir without its main script (a half-removed tree) is not run.
    switchCurrent(dir, tree(join(dir, '3.0.0'), '3.0.0'));
    removeDir(join(dir, '3.0.0', 'dist'));
    expect(chooseTree(dir, own, true)).toBe(own);
  });

  it('runs a newer packaged tree (installed with apt) over an older fleet release', () => {
    const { dir, own } = box();
    switchCurrent(dir, tree(join(dir, '0.9.0'), '0.9.0'));
    expect(chooseTree(dir, own, true)).toBe(own);
    expect(chooseTree(dir, own, false)).toBe(own);
  });

  it('gives a release on trial one start, then switches back to where it came from', () => {
    const { dir, own } = box();
    const v2 = tree(join(dir, '2.0.0'), '2.0.0');
    switchCurrent(dir, v2);
    const v3 = tree(join(dir, '3.0.0'), '3.0.0');
    writeTrial(dir, {
      updateId: 'upd-1',
      from: '2.0.0',
      fromTree: v2,
      to: '3.0.0',
      startedAt: new Date().toISOString(),
      attempts: 0,
      deadline: null,
      healthTimeoutSeconds: 3600,
    });
    switchCurrent(dir, v3);
    // A CLI command runs the selected tree without touching the trial.
    expect(chooseTree(dir, own, false)).toBe(v3);
    expect(readTrial(dir)?.attempts).toBe(0);
    expect(chooseTree(dir, own, true, Date.parse('2030-01-01T00:00:00Z'))).toBe(v3);
    expect(readTrial(dir)).toMatchObject({ attempts: 1, deadline: '2030-01-01T01:00:00.000Z' });
    // The start ended without confirming (a crash): the next start runs 2.0.0 and leaves the report.
    expect(chooseTree(dir, own, true)).toBe(v2);
    expect(readTrial(dir)).toBeUndefined();
    expect(readRolledBack(dir)).toMatchObject({
      updateId: 'upd-1',
      from: '2.0.0',
      to: '3.0.0',
      reasonCode: 'crashed',
    });
  });

  it('switches back to the packaged tree (no current) when the update came from it', () => {
    const { dir, own } = box();
    const v2 = tree(join(dir, '2.0.0'), '2.0.0');
    writeTrial(dir, {
      updateId: 'upd-2',
      from: '1.0.0',
      fromTree: own,
      to: '2.0.0',
      startedAt: new Date().toISOString(),
      attempts: 1,
      deadline: new Date().toISOString(),
      healthTimeoutSeconds: 10,
      failure: 'unhealthy',
    });
    switchCurrent(dir, v2);
    expect(chooseTree(dir, own, true)).toBe(own);
    expect(existsSync(join(dir, 'current'))).toBe(false);
    expect(readRolledBack(dir)?.reasonCode).toBe('unhealthy');
  });

  it('orders versions as semver does', () => {
    expect(compareVersions('0.10.0', '0.9.9')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0-rc.2', '1.0.0')).toBeLessThan(0);
    expect(compareVersions('1.0.0-rc.10', '1.0.0-rc.2')).toBeGreaterThan(0);
    expect(compareVersions('2.0.0', '2.0.0')).toBe(0);
  });
});
