// Start-up safety and personal data at rest (issue 14, items 6-9), against the daemon spawned as a process:
// a lost, emptied or truncated state.db, a deleted or replaced face.key, a torn fleet-config.json, and an
// erasure whose bytes must be gone from state.db, -wal and -shm. Each case ends with nothing lost: jobs,
// persons and audit entries are there again once the operator takes the way out the message names.
import {
  copyFileSync,
  existsSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FACE_DATA } from '../../bench/face-pairs.js';
import {
  DEFAULT_CONFIG,
  postJson,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../helpers/daemon.js';
import { mosquittoPub, mosquittoSub, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';

const PROBLEM = 'urn:boxagent:problem:';
const face = (person: string, n: number): string =>
  readFileSync(
    join(FACE_DATA, 'eastasian-dev/images', person, `${person}_${String(n).padStart(4, '0')}.jpg`),
  ).toString('base64');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

function scratch(): string {
  const dir = tempDir();
  cleanups.push(() => removeDir(dir));
  return dir;
}

async function start(storageDir: string, env: Record<string, string> = {}): Promise<Daemon> {
  const daemon = await startDaemon({ storageDir, env: { BOXAGENT_LOG_LEVEL: 'info', ...env } });
  cleanups.push(() => daemon.stop('SIGKILL').then(() => undefined));
  return daemon;
}

/** Starts the daemon on `dir` expecting it to refuse: its exit code and stderr. */
async function refusedStart(dir: string): Promise<{ code: number; stderr: string }> {
  let daemon: Daemon;
  try {
    daemon = await startDaemon({ storageDir: dir });
  } catch (err) {
    const m = /daemon exited with (\d+): ([\s\S]*)$/.exec((err as Error).message);
    if (!m) throw err;
    return { code: Number(m[1]), stderr: m[2]! };
  }
  await daemon.stop();
  throw new Error('the daemon started on a state dir it should have refused');
}

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

describe('no silent reset when state.db is lost', () => {
  it('refuses a missing, empty or truncated database with exit 65 naming the file and the way out; nothing is lost', async () => {
    const dir = scratch();
    const first = await start(dir);
    const submitted = await first.fetch(
      '/v1/print-jobs',
      postJson({
        printer: 'printer-1',
        document: {
          page: { size: 'A4' },
          items: [{ type: 'text', xMm: 20, yMm: 20, text: '存根', sizePt: 12 }],
        },
      }),
    );
    expect(submitted.status).toBe(202);
    const { id: job } = await json<{ id: string }>(submitted);
    expect(await first.stop()).toBe(0);
    const env = testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });
    expect(runCli(['token', 'create', '--name', 'counter-app', '--scopes', 'read'], env).status).toBe(0);
    const audit = JSON.parse(runCli(['audit', 'verify', '--json'], env).stdout) as { entries: number };
    expect(audit.entries).toBeGreaterThan(0);

    // The operator's backup: a clean stop leaves everything in state.db (the WAL is checkpointed).
    const db = join(dir, 'state.db');
    const backup = join(scratch(), 'state.db');
    copyFileSync(db, backup);
    const sabotage: [string, () => void, RegExp][] = [
      ['missing', () => rmSync(db), /state\.db is missing but .* holds admin\.token/],
      ['empty', () => truncateSync(db, 0), /state\.db is empty but .* holds admin\.token/],
      [
        'truncated',
        () => truncateSync(db, Math.floor(readFileSync(backup).length / 2)),
        /state\.db is damaged/,
      ],
    ];
    for (const [name, harm, message] of sabotage) {
      harm();
      const refused = await refusedStart(dir);
      expect(refused.code, name).toBe(65);
      expect(refused.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(refused.stderr, name).toMatch(message);
      expect(refused.stderr, name).toContain(db);
      expect(refused.stderr, name).toMatch(/restore it from the backup, or run `boxagent reset --yes`/);
      // Restoring the backup is the way back: the job, the token and the audit log are all there.
      copyFileSync(backup, db);
    }
    const restored = await start(dir);
    expect((await restored.fetch(`/v1/print-jobs/${job}`)).status).toBe(200);
    expect(await restored.stop()).toBe(0);
    const tokens = JSON.parse(runCli(['token', 'list', '--json'], env).stdout) as { name: string }[];
    expect(tokens.map((t) => t.name)).toContain('counter-app');
    const verified = runCli(['audit', 'verify', '--json'], env);
    expect(verified.status).toBe(0);
    expect((JSON.parse(verified.stdout) as { entries: number }).entries).toBeGreaterThanOrEqual(
      audit.entries,
    );
  }, 120_000);

  it('starts over only on `boxagent reset --yes`, which moves the old state aside and deletes nothing', async () => {
    const dir = scratch();
    const first = await start(dir);
    const oldToken = first.adminToken;
    expect(await first.stop()).toBe(0);
    rmSync(join(dir, 'state.db'));
    const env = testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });

    const unsure = runCli(['reset'], env);
    expect(unsure.status).toBe(64);
    expect(unsure.stderr).toMatch(/--yes/);
    expect(existsSync(join(dir, 'admin.token'))).toBe(true);

    const reset = runCli(['reset', '--yes'], env);
    expect(reset.status).toBe(0);
    const aside = readdirSync(dir).filter((f) => f.startsWith('reset-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!, 'admin.token'), 'utf8').trim()).toBe(oldToken);
    expect(existsSync(join(dir, aside[0]!, 'face.key'))).toBe(true);

    const fresh = await start(dir);
    expect(fresh.adminToken).not.toBe(oldToken);
    expect(await fresh.stop()).toBe(0);
  }, 120_000);
});

describe('the face key is never replaced silently', () => {
  it('keeps face recognition unavailable with the reason when face.key is deleted or replaced; purge is the way to start over', async () => {
    const dir = scratch();
    const first = await start(dir);
    const enrol = await first.fetch(
      '/v1/persons',
      postJson({ id: 'hu-1', name: '胡锦涛', images: [{ image: face('Hu_Jintao', 1) }], source: 'document' }),
    );
    expect(enrol.status).toBe(201);
    expect(await first.stop()).toBe(0);
    const keyFile = join(dir, 'face.key');
    const key = readFileSync(keyFile);
    const verify = postJson({ probe: { image: face('Hu_Jintao', 4) }, reference: { personId: 'hu-1' } });

    // Deleted: no new key is made, the service says why, verify by person is a problem, the person stays.
    rmSync(keyFile);
    const noKey = await start(dir);
    const status = await json<{ available: boolean; reason: string }>(noKey.fetch('/v1/face/status'));
    expect(status.available).toBe(false);
    expect(status.reason).toMatch(/face\.key is missing while 1 encrypted face templates are stored/);
    expect(status.reason).toMatch(/boxagent persons purge --yes/);
    expect(existsSync(keyFile)).toBe(false);
    const refused = await noKey.fetch('/v1/face/verify', verify);
    expect(refused.status).toBe(503);
    expect((await json<{ type: string }>(refused)).type).toBe(`${PROBLEM}face-unavailable`);
    expect((await noKey.fetch('/v1/persons/hu-1')).status).toBe(200);
    const doctor = runCli(['doctor', '--json'], testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG }));
    const checks = JSON.parse(doctor.stdout) as {
      check: string;
      verdict: string;
      detail: string;
      fix?: string;
    }[];
    expect(checks.find((c) => c.check === 'face key')).toMatchObject({ verdict: 'fail' });
    expect(checks.find((c) => c.check === 'face key')?.fix).toMatch(/persons purge --yes/);
    expect(await noKey.stop()).toBe(0);

    // Replaced by another key: the person's templates do not decrypt, which is a problem, never a 500.
    writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    const otherKey = await start(dir);
    const wrong = await otherKey.fetch('/v1/face/verify', verify);
    expect(wrong.status).toBe(503);
    expect((await json<{ type: string; detail: string }>(wrong)).detail).toMatch(/does not decrypt/);
    expect(await otherKey.stop()).toBe(0);

    // The backup key back: the person verifies again, nothing was lost.
    writeFileSync(keyFile, key, { mode: 0o600 });
    const restored = await start(dir);
    expect((await json<{ match: boolean }>(restored.fetch('/v1/face/verify', verify))).match).toBe(true);
    expect(await restored.stop()).toBe(0);

    // Or start over deliberately: purge erases every person (audited), then a new key may be made.
    rmSync(keyFile);
    const env = testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });
    expect(runCli(['persons', 'purge'], env).status).toBe(64);
    const purge = runCli(['persons', 'purge', '--yes'], env);
    expect(purge.status).toBe(0);
    expect(purge.stdout).toMatch(/erased 1 persons \(1 templates\)/);
    const after = await start(dir);
    expect((await json<{ available: boolean }>(after.fetch('/v1/face/status'))).available).toBe(true);
    expect(existsSync(keyFile)).toBe(true);
    expect((await after.fetch('/v1/persons/hu-1')).status).toBe(404);
    const actions = (
      await json<{ entries: { action: string }[] }>(after.fetch('/v1/audit?limit=1000'))
    ).entries.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['person.enroll', 'person.purge']));
  }, 180_000);
});

