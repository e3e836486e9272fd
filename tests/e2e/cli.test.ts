// The installer's CLI as a process: exit codes, one-line errors, tokens printed once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, removeDir, ROOT, runCli, tempDir, testEnv } from '../helpers/daemon.js';
import { Store } from '../../agent/store/store.js';

const dir = tempDir();
const env = testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });
afterAll(() => removeDir(dir));

describe('boxagent CLI', () => {
  it('prints its version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = runCli(['version'], env);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(JSON.parse(runCli(['version', '--json'], env).stdout)).toMatchObject({ version: pkg.version });
  });

  it('creates a token, prints it once, stores only its hash', () => {
    const r = runCli(['token', 'create', '--name', 'counter-app', '--scopes', 'read,print'], env);
    expect(r.status).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^bxa_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const secret = token.split('_').slice(2).join('_');
    for (const f of ['state.db', 'state.db-wal']) {
      try {
        expect(readFileSync(join(dir, f)).includes(Buffer.from(secret))).toBe(false);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const list = runCli(['token', 'list', '--json'], env);
    expect(list.status).toBe(0);
    expect(list.stdout).not.toContain(secret);
    expect(JSON.parse(list.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'counter-app', scopes: ['read', 'print'], revokedAt: null }),
      ]),
    );
  });

  it('refuses bad arguments with one line and a non-zero exit, changing nothing', () => {
    const before = runCli(['token', 'list', '--json'], env).stdout;
    for (const args of [
      ['token', 'create', '--name', 'x', '--scopes', 'read,fly'],
      ['token', 'create', '--name', 'counter-app', '--scopes', 'read'],
      ['token', 'create', '--name', 'bad name!', '--scopes', 'read'],
      ['token', 'create', '--name', 'y', '--scopes', 'read', '--expires-in-days', 'soon'],
      ['token', 'revoke', 'nobody'],
    ]) {
      const r = runCli(args, env);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^boxagent: /);
    }
    expect(runCli(['token', 'list', '--json'], env).stdout).toBe(before);
  });

  it('applies env overrides to every command (BOXAGENT_STORAGE_DIR)', () => {
    const other = tempDir();
    try {
      const r = runCli(['token', 'create', '--name', 'elsewhere', '--scopes', 'read'], {
        ...env,
        BOXAGENT_STORAGE_DIR: other,
      });
      expect(r.status).toBe(0);
      const store = Store.open(other);
      expect(store.tokens.list().map((t) => t.name)).toEqual(['elsewhere']);
      store.close();
    } finally {
      removeDir(other);
    }
  });

  it('validates a config file and exits 78 on a bad one', () => {
    expect(runCli(['config', 'validate', DEFAULT_CONFIG], env).status).toBe(0);
    const r = runCli(['config', 'validate', join(dir, 'missing.yaml')], env);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('file not found');
  });

  it('exits non-zero on an unknown command', () => {
    const r = runCli(['frobnicate'], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
