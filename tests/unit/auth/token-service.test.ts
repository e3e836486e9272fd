import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  hasScope,
  parseScopes,
  TokenError,
  TokenService,
  type Principal,
} from '../../../agent/auth/token-service.js';
import { DB_FILE, Store } from '../../../agent/store/store.js';

const TOKEN_FORMAT = /^bxa_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const DAY_MS = 86_400_000;

let dir: string;
let store: Store;
let clock: Date;
let tokens: TokenService;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'boxagent-tokens-'));
  store = Store.open(dir);
  clock = new Date('2030-01-01T00:00:00.000Z');
  tokens = new TokenService(store, () => clock);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every byte SQLite has written for the database so far: the main file and the write-ahead log. */
function databaseBytes(): Buffer {
  const files = [DB_FILE, `${DB_FILE}-wal`].map((f) => join(dir, f)).filter((f) => existsSync(f));
  return Buffer.concat(files.map((f) => readFileSync(f)));
}

function principal(x: ReturnType<TokenService['authenticate']>): Principal {
  if (typeof x === 'string') throw new Error(`expected a principal, got "${x}"`);
  return x;
}

describe('TokenService.create', () => {
  it('returns a token in the documented format and a summary without the secret', () => {
    const { token, summary } = tokens.create({ name: 'clerk-1', scopes: ['read', 'print'], actor: 'cli' });
    const m = TOKEN_FORMAT.exec(token);
    expect(m).not.toBeNull();
    expect(summary).toMatchObject({
      id: m?.[1],
      name: 'clerk-1',
      scopes: ['read', 'print'],
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(JSON.stringify(summary)).not.toContain(m?.[2]);
    expect(JSON.stringify(tokens.list())).not.toContain(m?.[2]);
  });

  it('makes a different token each time', () => {
    const a = tokens.create({ name: 'a', scopes: ['read'], actor: 'cli' }).token;
    const b = tokens.create({ name: 'b', scopes: ['read'], actor: 'cli' }).token;
    expect(a).not.toBe(b);
    expect(a.split('_')[1]).not.toBe(b.split('_')[1]);
  });

  it('stores only a hash: the secret is nowhere in the database files', () => {
    const { token } = tokens.create({ name: 'clerk', scopes: ['read'], actor: 'cli' });
    const secret = TOKEN_FORMAT.exec(token)?.[2] as string;
    const hash = createHash('sha256').update(secret).digest();
    const whileOpen = databaseBytes();
    expect(whileOpen.includes(hash)).toBe(true); // sanity: we are looking at the right bytes
    expect(whileOpen.includes(Buffer.from(secret))).toBe(false);
    expect(whileOpen.includes(Buffer.from(token))).toBe(false);
    store.close();
    const afterClose = databaseBytes();
    expect(afterClose.includes(hash)).toBe(true);
    expect(afterClose.includes(Buffer.from(secret))).toBe(false);
    store = Store.open(dir);
  });

  it('refuses a second active token with the same name, but allows it after revocation', () => {
    tokens.create({ name: 'clerk', scopes: ['read'], actor: 'cli' });
    expect(() => tokens.create({ name: 'clerk', scopes: ['print'], actor: 'cli' })).toThrow(TokenError);
    expect(() => tokens.create({ name: 'clerk', scopes: ['print'], actor: 'cli' })).toThrow(
      /revoke it first/,
    );
    expect(tokens.revoke('clerk', 'cli')).toBe(true);
    const again = tokens.create({ name: 'clerk', scopes: ['print'], actor: 'cli' });
    expect(principal(tokens.authenticate(again.token)).scopes).toEqual(['print']);
    expect(tokens.list()).toHaveLength(2);
  });

  it('refuses a bad name', () => {
    expect(() => tokens.create({ name: '', scopes: ['read'], actor: 'cli' })).toThrow(TokenError);
    expect(() => tokens.create({ name: 'has space', scopes: ['read'], actor: 'cli' })).toThrow(/token name/);
    expect(() => tokens.create({ name: 'x'.repeat(65), scopes: ['read'], actor: 'cli' })).toThrow(TokenError);
    expect(tokens.list()).toEqual([]);
  });

  it('sets the expiry from the injected clock', () => {
    const { summary } = tokens.create({ name: 'temp', scopes: ['read'], expiresInDays: 2, actor: 'cli' });
    expect(summary.expiresAt).toBe('2030-01-03T00:00:00.000Z');
  });

  it('writes an audit entry without the secret', () => {
    const { token, summary } = tokens.create({ name: 'clerk', scopes: ['face'], actor: 'installer' });
    const entries = store.audit.list(0, 10);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: 'installer',
      action: 'token.create',
      target: summary.id,
      detail: { name: 'clerk', scopes: ['face'], expiresAt: null },
    });
    // The secret is base64url and may itself contain '_': take everything after the id.
    const secret = token.split('_').slice(2).join('_');
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(entries)).not.toContain(secret);
    expect(store.audit.verify()).toMatchObject({ ok: true, entries: 1 });
  });
});

