// Pairing a counter page (issue 15), end to end: the daemon and the CLI as processes. The page (played by
// HTTP requests carrying its Origin, as a browser's would) asks to pair, the installer approves the code with
// `boxagent token approve`, the page's waiting poll receives its token once, and the token works from that
// Origin for the scopes granted only. Also: deny, the pending list, token list/revoke, and an approval made
// while the daemon is stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  removeDir,
  runCli,
  runCliAsync,
  startDaemon,
  tempDir,
  testEnv,
  type Daemon,
} from '../helpers/daemon.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';

const PAGE = 'http://counter.test:8080';
const ENV = { BOXAGENT_HTTP_ALLOWED_ORIGINS: PAGE };

let daemon: Daemon;
let dir: string;
const cliEnv = () => testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG, ...ENV });

beforeAll(async () => {
  dir = tempDir();
  daemon = await startDaemon({ storageDir: dir, env: ENV });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  removeDir(dir);
});

/** A request as the page's fetch makes it: with its Origin. */
function page(path: string, opts: { method?: string; token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { origin: PAGE };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return rawRequest(daemon.url + path, {
    method: opts.method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
}

const json = <T>(res: RawResponse): T => JSON.parse(res.body) as T;

interface Ticket {
  id: string;
  code: string;
  expiresAt: string;
  scopes: string[];
  name: string;
}
interface Status {
  id: string;
  state: string;
  scopes?: string[];
  token?: string;
}

async function ask(name: string, scopes: string[]): Promise<Ticket> {
  const res = await page('/v1/pairings', { method: 'POST', body: { name, scopes } });
  expect(res.status, res.body).toBe(201);
  expect(res.headers['access-control-allow-origin']).toBe(PAGE);
  return json<Ticket>(res);
}

describe('pairing a counter page', () => {
  it('request → boxagent token approve CODE → the poll gets the token once → it works for the granted scopes', async () => {
    const ticket = await ask('综合窗口 3', ['read', 'enroll']);
    expect(ticket).toMatchObject({ name: '综合窗口 3', scopes: ['read', 'enroll'] });
    expect(ticket.code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);

    const listed = runCli(['token', 'pairings'], cliEnv());
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(ticket.code);
    expect(listed.stdout).toContain(PAGE);

    // The page waits on its poll while the installer approves, narrowing to `read`.
    const poll = page(`/v1/pairings/${ticket.id}?wait=25`);
    const approved = await runCliAsync(
      ['token', 'approve', ticket.code.toLowerCase(), '--scopes', 'read'],
      cliEnv(),
    );
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`approved ${ticket.code}`);
    const first = json<Status>(await poll);
    expect(first).toMatchObject({ id: ticket.id, state: 'approved', scopes: ['read'] });
    expect(first.token).toMatch(/^bxa_/);
    const again = json<Status>(await page(`/v1/pairings/${ticket.id}`));
    expect(again.state).toBe('approved');
    expect(again.token).toBeUndefined();

    const token = first.token as string;
    expect((await page('/v1/devices', { token })).status).toBe(200);
    const enroll = await page('/v1/persons', { token });
    expect(enroll.status).toBe(403);
    expect(json<{ requiredScope: string }>(enroll).requiredScope).toBe('enroll');

    // The installer sees it bound to the page's origin, and can revoke it.
    const tokens = runCli(['token', 'list'], cliEnv());
    expect(tokens.stdout).toMatch(new RegExp(`pairing-${ticket.code}.*active.*read.*${PAGE}`));
    const viaApi = json<{ tokens: { id: string; name: string; origin: string | null }[] }>(
      await rawRequest(`${daemon.url}/v1/tokens`, {
        headers: { authorization: `Bearer ${daemon.adminToken}` },
      }),
    ).tokens.find((t) => t.name === `pairing-${ticket.code}`);
    expect(viaApi?.origin).toBe(PAGE);
    const revoke = await rawRequest(`${daemon.url}/v1/tokens/${viaApi?.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${daemon.adminToken}` },
    });
    expect(revoke.status).toBe(200);
    expect((await page('/v1/devices', { token })).status).toBe(401);

    // Audited: requested, approved by the CLI, the token issued.
    const audit = json<{ entries: { action: string; actor: string }[] }>(
      await rawRequest(`${daemon.url}/v1/audit?limit=1000`, {
        headers: { authorization: `Bearer ${daemon.adminToken}` },
      }),
    ).entries.map((e) => e.action);
    expect(audit).toEqual(
      expect.arrayContaining(['pairing.request', 'pairing.approve', 'token.create', 'token.revoke']),
    );
  });

  it("answers the browser's preflight and refuses a bad wait", async () => {
    const preflight = await rawRequest(`${daemon.url}/v1/pairings`, {
      method: 'OPTIONS',
      headers: {
        origin: PAGE,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(PAGE);
    const ticket = await ask('kiosk', ['read']);
    const bad = await page(`/v1/pairings/${ticket.id}?wait=60`);
    expect(bad.status).toBe(400);
    expect(json<{ field: string }>(bad).field).toBe('/wait');
    expect(runCli(['token', 'deny', ticket.code], cliEnv()).status).toBe(0);
  });

  it('a denied request tells the page so, and gives no token', async () => {
    const ticket = await ask('kiosk', ['read']);
    const denied = runCli(['token', 'deny', ticket.code], cliEnv());
    expect(denied.status, denied.stderr).toBe(0);
    const status = json<Status>(await page(`/v1/pairings/${ticket.id}`));
    expect(status.state).toBe('denied');
    expect(status.token).toBeUndefined();
    const twice = runCli(['token', 'approve', ticket.code], cliEnv());
    expect(twice.status).not.toBe(0);
    expect(twice.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an approval made while the daemon is stopped is collected after it starts', async () => {
    const ticket = await ask('after-restart', ['read']);
    await daemon.stop();
    const approved = runCli(['token', 'approve', ticket.code], cliEnv());
    expect(approved.status, approved.stderr).toBe(0);
    daemon = await startDaemon({ storageDir: dir, env: ENV });
    const status = json<Status>(await page(`/v1/pairings/${ticket.id}`));
    expect(status.state).toBe('approved');
    expect((await page('/v1/devices', { token: status.token })).status).toBe(200);
  }, 60_000);
});
