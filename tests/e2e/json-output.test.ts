// `--json` output is pure JSON: every CLI command that takes --json is run here (against a running daemon on
// simulated devices where it needs one) and its whole stdout must parse as one JSON value, with nothing
// else on it. The list of commands is read from agent/cli/, so a new --json command without a case fails.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../helpers/daemon.js';
import { faceImage } from '../helpers/counter-transaction.js';

const CLI_DIR = new URL('../../agent/cli/', import.meta.url);
const ORIGIN = 'http://counter.test';

/** `group sub` names of the commands declaring `--json`, read from the command definitions. */
function jsonCommands(): string[] {
  const names: string[] = [];
  for (const file of readdirSync(CLI_DIR).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(new URL(file, CLI_DIR), 'utf8');
    const groups = [...text.matchAll(/program\.command\('([a-z-]+)'\)/g)].map((m) => m[1] ?? '');
    // Each `.command('x …')` up to the next one: does it declare --json?
    const parts = text.split(/\.command\('/).slice(1);
    for (const part of parts) {
      const name = /^([a-z-]+)/.exec(part)?.[1] ?? '';
      if (!/\.option\('--json'/.test(part.split(/\.action\(/)[0] ?? '')) continue;
      const group = groups.find(
        (g) => g !== name && text.includes(`${groupVar(text, g)}\n    .command('${name}`),
      );
      names.push(group ? `${group} ${name}` : name);
    }
  }
  return names.sort();
}

/** The variable a group command is kept in (`const backup = program.command('backup')`). */
function groupVar(text: string, group: string): string {
  return new RegExp(`const (\\w+) = program\\.command\\('${group}'\\)`).exec(text)?.[1] ?? '\u0000';
}

const dirs: string[] = [];
let daemon: Daemon;
let env: Record<string, string>;
let work: string;
afterAll(async () => {
  await daemon?.stop();
  dirs.forEach(removeDir);
});

beforeAll(async () => {
  work = tempDir();
  dirs.push(work);
  daemon = await startDaemon({ env: { BOXAGENT_HTTP_ALLOWED_ORIGINS: ORIGIN } });
  dirs.push(daemon.storageDir);
  env = testEnv(daemon.storageDir, {
    BOXAGENT_CONFIG: DEFAULT_CONFIG,
    BOXAGENT_HTTP_PORT: new URL(daemon.url).port,
    BOXAGENT_HTTP_ALLOWED_ORIGINS: ORIGIN,
  });
  writeFileSync(join(work, 'pass'), 'correct horse battery staple\n');
}, 30_000);

async function pairingCode(name: string): Promise<string> {
  const res = await fetch(`${daemon.url}/v1/pairings`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json' },
    body: JSON.stringify({ name, scopes: ['read'] }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { code: string }).code;
}

/** Each command with --json, in a state where it succeeds (args without --json). */
const CASES: Record<string, () => Promise<{ args: string[]; env?: Record<string, string> }>> = {
  version: () => Promise.resolve({ args: ['version'] }),
  'config show': () => Promise.resolve({ args: ['config', 'show'] }),
  'config get': () => Promise.resolve({ args: ['config', 'get', 'http.port'] }),
  'config validate': () => Promise.resolve({ args: ['config', 'validate', DEFAULT_CONFIG] }),
  doctor: () => Promise.resolve({ args: ['doctor'] }),
  'token create': () =>
    Promise.resolve({ args: ['token', 'create', '--name', 'json-check', '--scopes', 'read'] }),
  'token list': () => Promise.resolve({ args: ['token', 'list'] }),
  'token pairings': async () => {
    await pairingCode('pending one');
    return { args: ['token', 'pairings'] };
  },
  'token approve': async () => ({ args: ['token', 'approve', await pairingCode('approved one')] }),
  'token deny': async () => ({ args: ['token', 'deny', await pairingCode('denied one')] }),
  'admin-link': () => Promise.resolve({ args: ['admin-link'] }),
  'audit verify': () => Promise.resolve({ args: ['audit', 'verify'] }),
  'backup keygen': () => Promise.resolve({ args: ['backup', 'keygen', join(work, 'keys')] }),
  'backup create': () =>
    Promise.resolve({
      args: ['backup', 'create', join(work, 'state.backup'), '--passphrase-file', join(work, 'pass')],
    }),
  'backup restore': () => {
    const fresh = tempDir();
    dirs.push(fresh);
    return Promise.resolve({
      args: ['backup', 'restore', join(work, 'state.backup'), '--passphrase-file', join(work, 'pass')],
      // a fresh state dir on a port where no daemon answers: restore refuses while one does
      env: { BOXAGENT_STORAGE_DIR: fresh, BOXAGENT_HTTP_PORT: '1' },
    });
  },
  'backup scheduled': () =>
    Promise.resolve({
      args: ['backup', 'scheduled'],
      env: { BOXAGENT_BACKUP_DIR: work, BOXAGENT_BACKUP_PASSPHRASE_FILE: join(work, 'pass') },
    }),
  'devices scan': () => Promise.resolve({ args: ['devices', 'scan', '--sysfs-root', work] }),
  'devices list': () => Promise.resolve({ args: ['devices', 'list'] }),
  'devices test': () => Promise.resolve({ args: ['devices', 'test', 'seal-1'] }),
  'persons enroll': () => Promise.resolve({ args: ['persons', 'enroll', '--name', '胡', faceImage(1)] }),
  'persons list': () => Promise.resolve({ args: ['persons', 'list'] }),
  'face verify': () => Promise.resolve({ args: ['face', 'verify', faceImage(1), faceImage(4)] }),
  'service links': () => Promise.resolve({ args: ['service', 'links', '--root', work] }),
};
/** Covered elsewhere: logs needs a journal (tests/e2e/logs-command.test.ts checks its --json lines). */
const ELSEWHERE = ['logs'];

describe('--json output', () => {
  it('has a case here for every command that takes --json', () => {
    expect(jsonCommands()).toEqual([...Object.keys(CASES), ...ELSEWHERE].sort());
  });

  for (const [name, setup] of Object.entries(CASES)) {
    it(`${name} --json prints one JSON value and nothing else`, async () => {
      const { args, env: extra } = await setup();
      const r = runCli([...args, '--json'], { ...env, ...extra });
      // doctor exits non-zero here (no systemd service), but its report is still JSON
      if (name !== 'doctor') expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).not.toBe('');
      expect(() => JSON.parse(r.stdout) as unknown, r.stdout).not.toThrow();
    });
  }
});
