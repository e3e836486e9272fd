// The installer's path as root, as on a box: a throw-away system user stands in for `boxagent` (named by
// storage.owner), the CLI runs as root, and the daemon runs as that user through setpriv, as systemd's User=
// would run it. Then doctor, run as root, finds what would stop that user: an unreadable config, a root-owned
// state.db, an inactive service, a device in backoff.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postJson,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

interface Check {
  check: string;
  verdict: string;
  detail: string;
  fix?: string;
}

const USER = `bxa-t${process.pid % 100_000}`;
let uid: number;
let gid: number;
const dirs: string[] = [];

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout.trim();
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (useradd, chown, setpriv), as CI has');
  sh('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  uid = Number(sh('id', ['-u', USER]));
  gid = Number(sh('id', ['-g', USER]));
});

afterAll(() => {
  dirs.forEach(removeDir);
  spawnSync('userdel', [USER]);
});

/**
 * A box layout in a scratch folder the service user can reach: `etc/config.yaml` (written by the CLI) and
 * `state/`, made for the user the way tmpfiles.d makes /var/lib/boxagent (0700, owned by it).
 */
function box(): { dir: string; state: string; file: string; env: Record<string, string> } {
  const dir = tempDir();
  dirs.push(dir);
  chmodSync(dir, 0o755);
  const state = join(dir, 'state');
  mkdirSync(state, { mode: 0o700 });
  chownSync(state, uid, gid);
  mkdirSync(join(dir, 'etc'));
  const file = join(dir, 'etc/config.yaml');
  const env = testEnv(state, { BOXAGENT_CONFIG: file });
  delete env.BOXAGENT_STORAGE_DIR; // the file says where the state is
  const init = runCli(
    [
      ...['config', 'init', '--non-interactive', '--box-id', 'village-1', '--storage-dir', state],
      ...['--device', 'printer-1:printer:simulated'],
    ],
    env,
  );
  expect(init.status, init.stderr).toBe(0);
  const set = runCli(['config', 'set', 'storage.owner', USER], env);
  expect(set.status, set.stderr).toBe(0);
  expect(runCli(['config', 'set', 'face.enabled', 'false'], env).status).toBe(0);
  return { dir, state, file, env };
}

function doctor(env: Record<string, string>): { status: number | null; checks: Map<string, Check> } {
  const r = runCli(['doctor', '--json'], env);
  const checks = JSON.parse(r.stdout) as Check[];
  return { status: r.status, checks: new Map(checks.map((c) => [c.check, c])) };
}

/** Every path under `dir`, with its owner. */
function owners(dir: string): { path: string; uid: number }[] {
  const all = [{ path: dir, uid: statSync(dir).uid }];
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    all.push({ path, uid: statSync(path).uid });
  }
  return all;
}

describe('the CLI run as root', () => {
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.stop();
  });

  it('writes the config root:<service group> 0640 and leaves the state to the service user, who can then write it', async () => {
    const { state, file, env } = box();
    const st = statSync(file);
    expect({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o777).toString(8) }).toEqual({
      uid: 0,
      gid,
      mode: '640',
    });

    // Before the first start, as the README's installer does: a token for the counter software.
    const created = runCli(['token', 'create', '--name', 'counter-app', '--scopes', 'read,print'], env);
    expect(created.status, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const made = owners(state);
    expect(made.map((o) => o.path)).toContain(join(state, 'state.db'));
    expect(made.filter((o) => o.uid !== uid)).toEqual([]);

    // The daemon as the service user: it opens that state and writes to it (no "readonly database").
    daemon = await startDaemon({
      config: file,
      storageDir: state,
      env: { BOXAGENT_CONFIG: file },
      user: { uid, gid },
    });
    const submitted = await daemon.fetch(
      '/v1/print-jobs',
      postJson({ printer: 'printer-1', document: { page: { size: 'A4' }, items: [] } }),
    );
    expect(submitted.status, await submitted.clone().text()).toBe(202);
    const job = (await submitted.json()) as { id: string };
    await waitFor(
      'the job printed',
      async () => {
        const r = await daemon!.fetch(`/v1/print-jobs/${job.id}`, { token });
        return ((await r.json()) as { state: string }).state === 'done';
      },
      15_000,
    );
    expect(daemon.stderr() + JSON.stringify(daemon.logs)).not.toMatch(/readonly database/i);
    // The admin token the daemon wrote is its own, and a root `admin-link` beside it keeps it so.
    expect(runCli(['admin-link'], { ...env, BOXAGENT_HTTP_PORT: new URL(daemon.url).port }).status).toBe(0);
    expect(owners(state).filter((o) => o.uid !== uid)).toEqual([]);
  }, 90_000);
});