describe('TokenService.authenticate', () => {
  it('turns a valid token into its principal', () => {
    const { token, summary } = tokens.create({ name: 'clerk', scopes: ['read', 'face'], actor: 'cli' });
    expect(tokens.authenticate(token)).toEqual({
      tokenId: summary.id,
      name: 'clerk',
      scopes: ['read', 'face'],
    });
    expect(tokens.isActive(token)).toBe(true);
  });

  it('records when a token was last used', () => {
    const { token } = tokens.create({ name: 'clerk', scopes: ['read'], actor: 'cli' });
    principal(tokens.authenticate(token));
    expect(tokens.list()[0]?.lastUsedAt).not.toBeNull();
  });

  it('says "missing" for no token', () => {
    expect(tokens.authenticate(undefined)).toBe('missing');
    expect(tokens.authenticate('')).toBe('missing');
  });

  it('says "malformed" for text that is not a token', () => {
    const { token } = tokens.create({ name: 'clerk', scopes: ['read'], actor: 'cli' });
    expect(tokens.authenticate('hello')).toBe('malformed');
    expect(tokens.authenticate(`Bearer ${token}`)).toBe('malformed');
    expect(tokens.authenticate(`${token}x`)).toBe('malformed');
    expect(tokens.authenticate(token.slice(0, -1))).toBe('malformed');
    expect(tokens.authenticate(token.replace('bxa_', 'bxb_'))).toBe('malformed');
  });

  it('says "unknown" for a wrong secret or an unknown id', () => {
    const { token } = tokens.create({ name: 'clerk', scopes: ['read'], actor: 'cli' });
    const [, id, secret] = TOKEN_FORMAT.exec(token) as RegExpExecArray;
    const otherSecret = `${(secret as string).startsWith('A') ? 'B' : 'A'}${(secret as string).slice(1)}`;
    expect(tokens.authenticate(`bxa_${id}_${otherSecret}`)).toBe('unknown');
    expect(tokens.authenticate(`bxa_000000000000_${secret}`)).toBe('unknown');
    expect(tokens.isActive(`bxa_${id}_${otherSecret}`)).toBe(false);
  });

  it('says "revoked" after revocation by id or by name, and writes an audit entry', () => {
    const a = tokens.create({ name: 'a', scopes: ['read'], actor: 'cli' });
    const b = tokens.create({ name: 'b', scopes: ['read'], actor: 'cli' });
    expect(tokens.revoke(a.summary.id, 'installer')).toBe(true);
    expect(tokens.revoke('b', 'installer')).toBe(true);
    expect(tokens.authenticate(a.token)).toBe('revoked');
    expect(tokens.authenticate(b.token)).toBe('revoked');
    expect(tokens.isActive(a.token)).toBe(false);
    const revocations = store.audit.list(0, 10).filter((e) => e.action === 'token.revoke');
    expect(revocations.map((e) => [e.actor, e.target])).toEqual([
      ['installer', a.summary.id],
      ['installer', 'b'],
    ]);
    expect(tokens.list().every((t) => t.revokedAt !== null)).toBe(true);
  });

  it('revoking an unknown or already revoked token reports false and audits nothing', () => {
    const a = tokens.create({ name: 'a', scopes: ['read'], actor: 'cli' });
    expect(tokens.revoke(a.summary.id, 'cli')).toBe(true);
    expect(tokens.revoke(a.summary.id, 'cli')).toBe(false);
    expect(tokens.revoke('nobody', 'cli')).toBe(false);
    expect(store.audit.list(0, 10).map((e) => e.action)).toEqual(['token.create', 'token.revoke']);
  });

  it('says "expired" once the expiry time has come', () => {
    const { token } = tokens.create({ name: 'temp', scopes: ['read'], expiresInDays: 1, actor: 'cli' });
    clock = new Date(clock.getTime() + DAY_MS - 1);
    expect(typeof tokens.authenticate(token)).toBe('object');
    clock = new Date(clock.getTime() + 1);
    expect(tokens.authenticate(token)).toBe('expired');
    clock = new Date(clock.getTime() + 30 * DAY_MS);
    expect(tokens.authenticate(token)).toBe('expired');
  });
});

describe('parseScopes', () => {
  it('parses a comma list, trimming and de-duplicating', () => {
    expect(parseScopes('read, print,read')).toEqual(['read', 'print']);
    expect(parseScopes('admin')).toEqual(['admin']);
  });

  it('refuses an empty list', () => {
    expect(() => parseScopes('')).toThrow(TokenError);
    expect(() => parseScopes(' , ')).toThrow(/at least one scope/);
  });

  it('refuses an unknown scope, naming it and the known ones', () => {
    expect(() => parseScopes('read,prnt')).toThrow(TokenError);
    expect(() => parseScopes('read,prnt')).toThrow(
      /unknown scope "prnt".*read, print, face, enroll, seal, idcard, admin/,
    );
    expect(() => parseScopes('READ')).toThrow(/unknown scope "READ"/);
  });
});

describe('hasScope', () => {
  const who = (scopes: Principal['scopes']): Principal => ({ tokenId: 't', name: 'n', scopes });

  it('grants exactly the scopes a token has', () => {
    expect(hasScope(who(['read', 'print']), 'print')).toBe(true);
    expect(hasScope(who(['read', 'print']), 'seal')).toBe(false);
    expect(hasScope(who([]), 'read')).toBe(false);
  });

  it('treats admin as every scope', () => {
    for (const s of ['read', 'print', 'face', 'enroll', 'seal', 'idcard', 'admin'] as const) {
      expect(hasScope(who(['admin']), s)).toBe(true);
    }
  });
});
