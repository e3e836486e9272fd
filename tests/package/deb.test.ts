// The Debian package as an installer meets it: built by `npm run package`'s code from this tree, installed with
// apt into a throw-away Debian 12 (debootstrap minbase, never this machine), then doctor, the daemon started
// the way boxagent.service starts it, an upgrade to a second build keeping the state, remove and purge. lintian
// checks the archive. systemd cannot run as PID 1 in a chroot, so the daemon is started with the unit's own
// ExecStart, User, Group, UMask and Environment (read from the installed unit file) through setpriv; the
// enable link and the maintainer scripts' systemd branches are what can be checked without it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildResult } from '../../packaging/build-package.js';
import { freshDebianRoot, inRoot, runAsync, spawnInRoot, type RootProcess } from '../helpers/debian-root.js';
import { ROOT } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const MINUTE = 60_000;
const repoVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
/** The upgrade: the same tree built as the next patch version. */
const nextVersion = repoVersion.replace(
  /^(\d+)\.(\d+)\.(\d+).*$/,
  (_, a, b, c) => `${a}.${b}.${Number(c) + 1}`,
);

let out: string;
let first: BuildResult;
let second: BuildResult;
let root: { dir: string; remove: () => void };
let lintian: Promise<{ status: number | null; stdout: string; stderr: string }>;

/**
 * `npm run package`'s code in a child process (it blocks for a minute; the test runner must keep answering its
 * workers). gzip: the release default is xz, several minutes on a 2-core machine; the contents are the same.
 */
async function build(outDir: string, extra: string[] = []): Promise<BuildResult> {
  const r = await runAsync(
    [
      join(ROOT, 'node_modules/.bin/vite-node'),
      'packaging/main.ts',
      '--out',
      outDir,
      '--gzip',
      '--json',
      ...extra,
    ],
    { cwd: ROOT },
  );
  if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stderr.slice(-4000)}`);
  return JSON.parse(r.stdout) as BuildResult;
}

/** Runs argv in the root as root; fails the test with its output when it exits non-zero. */
async function run(command: string[], opts: { privateNet?: boolean } = {}): Promise<string> {
  const r = await inRoot(root.dir, command, opts);
  if (r.status !== 0) {
    throw new Error(
      `${command.join(' ')} exited ${r.status}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`,
    );
  }
  return r.stdout;
}

/** `stat` of a path in the root as "mode owner:group". */
async function statOf(path: string): Promise<string> {
  return (await run(['stat', '-c', '%a %U:%G', path])).trim();
}

/** The [Service] settings the daemon is started with, from the installed unit file. */
function unitSettings(): { execStart: string[]; user: string; group: string; umask: string; env: string[] } {
  const unit = readFileSync(join(root.dir, 'usr/lib/systemd/system/boxagent.service'), 'utf8');
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1]?.trim() ?? '';
  const all = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());
  return {
    execStart: value('ExecStart').split(/\s+/),
    user: value('User'),
    group: value('Group'),
    umask: value('UMask') || '0022',
    env: all('Environment'),
  };
}

/** Starts the daemon as boxagent.service would, in a private network namespace (loopback only). */
function startDaemon(): RootProcess {
  const u = unitSettings();
  const script = `umask ${u.umask}; exec "$@"`;
  return spawnInRoot(
    root.dir,
    [
      '/usr/bin/env',
      '-i',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin',
      `HOME=/var/lib/${u.user}`,
      `USER=${u.user}`,
      `LOGNAME=${u.user}`,
      ...u.env,
      '/usr/bin/setpriv',
      `--reuid=${u.user}`,
      `--regid=${u.group}`,
      '--init-groups',
      '--',
      '/bin/sh',
      '-c',
      script,
      'boxagent-unit',
      ...u.execStart,
    ],
    { privateNet: true },
  );
}

/** GET on the daemon's loopback port, from inside its network namespace (with this machine's node). */
function get(daemon: RootProcess, path: string, token: string): { status: number; body: unknown } {
  const script = `fetch('http://127.0.0.1:8620${path}', { headers: { authorization: 'Bearer ' + process.argv[1] } })
  .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.json().catch(() => null) })))
  .catch(() => console.log(JSON.stringify({ status: 0, body: null })));`;
  const pid = daemon.nsPid();
  if (pid === undefined) return { status: 0, body: null }; // not started yet
  const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', process.execPath, '-e', script, token], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`nsenter failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { status: number; body: unknown };
}