describe('erasure is complete', () => {
  it('leaves no byte of the name or the template in state.db, state.db-wal or state.db-shm', async () => {
    const dir = scratch();
    const daemon = await start(dir);
    const name = '擦除测试 Erasure-Probe-5381';
    const enrol = await daemon.fetch(
      '/v1/persons',
      postJson({ id: 'erase-me', name, images: [{ image: face('Wen_Jiabao', 2) }], source: 'document' }),
    );
    expect(enrol.status).toBe(201);
    const files = ['state.db', 'state.db-wal', 'state.db-shm'].map((f) => join(dir, f));
    const holds = (needle: Buffer): string[] =>
      files.filter((f) => existsSync(f) && readFileSync(f).includes(needle));
    const reader = new Database(files[0], { readonly: true });
    const { ciphertext } = reader
      .prepare('SELECT ciphertext FROM face_templates WHERE person_id = ?')
      .get('erase-me') as { ciphertext: Buffer };
    reader.close();
    // The probes find what they look for before the erasure (so a pass after it means something).
    expect(holds(Buffer.from(name, 'utf8'))).not.toEqual([]);
    expect(holds(ciphertext)).not.toEqual([]);

    const del = await daemon.fetch('/v1/persons/erase-me', { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(holds(Buffer.from(name, 'utf8'))).toEqual([]);
    expect(holds(Buffer.from('Erasure-Probe-5381', 'utf8'))).toEqual([]);
    expect(holds(ciphertext)).toEqual([]);
    // The template body without its IV and tag, in case a page kept a partial copy.
    expect(holds(ciphertext.subarray(28, 60))).toEqual([]);
    // The audit keeps who erased whom and when, no biometric data.
    const entries = (await json<{ entries: { action: string; target: string }[] }>(daemon.fetch('/v1/audit')))
      .entries;
    expect(entries.some((e) => e.action === 'person.delete' && e.target === 'erase-me')).toBe(true);
  }, 120_000);
});

describe('an unreadable fleet-config.json', () => {
  let broker: Mosquitto;
  afterEach(async () => broker?.dispose());

  it('is named in the log and sent to the fleet as a warning; the box runs on its config file', async () => {
    broker = await startMosquitto();
    const dir = scratch();
    const env = { BOXAGENT_MQTT_URL: broker.url, BOXAGENT_MQTT_RECONNECT_MIN_MS: '100' };
    const first = await start(dir, env);
    expect(await first.stop()).toBe(0);
    // A document torn by a power cut in the middle of the write.
    const file = join(dir, 'fleet-config.json');
    writeFileSync(file, '{\n  "version": 3,\n  "config": {\n    "devices": [\n      {"id": "printer-1", "ki');

    const sub = mosquittoSub(broker.port, ['boxagent/v1/dev-box/events', 'test/ready'], '%p');
    cleanups.push(() => sub.stop());
    await waitFor('the subscriber to be subscribed', () => {
      if (sub.lines.includes('x')) return true;
      mosquittoPub(broker.port, 'test/ready', 'x');
      return false;
    });

    const daemon = await start(dir, env);
    const warning = daemon.logs.find((l) => l.msg === 'fleet config unreadable; running on the config file');
    expect(warning).toMatchObject({ file });
    const devices = await json<{ devices: { id: string }[] }>(daemon.fetch('/v1/devices'));
    expect(devices.devices.map((d) => d.id)).toContain('printer-1');
    expect(devices.devices).toHaveLength(6); // config/default.yaml's simulated devices
    const sent = () =>
      sub.lines
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { type: string; payload: { file: string; reason: string } })
        .find((e) => e.type === 'config.fleet-unreadable');
    await waitFor('the warning at the fleet', () => sent() !== undefined, 20_000);
    expect(sent()?.payload.file).toBe(file);
    expect(await daemon.stop()).toBe(0);
  }, 120_000);
});
