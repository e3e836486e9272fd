// `boxagent logs` as a process. There is no journald in CI, so a stand-in `journalctl` on PATH (a shell
// script, the only mock here) records the argv it was given and prints a journal in `-o json` shape around
// lines the daemon's real logger wrote.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../agent/log.js';
import { removeDir, runCli, tempDir } from '../helpers/daemon.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function scratch(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

function fakeJournalctl(dir: string, journal: string): void {
  writeFileSync(join(dir, 'journal.json'), journal);
  const script = join(dir, 'journalctl');
  writeFileSync(
    script,
    `#!/bin/sh\nprintf '%s\\n' "$@" > "${join(dir, 'argv')}"\ncat "${join(dir, 'journal.json')}"\n`,
  );
  chmodSync(script, 0o755);
}

describe('boxagent logs', () => {
  const lines: string[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(s.trimEnd()) });
  log.child({ component: 'http' }).info({ port: 8620 }, 'listening');
  log.child({ component: 'devices' }).error({ deviceId: 'seal-1' }, 'device failed');
  const journal = [
    ...lines.map((l) =>
      JSON.stringify({ __REALTIME_TIMESTAMP: '1780000000000000', PRIORITY: '6', MESSAGE: l }),
    ),
    JSON.stringify({
      __REALTIME_TIMESTAMP: '1780000001000000',
      PRIORITY: '6',
      SYSLOG_IDENTIFIER: 'systemd',
      MESSAGE: 'Stopped boxagent.service',
    }),
  ].join('\n');

  it('prints readable lines and runs journalctl for the unit with the options given', () => {
    const dir = scratch();
    fakeJournalctl(dir, journal);
    const r = runCli(['logs', '--since', 'today', '-n', '20'], { PATH: `${dir}:/usr/bin:/bin` });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split('\n');
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}http listening port=8620$/);
    expect(out[1]).toMatch(/ ERROR devices device failed deviceId=seal-1$/);
    expect(out[2]).toBe('2026-05-28T20:26:41.000Z INFO  systemd Stopped boxagent.service');
    expect(readFileSync(join(dir, 'argv'), 'utf8').trim().split('\n')).toEqual([
      '-u',
      'boxagent',
      '-o',
      'json',
      '--no-pager',
      '--since',
      'today',
      '-n',
      '20',
    ]);
  });

  it('--json prints only JSON lines, the daemon lines as logged', () => {
    const dir = scratch();
    fakeJournalctl(dir, journal);
    const r = runCli(['logs', '--json'], { PATH: `${dir}:/usr/bin:/bin` });
    expect(r.status).toBe(0);
    const out = r.stdout.trim().split('\n');
    expect(out.slice(0, 2)).toEqual(lines);
    expect(out.map((l) => JSON.parse(l) as { msg: string }).map((o) => o.msg)).toEqual([
      'listening',
      'device failed',
      'Stopped boxagent.service',
    ]);
  });

  it('says so in one line and exits non-zero when there is no journalctl', () => {
    const dir = scratch();
    const r = runCli(['logs'], { PATH: dir });
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('boxagent: journalctl not found: boxagent logs reads the systemd journal\n');
    expect(r.status).toBe(69);
  });
});
