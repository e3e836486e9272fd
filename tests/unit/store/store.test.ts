import { rechainWithoutKey } from '../../helpers/audit-forgery.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_KEY_FILE } from '../../../agent/store/audit.js';
import { MIGRATIONS } from '../../../agent/store/migrations.js';
import { DB_FILE, Store, StoreError } from '../../../agent/store/store.js';

let dir: string;
let store: Store | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'boxagent-store-'));
});

afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function open(): Store {
  store = Store.open(dir);
  return store;
}

/** A second, independent connection to the same database file (as an attacker or the sqlite3 shell). */
function rawConnection(): Database.Database {
  return new Database(join(dir, DB_FILE));
}

describe('Store.open', () => {
  it('creates state.db in WAL mode at the latest schema version', () => {
    const s = open();
    expect(existsSync(join(dir, DB_FILE))).toBe(true);
    expect(existsSync(join(dir, `${DB_FILE}-wal`))).toBe(true);
    expect(s.schemaVersion()).toBe(MIGRATIONS.length);
    expect(s.integrityCheck()).toBe('ok');
    const raw = rawConnection();
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('creates a missing state directory', () => {
    const nested = join(dir, 'a', 'b');
    const s = Store.open(nested);
    try {
      expect(existsSync(join(nested, DB_FILE))).toBe(true);
    } finally {
      s.close();
    }
  });

  it('reopens an existing database without migrating again or losing data', () => {
    const first = open();
    first.jobs.insert({ id: 'j1', kind: 'print', device: 'p', state: 'queued', input: { a: 1 } });
    first.close();
    const second = open();
    expect(second.schemaVersion()).toBe(MIGRATIONS.length);
    expect(second.jobs.get('j1')?.input).toEqual({ a: 1 });
    second.close();
    expect(open().schemaVersion()).toBe(MIGRATIONS.length);
  });

  it('refuses a database written by a newer boxagent', () => {
    const raw = rawConnection();
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    let caught: unknown;
    try {
      Store.open(dir);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as Error).message).toContain(`schema version ${MIGRATIONS.length + 1}`);
    expect((caught as Error).message).toMatch(/newer than this boxagent knows/);
    // The refused database is left as it was.
    const check = rawConnection();
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    } finally {
      check.close();
    }
  });

  it('close() can be called twice', () => {
    const s = open();
    s.close();
    expect(() => s.close()).not.toThrow();
  });
});

