// The built daemon as a process, on the default config (six simulated devices, one of each kind), driven over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../agent/store/store.js';
import { DEFAULT_CONFIG, removeDir, runCli, startDaemon, testEnv, type Daemon } from '../helpers/daemon.js';
import { rawRequest } from '../helpers/raw-http.js';
import { openSse, type SseEvent } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

const PROBLEM = 'application/problem+json';
const ALLOWED_ORIGIN = 'http://localhost:3000';

let daemon: Daemon;

beforeAll(async () => {
  daemon = await startDaemon({
    env: {
      BOXAGENT_HTTP_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
      // Fast supervision so a forced fault shows within a second.
      BOXAGENT_SUPERVISION_PROBE_INTERVAL_MS: '50',
      BOXAGENT_SUPERVISION_FAILURES_BEFORE_ERROR: '2',
      BOXAGENT_SUPERVISION_BACKOFF_INITIAL_MS: '50',
      BOXAGENT_SUPERVISION_BACKOFF_MAX_MS: '200',
    },
  });
});

afterAll(async () => {
  await daemon.stop('SIGKILL');
  removeDir(daemon.storageDir);
});

let tokenCount = 0;
/** Makes a token with the CLI, as an installer would, against the running daemon's state dir. */
function tokenWith(scopes: string): string {
  const env = testEnv(daemon.storageDir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });
  const r = runCli(['token', 'create', '--name', `test-${++tokenCount}`, '--scopes', scopes], env);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

describe('a freshly started box', () => {
  it('is ready, with the six simulated devices ready', async () => {
    await waitFor('health ready', async () => (await daemon.fetch('/v1/health')).status === 200, 5_000);
    const health = (await (await daemon.fetch('/v1/health')).json()) as {
      status: string;
      devices: { total: number; ready: number };
    };
    expect(health.status).toBe('ready');
    await waitFor('all devices ready', async () => {
      const body = (await (await daemon.fetch('/v1/devices')).json()) as { devices: { state: string }[] };
      return body.devices.length === 6 && body.devices.every((d) => d.state === 'ready');
    });
    const body = (await (await daemon.fetch('/v1/devices')).json()) as {
      devices: { id: string; kind: string }[];
    };
    expect(body.devices.map((d) => d.kind).sort()).toEqual([
      'camera',
      'idcard',
      'photo-printer',
      'printer',
      'rating-pad',
      'seal',
    ]);
  });

  it('describes itself', async () => {
    const info = (await (await daemon.fetch('/v1/info')).json()) as {
      box: { id: string };
      fleetLink: boolean;
    };
    expect(info.box.id).toBe('dev-box');
    expect(info.fleetLink).toBe(false);
  });

  it('serves an OpenAPI document generated from the operations catalog', async () => {
    const doc = (await (await daemon.fetch('/openapi.json', { token: null })).json()) as {
      servers: { url: string }[];
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    // The address it listens on (here a port-0 config: the port it was given).
    expect(doc.servers.map((s) => s.url)).toEqual([daemon.url]);
    expect(doc.paths['/v1/devices/{id}']?.get?.operationId).toBe('devices.get');
    expect(doc.paths['/v1/health']?.get?.operationId).toBe('agent.health');
  });

  it('serves Prometheus metrics', async () => {
    const text = await (await daemon.fetch('/metrics')).text();
    expect(text).toMatch(/boxagent_device_state\{device="printer-1",kind="printer",state="ready"\} 1/);
    expect(text).toContain('boxagent_http_requests_total');
  });
});

async function expectProblem(
  res: Response,
  status: number,
  code: string,
): Promise<{ detail?: string; field?: string }> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain(PROBLEM);
  const body = (await res.json()) as { type: string; title: string; detail?: string; field?: string };
  expect(body.type).toBe(`urn:boxagent:problem:${code}`);
  expect(body.title).toBeTruthy();
  return body;
}

