// Attacks on pairing (issue 15), replayed against the daemon spawned as a process: a page on a foreign origin
// asking to pair, a paired page's token used from another origin or none, another origin collecting a
// pairing's token, guessing poll ids and codes, flooding requests, and approving an expired request (the real
// CLI on a state dir whose clock-driven expiry is forced by the service with an injected clock).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PairingService } from '../../agent/auth/pairing-service.js';
import { TokenService } from '../../agent/auth/token-service.js';
import { EventLog } from '../../agent/events/event-log.js';
import { Store } from '../../agent/store/store.js';
import {
  DEFAULT_CONFIG,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../helpers/daemon.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';

const COUNTER_APP = 'http://counter.test:8080';
/** Another allowed origin: a page there is trusted for its own pairings, not for the counter app's. */
const OTHER_APP = 'http://other.test:9000';
/** An allowed origin whose page guesses poll ids (its failures are counted apart from the others'). */
const GUESSER = 'http://guesser.test';
const EVIL = 'https://evil.example';
const PER_ORIGIN = 3;
const BURST = 5;

let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  daemon = await startDaemon({
    storageDir: dir,
    env: {
      BOXAGENT_HTTP_ALLOWED_ORIGINS: `${COUNTER_APP},${OTHER_APP},${GUESSER}`,
      BOXAGENT_HTTP_PAIRING_MAX_PENDING_PER_ORIGIN: String(PER_ORIGIN),
      BOXAGENT_HTTP_AUTH_FAILURES_BURST: String(BURST),
      BOXAGENT_HTTP_AUTH_FAILURES_PER_MINUTE: '1',
    },
  });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  removeDir(dir);
});