describe('audit log', () => {
  it('verifies an intact chain and lists entries in order', () => {
    const s = open();
    expect(s.audit.verify()).toEqual({ ok: true, entries: 0, legacy: 0, head: null });
    s.audit.append({ actor: 'cli', action: 'token.create', target: 't1', detail: { name: 'clerk' } });
    s.audit.append({ actor: 'http', action: 'seal.execute' });
    s.audit.append({ actor: 'mqtt', action: 'config.apply', detail: { version: 3 } });
    expect(s.audit.verify()).toMatchObject({ ok: true, entries: 3, legacy: 0, head: { seq: 3 } });
    const entries = s.audit.list(0, 10);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[0]).toMatchObject({ actor: 'cli', target: 't1', detail: { name: 'clerk' } });
    expect(entries[1]).toMatchObject({ target: null, detail: {} });
    expect(s.audit.list(1, 1).map((e) => e.seq)).toEqual([2]);
    expect(new Set(entries.map((e) => e.hash)).size).toBe(3);
  });

  it('detects an entry edited behind its back', () => {
    const s = open();
    for (let i = 1; i <= 4; i++) s.audit.append({ actor: 'cli', action: `a${i}`, detail: { i } });
    const raw = rawConnection();
    try {
      raw.prepare('UPDATE audit SET detail = ? WHERE seq = 2').run(JSON.stringify({ i: 99 }));
    } finally {
      raw.close();
    }
    expect(s.audit.verify()).toMatchObject({ ok: false, brokenAt: 2, problems: [{ kind: 'rewritten' }] });
  });

  it('detects an entry deleted from the middle', () => {
    const s = open();
    for (let i = 1; i <= 4; i++) s.audit.append({ actor: 'cli', action: `a${i}` });
    const raw = rawConnection();
    try {
      raw.prepare('DELETE FROM audit WHERE seq = 2').run();
    } finally {
      raw.close();
    }
    expect(s.audit.verify()).toMatchObject({ ok: false, brokenAt: 3, problems: [{ kind: 'removed' }] });
  });

  it('detects a re-hashed entry whose successor still points at the old hash', () => {
    const s = open();
    for (let i = 1; i <= 3; i++) s.audit.append({ actor: 'cli', action: `a${i}` });
    const raw = rawConnection();
    try {
      raw.prepare("UPDATE audit SET actor = 'mallory', hash = ? WHERE seq = 1").run('f'.repeat(64));
    } finally {
      raw.close();
    }
    expect(s.audit.verify()).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it('makes audit.key (0600) beside state.db at the first entry and MACs every entry with it', () => {
    const s = open();
    expect(existsSync(join(dir, AUDIT_KEY_FILE))).toBe(false);
    s.audit.append({ actor: 'cli', action: 'a1' });
    expect(statSync(join(dir, AUDIT_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, AUDIT_KEY_FILE))).toHaveLength(32);
  });

  it('detects an entry rewritten with the chain recomputed without the key, keyed or downgraded', () => {
    const s = open();
    for (let i = 1; i <= 4; i++) s.audit.append({ actor: 'cli', action: `a${i}`, detail: { i } });
    const raw = rawConnection();
    try {
      raw.prepare('UPDATE audit SET detail = ? WHERE seq = 2').run(JSON.stringify({ i: 99 }));
      rechainWithoutKey(raw, 2);
      expect(s.audit.verify()).toMatchObject({ ok: false, brokenAt: 2, problems: [{ kind: 'rewritten' }] });
      rechainWithoutKey(raw, 2, 0);
      expect(s.audit.verify()).toMatchObject({
        ok: false,
        brokenAt: 2,
        problems: [{ kind: 'rewritten', message: 'rewritten (unkeyed after keyed entries)' }],
      });
    } finally {
      raw.close();
    }
  });

  it('checks entries made before the key by the unkeyed rule, only at the start of the chain', () => {
    const s = open();
    const raw = rawConnection();
    try {
      // Two entries as a version before migration 6 wrote them.
      const insert = raw.prepare(
        "INSERT INTO audit (seq, at, actor, action, target, detail, prev_hash, hash) VALUES (?, '2026-01-01T00:00:00.000Z', 'cli', 'old', NULL, '{}', '', '')",
      );
      insert.run(1);
      insert.run(2);
      raw.prepare('UPDATE audit SET prev_hash = ? WHERE seq = 1').run('0'.repeat(64));
      rechainWithoutKey(raw, 1, 0);
    } finally {
      raw.close();
    }
    s.audit.append({ actor: 'cli', action: 'new' });
    expect(s.audit.verify()).toMatchObject({ ok: true, entries: 3, legacy: 2, head: { seq: 3 } });
  });

  it('reports a cut tail and a replaced log against the anchor', () => {
    const s = open();
    for (let i = 1; i <= 5; i++) s.audit.append({ actor: 'cli', action: `a${i}` });
    const anchor = s.audit.head()!;
    expect(s.audit.verify(anchor)).toMatchObject({ ok: true, entries: 5 });
    expect(s.audit.verify({ seq: 3, hash: 'f'.repeat(64) })).toMatchObject({
      ok: false,
      problems: [{ seq: 3, kind: 'anchor-mismatch' }],
    });
    const raw = rawConnection();
    try {
      raw.prepare('DELETE FROM audit WHERE seq > 3').run();
    } finally {
      raw.close();
    }
    // The chain itself is intact: only the anchor shows the cut.
    expect(s.audit.verify()).toMatchObject({ ok: true, entries: 3 });
    expect(s.audit.verify(anchor)).toMatchObject({
      ok: false,
      brokenAt: 5,
      problems: [{ seq: 5, kind: 'missing-tail' }],
    });
  });

  it('reports keyed entries as unverifiable when audit.key is gone', () => {
    const s = open();
    s.audit.append({ actor: 'cli', action: 'a1' });
    rmSync(join(dir, AUDIT_KEY_FILE));
    expect(s.audit.verify()).toMatchObject({ ok: false, brokenAt: 1, problems: [{ kind: 'unverifiable' }] });
  });
});

describe('outbox', () => {
  const event = (n: number) => ({
    id: `e${n}`,
    type: 'test',
    payload: { n },
    createdAt: new Date(0).toISOString(),
  });

  it('hands events back in the order they were appended, after a given seq', () => {
    const s = open();
    expect(s.outbox.lastSeq()).toBe(0);
    const seqs = [1, 2, 3, 4, 5].map((n) => s.outbox.append(event(n)));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(s.outbox.lastSeq()).toBe(seqs[4]);
    expect(s.outbox.after(0, 100).map((e) => e.payload)).toEqual([1, 2, 3, 4, 5].map((n) => ({ n })));
    expect(s.outbox.after(seqs[1] as number, 2).map((e) => e.id)).toEqual(['e3', 'e4']);
    expect(s.outbox.after(seqs[4] as number, 10)).toEqual([]);
  });

  it('refuses a duplicate event id', () => {
    const s = open();
    s.outbox.append(event(1));
    expect(() => s.outbox.append(event(1))).toThrow();
  });

  it('trims to the newest rows and keeps numbering after them', () => {
    const s = open();
    for (let n = 1; n <= 10; n++) s.outbox.append(event(n));
    expect(s.outbox.trim(4)).toBe(6);
    expect(s.outbox.after(0, 100).map((e) => e.id)).toEqual(['e7', 'e8', 'e9', 'e10']);
    expect(s.outbox.trim(4)).toBe(0);
    const next = s.outbox.append(event(11));
    expect(next).toBe(11);
    expect(s.outbox.lastSeq()).toBe(11);
  });
});

describe('jobs', () => {
  it('inserts, moves by compare-and-set and counts jobs by kind and state', () => {
    const s = open();
    const job = s.jobs.insert({
      id: 'j1',
      kind: 'print',
      device: 'printer-1',
      state: 'queued',
      input: { text: 'hello' },
    });
    expect(job).toMatchObject({
      id: 'j1',
      kind: 'print',
      device: 'printer-1',
      state: 'queued',
      input: { text: 'hello' },
      steps: {},
      result: null,
      error: null,
    });
    expect(job.createdAt).toBe(job.updatedAt);
    s.jobs.insert({ id: 'j2', kind: 'print', device: 'printer-1', state: 'queued', input: {} });
    s.jobs.insert({ id: 'j3', kind: 'seal', device: 'seal-1', state: 'pending', input: {} });

    s.jobs.transition('j1', ['queued'], 'sending');
    const done = s.jobs.transition('j1', ['sending'], 'done', { result: { pages: 1 } });
    expect(done).toMatchObject({ state: 'done', result: { pages: 1 }, error: null });
    const failed = s.jobs.transition('j2', ['queued'], 'failed', { error: { code: 'paper-out' } });
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'paper-out' } });
    // A job that is no longer where the caller thought is left alone.
    expect(s.jobs.transition('j2', ['queued'], 'sending')).toBeUndefined();
    expect(s.jobs.get('j2')?.state).toBe('failed');

    expect(s.jobs.countByKindAndState()).toEqual([
      { kind: 'print', state: 'done', count: 1 },
      { kind: 'print', state: 'failed', count: 1 },
      { kind: 'seal', state: 'pending', count: 1 },
    ]);
    expect(s.jobs.get('nope')).toBeUndefined();
  });

  it('keeps an earlier result when a later move gives none, and merges steps', () => {
    const s = open();
    s.jobs.insert({ id: 'j1', kind: 'print', device: 'p', state: 'sending', input: {} });
    s.jobs.transition('j1', ['sending'], 'in_doubt', { result: { sentBytes: 10 }, steps: { a: 1, b: 2 } });
    const j = s.jobs.transition('j1', ['in_doubt'], 'done', { steps: { b: null, c: 3 } });
    expect(j?.result).toEqual({ sentBytes: 10 });
    expect(j?.steps).toEqual({ a: 1, c: 3 });
  });

  it('refuses a duplicate job id', () => {
    const s = open();
    s.jobs.insert({ id: 'j1', kind: 'print', device: 'p', state: 'queued', input: {} });
    expect(() =>
      s.jobs.insert({ id: 'j1', kind: 'print', device: 'p', state: 'queued', input: {} }),
    ).toThrow();
  });
});

