// The local API under abuse (issue 14, item 12), against the daemon spawned as a process: a flood of sockets
// that never send a request, one token opening 260 event streams, and a local process (no Origin) storming
// the API with bad tokens. After each, a valid token's request must still be answered, and quickly.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
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
import { rawRequest } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait-for.js';

/** The defaults of `http.maxConnections` and `http.streamsPerToken`. */
const MAX_CONNECTIONS = 256;
const STREAMS_PER_TOKEN = 16;
const FLOOD = 260;
/** The acceptance bound for the valid request after a flood (the daemon answers in milliseconds). */
const ANSWER_WITHIN_MS = 1000;
const BURST = 10;

let daemon: Daemon;
let dir: string;

function token(name: string, scopes: string): string {
  const r = runCli(
    ['token', 'create', '--name', name, '--scopes', scopes],
    testEnv(dir, { BOXAGENT_CONFIG: DEFAULT_CONFIG }),
  );
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  dir = tempDir();
  daemon = await startDaemon({
    storageDir: dir,
    env: {
      // Long head timeouts: the flood must be survived by eviction, not by waiting for the timeouts.
      BOXAGENT_HTTP_HEADERS_TIMEOUT_MS: '300000',
      BOXAGENT_HTTP_REQUEST_TIMEOUT_MS: '600000',
      BOXAGENT_HTTP_AUTH_FAILURES_BURST: String(BURST),
      BOXAGENT_HTTP_AUTH_FAILURES_PER_MINUTE: '1',
    },
  });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  removeDir(dir);
});

interface RawClient {
  socket: Socket;
  data: string;
  closed: boolean;
}

/** Opens `n` sockets to the daemon, each writing `head` (possibly nothing, possibly half a request). */
function openSockets(n: number, head: (i: number) => string): RawClient[] {
  const { port } = new URL(daemon.url);
  return Array.from({ length: n }, (_, i) => {
    const c: RawClient = { socket: connect(Number(port), '127.0.0.1'), data: '', closed: false };
    c.socket.on('data', (chunk: Buffer) => (c.data += chunk.toString('latin1')));
    c.socket.on('close', () => (c.closed = true));
    c.socket.on('error', () => (c.closed = true));
    const text = head(i);
    if (text) c.socket.write(text);
    return c;
  });
}

function closeAll(clients: RawClient[]): void {
  for (const c of clients) c.socket.destroy();
}

/** A request with `bearer`, its answer and how long it took (printed: the README quotes it). */
async function timedRequest(bearer: string, after: string): Promise<{ status: number; ms: number }> {
  const start = performance.now();
  const res = await rawRequest(`${daemon.url}/v1/devices`, {
    headers: { authorization: `Bearer ${bearer}` },
  });
  const ms = performance.now() - start;
  console.log(`abuse: a valid token answered ${res.status} in ${ms.toFixed(1)} ms after ${after}`);
  return { status: res.status, ms };
}

const statusOf = (c: RawClient): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(c.data)?.[1] ?? 0);