describe('who may call', () => {
  it('refuses a request without a token (401)', async () => {
    const res = await daemon.fetch('/v1/devices', { token: null });
    await expectProblem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('refuses unknown, malformed and revoked tokens (401)', async () => {
    await expectProblem(
      await daemon.fetch('/v1/devices', { token: 'bxa_000000000000_' + 'A'.repeat(43) }),
      401,
      'unauthorized',
    );
    await expectProblem(await daemon.fetch('/v1/devices', { token: 'hunter2' }), 401, 'unauthorized');
    const token = tokenWith('read');
    expect((await daemon.fetch('/v1/devices', { token })).status).toBe(200);
    const env = testEnv(daemon.storageDir, { BOXAGENT_CONFIG: DEFAULT_CONFIG });
    const id = token.split('_')[1] as string;
    expect(runCli(['token', 'revoke', id], env).status).toBe(0);
    const body = await expectProblem(
      await daemon.fetch('/v1/devices', { token, headers: { 'accept-language': 'en' } }),
      401,
      'unauthorized',
    );
    expect(body.detail).toMatch(/revoked/);
  });

  it('refuses a token without the needed scope (403) and does nothing', async () => {
    const token = tokenWith('read,print');
    const res = await daemon.fetch('/v1/devices/printer-1/test', { method: 'POST', token });
    await expectProblem(res, 403, 'forbidden');
    const audit = (await (await daemon.fetch('/v1/audit?limit=1000')).json()) as {
      entries: { action: string }[];
    };
    expect(audit.entries.filter((e) => e.action === 'device.test')).toEqual([]);
  });

  it('rejects a foreign Host header (DNS rebinding) with 421', async () => {
    const res = await rawRequest(`${daemon.url}/v1/devices`, {
      headers: { host: 'evil.example:8620', authorization: `Bearer ${daemon.adminToken}` },
    });
    expect(res.status).toBe(421);
    expect(JSON.parse(res.body)).toMatchObject({ type: 'urn:boxagent:problem:misdirected-request' });
  });

  it('accepts loopback Host names', async () => {
    for (const host of ['localhost:8620', '127.0.0.1', '[::1]:8620']) {
      const res = await rawRequest(`${daemon.url}/v1/info`, {
        headers: { host, authorization: `Bearer ${daemon.adminToken}` },
      });
      expect(res.status, host).toBe(200);
    }
  });

  it('answers a preflight from an allowed origin, with Private Network Access', async () => {
    const res = await rawRequest(`${daemon.url}/v1/devices`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED_ORIGIN,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
        'access-control-request-private-network': 'true',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(res.headers['access-control-allow-private-network']).toBe('true');
    expect(String(res.headers['access-control-allow-headers'])).toMatch(/Authorization/);
  });

  it('refuses a preflight and a request from another origin', async () => {
    const pre = await rawRequest(`${daemon.url}/v1/devices`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'GET',
        'access-control-request-private-network': 'true',
      },
    });
    expect(pre.status).toBe(403);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    expect(pre.headers['access-control-allow-private-network']).toBeUndefined();
    const res = await daemon.fetch('/v1/devices', { headers: { origin: 'https://evil.example' } });
    await expectProblem(res, 403, 'origin-not-allowed');
  });

  it('lets an allowed origin read responses (CORS headers on the actual request)', async () => {
    const res = await daemon.fetch('/v1/info', { headers: { origin: ALLOWED_ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
  });
});

describe('bad input', () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    daemon.fetch(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  it('answers malformed JSON with 400 malformed-json', async () => {
    await expectProblem(await post('/v1/devices/seal-1/simulator', '{"fault": '), 400, 'malformed-json');
  });

  it('names the failing field for unknown fields, wrong types and bad values', async () => {
    let p = await expectProblem(
      await post('/v1/devices/seal-1/simulator', '{"fault":"none","extra":1}'),
      400,
      'invalid-request',
    );
    expect(p.field).toBe('/extra');
    p = await expectProblem(
      await post('/v1/devices/seal-1/simulator', '{"fault":3}'),
      400,
      'invalid-request',
    );
    expect(p.field).toBe('/fault');
    p = await expectProblem(
      await post('/v1/devices/seal-1/simulator', '{"fault":"melted"}'),
      400,
      'invalid-request',
    );
    expect(p.field).toBe('/fault');
    p = await expectProblem(await post('/v1/devices/seal-1/simulator', '{}'), 400, 'invalid-request');
    expect(p.field).toBe('/fault');
    p = await expectProblem(await daemon.fetch('/v1/audit?limit=abc'), 400, 'invalid-request');
    expect(p.field).toBe('/limit');
  });

  it('refuses an oversize body with 413 before acting on it', async () => {
    const big = JSON.stringify({ fault: 'none', pad: 'x'.repeat(2 * 1024 * 1024) });
    await expectProblem(await post('/v1/devices/seal-1/simulator', big), 413, 'payload-too-large');
  });

  it('refuses a non-JSON body with 415', async () => {
    await expectProblem(
      await post('/v1/devices/seal-1/simulator', 'fault=none', { 'content-type': 'text/plain' }),
      415,
      'unsupported-media-type',
    );
  });

  it('answers unknown routes and devices with 404 problems', async () => {
    await expectProblem(await daemon.fetch('/v1/nothing-here'), 404, 'not-found');
    const p = await expectProblem(await daemon.fetch('/v1/devices/nope'), 404, 'not-found');
    expect(p.field).toBe('/id');
  });

  it('logs a rejected request once at warn, without the token', async () => {
    const marker = `marker-${Date.now()}`;
    await daemon.fetch(`/v1/info?${marker}=1`, { token: 'bxa_000000000000_' + 'B'.repeat(43) });
    const mine = () => daemon.logs.filter((l) => l.level >= 40 && String(l.url).includes(marker));
    await waitFor('the warn line', () => mine().length > 0);
    // Give a duplicate line the chance to show up before asserting there is none.
    await new Promise((r) => setTimeout(r, 200));
    expect(mine()).toHaveLength(1);
    expect(mine()[0]).toMatchObject({ level: 40, msg: 'request rejected', status: 401 });
    expect(JSON.stringify(daemon.logs)).not.toContain('B'.repeat(43));
    expect(JSON.stringify(daemon.logs)).not.toContain(daemon.adminToken);
  });
});

describe('jobs and Idempotency-Key', () => {
  const selfTest = (key?: string) =>
    daemon.fetch('/v1/devices/printer-1/test', {
      method: 'POST',
      headers: key ? { 'idempotency-key': key } : {},
    });

  it('a retry with the same key returns the same job; the device test runs once', async () => {
    const first = await selfTest('retry-me');
    expect(first.status).toBe(201);
    const job = (await first.json()) as { id: string; kind: string; state: string };
    expect(job).toMatchObject({ kind: 'selftest', state: 'done' });
    const again = await selfTest('retry-me');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { id: string }).id).toBe(job.id);
    const other = (await (await selfTest('another')).json()) as { id: string };
    expect(other.id).not.toBe(job.id);
  });

  it('the same key with a different request is a 409 problem', async () => {
    expect((await selfTest('mine')).status).toBe(201);
    const res = await daemon.fetch('/v1/devices/seal-1/test', {
      method: 'POST',
      headers: { 'idempotency-key': 'mine' },
    });
    // A different device is a different operation input: same key, different body.
    await expectProblem(res, 409, 'idempotency-key-reused');
  });
});

describe('events', () => {
  function parsed(e: SseEvent): { type: string; device?: string; state?: string } {
    return JSON.parse(e.data) as { type: string; device?: string; state?: string };
  }

  it('streams a device state change and resumes with Last-Event-ID', async () => {
    const auth = { authorization: `Bearer ${daemon.adminToken}` };
    const stream = await openSse(`${daemon.url}/v1/events`, auth);
    try {
      const sim = (fault: string) =>
        daemon.fetch('/v1/devices/camera-1/simulator', {
          method: 'POST',
          body: JSON.stringify({ fault }),
          headers: { 'content-type': 'application/json' },
        });
      expect((await sim('offline')).status).toBe(200);
      await waitFor('camera error event', () =>
        stream.events.some(
          (e) => e.event === 'device.state' && parsed(e).device === 'camera-1' && parsed(e).state === 'error',
        ),
      );
      const errorEvent = stream.events.find((e) => e.event === 'device.state' && parsed(e).state === 'error');
      const resumeFrom = errorEvent?.id as string;

      expect((await sim('none')).status).toBe(200);
      await waitFor('camera ready again', () =>
        stream.events.some(
          (e) =>
            Number(e.id) > Number(resumeFrom) &&
            parsed(e).device === 'camera-1' &&
            parsed(e).state === 'ready',
        ),
      );
      stream.close();

      // A client that saw only up to the error event reconnects and gets everything after it, in order.
      const resumed = await openSse(`${daemon.url}/v1/events`, { ...auth, 'last-event-id': resumeFrom });
      try {
        await waitFor('replayed recovery', () =>
          resumed.events.some((e) => parsed(e).device === 'camera-1' && parsed(e).state === 'ready'),
        );
        // The snapshot frame that follows the replay has no id: it is not in the log.
        const ids = resumed.events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
        expect(ids[0]).toBeGreaterThan(Number(resumeFrom));
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      } finally {
        resumed.close();
      }
    } finally {
      stream.close();
    }
  });

  it('sends a token only the event types its scopes allow, live and on replay (admin gets all)', async () => {
    const read = { authorization: `Bearer ${tokenWith('read')}` };
    const admin = { authorization: `Bearer ${daemon.adminToken}` };
    const readLive = await openSse(`${daemon.url}/v1/events`, read);
    const adminLive = await openSse(`${daemon.url}/v1/events`, admin);
    const streams = [readLive, adminLive];
    try {
      // Injecting a fault is audited (audit.entry, admin) and the camera then fails (device.state, read).
      const sim = (fault: string) =>
        daemon.fetch('/v1/devices/camera-1/simulator', {
          method: 'POST',
          body: JSON.stringify({ fault }),
          headers: { 'content-type': 'application/json' },
        });
      expect((await sim('offline')).status).toBe(200);
      const cameraDown = (e: SseEvent) =>
        e.event === 'device.state' && parsed(e).device === 'camera-1' && parsed(e).state === 'error';
      const audited = (e: SseEvent) => e.event === 'audit.entry' && e.data.includes('"camera-1"');
      await waitFor('the audit entry, to admin', () => adminLive.events.some(audited));
      await waitFor('the camera down, to read', () => readLive.events.some(cameraDown));
      const auditId = Number(adminLive.events.find(audited)?.id);
      const downId = Number(readLive.events.find(cameraDown)?.id);
      // The read stream got an event published after the audit entry, so it would have had that too.
      expect(downId).toBeGreaterThan(auditId);
      expect(readLive.events.filter((e) => e.event?.startsWith('audit.'))).toEqual([]);
      expect((await sim('none')).status).toBe(200);

      // Replay from before the audit entry: the same filter.
      const from = String(auditId - 1);
      const readReplay = await openSse(`${daemon.url}/v1/events`, { ...read, 'last-event-id': from });
      const adminReplay = await openSse(`${daemon.url}/v1/events`, { ...admin, 'last-event-id': from });
      streams.push(readReplay, adminReplay);
      const reached = (s: { events: SseEvent[] }) => s.events.some((e) => Number(e.id) >= downId);
      await waitFor('both replays past the camera down', () => reached(readReplay) && reached(adminReplay));
      expect(readReplay.events.filter((e) => e.event?.startsWith('audit.'))).toEqual([]);
      expect(readReplay.events.some(cameraDown)).toBe(true);
      expect(adminReplay.events[0]).toMatchObject({ id: String(auditId), event: 'audit.entry' });
      await waitFor('camera ready again', async () => {
        const d = (await (await daemon.fetch('/v1/devices/camera-1')).json()) as { state: string };
        return d.state === 'ready';
      });
    } finally {
      streams.forEach((s) => s.close());
    }
  });

  it('accepts the token as ?access_token= for EventSource, and only there', async () => {
    const stream = await openSse(`${daemon.url}/v1/events?access_token=${daemon.adminToken}`);
    stream.close();
    await expectProblem(
      await daemon.fetch(`/v1/devices?access_token=${daemon.adminToken}`, { token: null }),
      401,
      'unauthorized',
    );
  });
});

describe('shutdown', () => {
  it('exits 0 on SIGTERM and leaves a store that reopens cleanly', async () => {
    const own = await startDaemon();
    try {
      expect(await own.stop('SIGTERM')).toBe(0);
      expect(own.logs.some((l) => l.msg === 'stopped')).toBe(true);
      const store = Store.open(own.storageDir);
      expect(store.integrityCheck()).toBe('ok');
      expect(store.audit.verify()).toMatchObject({ ok: true });
      store.close();
      // And the daemon starts again on it, with the same admin token.
      const again = await startDaemon({ storageDir: own.storageDir });
      expect(again.adminToken).toBe(own.adminToken);
      expect((await again.fetch('/v1/health')).status).toBe(200);
      expect(await again.stop('SIGINT')).toBe(0);
    } finally {
      removeDir(own.storageDir);
    }
  });
});