describe('idempotency', () => {
  it('finds a saved response by principal, operation and key only', () => {
    const s = open();
    s.idempotency.save('tok1', 'print.submit', 'k1', { requestHash: 'h1', response: { jobId: 'j1' } });
    expect(s.idempotency.find('tok1', 'print.submit', 'k1')).toEqual({
      requestHash: 'h1',
      response: { jobId: 'j1' },
    });
    expect(s.idempotency.find('tok2', 'print.submit', 'k1')).toBeUndefined();
    expect(s.idempotency.find('tok1', 'seal.create', 'k1')).toBeUndefined();
    expect(s.idempotency.find('tok1', 'print.submit', 'k2')).toBeUndefined();
  });

  it('refuses to overwrite a saved key', () => {
    const s = open();
    s.idempotency.save('tok1', 'op', 'k1', { requestHash: 'h1', response: 1 });
    expect(() => s.idempotency.save('tok1', 'op', 'k1', { requestHash: 'h2', response: 2 })).toThrow();
    expect(s.idempotency.find('tok1', 'op', 'k1')?.response).toBe(1);
  });

  it('forgets keys older than the given time', () => {
    const s = open();
    s.idempotency.save('tok1', 'op', 'k1', { requestHash: 'h', response: null });
    expect(s.idempotency.expire(new Date(Date.now() - 3_600_000).toISOString())).toBe(0);
    expect(s.idempotency.find('tok1', 'op', 'k1')).toEqual({ requestHash: 'h', response: null });
    expect(s.idempotency.expire(new Date(Date.now() + 3_600_000).toISOString())).toBe(1);
    expect(s.idempotency.find('tok1', 'op', 'k1')).toBeUndefined();
  });
});