describe('the local API under abuse', () => {
  it('answers a valid token at once while 260 sockets hold connections without a complete request', async () => {
    const counter = token('counter-idle', 'read');
    // Half send nothing at all, half start a request head and never finish it.
    const idle = openSockets(FLOOD, (i) => (i % 2 === 0 ? '' : 'GET /v1/health HTTP/1.1\r\nHost: 127.'));
    try {
      // Past the cap the daemon has had to make room: it has taken every flood connection.
      await waitFor(
        'the daemon to take the whole flood',
        () => idle.filter((c) => c.closed).length >= FLOOD - MAX_CONNECTIONS,
      );
      const answer = await timedRequest(counter, `${FLOOD} idle sockets`);
      expect(answer.status).toBe(200);
      expect(answer.ms).toBeLessThan(ANSWER_WITHIN_MS);
      // The ones made to leave were flood sockets that had sent no complete request.
      expect(idle.filter((c) => c.closed).every((c) => c.data === '')).toBe(true);
      // And the operator can see it happen.
      const metrics = await rawRequest(`${daemon.url}/metrics`, {
        headers: { authorization: `Bearer ${counter}` },
      });
      const shed = /^boxagent_http_connections_shed_total\{outcome="idle"\} (\d+)$/m.exec(metrics.body);
      expect(Number(shed?.[1])).toBeGreaterThanOrEqual(FLOOD - MAX_CONNECTIONS);
    } finally {
      closeAll(idle);
    }
  });

  it('caps one token at its share of event streams; another token is still answered at once', async () => {
    const hog = token('hog', 'read,face');
    const counter = token('counter-sse', 'read');
    const streams = openSockets(
      FLOOD,
      () =>
        `GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${hog}\r\n\r\n`,
    );
    try {
      await waitFor('every stream request answered or closed', () =>
        streams.every((c) => c.closed || statusOf(c) !== 0),
      );
      const opened = streams.filter((c) => statusOf(c) === 200);
      const refused = streams.filter((c) => statusOf(c) === 429);
      expect(opened.length).toBe(STREAMS_PER_TOKEN);
      // The rest were refused, or (past the connection cap) closed as idle before or after their refusal.
      expect(opened.length + refused.length + streams.filter((c) => statusOf(c) === 0).length).toBe(FLOOD);
      expect(refused.length).toBeGreaterThan(0);
      const sample = refused[0]!.data;
      expect(sample).toMatch(/content-type: application\/problem\+json/i);
      expect(sample).toMatch(/retry-after: \d+/i);
      expect(sample).toContain('rate-limited');
      // The open streams stay open: the cap refuses new ones, it does not end those it let in.
      expect(opened.every((c) => !c.closed)).toBe(true);

      const answer = await timedRequest(counter, `${FLOOD} event streams by one token`);
      expect(answer.status).toBe(200);
      expect(answer.ms).toBeLessThan(ANSWER_WITHIN_MS);
      // The camera's MJPEG stream counts in the same share.
      const camera = await rawRequest(`${daemon.url}/v1/camera/camera-1/stream`, {
        headers: { authorization: `Bearer ${hog}` },
      });
      expect(camera.status).toBe(429);
      expect(camera.headers['content-type']).toMatch(/^application\/problem\+json/);
    } finally {
      closeAll(streams);
    }
  });

  it('never locks a valid token out, whatever a local process without an Origin sends', async () => {
    const counter = token('counter-storm', 'read');
    const id = /^bxa_([a-z0-9]{12})_/.exec(counter)?.[1];
    expect(id).toBeDefined();
    const wrongSecret = 'A'.repeat(43);
    const storm: string[] = [
      ...Array.from({ length: 40 }, (_, i) => `bxa_${i.toString(36).padStart(12, 'z')}_${wrongSecret}`),
      ...Array.from({ length: 30 }, (_, i) => `not-a-token-${i}`),
      // Guesses at the counter software's own token id (ids are not secret; the 256-bit secret is).
      ...Array.from({ length: 30 }, () => `bxa_${id}_${wrongSecret}`),
    ];
    const statuses: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (const bearer of storm) {
      const res = await rawRequest(`${daemon.url}/v1/devices`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= res.headers['retry-after'];
    }
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    // Guessing is still throttled per caller and claimed id: past the burst, failures answer 429.
    expect(statuses.slice(-30 + BURST)).toEqual(Array(30 - BURST).fill(429));
    expect(Number(retryAfter)).toBeGreaterThan(0);

    // The valid token, from the same caller (no Origin), is answered.
    const answer = await timedRequest(counter, `a storm of ${storm.length} bad tokens`);
    expect(answer.status).toBe(200);
    // A wrong secret for that id is still throttled afterwards: the success reset nothing for guessers.
    const guess = await rawRequest(`${daemon.url}/v1/devices`, {
      headers: { authorization: `Bearer bxa_${id}_${wrongSecret}` },
    });
    expect(guess.status).toBe(429);
  });
});
