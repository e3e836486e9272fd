import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeCode, PairingService } from '../../../agent/auth/pairing-service.js';
import { TokenService } from '../../../agent/auth/token-service.js';
import { EventLog } from '../../../agent/events/event-log.js';
import { Problem } from '../../../agent/problems/problem.js';
import { DB_FILE, Store } from '../../../agent/store/store.js';

const ORIGIN = 'http://counter.test:8080';
const TTL_S = 300;

let dir: string;
let store: Store;
let clock: Date;
let events: EventLog;
let tokens: TokenService;
let pairings: PairingService;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'boxagent-pairing-'));
  store = Store.open(dir);
  clock = new Date('2030-01-01T00:00:00.000Z');
  events = new EventLog(store, 1000);
  tokens = new TokenService(store, () => clock);
  pairings = new PairingService(
    store,
    events,
    tokens,
    { ttlSeconds: TTL_S, maxPending: 4, maxPendingPerOrigin: 2 },
    () => clock,
  );
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const later = (s: number) => (clock = new Date(clock.getTime() + s * 1000));
const problemOf = (fn: () => unknown): Problem => {
  try {
    fn();
  } catch (err) {
    if (err instanceof Problem) return err;
    throw err;
  }
  throw new Error('no problem thrown');
};
const eventTypes = () => events.replay(0).map((e) => e.type);

describe('PairingService', () => {
  it('issues the token once, bound to the origin, with the granted scopes; stores neither id nor token', () => {
    const ticket = pairings.request({ name: 'window 3', scopes: ['read', 'print'], origin: ORIGIN });
    expect(pairings.status(ticket.id, ORIGIN)).toMatchObject({ state: 'pending', scopes: ['read', 'print'] });
    pairings.approve(ticket.code, { scopes: ['print'], by: 'clerk' });
    const first = pairings.status(ticket.id, ORIGIN);
    expect(first).toMatchObject({ state: 'approved', scopes: ['print'] });
    const token = first?.token as string;
    expect(pairings.status(ticket.id, ORIGIN)?.token).toBeUndefined();
    expect(tokens.authenticate(token, ORIGIN)).toMatchObject({ scopes: ['print'] });
    expect(tokens.authenticate(token, 'http://other.test')).toBe('origin-mismatch');
    expect(tokens.authenticate(token, undefined)).toBe('origin-mismatch');
    expect(tokens.list().find((t) => t.origin === ORIGIN)?.name).toBe(`pairing-${ticket.code}`);
    store.checkpoint();
    const db = readFileSync(join(dir, DB_FILE));
    expect(db.includes(Buffer.from(ticket.id))).toBe(false);
    // The secret is everything after `bxa_<12-char id>_`; base64url may itself contain `_`.
    const secret = token.slice('bxa_'.length + 12 + 1);
    expect(secret).toHaveLength(43);
    expect(db.includes(Buffer.from(secret))).toBe(false);
    expect(db.includes(Buffer.from(createHash('sha256').update(ticket.id).digest('hex')))).toBe(true);
  });

  it('publishes and audits every step, never with the poll id', () => {
    const a = pairings.request({ name: 'a', scopes: ['read'], origin: ORIGIN });
    const b = pairings.request({ name: 'b', scopes: ['read'], origin: ORIGIN });
    pairings.approve(a.code, { by: 'clerk' });
    pairings.deny(b.code, 'clerk');
    const c = pairings.request({ name: 'c', scopes: ['read'], origin: ORIGIN });
    later(TTL_S);
    expect(pairings.expireDue()).toBe(2); // c unapproved; a approved but never collected
    expect(pairings.status(a.id, ORIGIN)?.state).toBe('expired');
    expect(pairings.status(c.id, ORIGIN)?.state).toBe('expired');
    expect(eventTypes().filter((t) => t.startsWith('pairing.'))).toEqual([
      'pairing.requested',
      'pairing.requested',
      'pairing.approved',
      'pairing.denied',
      'pairing.requested',
      'pairing.expired',
      'pairing.expired',
    ]);
    const entries = store.audit.list(0, 100);
    expect(entries.map((e) => e.action)).toEqual([
      'pairing.request',
      'pairing.request',
      'pairing.approve',
      'pairing.deny',
      'pairing.request',
      'pairing.expire',
      'pairing.expire',
    ]);
    expect(entries[2]?.actor).toBe('clerk');
    const text = JSON.stringify([events.replay(0), entries]);
    for (const t of [a, b, c]) expect(text).not.toContain(t.id);
  });

  it('refuses admin, widening, unknown codes, decided and expired requests', () => {
    expect(problemOf(() => pairings.request({ name: 'x', scopes: ['admin'], origin: ORIGIN })).code).toBe(
      'invalid-request',
    );
    const t = pairings.request({ name: 'x', scopes: ['read'], origin: ORIGIN });
    expect(problemOf(() => pairings.approve(t.code, { scopes: ['read', 'seal'], by: 'c' })).field).toEqual([
      'scopes',
      1,
    ]);
    expect(problemOf(() => pairings.approve('2222-2222', { by: 'c' })).code).toBe('not-found');
    expect(problemOf(() => pairings.approve('not a code', { by: 'c' })).code).toBe('invalid-request');
    later(TTL_S);
    expect(problemOf(() => pairings.approve(t.code, { by: 'c' })).code).toBe('pairing-expired');
    const u = pairings.request({ name: 'y', scopes: ['read'], origin: ORIGIN });
    pairings.deny(u.code, 'c');
    expect(problemOf(() => pairings.approve(u.code, { by: 'c' })).code).toBe('pairing-conflict');
  });

  it('limits pending requests per origin and overall, with the wait until one expires', () => {
    pairings.request({ name: '1', scopes: ['read'], origin: ORIGIN });
    later(60);
    pairings.request({ name: '2', scopes: ['read'], origin: ORIGIN });
    const perOrigin = problemOf(() => pairings.request({ name: '3', scopes: ['read'], origin: ORIGIN }));
    expect(perOrigin.code).toBe('rate-limited');
    expect(perOrigin.extensions.retryAfter).toBe(TTL_S - 60);
    pairings.request({ name: '4', scopes: ['read'], origin: 'http://b.test' });
    pairings.request({ name: '5', scopes: ['read'], origin: 'http://c.test' });
    expect(
      problemOf(() => pairings.request({ name: '6', scopes: ['read'], origin: 'http://d.test' })).code,
    ).toBe('rate-limited');
    later(TTL_S - 60);
    expect(pairings.request({ name: '7', scopes: ['read'], origin: ORIGIN }).code).toMatch(/-/);
  });

  it('answers a poll only to the origin that asked, and only for a well-formed id', () => {
    const t = pairings.request({ name: 'x', scopes: ['read'], origin: ORIGIN });
    expect(pairings.status(t.id, 'http://other.test')).toBeUndefined();
    expect(pairings.status(t.id, undefined)).toBeUndefined();
    expect(pairings.status(`${t.id}x`, ORIGIN)).toBeUndefined();
  });

  it('reads codes as a clerk types them', () => {
    expect(normalizeCode('abcd2345')).toBe('ABCD-2345');
    expect(normalizeCode(' ab cd-2345 ')).toBe('ABCD-2345');
    expect(normalizeCode('ABCD-0345')).toBeUndefined(); // 0 is not in the alphabet
    expect(normalizeCode('ABCD-23456')).toBeUndefined();
  });
});