function call(
  path: string,
  opts: { method?: string; origin?: string; token?: string; body?: unknown } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = {};
  if (opts.origin) headers.origin = opts.origin;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return rawRequest(daemon.url + path, {
    method: opts.method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
}

const json = <T>(res: RawResponse): T => JSON.parse(res.body) as T;
const code = (res: RawResponse): string =>
  json<{ type: string }>(res).type.replace('urn:boxagent:problem:', '');

interface Ticket {
  id: string;
  code: string;
}

async function requestPairing(origin: string, scopes = ['read']): Promise<Ticket> {
  const res = await call('/v1/pairings', { method: 'POST', origin, body: { name: 'window 3', scopes } });
  expect(res.status, res.body).toBe(201);
  return json<Ticket>(res);
}

const approve = (ticket: Ticket, scopes?: string[]) =>
  call(`/v1/pairings/${ticket.code}/approve`, {
    method: 'POST',
    token: daemon.adminToken,
    body: scopes ? { scopes } : {},
  });

async function pendingCodes(): Promise<string[]> {
  const res = await call('/v1/pairings', { token: daemon.adminToken });
  return json<{ pairings: { code: string }[] }>(res).pairings.map((p) => p.code);
}

describe('pairing under attack', () => {
  it('a page on a non-allowed origin, or a request with no Origin, cannot ask to pair', async () => {
    const before = await pendingCodes();
    const foreign = await call('/v1/pairings', {
      method: 'POST',
      origin: EVIL,
      body: { name: 'evil', scopes: ['read'] },
    });
    expect(foreign.status).toBe(403);
    expect(code(foreign)).toBe('origin-not-allowed');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    const none = await call('/v1/pairings', { method: 'POST', body: { name: 'script', scopes: ['read'] } });
    expect(none.status).toBe(403);
    expect(code(none)).toBe('origin-not-allowed');
    // Nothing waits for a clerk's approval.
    expect(await pendingCodes()).toEqual(before);
  });

  it('admin cannot be asked for, and an approval cannot widen what was asked', async () => {
    const admin = await call('/v1/pairings', {
      method: 'POST',
      origin: COUNTER_APP,
      body: { name: 'greedy', scopes: ['read', 'admin'] },
    });
    expect(admin.status).toBe(400);
    const ticket = await requestPairing(COUNTER_APP, ['read']);
    const widened = await approve(ticket, ['read', 'print']);
    expect(widened.status).toBe(400);
    expect(json<{ field: string }>(widened).field).toBe('/scopes/1');
    expect(await pendingCodes()).toContain(ticket.code);
    expect(
      (await call(`/v1/pairings/${ticket.code}/deny`, { method: 'POST', token: daemon.adminToken })).status,
    ).toBe(200);
  });

  it("another origin cannot collect a pairing's token, before or after approval", async () => {
    const ticket = await requestPairing(COUNTER_APP, ['read']);
    for (const origin of [OTHER_APP, undefined]) {
      const res = await call(`/v1/pairings/${ticket.id}`, { origin });
      // The same answer as for an id that does not exist: the other origin learns nothing.
      expect(res.status).toBe(404);
      expect(res.body).not.toContain(ticket.code);
    }
    expect((await approve(ticket)).status).toBe(200);
    for (const origin of [OTHER_APP, undefined]) {
      const res = await call(`/v1/pairings/${ticket.id}`, { origin });
      expect(res.status).toBe(404);
      expect(res.body).not.toContain('bxa_');
    }
    const own = json<{ token?: string }>(await call(`/v1/pairings/${ticket.id}`, { origin: COUNTER_APP }));
    expect(own.token).toMatch(/^bxa_/);
  });

  it('a token bound to an Origin is refused with another Origin or none', async () => {
    const ticket = await requestPairing(COUNTER_APP, ['read']);
    expect((await approve(ticket)).status).toBe(200);
    const { token } = json<{ token: string }>(
      await call(`/v1/pairings/${ticket.id}`, { origin: COUNTER_APP }),
    );
    expect((await call('/v1/devices', { origin: COUNTER_APP, token })).status).toBe(200);
    for (const origin of [OTHER_APP, undefined]) {
      const res = await call('/v1/devices', { origin, token });
      expect(res.status).toBe(401);
      expect(code(res)).toBe('unauthorized');
      expect(json<{ detail: string }>(res).detail).toMatch(/Origin/);
    }
    // EventSource's `?access_token=` is bound the same way.
    const stream = await call(`/v1/events?access_token=${token}`);
    expect(stream.status).toBe(401);
    // A token made with the CLI (unbound) keeps working from anywhere, as before.
    const r = runCli(
      ['token', 'create', '--name', 'cli-made', '--scopes', 'read'],
      testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG }),
    );
    expect(r.status, r.stderr).toBe(0);
    const cliToken = r.stdout.trim();
    expect((await call('/v1/devices', { token: cliToken })).status).toBe(200);
    expect((await call('/v1/devices', { token: cliToken, origin: OTHER_APP })).status).toBe(200);
  });

  it('guessing poll ids is throttled; guessing codes needs an admin token', async () => {
    const ticket = await requestPairing(GUESSER, ['read']);
    const statuses: number[] = [];
    for (let i = 0; i < BURST + 3; i++) {
      const guess = Buffer.alloc(16, i + 1).toString('base64url');
      statuses.push((await call(`/v1/pairings/${guess}`, { origin: GUESSER })).status);
    }
    expect(statuses.slice(0, BURST)).toEqual(Array(BURST).fill(404));
    expect(statuses.slice(BURST)).toEqual([429, 429, 429]);
    // The page that holds the right id is still answered.
    expect((await call(`/v1/pairings/${ticket.id}`, { origin: GUESSER })).status).toBe(200);
    // A code alone approves nothing: a page has no token, and a token without admin is refused.
    const noToken = await call(`/v1/pairings/${ticket.code}/approve`, {
      method: 'POST',
      origin: GUESSER,
      body: {},
    });
    expect(noToken.status).toBe(401);
    const reader = runCli(
      ['token', 'create', '--name', 'reader', '--scopes', 'read,print'],
      testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG }),
    ).stdout.trim();
    const notAdmin = await call(`/v1/pairings/${ticket.code}/approve`, {
      method: 'POST',
      token: reader,
      body: {},
    });
    expect(notAdmin.status).toBe(403);
    expect(await pendingCodes()).toContain(ticket.code);
    // Ids are 128 random bits, codes 8 symbols of 31.
    expect(Buffer.from(ticket.id, 'base64url')).toHaveLength(16);
    expect(ticket.code).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
  });

  it('a flood of pairing requests from one origin is refused with 429 and Retry-After', async () => {
    const flooder = 'http://counter.test:8080';
    const pending = (await pendingCodes()).length;
    const statuses: number[] = [];
    let last: RawResponse | undefined;
    for (let i = 0; i < PER_ORIGIN + 2; i++) {
      last = await call('/v1/pairings', {
        method: 'POST',
        origin: flooder,
        body: { name: `n${i}`, scopes: ['read'] },
      });
      statuses.push(last.status);
    }
    expect(statuses).toContain(429);
    expect(code(last as RawResponse)).toBe('rate-limited');
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect((await pendingCodes()).length).toBeLessThanOrEqual(pending + PER_ORIGIN);
  });
});

describe('expired pairing requests', () => {
  it('cannot be approved, by the service or the CLI', () => {
    const state = tempDir();
    try {
      const store = Store.open(state);
      // Made an hour ago by the service's clock: expired by its clock and by the CLI's (the real one).
      let now = new Date(Date.now() - 3_600_000);
      const pairings = new PairingService(
        store,
        new EventLog(store, 1000),
        new TokenService(store, () => now),
        { ttlSeconds: 300, maxPending: 20, maxPendingPerOrigin: 3 },
        () => now,
      );
      const ticket = pairings.request({ name: 'late', scopes: ['read'], origin: COUNTER_APP });
      now = new Date(now.getTime() + 301_000);
      expect(() => pairings.approve(ticket.code, { by: 'test' })).toThrow(/expired/);
      store.close();
      const cli = runCli(
        ['token', 'approve', ticket.code],
        testEnv(state, { BOXAGENT_CONFIG: DEFAULT_CONFIG }),
      );
      expect(cli.status).not.toBe(0);
      expect(cli.stderr).toMatch(/expired/);
    } finally {
      removeDir(state);
    }
  });
});
