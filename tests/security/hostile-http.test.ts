// Hostile clients of the local API, against the daemon spawned as a process: image bombs, oversized
// uploads, slow-loris connections, DNS-rebinding Host headers, foreign Origins, token guessing and path
// traversal. Each must get a clear problem while the counter software's own requests go on being served.
import { connect, type Socket } from 'node:net';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startDaemon, tempDir, type Daemon } from '../helpers/daemon.js';
import { rssKb } from '../helpers/proc-stats.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait-for.js';

const COUNTER_APP = 'http://localhost:3000';
let daemon: Daemon;
let dir: string;

beforeAll(async () => {
  dir = tempDir();
  daemon = await startDaemon({
    storageDir: dir,
    env: {
      BOXAGENT_HTTP_ALLOWED_ORIGINS: `${COUNTER_APP},http://localhost:4000`,
      BOXAGENT_HTTP_HEADERS_TIMEOUT_MS: '1000',
      BOXAGENT_HTTP_AUTH_FAILURES_BURST: '10',
      BOXAGENT_HTTP_AUTH_FAILURES_PER_MINUTE: '6',
    },
  });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  removeDir(dir);
});

function problemType(res: RawResponse): string {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  return (JSON.parse(res.body) as { type: string }).type.replace('urn:boxagent:problem:', '');
}

function api(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
) {
  return rawRequest(daemon.url + path, {
    ...init,
    headers: { authorization: `Bearer ${daemon.adminToken}`, ...init.headers },
  });
}

/** A PNG whose header claims `w`×`h` pixels: a few hundred bytes that would decode to gigabytes. */
function pngBomb(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4); // not checked before the header is read; a bomb does not care
    return Buffer.concat([len, Buffer.from(type, 'ascii'), data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64 * 1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('hostile input to the local API', () => {
  it('refuses image bombs from their header, without decoding them', async () => {
    const before = rssKb(daemon.proc.pid!);
    for (const [w, h] of [
      [20_000, 20_000],
      [100_000, 1_000],
      [65_535, 65_535],
    ] as const) {
      const res = await api('/v1/face/detect', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ probe: { image: pngBomb(w, h).toString('base64') } }),
      });
      expect(res.status, `${w}×${h}`).toBe(413);
      expect(problemType(res)).toBe('image-too-large');
    }
    // 20 000 × 20 000 RGB would be 1.2 GB decoded; the process stays far below that.
    expect(rssKb(daemon.proc.pid!) - before).toBeLessThan(200_000);
  });

  it('refuses an oversized upload with 413 and serves the next request', async () => {
    const huge = Buffer.alloc(40 * 1024 * 1024, 0x41);
    const res = await api('/v1/face/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"probe":{"image":"'), huge, Buffer.from('"}}')]),
    }).catch((e: Error): RawResponse => ({ status: 0, headers: {}, body: e.message }));
    // The daemon answers 413 as soon as the body passes the limit; the client may still be writing and see
    // the connection close instead. Either way nothing was taken in.
    if (res.status !== 0) {
      expect(res.status).toBe(413);
      expect(problemType(res)).toBe('payload-too-large');
    }
    expect((await api('/v1/health')).status).toBe(200);
  });

  it('cuts off slow-loris connections and keeps serving others meanwhile', async () => {
    const { port } = new URL(daemon.url);
    const sockets: Socket[] = [];
    const closed = new Set<Socket>();
    let answers = '';
    for (let i = 0; i < 50; i++) {
      const s = connect(Number(port), '127.0.0.1');
      s.on('data', (c: Buffer) => (answers += c.toString()));
      s.on('close', () => closed.add(s));
      s.on('error', () => closed.add(s));
      s.write('GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      sockets.push(s);
    }
    // Dribble one header line now and then, never finishing the head.
    const drip = setInterval(() => {
      for (const s of sockets) if (!closed.has(s)) s.write(`X-Slow-${Date.now()}: 1\r\n`);
    }, 200);
    try {
      expect((await api('/v1/health')).status).toBe(200);
      await waitFor('the slow connections to be cut off', () => closed.size === sockets.length, 15_000);
      expect(answers).toContain('408');
      expect(answers).toContain('application/problem+json');
    } finally {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    }
    expect((await api('/v1/health')).status).toBe(200);
  });

  it('answers only to loopback Host names (DNS rebinding)', async () => {
    for (const host of [
      'evil.example',
      '127.0.0.1.evil.example',
      'localhost.evil.example',
      '10.0.0.1',
      'localhost@evil',
    ]) {
      const res = await api('/v1/health', { headers: { host } });
      expect(res.status, host).toBe(421);
      expect(problemType(res)).toBe('misdirected-request');
    }
  });

  it('refuses foreign Origins, preflight and request alike', async () => {
    const preflight = await rawRequest(`${daemon.url}/v1/print-jobs`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const res = await api('/v1/devices', { headers: { origin: 'null' } });
    expect(problemType(res)).toBe('origin-not-allowed');
  });

  it('throttles token guessing per caller and claimed id, never locking out a valid token', async () => {
    const guesser = 'http://localhost:4000';
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 30; i++) {
      const res = await rawRequest(`${daemon.url}/v1/devices`, {
        headers: { origin: guesser, authorization: `Bearer bxa_${i.toString(16).padStart(40, '0')}` },
      });
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= String(res.headers['retry-after']);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(20).fill(429));
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // The right token is checked first and answered even from the throttled caller: failures never lock a
    // valid token out (its 256-bit secret, not the throttle, is what guessing is up against).
    const right = await api('/v1/devices', { headers: { origin: guesser } });
    expect(right.status).toBe(200);
    // The counter software (its own Origin, or none) is not affected.
    expect((await api('/v1/devices', { headers: { origin: COUNTER_APP } })).status).toBe(200);
    expect((await api('/v1/devices')).status).toBe(200);
  });

  it('does not follow path traversal in ids and template names', async () => {
    for (const path of [
      '/v1/print-jobs/..%2F..%2F..%2Fetc%2Fpasswd',
      '/v1/persons/..%2Fstate.db',
      '/v1/devices/..%2F..%2Fadmin.token',
      '/v1/seal-jobs/%2e%2e%2fface.key',
    ]) {
      const res = await api(path);
      // Refused as a malformed id (400) or not found (404): never read from the file system.
      expect([400, 404], path).toContain(res.status);
      expect(res.body).not.toMatch(/root:|BEGIN|bxa_/);
    }
    const res = await api('/v1/print-jobs/preview', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        printer: 'printer-1',
        document: { template: '../../../../etc/passwd', fields: {} },
      }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(['unknown-template', 'invalid-request']).toContain(problemType(res));
  });
});
