// The served client against the built daemon as a process: /v1/client.js and /v1/client.d.ts as a page loads
// them, the module itself calling the API from Node 20 (fetch is Node's own; EventSource is a stand-in, see
// tests/helpers/event-source.ts), and the snapshot every event stream starts with.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  postJson,
  removeDir,
  runCli,
  startDaemon,
  tempDir,
  testEnv,
  writeConfig,
  type Daemon,
} from '../helpers/daemon.js';
import { NodeEventSource } from '../helpers/event-source.js';
import { openSse, type SseEvent } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait-for.js';

const ORIGIN = 'http://counter.example';
const CONFIG = `box:
  id: client-box
http:
  allowedOrigins: ['${ORIGIN}']
supervision: { probeIntervalMs: 200, failuresBeforeError: 1 }
devices:
  - id: printer-1
    kind: printer
    transport: { type: simulated }
  - id: seal-1
    kind: seal
    transport: { type: simulated }
  - id: pad-1
    kind: rating-pad
    transport: { type: simulated }
  - id: photo-printer-1
    kind: photo-printer
    transport: { type: simulated }
`;

const DOCUMENT = {
  page: { widthMm: 210, heightMm: 297 },
  items: [{ type: 'text', xMm: 20, yMm: 30, text: '张三 ZHANG San', sizePt: 12 }],
};

// What the tests use of the generated module (its own .d.ts is checked in tests/unit/http/).
type Method = (input?: Record<string, unknown>, opts?: Record<string, unknown>) => Promise<unknown>;
interface Client {
  [group: string]: Record<string, Method>;
}
interface Subscription {
  close(): void;
}
interface ClientModule {
  createClient(o: Record<string, unknown>): Client & {
    events: { subscribe(h: Record<string, unknown>): Subscription };
  };
  BoxagentError: new (...a: unknown[]) => Error;
}
interface Snapshot {
  seq: number;
  devices: { id: string; state: string }[];
  queues: unknown[];
  jobs: { job: string; kind: string; state: string; device: string }[];
}

let dir: string;
let config: string;
let daemon: Daemon;
let mod: ClientModule;
let readToken: string;

const client = (token = daemon.adminToken) =>
  mod.createClient({ baseUrl: daemon.url, token, EventSource: NodeEventSource });

async function rejection(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(mod.BoxagentError);
    return err as Record<string, unknown>;
  }
  throw new Error('the call did not fail');
}

const snapshotOf = (e: SseEvent | undefined): Snapshot => JSON.parse(e?.data ?? 'null') as Snapshot;

beforeAll(async () => {
  dir = tempDir();
  config = writeConfig(dir, CONFIG);
  daemon = await startDaemon({ config, storageDir: dir });
  const r = runCli(
    ['token', 'create', '--name', 'monitor', '--scopes', 'read'],
    testEnv(dir, { BOXAGENT_CONFIG: config }),
  );
  expect(r.status).toBe(0);
  readToken = r.stdout.trim();
  // The module as the daemon serves it, imported the way a page's <script type="module"> would.
  const js = await (await daemon.fetch('/v1/client.js', { token: null })).text();
  const moduleDir = mkdtempSync(join(tmpdir(), 'boxagent-client-'));
  writeFileSync(join(moduleDir, 'client.mjs'), js);
  mod = (await import(pathToFileURL(join(moduleDir, 'client.mjs')).href)) as ClientModule;
  rmSync(moduleDir, { recursive: true, force: true });
  await waitFor('devices ready', async () => {
    const { devices } = (await (await daemon.fetch('/v1/devices')).json()) as Snapshot;
    return devices.every((d) => d.state === 'ready');
  });
});

afterAll(async () => {
  for (const s of NodeEventSource.instances) s.close();
  await daemon.stop('SIGKILL');
  removeDir(dir);
});