describe('doctor, run as root, checks as the service user', () => {
  it('names a config the service user cannot read, with the fix', () => {
    const { file, env } = box();
    chmodSync(file, 0o600);
    const { status, checks } = doctor(env);
    expect(status).toBe(1);
    expect(checks.get('service user')).toMatchObject({ verdict: 'ok' });
    expect(checks.get('config access')).toMatchObject({
      verdict: 'fail',
      detail: `${file} is not readable by ${USER} (EACCES): the service exits with 78 at start`,
      fix: `chown root:${USER} ${file} && chmod 640 ${file}`,
    });
    chmodSync(file, 0o640);
    expect(doctor(env).checks.get('config access')?.verdict).toBe('ok');
  }, 90_000);

  it('names a root-owned state.db (the "readonly database" loop), with the chown that fixes it', () => {
    const { state, env } = box();
    expect(runCli(['token', 'create', '--name', 'x', '--scopes', 'read'], env).status).toBe(0);
    expect(doctor(env).checks.get('state files')?.verdict).toBe('ok');
    // What an older CLI (or a hand-run sqlite3) left behind.
    chownSync(join(state, 'state.db'), 0, 0);
    const { checks } = doctor(env);
    expect(checks.get('state files')?.verdict).toBe('fail');
    expect(checks.get('state files')?.detail).toMatch(
      /state\.db is owned by root and is not writable by bxa-t\d+ \(EACCES\): the daemon fails with "attempt to write a readonly database"/,
    );
    expect(checks.get('state files')?.fix).toBe(`chown -R ${USER}: ${state}`);
    sh('chown', ['-R', `${USER}:`, state]);
    expect(doctor(env).checks.get('state files')?.verdict).toBe('ok');
  }, 90_000);

  it('says when the service is not active', () => {
    const { dir, env } = box();
    // Without a running systemd (a container, as here) the real systemctl cannot answer: a warning.
    const booted = existsSync('/run/systemd/system');
    if (!booted) {
      expect(doctor(env).checks.get('service')).toMatchObject({ verdict: 'warn' });
      expect(doctor(env).checks.get('service')?.detail).toMatch(/^cannot tell: /);
    }
    // The inactive answer: from the real systemctl where systemd runs (no boxagent unit is active on a test
    // machine); otherwise from a stand-in systemctl first on PATH, the only mock here, answering as
    // `systemctl is-active` does for a stopped unit.
    let path = env.PATH ?? '';
    if (!booted) {
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\necho inactive\nexit 3\n', { mode: 0o755 });
      path = `${bin}:${path}`;
    }
    const { checks } = doctor({ ...env, PATH: path });
    expect(checks.get('service')).toEqual({
      check: 'service',
      verdict: 'fail',
      detail: 'boxagent.service is inactive',
      fix: 'systemctl enable --now boxagent',
    });
  }, 90_000);

  it('names a device in backoff with its reason, from the running daemon, and simulated devices in production', async () => {
    const { state, file, env } = box();
    expect(runCli(['config', 'set', 'supervision.backoffInitialMs', '60000'], env).status).toBe(0);
    const daemon = await startDaemon({ config: file, storageDir: state, env: { BOXAGENT_CONFIG: file } });
    try {
      const port = new URL(daemon.url).port;
      const live = { ...env, BOXAGENT_HTTP_PORT: port };
      expect(doctor(live).checks.get('device printer-1 answering')).toMatchObject({
        verdict: 'ok',
        detail: 'ready',
      });
      const fault = await daemon.fetch('/v1/devices/printer-1/simulator', postJson({ fault: 'offline' }));
      expect(fault.status).toBe(200);
      await waitFor(
        'backoff',
        async () => {
          const d = (await (await daemon.fetch('/v1/devices/printer-1')).json()) as { state: string };
          return d.state === 'backoff';
        },
        10_000,
      );
      const { status, checks } = doctor({ ...live, BOXAGENT_BOX_LOCALE: 'en', LANG: 'en_US.UTF-8' });
      expect(status).toBe(1);
      expect(checks.get('device printer-1 answering')).toMatchObject({
        verdict: 'fail',
        fix: 'check its cable and power, then boxagent devices test printer-1',
      });
      expect(checks.get('device printer-1 answering')?.detail).toMatch(
        /^backoff: The device is not responding/,
      );

      // The same config taken for production: its simulated printer is called out.
      const prod = doctor({ ...live, NODE_ENV: 'production' }).checks.get('simulated devices');
      expect(prod).toMatchObject({ verdict: 'warn' });
      expect(prod?.detail).toMatch(/^printer-1 simulated in a production config/);
      expect(doctor(live).checks.get('simulated devices')?.verdict).toBe('ok');
    } finally {
      await daemon.stop();
    }
  }, 90_000);
});