/** SIGTERM, as `systemctl stop` sends it; resolves with the exit code. */
async function stopDaemon(daemon: RootProcess): Promise<number | null> {
  await waitFor(
    'the daemon to be running',
    () => daemon.nsPid() !== undefined || daemon.proc.exitCode !== null,
  );
  const pid = daemon.nsPid();
  if (pid !== undefined) process.kill(pid, 'SIGTERM');
  return daemon.exited;
}

/** Runs a command as the service user (as an installer does with `sudo -u boxagent`). */
function asServiceUser(command: string[]): Promise<string> {
  return run(['setpriv', '--reuid=boxagent', '--regid=boxagent', '--init-groups', '--', ...command]);
}

/** "VERSION STATUS", e.g. "0.1.0-1 ii" (installed) or "0.1.0-1 rc" (removed, config files left). */
async function installedVersion(): Promise<string> {
  return (await run(['dpkg-query', '-W', '-f', '${Version} ${db:Status-Abbrev}', 'boxagent'])).trim();
}

describe('the Debian package in a throw-away Debian 12 root', () => {
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'boxagent-deb-'));
    // The root is made while the packages build; lintian reads the first one while the second builds.
    const made = freshDebianRoot();
    first = await build(join(out, 'first'));
    lintian = runAsync(['lintian', '--no-tag-display-limit', first.deb]);
    second = await build(join(out, 'second'), ['--version', nextVersion, '--no-tarball']);
    root = await made;
    for (const b of [first, second]) copyFileSync(b.deb, join(root.dir, 'tmp', basename(b.deb)));
  }, 15 * MINUTE);

  afterAll(() => {
    root?.remove();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it(
    'is named and versioned as LAYOUT.md says, with the release tarball beside it',
    () => {
      expect(basename(first.deb)).toBe(`boxagent_${repoVersion}-1_amd64.deb`);
      expect(basename(first.tarball ?? '')).toBe(`boxagent-${repoVersion}-linux-amd64.tar.gz`);
      // The tarball's root is the app tree's contents: package.json at the top, no leading folder.
      const list = spawnSync('tar', ['-tzf', first.tarball ?? ''], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      }).stdout;
      expect(list.split('\n')).toEqual(expect.arrayContaining(['package.json', 'dist/agent/cli/main.js']));
      const control = spawnSync('dpkg-deb', ['--field', first.deb], { encoding: 'utf8' }).stdout;
      expect(control).toMatch(/^Depends: .*libc6 \(>= [\d.]+\).*adduser/m);
      expect(control).toMatch(/^Installed-Size: \d+$/m);
      expect(spawnSync('dpkg-deb', ['--ctrl-tarfile', first.deb]).status).toBe(0);
    },
    MINUTE,
  );

  it(
    'installs with apt from the root’s own Debian mirror: user, groups, modes, unit enabled',
    async () => {
      // --no-install-recommends: ffmpeg (Recommends) is for boxes with a camera and pulls in ~150 packages.
      await run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', `/tmp/${basename(first.deb)}`]);
      expect(await installedVersion()).toBe(`${repoVersion}-1 ii`);
      expect((await run(['id', '-nG', 'boxagent'])).trim().split(' ').sort()).toEqual(
        ['boxagent', 'dialout', 'lp', 'plugdev', 'video'].sort(),
      );
      expect(await statOf('/etc/boxagent')).toBe('750 root:boxagent');
      expect(await statOf('/etc/boxagent/config.yaml')).toBe('640 root:boxagent');
      expect(await statOf('/var/lib/boxagent')).toBe('700 boxagent:boxagent');
      // deb-systemd-helper makes the link without a running systemd (it names the unit by /lib or /usr/lib).
      expect(
        (await run(['readlink', '/etc/systemd/system/multi-user.target.wants/boxagent.service'])).trim(),
      ).toMatch(/^(?:\/usr)?\/lib\/systemd\/system\/boxagent\.service$/);
      expect((await run(['boxagent', '--version'])).trim()).toBe(repoVersion);
      // The runtime is the packaged Node, not Debian's (none is installed here).
      expect((await run(['sh', '-c', 'command -v node || echo none'])).trim()).toBe('none');
    },
    5 * MINUTE,
  );

  it(
    'doctor runs and reports the config and state checks',
    async () => {
      const r = await inRoot(root.dir, ['boxagent', 'doctor', '--json']);
      // Its verdict depends on what a chroot lacks (no running service, no udev): only that it ran and checked.
      expect(r.stderr).not.toMatch(/Error: Cannot find module|ERR_DLOPEN_FAILED/);
      const checks = JSON.parse(r.stdout) as { check: string; verdict: string }[];
      const byName = new Map(checks.map((c) => [c.check, c.verdict]));
      expect(byName.get('config')).toBe('ok');
      expect(byName.get('state dir')).toBe('ok');
      expect(byName.get('face models')).toBe('ok');
    },
    MINUTE,
  );

  let token = '';

  it(
    'starts as the unit starts it, answers on the API, stops cleanly',
    async () => {
      const daemon = startDaemon();
      try {
        await waitFor(
          'the admin token of the first start',
          () => existsSync(join(root.dir, 'var/lib/boxagent/admin.token')) || daemon.proc.exitCode !== null,
          60_000,
        );
        expect(daemon.proc.exitCode, daemon.output()).toBeNull();
        const admin = readFileSync(join(root.dir, 'var/lib/boxagent/admin.token'), 'utf8').trim();
        let health = { status: 0, body: null as unknown };
        await waitFor(
          'GET /v1/health',
          () => {
            health = get(daemon, '/v1/health', admin);
            return health.status === 200 || daemon.proc.exitCode !== null;
          },
          60_000,
        );
        expect(health.status, daemon.output()).toBe(200);
        expect(health.body).toMatchObject({ status: 'ready' });
      } finally {
        expect(await stopDaemon(daemon), daemon.output()).toBe(0);
      }
      expect(await statOf('/var/lib/boxagent/state.db')).toMatch(/^6[04]0 boxagent:boxagent$/);
      // A token made before the upgrade, by the installer as the service user.
      const created = JSON.parse(
        await asServiceUser([
          'boxagent',
          'token',
          'create',
          '--name',
          'counter-app',
          '--scopes',
          'read',
          '--json',
        ]),
      ) as { token: string };
      token = created.token;
      expect(token).not.toBe('');
    },
    3 * MINUTE,
  );

  it(
    'upgrades to a second build with a higher version; state and config are kept',
    async () => {
      const configBefore = readFileSync(join(root.dir, 'etc/boxagent/config.yaml'), 'utf8');
      await run(['dpkg', '-i', `/tmp/${basename(second.deb)}`]);
      expect(await installedVersion()).toBe(`${nextVersion}-1 ii`);
      expect((await run(['boxagent', '--version'])).trim()).toBe(nextVersion);
      expect(readFileSync(join(root.dir, 'etc/boxagent/config.yaml'), 'utf8')).toBe(configBefore);
      expect(await statOf('/etc/boxagent/config.yaml')).toBe('640 root:boxagent');
      const daemon = startDaemon();
      try {
        let devices = { status: 0, body: null as unknown };
        await waitFor(
          'GET /v1/devices with the token made before the upgrade',
          () => {
            devices = get(daemon, '/v1/devices', token);
            return devices.status === 200 || daemon.proc.exitCode !== null;
          },
          60_000,
        );
        expect(devices.status, daemon.output()).toBe(200);
      } finally {
        expect(await stopDaemon(daemon), daemon.output()).toBe(0);
      }
    },
    3 * MINUTE,
  );

  it(
    'remove keeps the state and the config; purge deletes both and keeps the user',
    async () => {
      await run(['dpkg', '-r', 'boxagent']);
      expect(await installedVersion()).toBe(`${nextVersion}-1 rc`);
      expect(existsSync(join(root.dir, 'usr/bin/boxagent'))).toBe(false);
      expect(existsSync(join(root.dir, 'usr/lib/boxagent'))).toBe(false);
      expect(existsSync(join(root.dir, 'var/lib/boxagent/state.db'))).toBe(true);
      expect(existsSync(join(root.dir, 'etc/boxagent/config.yaml'))).toBe(true);

      await run(['dpkg', '-P', 'boxagent']);
      expect((await inRoot(root.dir, ['dpkg-query', '-W', 'boxagent'])).status).not.toBe(0);
      expect(existsSync(join(root.dir, 'var/lib/boxagent'))).toBe(false);
      expect(existsSync(join(root.dir, 'etc/boxagent'))).toBe(false);
      expect((await inRoot(root.dir, ['dpkg-statoverride', '--list'])).stdout).not.toMatch(/boxagent/);
      // Kept on purpose (docs/packaging.md): files it owned may survive elsewhere, e.g. backups.
      expect(await run(['getent', 'passwd', 'boxagent'])).toMatch(/^boxagent:/);
    },
    3 * MINUTE,
  );

  it(
    'lintian reports no errors',
    async () => {
      const { stdout: output } = await lintian;
      const errors = output.split('\n').filter((l) => l.startsWith('E: '));
      expect(errors).toEqual([]);
      expect(output).toMatch(/^W: boxagent: /m); // it really ran on the package (a few warnings stay)
    },
    5 * MINUTE,
  );
});