describe('GET /v1/client.js and /v1/client.d.ts', () => {
  it('serves the built client without a token, as JavaScript, revalidated by ETag', async () => {
    const res = await daemon.fetch('/v1/client.js', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await res.text()).toBe(readFileSync(join(ROOT, 'dist/client/index.js'), 'utf8'));
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await daemon.fetch('/v1/client.js', { token: null, headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('serves its types', async () => {
    const res = await daemon.fetch('/v1/client.d.ts', { token: null });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('export interface BoxagentClient');
  });

  it('answers a page on an allowed origin with CORS, and refuses another origin', async () => {
    const ok = await daemon.fetch('/v1/client.js', { token: null, headers: { origin: ORIGIN } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const other = await daemon.fetch('/v1/client.js', {
      token: null,
      headers: { origin: 'http://evil.example' },
    });
    expect(other.status).toBe(403);
  });

  it("loads on the daemon's own origin (Chrome sends Origin with a module script), not on another port's", async () => {
    const own = await daemon.fetch('/v1/client.js', { token: null, headers: { origin: daemon.url } });
    expect(own.status).toBe(200);
    const port = Number(new URL(daemon.url).port);
    const neighbour = `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}`;
    const next = await daemon.fetch('/v1/client.js', { token: null, headers: { origin: neighbour } });
    expect(next.status).toBe(403);
  });
});

describe('the client calling the daemon', () => {
  it('lists the devices as GET /v1/devices does', async () => {
    const { devices } = (await client().devices!.list!()) as Snapshot;
    const direct = (await (await daemon.fetch('/v1/devices')).json()) as Snapshot;
    expect(devices.map((d) => d.id)).toEqual(direct.devices.map((d) => d.id));
  });

  it('rejects with a BoxagentError carrying the problem: code, status, title, field', async () => {
    const e = await rejection(client().devices!.get!({ id: 'nope' }));
    expect(e).toMatchObject({ code: 'not-found', status: 404, field: '/id' });
    expect(e.title).toEqual(expect.any(String));
    const bad = await rejection(
      client().print!.submit!({ printer: 'printer-1', document: { ...DOCUMENT, page: { widthMm: 'wide' } } }),
    );
    expect(bad).toMatchObject({ code: 'invalid-request', status: 400 });
    expect(bad.field).toMatch(/^\/document\/page/);
    const forbidden = await rejection(
      client(readToken).seal!.create!({
        device: 'seal-1',
        document: { kind: 'x', number: '1' },
        operator: 'clerk',
      }),
    );
    expect(forbidden).toMatchObject({ code: 'forbidden', status: 403 });
    expect((forbidden.extensions as Record<string, unknown>).requiredScope).toBe('seal');
  });

  it('sends the Idempotency-Key: a retry returns the first job', async () => {
    const input = { printer: 'printer-1', document: DOCUMENT };
    const a = (await client().print!.submit!(input, { idempotencyKey: 'client-test-1' })) as { id: string };
    const b = (await client().print!.submit!(input, { idempotencyKey: 'client-test-1' })) as { id: string };
    expect(b.id).toBe(a.id);
  });

  it('returns a preview as a PNG Blob', async () => {
    const png = (await client().print!.preview!({ printer: 'printer-1', document: DOCUMENT })) as Blob;
    expect(png).toBeInstanceOf(Blob);
    expect(png.type).toBe('image/png');
    const head = new Uint8Array(await png.slice(0, 4).arrayBuffer());
    expect([...head]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('sends a Blob image field as a file part and returns the printed card as a Blob', async () => {
    const portrait = await sharp({
      create: { width: 300, height: 400, channels: 3, background: { r: 200, g: 210, b: 230 } },
    })
      .jpeg()
      .toBuffer();
    const box = client();
    const card = (await box.certificates!.submit!(
      {
        template: 'senior-citizen-card',
        fields: {
          name: '张秀英',
          sex: '女',
          birthDate: '1948-03-12',
          idNumber: '430102194803120025',
          cardNumber: 'HN-LY-2026-000117',
          issuer: '长沙县民政局',
          issueDate: '2026-11-26',
        },
        photo: { image: new Blob([portrait], { type: 'image/jpeg' }) },
        printer: 'photo-printer-1',
      },
      { idempotencyKey: 'card-blob-1' },
    )) as { id: string };
    await waitFor('the card printed', async () => {
      const c = (await box.certificates!.get!({ id: card.id })) as { state: string };
      if (c.state === 'failed' || c.state === 'in_doubt') throw new Error(JSON.stringify(c));
      return c.state === 'printed';
    });
    const jpeg = (await box.certificates!.document!({ id: card.id })) as Blob;
    expect(jpeg.type).toBe('image/jpeg');
    expect(jpeg.size).toBeGreaterThan(1000);
  });
});

describe('events: a snapshot first on every connection', () => {
  it('starts a stream with the snapshot: devices as GET /v1/devices, jobs in flight, filtered by scope', async () => {
    const seal = (await (
      await daemon.fetch(
        '/v1/seal-jobs',
        postJson({ device: 'seal-1', document: { kind: 'card', number: 'S-1' }, operator: 'clerk Li' }),
      )
    ).json()) as { id: string };
    const rating = (await (
      await daemon.fetch(
        '/v1/ratings',
        postJson({ device: 'pad-1', counter: '3号窗口', service: 'x', timeoutMs: 600_000 }),
      )
    ).json()) as { id: string };

    const admin = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
    const monitor = await openSse(`${daemon.url}/v1/events?access_token=${readToken}`);
    try {
      await waitFor('both snapshots', () => admin.events.length > 0 && monitor.events.length > 0);
      const [first] = admin.events;
      expect(first).toMatchObject({ event: 'snapshot' });
      expect(first?.id).toBeUndefined();
      const snap = snapshotOf(first);
      const direct = (await (await daemon.fetch('/v1/devices')).json()) as Snapshot;
      expect(snap.devices).toEqual(direct.devices);
      const queue = await (await daemon.fetch('/v1/printers/printer-1/queue')).json();
      expect(snap.queues).toEqual([queue]);
      const inFlight = snap.jobs.map((j) => [j.kind, j.job, j.state]);
      expect(inFlight).toContainEqual(['seal', seal.id, 'pending']);
      expect(inFlight).toContainEqual(['rating', rating.id, 'waiting']);
      expect(
        snap.jobs.every((j) => !['done', 'failed', 'canceled', 'rated', 'expired'].includes(j.state)),
      ).toBe(true);
      expect(snap.seq).toBeGreaterThan(0);

      // A read-only token sees the devices and the rating (scope read), not the seal job (scope seal).
      const mine = snapshotOf(monitor.events[0]);
      expect(monitor.events[0]?.event).toBe('snapshot');
      expect(mine.devices.map((d) => d.id)).toEqual(direct.devices.map((d) => d.id));
      expect(mine.jobs.map((j) => j.job)).toContain(rating.id);
      expect(mine.jobs.map((j) => j.kind)).not.toContain('seal');
    } finally {
      admin.close();
      monitor.close();
    }
  });

  it('on a reconnect with Last-Event-ID sends the missed kept events, then a snapshot as of the last', async () => {
    const first = await openSse(`${daemon.url}/v1/events`, { authorization: `Bearer ${daemon.adminToken}` });
    await waitFor('the snapshot', () => first.events.length > 0);
    const from = snapshotOf(first.events[0]).seq;
    first.close();
    // Missed while away: a print job queued (its print.job event, kept).
    const job = (await (
      await daemon.fetch('/v1/print-jobs', postJson({ printer: 'printer-1', document: DOCUMENT }))
    ).json()) as {
      id: string;
    };
    const resumed = await openSse(`${daemon.url}/v1/events`, {
      authorization: `Bearer ${daemon.adminToken}`,
      'last-event-id': String(from),
    });
    try {
      await waitFor('the snapshot after the replay', () =>
        resumed.events.some((e) => e.event === 'snapshot'),
      );
      const at = resumed.events.findIndex((e) => e.event === 'snapshot');
      const replayed = resumed.events.slice(0, at);
      expect(replayed.length).toBeGreaterThan(0);
      expect(replayed.every((e) => Number(e.id) > from)).toBe(true);
      expect(replayed.some((e) => e.event === 'print.job' && e.data.includes(job.id))).toBe(true);
      expect(snapshotOf(resumed.events[at]).seq).toBe(Number(replayed.at(-1)?.id));
    } finally {
      resumed.close();
    }
  });

  it('client.events.subscribe: snapshot, typed handlers, and a dropped stream resumes with what it missed', async () => {
    const seen: string[] = [];
    const snapshots: Snapshot[] = [];
    const states: { device: string; state: string }[] = [];
    const sub = client().events.subscribe({
      snapshot: (s: Snapshot) => {
        seen.push('snapshot');
        snapshots.push(s);
      },
      event: (e: { type: string }) => seen.push(e.type),
      on: { 'device.state': (e: { device: string; state: string }) => states.push(e) },
    });
    try {
      await waitFor('the first snapshot', () => snapshots.length === 1);
      expect(seen[0]).toBe('snapshot');
      const source = NodeEventSource.instances.at(-1)!;
      expect(source.url).toContain('access_token=');

      await daemon.fetch('/v1/devices/printer-1/simulator', postJson({ fault: 'offline' }));
      await waitFor('printer-1 left ready', () =>
        states.some((s) => s.device === 'printer-1' && s.state !== 'ready'),
      );

      // The connection drops; meanwhile a print job is queued for the offline printer (a kept print.job event).
      source.drop();
      const job = (await client().print!.submit!({ printer: 'printer-1', document: DOCUMENT })) as {
        id: string;
      };
      const before = seen.length;
      source.resume();
      await waitFor('the second snapshot', () => snapshots.length === 2);
      const after = seen.slice(before);
      // The missed event comes first (replayed by Last-Event-ID), then the snapshot that includes it.
      expect(after.indexOf('print.job')).toBeGreaterThanOrEqual(0);
      expect(after.indexOf('print.job')).toBeLessThan(after.indexOf('snapshot'));
      expect(snapshots[1]!.jobs.map((j) => j.job)).toContain(job.id);
      expect(snapshots[1]!.seq).toBeGreaterThan(snapshots[0]!.seq);
    } finally {
      sub.close();
      await daemon.fetch('/v1/devices/printer-1/simulator', postJson({ fault: 'none' }));
    }
  });
});