describe('Store.transaction', () => {
  it('commits every repository write together', () => {
    const s = open();
    const result = s.transaction(() => {
      s.jobs.insert({ id: 'j1', kind: 'print', device: 'p', state: 'queued', input: {} });
      s.audit.append({ actor: 'test', action: 'job.create', target: 'j1' });
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(s.jobs.get('j1')).toBeDefined();
    expect(s.audit.verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it('rolls back every repository write when the function throws', () => {
    const s = open();
    s.audit.append({ actor: 'test', action: 'before' });
    expect(() =>
      s.transaction(() => {
        s.jobs.insert({ id: 'j1', kind: 'print', device: 'p', state: 'queued', input: {} });
        s.outbox.append({ id: 'e1', type: 't', payload: {}, createdAt: new Date().toISOString() });
        s.audit.append({ actor: 'test', action: 'job.create', target: 'j1' });
        s.idempotency.save('tok', 'op', 'k', { requestHash: 'h', response: {} });
        s.tokens.insert({
          id: 'tok',
          name: 'n',
          secretHash: Buffer.alloc(32),
          scopes: ['read'],
          expiresAt: null,
        });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(s.jobs.get('j1')).toBeUndefined();
    expect(s.outbox.after(0, 10)).toEqual([]);
    expect(s.audit.verify()).toMatchObject({ ok: true, entries: 1 });
    expect(s.idempotency.find('tok', 'op', 'k')).toBeUndefined();
    expect(s.tokens.get('tok')).toBeUndefined();
  });
});
