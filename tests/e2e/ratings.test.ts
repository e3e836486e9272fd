// Service ratings (好差评) against the built daemon: the counter asks, the simulated pad (the real serial
// driver and line protocol on an in-process pad simulator) answers, and every outcome is a rating.job kept in
// the event log, across a kill -9 too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, removeDir, startDaemon, tempDir, writeConfig, type Daemon } from '../helpers/daemon.js';
import { openSse } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

// pad-1: a resident who presses 满意 (4) 300 ms after the pad lights; pad-2: nobody presses anything.
const CONFIG = `box:
  id: rating-box
devices:
  - id: pad-1
    kind: rating-pad
    transport: { type: simulated }
    ratingPad: { simulatedAutoPress: { keys: ['4'], delayMs: 300 } }
  - id: pad-2
    kind: rating-pad
    transport: { type: simulated }
`;

interface RatingView {
  id: string;
  device: string;
  state: string;
  counter: string;
  service: string;
  rating: { value: number; zh: string; en: string } | null;
  reason: string | null;
}

let dir: string;
let config: string;
let daemon: Daemon;

async function padsReady(d: Daemon): Promise<void> {
  await waitFor('both pads ready', async () => {
    const { devices } = (await (await d.fetch('/v1/devices')).json()) as { devices: { state: string }[] };
    return devices.every((x) => x.state === 'ready');
  });
}

async function rating(id: string, d = daemon): Promise<RatingView> {
  return (await (await d.fetch(`/v1/ratings/${id}`)).json()) as RatingView;
}

async function count(): Promise<number> {
  return ((await (await daemon.fetch('/v1/ratings')).json()) as { ratings: unknown[] }).ratings.length;
}

/** Every rating.job event of the log (replayed from the start), as the counter's EventSource gets them. */
async function ratingEvents(d: Daemon): Promise<Record<string, unknown>[]> {
  const sse = await openSse(`${d.url}/v1/events`, {
    authorization: `Bearer ${d.adminToken}`,
    'last-event-id': '0',
  });
  await new Promise((r) => setTimeout(r, 300));
  sse.close();
  return sse.events
    .filter((e) => e.event === 'rating.job')
    .map((e) => JSON.parse(e.data) as Record<string, unknown>);
}

beforeAll(async () => {
  dir = tempDir();
  config = writeConfig(dir, CONFIG);
  daemon = await startDaemon({ config, storageDir: dir });
  await padsReady(daemon);
});

afterAll(async () => {
  await daemon.stop('SIGKILL');
  removeDir(dir);
});

describe('service ratings', () => {
  it('lights the pad, takes the resident’s key, and keeps the answer as rating.job events', async () => {
    const r = await daemon.fetch(
      '/v1/ratings',
      postJson({ device: 'pad-1', counter: '3号窗口', service: '老年人优待证办理' }),
    );
    expect(r.status).toBe(202);
    const asked = (await r.json()) as RatingView;
    expect(asked).toMatchObject({ device: 'pad-1', state: 'waiting', counter: '3号窗口', rating: null });
    await waitFor('the rating', async () => (await rating(asked.id)).state === 'rated');
    expect((await rating(asked.id)).rating).toEqual({ value: 4, zh: '满意', en: 'Satisfied' });

    const events = (await ratingEvents(daemon)).filter((e) => e.job === asked.id);
    expect(events).toEqual([
      expect.objectContaining({ kind: 'rating', device: 'pad-1', state: 'waiting', previous: null }),
      expect.objectContaining({ state: 'rated', previous: 'waiting', rating: 4, counter: '3号窗口' }),
    ]);
  });

  it('refuses a second request while the pad waits, and bad input, storing nothing', async () => {
    const first = (await (
      await daemon.fetch(
        '/v1/ratings',
        postJson({ device: 'pad-2', counter: 'c', service: 's', timeoutMs: 5000 }),
      )
    ).json()) as RatingView;
    const before = await count();
    const cases: [unknown, number, string, string?][] = [
      [{ device: 'pad-2', counter: 'c', service: 's' }, 409, 'device-busy', '/device'],
      [{ device: 'pad-1', service: 's' }, 400, 'invalid-request', '/counter'],
      [{ device: 'pad-1', counter: 'c', service: 's', timeoutMs: 10 }, 400, 'invalid-request', '/timeoutMs'],
      [{ device: 'nope', counter: 'c', service: 's' }, 404, 'not-found', '/device'],
      // Two pads on this box: the request has to say which.
      [{ counter: 'c', service: 's' }, 400, 'invalid-request', '/device'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await daemon.fetch('/v1/ratings', postJson(body));
      const p = (await r.json()) as { type: string; field?: string };
      expect({ status: r.status, type: p.type, field: p.field }, JSON.stringify(body)).toEqual({
        status,
        type: `urn:boxagent:problem:${code}`,
        field,
      });
    }
    expect(await count()).toBe(before);
    await daemon.fetch(`/v1/ratings/${first.id}`, { method: 'DELETE' });
  });

  it('records a timeout when nobody presses, and a cancel by the clerk', async () => {
    const timed = (await (
      await daemon.fetch(
        '/v1/ratings',
        postJson({ device: 'pad-2', counter: 'c', service: 's', timeoutMs: 1000 }),
      )
    ).json()) as RatingView;
    await waitFor('the timeout', async () => (await rating(timed.id)).state === 'timeout');
    expect((await rating(timed.id)).reason).toMatch(/no key was pressed in 1 s/);

    const asked = (await (
      await daemon.fetch('/v1/ratings', postJson({ device: 'pad-2', counter: 'c', service: 's' }))
    ).json()) as RatingView;
    const canceled = await daemon.fetch(`/v1/ratings/${asked.id}`, { method: 'DELETE' });
    expect(canceled.status).toBe(200);
    expect(((await canceled.json()) as RatingView).state).toBe('canceled');
    const again = await daemon.fetch(`/v1/ratings/${asked.id}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    // The pad is free again: the next resident can be asked at once.
    const next = await daemon.fetch('/v1/ratings', postJson({ device: 'pad-2', counter: 'c', service: 's' }));
    expect(next.status).toBe(202);
    await daemon.fetch(`/v1/ratings/${((await next.json()) as RatingView).id}`, { method: 'DELETE' });
  });

  it('after kill -9 while the pad waited, says the rating failed instead of losing it', async () => {
    const asked = (await (
      await daemon.fetch(
        '/v1/ratings',
        postJson({ device: 'pad-2', counter: 'c', service: 's', timeoutMs: 60_000 }),
      )
    ).json()) as RatingView;
    await daemon.stop('SIGKILL');
    daemon = await startDaemon({ config, storageDir: dir });
    const after = await rating(asked.id);
    expect(after.state).toBe('failed');
    expect(after.reason).toMatch(/stopped while the pad waited/);
    const events = (await ratingEvents(daemon)).filter((e) => e.job === asked.id);
    expect(events.map((e) => e.state)).toEqual(['waiting', 'failed']);
    await padsReady(daemon);
  });
});
