// Print jobs against the built daemon on the default config (the in-process simulated LQ-630K).
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startDaemon, type Daemon } from '../helpers/daemon.js';
import { openSse, type SseStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

let daemon: Daemon;
let sse: SseStream;

beforeAll(async () => {
  daemon = await startDaemon();
  await waitFor('printer ready', async () => {
    const d = (await (await daemon.fetch('/v1/devices/printer-1')).json()) as { state: string };
    return d.state === 'ready';
  });
  sse = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
});

afterAll(async () => {
  sse.close();
  await daemon.stop('SIGKILL');
  removeDir(daemon.storageDir);
});

/** The minimal shape outside clients rely on (issue 3). */
const MINIMAL = {
  printer: 'printer-1',
  document: {
    page: { widthMm: 210, heightMm: 297 },
    items: [{ type: 'text', xMm: 20, yMm: 30, text: '张三 ZHANG San', sizePt: 12 }],
  },
};

interface Job {
  id: string;
  state: string;
  printer: string;
  error: string | null;
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return daemon.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function job(id: string): Promise<Job> {
  return (await (await daemon.fetch(`/v1/print-jobs/${id}`)).json()) as Job;
}

async function simulate(fault: string): Promise<void> {
  const r = await post('/v1/devices/printer-1/simulator', { fault });
  expect(r.status).toBe(200);
}

function jobEvents(id: string): string[] {
  return sse.events
    .filter((e) => e.event === 'print.job')
    .map((e) => JSON.parse(e.data) as { job: string; state: string })
    .filter((e) => e.job === id)
    .map((e) => e.state);
}

async function jobCount(): Promise<number> {
  return ((await (await daemon.fetch('/v1/print-jobs?limit=500')).json()) as { jobs: Job[] }).jobs.length;
}

describe('print jobs', () => {
  it('accepts the minimal document, prints it, and reports every transition on /v1/events', async () => {
    const r = await post('/v1/print-jobs', MINIMAL);
    expect(r.status).toBe(202);
    const created = (await r.json()) as Job;
    expect(created.state).toBe('queued');
    await waitFor('job done', async () => (await job(created.id)).state === 'done', 15_000);
    await waitFor('events', () => jobEvents(created.id).length === 3);
    expect(jobEvents(created.id)).toEqual(['queued', 'sending', 'done']);
    // One naming rule for every job kind: `<kind>.job` with the state before the change.
    const last = sse.events.filter((e) => e.event === 'print.job' && e.data.includes(created.id)).at(-1);
    expect(JSON.parse(last?.data ?? '{}')).toMatchObject({
      job: created.id,
      kind: 'print',
      device: 'printer-1',
      state: 'done',
      previous: 'sending',
    });
    const done = (await (await daemon.fetch('/v1/print-jobs?state=done')).json()) as { jobs: Job[] };
    expect(done.jobs.map((j) => j.id)).toContain(created.id);
  });

  it('returns the same job for a retried Idempotency-Key, and 409 for the key with another body', async () => {
    const key = { 'idempotency-key': 'form-0001' };
    const first = await post('/v1/print-jobs', MINIMAL, key);
    const again = await post('/v1/print-jobs', MINIMAL, key);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const [a, b] = [(await first.json()) as Job, (await again.json()) as Job];
    expect(b.id).toBe(a.id);
    const other = await post(
      '/v1/print-jobs',
      { ...MINIMAL, document: { ...MINIMAL.document, copies: 2 } },
      key,
    );
    expect(other.status).toBe(409);
    await waitFor('job done', async () => (await job(a.id)).state === 'done', 15_000);
    // Printed once: exactly one queued event for it.
    expect(jobEvents(a.id).filter((s) => s === 'queued')).toHaveLength(1);
  });

  it('prints a named template filled with fields', async () => {
    const r = await post('/v1/print-jobs', {
      printer: 'printer-1',
      document: {
        template: 'senior-card-form',
        fields: {
          name: '李䶮',
          gender: '女',
          idNumber: '110101195001010021',
          address: '河北省保定市某某县某某镇某某村幸福路 88 号',
          phone: '13800000000',
          remarks: '申请办理老年人优待证。',
          date: '2026-11-26',
        },
      },
    });
    expect(r.status).toBe(202);
    const created = (await r.json()) as Job;
    await waitFor('job done', async () => (await job(created.id)).state === 'done', 15_000);
  });

  it('refuses bad documents with a problem naming the item, and queues nothing', async () => {
    const before = await jobCount();
    const cases: [unknown, number, string][] = [
      [{ ...MINIMAL, printer: 'no-such-printer' }, 404, '/printer'],
      [{ ...MINIMAL, printer: 'camera-1' }, 404, '/printer'], // not a printer: the same answer as no device
      [
        {
          ...MINIMAL,
          document: {
            ...MINIMAL.document,
            items: [...MINIMAL.document.items, { type: 'text', xMm: 205, yMm: 30, text: '超出页面' }],
          },
        },
        422,
        '/document/items/1',
      ],
      [
        {
          ...MINIMAL,
          document: {
            ...MINIMAL.document,
            items: [
              { type: 'text', xMm: 20, yMm: 30, text: '很长很长很长很长很长很长的名字', maxWidthMm: 20 },
            ],
          },
        },
        422,
        '/document/items/0/text',
      ],
      [
        {
          ...MINIMAL,
          document: {
            ...MINIMAL.document,
            items: [{ type: 'image', xMm: 1, yMm: 1, widthMm: 10, data: 'bm90IGFuIGltYWdl' }],
          },
        },
        422,
        '/document/items/0',
      ],
      [
        { printer: 'printer-1', document: { template: 'no-such-form', fields: {} } },
        422,
        '/document/template',
      ],
      [
        { printer: 'printer-1', document: { template: 'senior-card-form', fields: { name: 'x' } } },
        400,
        '/document/fields/gender',
      ],
      [
        { ...MINIMAL, document: { ...MINIMAL.document, items: [{ type: 'circle', xMm: 1 }] } },
        400,
        '/document/items/0/type',
      ],
    ];
    for (const [body, status, field] of cases) {
      const r = await post('/v1/print-jobs', body);
      const problem = (await r.json()) as { field?: string; type: string; detail: string };
      expect({ status: r.status, field: problem.field }, problem.detail).toEqual({ status, field });
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(await jobCount()).toBe(before);
  });

  it('previews the minimal document as a 180 dpi PNG decoded from its bytes, over a form background', async () => {
    const background = await sharp({
      create: { width: 210, height: 297, channels: 3, background: '#ffeedd' },
    })
      .png()
      .toBuffer();
    const r = await post('/v1/print-jobs/preview', { ...MINIMAL, background: background.toString('base64') });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await r.arrayBuffer());
    const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([1488, 2105]);
    const at = (x: number, y: number) => data[y * info.width + x] ?? 255;
    let ink = 0;
    for (let y = 213; y < 213 + 24; y++) for (let x = 142; x < 142 + 60; x++) if (at(x, y) < 100) ink++;
    expect(ink).toBeGreaterThan(50);
    expect(at(1000, 1000)).toBeGreaterThan(200); // the background, not white and not ink
    expect(at(1000, 1000)).toBeLessThan(255);
    const doc = (await (await daemon.fetch('/openapi.json', { token: null })).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>
      >;
    };
    expect(Object.keys(doc.paths['/v1/print-jobs/preview']!.post!.responses['200']!.content)).toEqual([
      'image/png',
    ]);
  });

  it('pauses the queue when the paper runs out and resumes when it is back', async () => {
    await simulate('paper-out');
    const created = (await (await post('/v1/print-jobs', MINIMAL)).json()) as Job;
    await waitFor('queue paused event', () =>
      sse.events.some(
        (e) => e.event === 'print.queue' && (JSON.parse(e.data) as { state: string }).state === 'paused',
      ),
    );
    expect((await job(created.id)).state).toBe('queued');
    await simulate('none');
    await waitFor('job done', async () => (await job(created.id)).state === 'done', 15_000);
    expect(
      sse.events.some(
        (e) => e.event === 'print.queue' && (JSON.parse(e.data) as { state: string }).state === 'running',
      ),
    ).toBe(true);
  });

  it('cancels a queued job, and refuses to cancel one that is done', async () => {
    await simulate('paper-out');
    const created = (await (await post('/v1/print-jobs', MINIMAL)).json()) as Job;
    const r = await daemon.fetch(`/v1/print-jobs/${created.id}`, { method: 'DELETE' });
    expect(r.status).toBe(200);
    expect(((await r.json()) as Job).state).toBe('canceled');
    await simulate('none');
    const done = ((await (await daemon.fetch('/v1/print-jobs?state=done&limit=1')).json()) as { jobs: Job[] })
      .jobs[0]!;
    const again = await daemon.fetch(`/v1/print-jobs/${done.id}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    expect((await job(created.id)).state).toBe('canceled');
  });
});
