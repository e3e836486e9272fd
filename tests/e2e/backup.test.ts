// `boxagent backup create|restore` against the built CLI and daemon as processes: a backup taken while print
// jobs pour in, restored into a fresh state dir, brings back tokens, persons (their encrypted templates still
// decrypt), jobs and an intact audit chain; wrong secrets, tampering and live states are refused.
// Face is disabled in the daemon (loading the models is not what is tested here); the person and its
// template are written through the store and the real template cipher before the daemon starts.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemplateCipher } from '../../agent/face/template-cipher.js';
import { Store } from '../../agent/store/store.js';
import {
  CLI,
  DEFAULT_CONFIG,
  postJson,
  removeDir,
  runCli,
  runCliAsync,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait-for.js';

const DAEMON_ENV = { BOXAGENT_FACE_ENABLED: 'false', BOXAGENT_BOX_LOCALE: 'en' };
const PASSPHRASE = 'village box backup passphrase';
const EMBEDDING = Float32Array.from({ length: 8 }, (_, i) => i / 8);
const BINDING = { templateId: 'tpl-1', personId: 'person-1', modelId: 'test-model' };

let work: string;
let source: Daemon;
let counterToken: string;
let backupFile: string;
const submitted: string[] = [];

const cli = (args: string[], dir: string, extra: Record<string, string> = {}) =>
  runCli([...args, '-c', DEFAULT_CONFIG], testEnv(dir, extra));

interface CreateResult {
  file: string;
  files: string[];
  counts: { tokens: number; persons: number; templates: number; jobs: number; audit: number };
}

function seedPerson(dir: string): void {
  const store = Store.open(dir);
  try {
    const cipher = TemplateCipher.open(dir);
    store.persons.insert({ id: BINDING.personId, name: '张三' });
    store.persons.addTemplate({
      id: BINDING.templateId,
      personId: BINDING.personId,
      modelId: BINDING.modelId,
      ciphertext: cipher.encrypt(EMBEDDING, BINDING),
    });
  } finally {
    store.close();
  }
}

async function submitPrint(daemon: Daemon): Promise<string> {
  const r = await daemon.fetch(
    '/v1/print-jobs',
    postJson({
      printer: 'printer-1',
      document: {
        page: { widthMm: 210, heightMm: 297 },
        items: [{ type: 'text', xMm: 20, yMm: 30, text: '备份 backup', sizePt: 12 }],
      },
    }),
  );
  expect(r.status).toBe(202);
  return ((await r.json()) as { id: string }).id;
}

beforeAll(async () => {
  work = tempDir('boxagent-backup-');
  const dir = join(work, 'source');
  seedPerson(dir);
  source = await startDaemon({ storageDir: dir, env: DAEMON_ENV });
  const made = cli(['token', 'create', '--name', 'counter', '--scopes', 'print,read'], dir);
  expect(made.status, made.stderr).toBe(0);
  counterToken = made.stdout.trim().split('\n').pop() ?? '';
  writeFileSync(join(work, 'pass'), PASSPHRASE + '\n', { mode: 0o600 });
  backupFile = join(work, 'box.bak');
}, 60_000);

afterAll(async () => {
  await source?.stop('SIGKILL');
  removeDir(work);
});

describe('backup create during print load, restore on a fresh state dir', () => {
  let created: CreateResult;

  it('takes a backup while print jobs keep arriving', async () => {
    let loading = true;
    const load = (async () => {
      while (loading) submitted.push(await submitPrint(source));
    })();
    await waitFor('some jobs before the backup', () => submitted.length >= 5, 20_000);
    const r = await runCliAsync(
      [
        'backup',
        'create',
        backupFile,
        '--json',
        '--passphrase-file',
        join(work, 'pass'),
        '-c',
        DEFAULT_CONFIG,
      ],
      testEnv(source.storageDir),
    );
    const during = submitted.length;
    await waitFor('jobs after the backup too', () => submitted.length >= during + 3, 20_000);
    loading = false;
    await load;
    expect(r.status, r.stderr).toBe(0);
    created = JSON.parse(r.stdout) as CreateResult;
    expect(created.files).toEqual(
      expect.arrayContaining(['state.db', 'audit.key', 'face.key', 'admin.token']),
    );
    expect(created.counts.persons).toBe(1);
    expect(created.counts.templates).toBe(1);
    expect(created.counts.jobs).toBeGreaterThanOrEqual(5);
    // The backup file is the operator's secret too.
    expect(readFileSync(backupFile).length).toBeGreaterThan(0);
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    // No work files left behind in the state dir.
    expect(readdirSync(source.storageDir).filter((n) => n.startsWith('.backup-'))).toEqual([]);
  }, 90_000);

  it('holds no key material in clear', () => {
    const bytes = readFileSync(backupFile);
    for (const name of ['face.key', 'audit.key', 'admin.token']) {
      const raw = readFileSync(join(source.storageDir, name));
      const text = raw.toString('utf8').trim();
      expect(bytes.includes(raw), name).toBe(false);
      expect(bytes.includes(Buffer.from(text)), name).toBe(false);
      // The decoded key bytes too (face.key is stored as base64).
      if (name === 'face.key') expect(bytes.includes(Buffer.from(text, 'base64'))).toBe(false);
    }
    expect(bytes.includes(Buffer.from('SQLite format 3'))).toBe(false);
    expect(bytes.includes(Buffer.from(counterToken))).toBe(false);
  });

  it('refuses a wrong passphrase and writes nothing', () => {
    const dir = join(work, 'wrong-pass');
    writeFileSync(join(work, 'wrong'), 'not the passphrase at all\n');
    const r = cli(['backup', 'restore', backupFile, '--passphrase-file', join(work, 'wrong')], dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toBe(
      'boxagent: cannot decrypt the backup: wrong passphrase, or the file was altered or damaged',
    );
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('refuses a file with one byte changed and writes nothing', () => {
    const bytes = readFileSync(backupFile);
    for (const at of [20, Math.floor(bytes.length / 2), bytes.length - 3]) {
      const tampered = Buffer.from(bytes);
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      const file = join(work, `tampered-${at}.bak`);
      writeFileSync(file, tampered);
      const dir = join(work, `tampered-${at}`);
      const r = cli(['backup', 'restore', file], dir, { BOXAGENT_BACKUP_PASSPHRASE: PASSPHRASE });
      expect(r.status, `byte ${at}`).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^boxagent: (cannot decrypt the backup|the backup header is damaged)/);
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    }
  });

  it('refuses to restore over a live state, even with --force while the daemon runs', () => {
    const plain = cli(
      ['backup', 'restore', backupFile, '--passphrase-file', join(work, 'pass')],
      source.storageDir,
    );
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/daemon is running|exists/);
    const forced = cli(
      ['backup', 'restore', backupFile, '--force', '--passphrase-file', join(work, 'pass')],
      source.storageDir,
    );
    expect(forced.status).not.toBe(0);
    expect(forced.stderr).toContain('the daemon is running');
  });

  it('brings everything back in a fresh state dir: tokens, persons, jobs, audit chain', async () => {
    const dir = join(work, 'restored');
    const r = cli(['backup', 'restore', backupFile, '--json', '--passphrase-file', join(work, 'pass')], dir);
    expect(r.status, r.stderr).toBe(0);
    const restored = JSON.parse(r.stdout) as CreateResult & { integrity: string; audit: { ok: boolean } };
    expect(restored.integrity).toBe('ok');
    expect(restored.audit.ok).toBe(true);
    expect(restored.counts).toEqual(created.counts);

    const verify = cli(['audit', 'verify', '--json'], dir);
    expect(verify.status, verify.stderr).toBe(0);
    const chain = JSON.parse(verify.stdout) as { ok: boolean; entries: number };
    expect(chain.entries).toBe(created.counts.audit + 1); // + backup.restore

    // The person's template still decrypts with the restored face key.
    const store = Store.open(dir);
    try {
      expect(store.persons.get(BINDING.personId)?.name).toBe('张三');
      const [tpl] = store.persons.templatesOf(BINDING.personId);
      expect(Array.from(TemplateCipher.open(dir, 1).decrypt(tpl!.ciphertext, BINDING))).toEqual(
        Array.from(EMBEDDING),
      );
    } finally {
      store.close();
    }

    const daemon = await startDaemon({ storageDir: dir, env: DAEMON_ENV });
    try {
      // The counter's token and the bootstrap admin token both still authenticate.
      expect(daemon.adminToken).toBe(source.adminToken);
      const list = await daemon.fetch('/v1/print-jobs?limit=500', { token: counterToken });
      expect(list.status).toBe(200);
      const ids = ((await list.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
      expect(ids.length).toBe(created.counts.jobs);
      // Jobs submitted before the backup are there; each job the backup holds was one the source accepted.
      expect(ids).toEqual(expect.arrayContaining(submitted.slice(0, 5)));
      for (const id of ids) expect(submitted).toContain(id);
      // A restored box keeps printing.
      const next = await submitPrint(daemon);
      await waitFor(
        'a new job printed on the restored box',
        async () =>
          ((await (await daemon.fetch(`/v1/print-jobs/${next}`)).json()) as { state: string }).state ===
          'done',
        20_000,
      );
    } finally {
      await daemon.stop();
    }
  }, 90_000);

  it('replaces an existing, stopped state only with --force, moving the old one aside', () => {
    const dir = join(work, 'restored');
    const refused = cli(['backup', 'restore', backupFile, '--passphrase-file', join(work, 'pass')], dir);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('--force');
    const forced = cli(
      ['backup', 'restore', backupFile, '--force', '--passphrase-file', join(work, 'pass')],
      dir,
    );
    expect(forced.status, forced.stderr).toBe(0);
    const aside = readdirSync(dir).filter((n) => n.startsWith('reset-'));
    expect(aside).toHaveLength(1);
    expect(readdirSync(join(dir, aside[0]!))).toContain('state.db');
  });
});

describe('recipient-key backups', () => {
  it('round-trips with keygen, --recipient and --identity; the wrong key is refused', () => {
    const keys = join(work, 'operator');
    const gen = runCli(['backup', 'keygen', keys, '--json'], testEnv(work));
    expect(gen.status, gen.stderr).toBe(0);
    const other = runCli(['backup', 'keygen', join(work, 'other')], testEnv(work));
    expect(other.status, other.stderr).toBe(0);

    const file = join(work, 'for-operator.bak');
    const made = cli(['backup', 'create', file, '--recipient', `${keys}.pub.pem`], source.storageDir);
    expect(made.status, made.stderr).toBe(0);

    const noKey = cli(['backup', 'restore', file], join(work, 'r0'));
    expect(noKey.status).not.toBe(0);
    expect(noKey.stderr).toContain('--identity');

    const wrongDir = join(work, 'r-wrong');
    const wrong = cli(['backup', 'restore', file, '--identity', join(work, 'other.key.pem')], wrongDir);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(wrongDir) ? readdirSync(wrongDir) : []).toEqual([]);

    const dir = join(work, 'r-ok');
    const ok = cli(['backup', 'restore', file, '--json', '--identity', `${keys}.key.pem`], dir);
    expect(ok.status, ok.stderr).toBe(0);
    const restored = JSON.parse(ok.stdout) as { audit: { ok: boolean }; counts: { persons: number } };
    expect(restored.audit.ok).toBe(true);
    expect(restored.counts.persons).toBe(1);
    expect(readFileSync(join(dir, 'face.key'))).toEqual(readFileSync(join(source.storageDir, 'face.key')));
  });
});

describe('scheduled backups', () => {
  it('writes into backup.dir and keeps the newest backup.keep of this box, leaving other files alone', () => {
    const keys = join(work, 'scheduled');
    expect(runCli(['backup', 'keygen', keys], testEnv(work)).status).toBe(0);
    const target = join(work, 'backups');
    const config = join(work, 'scheduled.yaml');
    writeFileSync(
      config,
      readFileSync(DEFAULT_CONFIG, 'utf8') +
        `backup:\n  dir: ${target}\n  keep: 2\n  recipient: ${keys}.pub.pem\n`,
    );
    const env = testEnv(source.storageDir);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = runCli(['backup', 'scheduled', '--json', '-c', config], env);
      expect(r.status, r.stderr).toBe(0);
      made.push((JSON.parse(r.stdout) as { file: string }).file);
      if (i === 0) writeFileSync(join(target, 'notes.txt'), 'not a backup');
    }
    expect(readdirSync(target).sort()).toEqual(
      ['notes.txt', ...made.slice(1).map((f) => f.slice(target.length + 1))].sort(),
    );
    for (const f of made.slice(1)) expect(statSync(f).mode & 0o777).toBe(0o600);
    const dir = join(work, 'r-scheduled');
    const r = runCli(
      ['backup', 'restore', made[2]!, '--identity', `${keys}.key.pem`, '-c', config],
      testEnv(dir),
    );
    expect(r.status, r.stderr).toBe(0);
  }, 60_000);

  it('says what is missing when backup.dir is not set', () => {
    const r = cli(['backup', 'scheduled'], source.storageDir);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe('boxagent: backup.dir is not set in the config: no scheduled backups');
  });
});

describe('the passphrase prompt on a terminal', () => {
  it('asks twice without echoing, and refuses two different answers', async () => {
    // util-linux `script` gives the CLI a real pty; answers are typed once each prompt has appeared.
    const run = async (answers: string[]) => {
      const file = join(work, `prompted-${answers.join('-').length}.bak`);
      const cmd = [process.execPath, CLI, 'backup', 'create', file, '-c', DEFAULT_CONFIG].join(' ');
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
        env: testEnv(source.storageDir),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      await waitFor('the first prompt', () => out.includes('backup passphrase: '), 20_000);
      child.stdin.write(answers[0] + '\r');
      await waitFor('the second prompt', () => out.includes('again: '), 20_000);
      child.stdin.write(answers[1] + '\r');
      const status = await exited;
      return { status, out, file };
    };
    const ok = await run([PASSPHRASE, PASSPHRASE]);
    expect(ok.status, ok.out).toBe(0);
    expect(ok.out).not.toContain(PASSPHRASE);
    expect(existsSync(ok.file)).toBe(true);
    const differ = await run([PASSPHRASE, 'something else entirely']);
    expect(differ.status).not.toBe(0);
    expect(differ.out).toContain('the passphrases differ');
    expect(existsSync(differ.file)).toBe(false);
  }, 60_000);
});
